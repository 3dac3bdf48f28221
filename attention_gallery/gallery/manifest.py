"""The manifest: what the build tells the gallery plugin beyond the notebooks (the
pair, the sentences in order with what the set says of each, where the caches
are). Its own module, so the build writes it without importing the plugin.
"""

from __future__ import annotations

import json
from pathlib import Path

from mkdocs.exceptions import PluginError


MANIFEST = "gallery.json"
MANIFEST_FORMAT = 2


def write_manifest(gallery_dir: Path, pair: str, entries: list[dict], cache_dir: Path) -> None:
    """What the plugin needs from the build: the pair, the sentences in order
    (``{"slug", "title", "group", "contrast"}``: what the set says about each page
    beyond its notebook) and where the build keeps its caches."""
    keys = ("slug", "title", "group", "contrast")
    data = {"format": MANIFEST_FORMAT, "pair": pair, "cache": str(cache_dir),
            "sentences": [{k: e.get(k, "") for k in keys} for e in entries]}
    (gallery_dir / MANIFEST).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def read_manifest(gallery_dir: Path) -> dict:
    path = gallery_dir / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PluginError(f"no gallery in {gallery_dir} ({MANIFEST} is missing): build it with "
                          "`make gallery` (scripts/build_gallery.py)") from None
    except (OSError, ValueError) as exc:
        raise PluginError(f"{path} is unreadable ({exc}); build the gallery again with `make gallery`") from None
    if data.get("format") != MANIFEST_FORMAT:
        raise PluginError(f"{path} is of another format; build the gallery again with `make gallery`")
    return data
