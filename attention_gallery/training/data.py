"""Labelled sentences for training and evaluation: ``label<TAB>sentence`` TSV files
with a header row (SST-2 as GLUE ships it), or the public SST-2 data set on the hub."""

from __future__ import annotations

from ..labelled import read_tsv  # noqa: F401  (the training code's reader, shared with the findings)


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
