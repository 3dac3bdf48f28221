#!/usr/bin/env python
"""Train the trained model of the default pair (minilm-sst2): a LoRA adapter plus a
classification head on all-MiniLM-L6-v2, fine-tuned on SST-2.

    python scripts/train_default.py                       # ../shared/data/sst2/train.tsv
    python scripts/train_default.py --data other.tsv      # any label<TAB>sentence TSV
    python scripts/train_default.py --hub                 # SST-2 from the hub (needs network)

Seeded: the same data and settings give the same adapter. About 10 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
import time
from pathlib import Path

import torch

from attention_gallery import config
from attention_gallery.training import data
from attention_gallery.training.train import TrainConfig, train


def main(argv=None) -> int:
    defaults = TrainConfig()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=config.SST2_TRAIN, help="label<TAB>sentence TSV with a header row")
    ap.add_argument("--hub", action="store_true", help="read SST-2 from the Hugging Face hub instead")
    ap.add_argument("--out", type=Path, default=config.WEIGHTS_DIR / "minilm-sst2", help="where the adapter goes")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N rows (smoke tests)")
    for name in ("steps", "batch_size", "rank", "seed", "max_length"):
        ap.add_argument("--" + name.replace("_", "-"), type=int, default=getattr(defaults, name))
    ap.add_argument("--lr", type=float, default=defaults.lr)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        rows = data.hub_sst2("train") if args.hub else data.read_tsv(args.data)
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.limit:
        rows = rows[: args.limit]
    cfg = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, rank=args.rank,
                      seed=args.seed, max_length=args.max_length)
    print(f"training on {len(rows)} rows from {'the hub' if args.hub else args.data}: {cfg}")
    start = time.perf_counter()
    out = train(rows, args.out, cfg)
    seconds = time.perf_counter() - start
    size = sum(f.stat().st_size for f in out.iterdir() if f.name.startswith("adapter_"))
    meta = {**asdict(cfg), "rows": len(rows), "data": "hub:glue/sst2" if args.hub else args.data.name,
            "seconds": round(seconds), "adapter_kb": round(size / 1024),
            "hardware": f"{os.cpu_count()} CPU cores, {torch.get_num_threads()} torch threads",
            "command": "python scripts/train_default.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    (out / "training.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    print(f"saved adapter to {out} ({size / 1e6:.2f} MB) in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
