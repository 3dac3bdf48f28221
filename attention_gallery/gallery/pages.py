"""The gallery's generated pages and ``metrics.json``, from the records of the
executed notebooks (the only thing the build side reads of them)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

from .. import config, site
from ..pairs import get_pair


def load_records(gallery_dir: Path, manifest: dict) -> list:
    """The record of each sentence listed in ``manifest``, in its order."""
    from ..build import read_record

    return [read_record(nbformat.read(str(gallery_dir / f"{entry['slug']}.ipynb"), as_version=4), entry["slug"])
            for entry in manifest["sentences"]]


def generate(pair_slug: str, records: list) -> dict[str, str]:
    """``{page name: Markdown}`` for every name of ``config.GENERATED_PAGES``."""
    pair = get_pair(pair_slug)
    metrics = site.aggregate(records)
    eval_file = config.WEIGHTS_DIR / pair.slug / "evaluation.json"
    evaluation = json.loads(eval_file.read_text()) if eval_file.exists() else None
    generated = {
        "index": site.index_page(pair, records),
        "pair": site.pair_page(pair, evaluation),
        "heads": site.heads_page(metrics),
        "faithfulness": site.faithfulness_page(metrics),
        "disagreements": site.disagreements_page(records),
    }
    assert tuple(generated) == config.GENERATED_PAGES  # the names sentence slugs may not take
    return generated


def metrics_json(records: list) -> str:
    return json.dumps(site.aggregate(records), indent=1, sort_keys=True) + "\n"
