#!/usr/bin/env python
"""Write SST-2 (GLUE) as the TSV files the project reads, from the Hugging Face hub.

    python scripts/fetch_sst2.py --out ../shared/data/sst2

For machines without ``../shared`` (GitHub's runners): ``train.tsv`` (``label<TAB>sentence``,
67,349 phrases) and ``dev.tsv`` (``label<TAB>content``, 872 sentences), GLUE's own
text and labels (0 negative, 1 positive), as ``../shared/README.md`` describes them.
It needs the ``datasets`` package and the hub; where either is missing it says so in
one line (exit 2). Files already there are left alone.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

SPLITS = {"train": ("train.tsv", "sentence", 67_349), "validation": ("dev.tsv", "content", 872)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="folder for train.tsv and dev.tsv")
    args = ap.parse_args(argv)
    todo = {split: spec for split, spec in SPLITS.items() if not (args.out / spec[0]).is_file()}
    if not todo:
        print(f"SST-2 is already in {args.out}")
        return 0
    try:
        from datasets import load_dataset
    except ImportError:
        print("error: fetching SST-2 needs the datasets package: pip install datasets", file=sys.stderr)
        return 2
    try:
        data = load_dataset("nyu-mll/glue", "sst2")
    except Exception as exc:  # offline, or the hub refused: one line, what to do
        print(f"error: cannot fetch GLUE sst2 from the Hugging Face hub ({type(exc).__name__}: "
              f"{str(exc).splitlines()[0] if str(exc) else ''}); put train.tsv and dev.tsv in {args.out} "
              "by hand or retry where the hub is reachable", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for split, (name, column, expected) in todo.items():
        rows = data[split]
        if len(rows) != expected:
            print(f"error: GLUE sst2 {split} has {len(rows)} rows, expected {expected}; nothing written",
                  file=sys.stderr)
            return 2
        tmp = args.out / f".{name}.tmp"
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            out = csv.writer(fh, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\", lineterminator="\n")
            out.writerow(["label", column])
            for row in rows:
                out.writerow([row["label"], row["sentence"].strip()])
        tmp.replace(args.out / name)
        print(f"wrote {args.out / name} ({len(rows)} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
