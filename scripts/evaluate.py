#!/usr/bin/env python
"""Accuracy of both models of a pair on SST-2 dev (872 sentences) or any TSV.

    python scripts/evaluate.py --pair minilm-sst2 [--data PATH.tsv]

Ends with one JSON line: {"pair", "n", "trained_accuracy", "untrained_accuracy", the
untrained model's class bias ("untrained_predicts_negative_fraction") and its
accuracy over config.HEAD_SEEDS seeded heads ("untrained_seed_accuracy_mean", "_sd")}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from attention_gallery import config
from attention_gallery.training import data
from attention_gallery.training.evaluate import accuracy
from attention_gallery.models import ModelUnavailableError, load_pair
from attention_gallery.pairs import UnknownPairError


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pair", default=config.DEFAULT_PAIR)
    ap.add_argument("--data", type=Path, default=config.SST2_DEV, help="label<TAB>sentence TSV with a header row")
    ap.add_argument("--record", action="store_true",
                    help="write the result to attention_gallery/weights/PAIR/evaluation.json (shown on the site)")
    args = ap.parse_args(argv)
    try:
        rows = data.read_tsv(args.data)
        pair = load_pair(args.pair)
    except (OSError, ValueError, UnknownPairError, ModelUnavailableError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = accuracy(pair, rows)
    print(f"{pair.spec.title} on {args.data} ({result['n']} sentences)")
    for which in ("trained", "untrained"):
        print(f"  {which:>9} accuracy: {result[which + '_accuracy']:.2%}")
    if args.record:
        shown = args.data.name if args.data == config.SST2_DEV else str(args.data)
        record = {**result, "data": "SST-2 dev" if args.data == config.SST2_DEV else shown,
                  "command": f"python scripts/evaluate.py --pair {args.pair}"
                             + ("" if args.data == config.SST2_DEV else f" --data {shown}")}
        path = config.WEIGHTS_DIR / args.pair / "evaluation.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
