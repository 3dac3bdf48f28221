#!/usr/bin/env python
"""Accuracy of both models of a pair on SST-2 dev (872 sentences) or any TSV.

    python scripts/evaluate.py --pair minilm-sst2 [--data PATH.tsv]

Ends with one JSON line: {"pair", "n", "trained_accuracy", "untrained_accuracy"}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from attention_gallery import config, data
from attention_gallery.evaluate import accuracy
from attention_gallery.models import ModelUnavailableError, load_pair
from attention_gallery.pairs import UnknownPairError


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pair", default=config.DEFAULT_PAIR)
    ap.add_argument("--data", type=Path, default=config.SST2_DEV, help="label<TAB>sentence TSV with a header row")
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
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
