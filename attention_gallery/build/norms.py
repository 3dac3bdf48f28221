"""Each page's norm-based attention as a file of its own, written into the built site.

A sentence page carries its attention weights inline (one blob, drawn at once); the
same views under "norms" (Kobayashi et al. 2020, ``explain/views.py``) draw from a
second blob of the same size, which most readers never ask for. So it stays out of
the page: the kernel stores it beside the weights (:data:`views.ATTENTION_MIME`'s
``"norms"``), the page's blob names its file (``data-norms``), and this writes that
file from the executed notebook after MkDocs, as the downloads are written. The
page's script loads it when the switch is first set to norms (lib/backend.js).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from .. import config
from ..explain import views


def write_norms(gallery: Path, site_gallery: Path) -> list[Path]:
    """The norms file of each executed notebook of ``gallery`` (the staged docs'
    folder) into ``site_gallery/norms``; one already newer than its notebook is kept
    (a watch-mode rebuild starts from a copy of the live site). Returns the files."""
    folder = Path(site_gallery) / config.NORMS
    written = []
    for source in sorted(Path(gallery).glob("*.ipynb")):
        found = views.norms_output(nbformat.read(str(source), as_version=4)) \
            if not _current(folder, source) else None
        if found is not None:
            source_id, norms = found
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{source_id}.js"
            tmp = target.with_suffix(".js.tmp")
            tmp.write_text(views.norms_script(source_id, norms), encoding="utf-8")
            tmp.replace(target)
            written.append(target)
    return written


def _current(folder: Path, source: Path) -> bool:
    """Whether ``folder`` holds a norms file of ``source`` newer than it."""
    target = folder / f"{views.source_id(source.stem)}.js"
    return target.exists() and target.stat().st_mtime >= source.stat().st_mtime
