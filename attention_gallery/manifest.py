"""The manifest: everything the build tells the gallery plugin beyond the notebooks'
records, in one file (``gallery/gallery.json``) of one typed shape.

The build writes it (:func:`attention_gallery.build.build.stage_docs`); the plugin
(:mod:`attention_gallery.web`) reads it and nothing else besides the records:

* the pair, the sentences in order with what the set says of each (title, group,
  contrast) and the set's contrast pairs;
* the kernel's catalog of methods and measures (:mod:`attention_gallery.catalog`);
* the base model's configuration and the pair's evaluation, for the pair page;
* the live page's files (the ONNX graph the build exported, the tokenizer's files)
  and their facts, or why the pair cannot run live;
* the findings over SST-2 dev (the set, the claim cards, the measurements);
* how the trained model was trained (the pair's ``training.json``: recipe, runs,
  checkpoints, probes), for the pair and training pages;
* where the build keeps its caches.

Its own top-level module, so neither side imports the other to agree on it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mkdocs.exceptions import PluginError

from .catalog import Catalog

MANIFEST = "gallery.json"
MANIFEST_FORMAT = 5
ENTRY_KEYS = ("slug", "title", "group", "contrast", "display")


@dataclass(frozen=True)
class Manifest:
    pair: str
    sentences: list[dict]  # {"slug", "title", "group", "contrast", "display"}, in the set's order
    contrasts: list[tuple[str, str]]  # each contrast pair once, in the set's order
    cache: str  # the build's cache folder
    catalog: Catalog
    architecture: dict  # the base model's configuration (models.architecture)
    evaluation: dict | None  # weights/<pair>/evaluation.json, when there is one
    # the live page: {"graph": {name: path}, "tokenizer": {name: path}, "facts": {...}}
    # or {"reason": why the pair cannot run live}
    live: dict = field(default_factory=dict)
    # what fine-tuning changed over a whole labelled set (findings.cards.findings), or None
    findings: dict | None = None
    # the trained model's weights/<pair>/training.json (training.collect), or None
    training: dict | None = None

    def as_json(self) -> str:
        data = {"format": MANIFEST_FORMAT, **asdict(self), "catalog": self.catalog.as_dict(),
                # "display" only where a sentence has one (the dev set's detokenised text)
                "sentences": [{k: e.get(k, "") for k in ENTRY_KEYS if k != "display" or e.get("display")}
                              for e in self.sentences],
                "contrasts": [list(p) for p in self.contrasts]}
        return json.dumps(data, indent=1, ensure_ascii=False) + "\n"  # in order: the catalog keeps the registry's

    @classmethod
    def from_dict(cls, data: dict) -> Manifest:
        data = {k: v for k, v in data.items() if k != "format"}
        return cls(**{**data, "catalog": Catalog.from_dict(data["catalog"]),
                      "contrasts": [tuple(p) for p in data["contrasts"]]})


def write_manifest(gallery_dir: Path, manifest: Manifest) -> None:
    (Path(gallery_dir) / MANIFEST).write_text(manifest.as_json(), encoding="utf-8")


def read_manifest(gallery_dir: Path) -> Manifest:
    path = Path(gallery_dir) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PluginError(f"no gallery in {gallery_dir} ({MANIFEST} is missing): build it with "
                          "`make gallery` (scripts/build_gallery.py)") from None
    except (OSError, ValueError) as exc:
        raise PluginError(f"{path} is unreadable ({exc}); build the gallery again with `make gallery`") from None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise PluginError(f"{path} is of another format; build the gallery again with `make gallery`")
    try:
        return Manifest.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise PluginError(f"{path} is incomplete ({exc!r}); build the gallery again with `make gallery`") from None
