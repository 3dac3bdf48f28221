#!/usr/bin/env python
"""Train the trained model of the default pair (minilm-sst2): a LoRA adapter plus a
classification head on all-MiniLM-L6-v2, fine-tuned on SST-2 (the recipe chosen on a
held-out slice of the training file, see attention_gallery/training/runs.py).

    python scripts/train_default.py                  # make train: seed 0 of the chosen recipe,
                                                     # checkpoints, then training.json
    python scripts/train_default.py --search NAME    # recipe NAME at a third of its schedule,
                                                     # scored on the held-out slice
    python scripts/train_default.py --seed 1         # another seed (final adapter only)
    python scripts/train_default.py --probes         # the linear probes on the frozen encoder
    python scripts/train_default.py --old-predictions # the committed adapter's dev predictions
                                                     # (before it is replaced: the paired test)
    python scripts/train_default.py --checks          # float16 vs float32 adapter; a seeded prefix
                                                     # run against seed 0's checkpoints
    python scripts/train_default.py --collect        # gather the results into training.json
    python scripts/train_default.py --steps 3 --limit 48 --out DIR   # a plain short run

Each run writes its result to .cache/training/ (--work); --collect gathers them.
Seeded: the same data, settings and machine give the same adapter.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch

from attention_gallery import config
from attention_gallery.training import data, runs
from attention_gallery.training.collect import add_probes
from attention_gallery.training.collect import collect as gather
from attention_gallery.training.train import train

WEIGHTS = config.WEIGHTS_DIR / "minilm-sst2"
WORK = config.REPO_ROOT / ".cache" / "training"


def plain(args, argv) -> int:
    """The short run of the command line's own settings (smoke tests, other data)."""
    try:
        rows = data.hub_sst2("train") if args.hub else data.read_tsv(args.data)
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.limit:
        rows = rows[: args.limit]
    base = runs.recipe(runs.CHOSEN)
    cfg = replace(base, **{k: getattr(args, k) for k in ("steps", "batch_size", "lr", "rank", "seed", "max_length")
                           if getattr(args, k) is not None})
    if args.rank is not None:
        cfg = replace(cfg, alpha=2 * cfg.rank)
    print(f"training on {len(rows)} rows from {'the hub' if args.hub else args.data}: {cfg}")
    start = time.perf_counter()
    out = args.out or WEIGHTS
    train(rows, out, cfg, half=True)
    seconds = time.perf_counter() - start
    size = sum(f.stat().st_size for f in out.iterdir() if f.name.startswith("adapter_"))
    meta = {**asdict(cfg), "rows": len(rows), "data": "hub:glue/sst2" if args.hub else args.data.name,
            "seconds": round(seconds), "adapter_kb": round(size / 1024), "hardware": runs.hardware(),
            "command": "python scripts/train_default.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    (out / "training.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    print(f"saved adapter to {out} ({size / 1e6:.2f} MB) in {seconds:.0f} s")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--search", choices=sorted(runs.RECIPES), help="try a recipe at a third of its schedule")
    ap.add_argument("--probes", action="store_true", help="train the linear probes")
    ap.add_argument("--collect", action="store_true", help="gather the results into training.json")
    ap.add_argument("--old-predictions", action="store_true",
                    help="the committed adapter's dev predictions, for the paired test against a new one")
    ap.add_argument("--checks", action="store_true",
                    help="float16 against float32 attention, and a seeded prefix run against seed 0's checkpoints")
    ap.add_argument("--seed0", type=Path, default=WEIGHTS, help="where seed 0's adapter and checkpoints are")
    ap.add_argument("--stop-at", type=int, default=None, help="stop a seeded run after N steps (reproducibility check)")
    ap.add_argument("--work", type=Path, default=WORK, help="where each run's result goes")
    ap.add_argument("--data", type=Path, default=config.SST2_TRAIN, help="label<TAB>sentence TSV with a header row")
    ap.add_argument("--hub", action="store_true", help="read SST-2 from the Hugging Face hub instead")
    ap.add_argument("--out", type=Path, default=None, help="where the adapter goes")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N rows (smoke tests)")
    for name in ("steps", "batch_size", "rank", "seed", "max_length"):
        ap.add_argument("--" + name.replace("_", "-"), type=int, default=None)
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.collect:
        return collect(args.work)
    if args.old_predictions:
        r = runs.predictions(WEIGHTS, args.work / "old-predictions.json", "the committed adapter before this run")
        print(f"committed adapter: dev {r['dev_accuracy']:.2%}")
        return 0
    if args.checks:
        return checks(args)
    if args.search:
        r = runs.search_run(args.search, args.work / f"search-{args.search}.json")
        print(f"recipe {args.search}: held-out {r['heldout_accuracy']:.2%}, dev {r['dev_accuracy']:.2%}, {r['seconds']} s")
        return 0
    if args.probes:
        result = runs.probes(config.PROBES_DIR / "minilm-sst2", args.work / "probes.json")  # where the findings read them
        print(f"wrote {add_probes(result, WEIGHTS)}")
        return 0
    if any(getattr(args, k) is not None for k in ("steps", "batch_size", "rank", "lr", "max_length", "limit")) \
            or args.hub or args.data != config.SST2_TRAIN:
        return plain(args, argv)
    seed = args.seed or 0
    if args.stop_at is not None:
        out = args.out or (args.work / f"prefix-seed-{seed}-{args.stop_at}")
        r = runs.full_run(runs.CHOSEN, seed, out, args.work / f"prefix-seed-{seed}-{args.stop_at}.json",
                          save_checkpoints=True, stop_at=args.stop_at)
        print(f"prefix run to step {args.stop_at} in {r['seconds']} s: checkpoints in {out / 'checkpoints'}")
        return 0
    out = args.out or (WEIGHTS if seed == 0 else WEIGHTS / "seeds" / f"seed-{seed}")
    r = runs.full_run(runs.CHOSEN, seed, out, args.work / f"seed-{seed}.json", save_checkpoints=seed == 0,
                      fp32_copy=args.work / f"seed-{seed}-fp32")
    print(f"seed {seed}: dev {r['dev_accuracy']:.2%} in {r['seconds']} s; adapter in {out}")
    if seed == 0 and args.out is None:
        return collect(args.work)
    return 0


def checks(args) -> int:
    """The float16 adapter's attention against the float32 one of the same run, and a
    seeded prefix of seed 0's run (to step PREFIX) against seed 0's checkpoints."""
    half = runs.half_error(args.work / "seed-0-fp32", args.seed0, args.work / "half_error.json")
    print(f"float16 adapter: max |attention - float32| {half['max_attention_abs_diff']:.2e} "
          f"(limit 1/255), {half['prediction_flips']} prediction flips")
    prefix = args.work / f"prefix-seed-0-{PREFIX}"
    runs.full_run(runs.CHOSEN, 0, prefix, args.work / f"prefix-seed-0-{PREFIX}.json", save_checkpoints=True,
                  stop_at=PREFIX)
    same = runs.same_files(prefix / "checkpoints", Path(args.seed0) / "checkpoints")
    result = {"what": f"seed 0 trained again to step {PREFIX} on the same machine; each checkpoint adapter's "
                      "sha256 against seed 0's", "stop_at": PREFIX, "checkpoints": same,
              "identical": all(v["identical"] for v in same.values())}
    (args.work / "reproducibility.json").write_text(json.dumps(result, indent=1) + "\n")
    print(f"prefix run to step {PREFIX}: {'identical' if result['identical'] else 'DIFFERENT'} checkpoints")
    return 0


PREFIX = 200  # steps of the reproducibility check


def collect(work: Path) -> int:
    path = gather(work, WEIGHTS)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
