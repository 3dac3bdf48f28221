"""Each page's norm-based attention as a file of its own, written into the built site.

A sentence page carries its attention weights inline (one blob, drawn at once); the
same views under "norms" (Kobayashi et al. 2020, ``explain/views.py``) draw from a
second blob of the same size, which most readers never ask for. So it stays out of
the page: the kernel stores it beside the weights (:data:`views.ATTENTION_MIME`'s
``"norms"``), the page's blob names its file (``data-norms``), and this writes that
file from the executed notebook after MkDocs, as the downloads are written. The
page's script loads it when the switch is first set to norms (lib/backend.js).

The fine-tuned model's attention at each training checkpoint (the block's step
control) is a sidecar of the same kind (``"steps"``, ``data-steps``), written here too.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from .. import config
from ..explain import views


def write_norms(gallery: Path, site_gallery: Path) -> list[Path]:
    """The sidecar files of each executed notebook of ``gallery`` (the staged docs'
    folder): its norms into ``site_gallery/norms`` and its training steps (a pair with
    checkpoints) into ``site_gallery/steps``; one already newer than its notebook is
    kept (a watch-mode rebuild starts from a copy of the live site). Returns the files."""
    written = []
    sidecars = ((config.NORMS, views.norms_output, views.norms_script),
                (config.STEPS, views.steps_output, views.steps_script))
    for source in sorted(Path(gallery).glob("*.ipynb")):
        nb = None
        for name, output, script in sidecars:
            folder = Path(site_gallery) / name
            if _current(folder, source):
                continue
            nb = nb or nbformat.read(str(source), as_version=4)
            found = output(nb)
            if found is not None:
                source_id, data = found
                folder.mkdir(parents=True, exist_ok=True)
                target = folder / f"{source_id}.js"
                tmp = target.with_suffix(".js.tmp")
                tmp.write_text(script(source_id, data), encoding="utf-8")
                tmp.replace(target)
                written.append(target)
    return written


def _current(folder: Path, source: Path) -> bool:
    """Whether ``folder`` holds a sidecar of ``source`` newer than it."""
    target = folder / f"{views.source_id(source.stem)}.js"
    return target.exists() and target.stat().st_mtime >= source.stat().st_mtime
