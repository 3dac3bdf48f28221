"""Labelled sentences: ``label<TAB>sentence`` TSV files with a header row (SST-2 as
GLUE ships it: 0 negative, 1 positive, the pair's labels in order). Read by the
training code and by the findings stage; a file that is not one is refused in one
line naming the row."""

from __future__ import annotations

import csv
from pathlib import Path


class LabelledSetError(ValueError):
    """A labelled file that cannot be read as one (the message names the file and row)."""


def read_tsv(path: str | Path, labels: int = 2) -> list[tuple[int, str]]:
    """Rows ``(label index, sentence)`` of a TSV with a header row, label first."""
    path = Path(path)
    if not path.is_file():
        raise LabelledSetError(f"{path}: no such file (expected a label<TAB>sentence TSV with a header row)")
    known = [str(i) for i in range(labels)]
    rows = []
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
            if next(reader, None) is None:
                raise LabelledSetError(f"{path}: empty file, expected a header row")
            for lineno, row in enumerate(reader, start=2):
                if not row or not "".join(row).strip():
                    continue
                if len(row) < 2 or not "\t".join(row[1:]).strip():
                    raise LabelledSetError(f"{path}:{lineno}: expected '<label><TAB><sentence>', got {row[:2]!r}")
                if row[0].strip() not in known:
                    raise LabelledSetError(f"{path}:{lineno}: unknown label {row[0]!r} "
                                           f"(expected one of {', '.join(known)})")
                rows.append((int(row[0]), "\t".join(row[1:]).strip()))
    except UnicodeDecodeError as exc:
        raise LabelledSetError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if not rows:
        raise LabelledSetError(f"{path}: no labelled rows after the header")
    return rows
