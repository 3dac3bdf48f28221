"""Labelled sentences for training and evaluation: ``label<TAB>sentence`` TSV files
with a header row (SST-2 as GLUE ships it), or the public SST-2 data set on the hub."""

from __future__ import annotations

import csv
from pathlib import Path


def read_tsv(path: str | Path) -> list[tuple[int, str]]:
    """Rows of a TSV with a header row, label (0 negative, 1 positive) first."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file (expected label<TAB>sentence TSV)")
    rows = []
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{path}: empty file, expected a header row")
        for lineno, row in enumerate(reader, start=2):
            if not row or not "".join(row).strip():
                continue
            if len(row) < 2 or row[0].strip() not in ("0", "1"):
                raise ValueError(
                    f"{path}:{lineno}: expected '<0|1><TAB><sentence>', got {row[:2]!r}"
                )
            rows.append((int(row[0]), "\t".join(row[1:]).strip()))
    if not rows:
        raise ValueError(f"{path}: no labelled rows after the header")
    return rows


def hub_sst2(split: str) -> list[tuple[int, str]]:
    """SST-2 from the Hugging Face hub (needs the `datasets` package and the hub)."""
    try:
        import datasets  # optional: only to read SST-2 from the hub
    except ImportError:
        raise RuntimeError(
            "reading SST-2 from the hub needs the 'datasets' package: pip install datasets"
        ) from None
    ds = datasets.load_dataset("glue", "sst2", split=split)
    return [(int(r["label"]), r["sentence"]) for r in ds]
