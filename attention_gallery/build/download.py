"""The notebook a reader downloads: it stands alone.

A sentence page is rendered from a light notebook whose views are placeholders
that only the site's scripts fill. The download is a separate file made from it
(the page's weight does not grow): the same cells, with

* the ``parameters`` cell holding the page's own sentence, from its record (the
  build's injected cell removed), in ``mode = "jupyter"``, so the first thing a
  reader sees is this sentence and a re-run draws bertviz's interactive views;
* every view saved as bertviz's own output (its HTML and JavaScript with the
  attention data, exactly what ``model_view``/``head_view`` display in Jupyter),
  so the notebook shows the views when opened, without re-running: each view output
  says what it draws (``views.VIEW_MIME``), as the side-by-side block's four head views;
* the site-only attention blob removed (the views carry the data).

What it reads of the executed notebook is its record and the data its outputs store
(:func:`..explain.views.attention_output`, :func:`..explain.views.view_outputs`),
never a page's markup or a template cell's source. Weights come from the page's blob
(one byte per weight), so the saved views show what the site shows, rounded to 1/255.
Deterministic: the same notebook gives the same download byte for byte, so
:func:`write_download` keeps each in the build's cache, keyed on the notebook's bytes
and the code that makes it (a build makes only the downloads of notebooks it has not
seen; making one costs about as much as rendering its page).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import shutil
import zlib
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

import nbformat
import numpy as np
import torch
from bertviz import head_view, model_view

from .. import config
from .. import record as record_module
from ..explain import views
from ..explain.methods import REGISTRY
from ..records import read_record_file
from . import notebook
from .notebook import INJECTED_TAG, PARAMETERS_TAG, literal

STORE = ".downloads"  # in the build's cache: each download made once


def _set_parameters(cell, values: dict) -> None:
    """Each ``name = value  # comment`` line of the parameters cell gets the page's
    value (comments kept); names the cell lacks are appended."""
    lines, seen = [], set()
    for line in cell.source.split("\n"):
        m = re.match(r"^(\w+)\s*=\s*(.*?)(\s+#.*)?$", line)
        if m and m.group(1) in values:
            name = m.group(1)
            seen.add(name)
            lines.append(f"{name} = {literal(values[name])}{m.group(3) or ''}")
        else:
            lines.append(line)
    lines += [f"{k} = {literal(v)}" for k, v in values.items() if k not in seen]
    cell.source = "\n".join(lines)


def _bertviz_outputs(view: str, weights: np.ndarray, tokens: list[str], tag: str = "", **kwargs) -> list:
    """What bertviz's view displays in a Jupyter cell, as saved outputs: its
    require.js tag, its HTML and its JavaScript (``html_action='view'`` shows these
    three; ``'return'`` joins them, which works without an IPython shell)."""
    tensors = [torch.tensor(np.round(w[None], 3), dtype=torch.float64) for w in weights]
    if view == "model_view":
        html = model_view(tensors, tokens, display_mode="light", html_action="return").data
    else:
        html = head_view(tensors, tokens, html_action="return", **kwargs).data
    # bertviz names each view's div with a random uuid: numbered instead, so the same
    # notebook gives the same download byte for byte
    ids = list(dict.fromkeys(re.findall(r"bertviz-[0-9a-f]{32}", html)))
    for k, old in enumerate(ids):
        html = html.replace(old, f"bertviz-{view.replace('_', '-')}-{tag}-{k}")
    # bertviz colours heads and layers with d3's schemeCategory10: the site's palette instead
    # (attention_gallery/views.json), so a download draws the colours its page does
    if html.count("d3.schemeCategory10") != 1:
        raise RuntimeError(f"bertviz {version('bertviz')}'s {view} no longer names its palette once "
                           "(d3.schemeCategory10): update attention_gallery/build/download.py")
    html = html.replace("d3.schemeCategory10", json.dumps(list(views.PALETTE)))
    tag_end = html.index("</script>") + len("</script>")
    js_start = html.rindex('\n<script type="text/javascript">\n')
    require, body = html[:tag_end], html[tag_end:js_start]
    js = compact_script(html[js_start:].removeprefix('\n<script type="text/javascript">\n').removesuffix("\n</script>\n"))
    return [_display({"text/html": require, "text/plain": "<IPython.core.display.HTML object>"}),
            _display({"text/html": body, "text/plain": "<IPython.core.display.HTML object>"}),
            _display({"application/javascript": js, "text/plain": "<IPython.core.display.Javascript object>"})]


_PARAMS = "const params = "
SCALE = 1000  # bertviz's weights are rounded to thousandths (above): stored as whole thousandths
DECODER = (Path(__file__).with_name("download_params.js")).read_text(encoding="utf-8")


def compact_params(params: dict) -> dict:
    """bertviz's params with each attention's ``attn`` (layers x heads x T x T nested
    lists of thousandths) packed: ``{"shape", "scale", "deflated"}``, the weights as
    16-bit little-endian whole thousandths, raw-deflated, base64 (``download_params.js``
    unpacks them to the same numbers)."""
    out = copy.deepcopy(params)
    for a in out["attention"]:
        weights = np.asarray(a["attn"], dtype=np.float64)
        levels = np.rint(weights * SCALE)
        if levels.min() < 0 or levels.max() > np.iinfo(np.uint16).max:
            raise ValueError("attention weights out of range for the download's packing")
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        raw = packer.compress(levels.astype("<u2").tobytes()) + packer.flush()
        a["attn"] = {"shape": list(weights.shape), "scale": SCALE, "deflated": base64.b64encode(raw).decode("ascii")}
    return out


def compact_script(js: str) -> str:
    """bertviz's view script with its params packed (:func:`compact_params`) and its
    code run once they are unpacked. bertviz writes its params twice, the second time
    into a comment after them (its template marker appears there too): that copy goes."""
    if js.count(_PARAMS) != 1 or not js.rstrip().endswith("});"):
        raise RuntimeError(f"bertviz {version('bertviz')}'s view script no longer has one '{_PARAMS}...' "
                           "inside its requirejs callback: update attention_gallery/build/download.py")
    start = js.index(_PARAMS)
    params, end = json.JSONDecoder().raw_decode(js, start + len(_PARAMS))
    line_end = js.find("\n", end)
    body = js[line_end:].rstrip()
    packed = json.dumps(compact_params(params), separators=(",", ":"))
    return (DECODER + "\n" + js[:start] + f"__gvParams({packed}).then((params) => {{" + body[:-len("});")]
            + "});\n});\n")


def _display(data: dict) -> nbformat.NotebookNode:
    """A ``display_data`` output, as ``nbformat.v4.new_output`` makes it but without
    validating each one against the schema (a quarter of a download's time): the
    whole notebook is validated once, when it is written."""
    return nbformat.from_dict({"output_type": "display_data", "data": data, "metadata": {}})


def _without_blob(nb: nbformat.NotebookNode) -> dict[str, np.ndarray]:
    """Remove the attention blob from ``nb`` (its data and its element in the page's
    markup); returns the four attentions the views draw."""
    found = views.attention_output(nb)
    if found is None:
        raise ValueError("the notebook carries no attention data (was it executed in gallery mode?)")
    source_id, payload = found
    norms, steps = views.norms_output(nb), views.steps_output(nb)
    element = views.blob_element(source_id, payload, norms[1] if norms else None, steps[1] if steps else None)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if views.ATTENTION_MIME in data:
                del data[views.ATTENTION_MIME]
                html = data.get("text/html")
                html = "".join(html) if isinstance(html, list) else html or ""
                if element not in html:
                    raise ValueError("the notebook's attention data and its page's blob differ")
                data["text/html"] = html.replace(element, "")
    trained, untrained = views.attention_weights(payload)
    return {"trained": trained, "untrained": untrained,
            "gained": np.clip(trained - untrained, 0, None), "lost": np.clip(untrained - trained, 0, None)}


def standalone(nb: nbformat.NotebookNode, rec: record_module.SentenceRecord) -> nbformat.NotebookNode:
    """The download of an executed gallery notebook whose record is ``rec`` (see the
    module's docstring)."""
    nb = copy.deepcopy(nb)
    injected = [i for i, c in enumerate(nb.cells) if INJECTED_TAG in c.metadata.get("tags", [])]
    if not injected:
        raise ValueError("the notebook has no injected parameters: not an executed gallery notebook")
    for index in reversed(injected):
        del nb.cells[index]
    values = {**notebook.parameters(rec, rec.pair), "title": rec.title, "mode": "jupyter"}
    for cell in nb.cells:
        if PARAMETERS_TAG in cell.metadata.get("tags", []):
            _set_parameters(cell, values)
            break
    weights = _without_blob(nb)
    drawn = {}
    for cell, index, view in views.view_outputs(nb):
        outputs = []
        for kind in view["attentions"]:
            if view["view"] == "model_view":
                outputs += _bertviz_outputs("model_view", weights[kind], rec.tokens, tag=kind)
            else:  # head views of one layer, opened on one head
                outputs += _bertviz_outputs("head_view", weights[kind], rec.tokens, tag=kind,
                                            layer=view["layer"], heads=view["heads"])
        drawn.setdefault(id(cell), (cell, {}))[1][index] = outputs
    for cell, by_index in drawn.values():
        cell.outputs = [o for i, out in enumerate(cell.outputs) for o in by_index.get(i, [out])]
    nb.metadata["attention_gallery"] = {"download": "views saved as bertviz outputs; re-run with the project installed"}
    return nb


@lru_cache(maxsize=1)
def _maker() -> bytes:
    """What decides a download besides its notebook: this module, what it reads the
    notebook with (the views' data, the parameters) and bertviz."""
    code = b"".join(Path(f).read_bytes() for f in (__file__, views.__file__, notebook.__file__)) + DECODER.encode()
    return hashlib.sha256(code + f"bertviz {version('bertviz')}".encode()).digest()


def _entry(data: bytes, store: Path) -> Path:
    """The notebook's bytes hold its record, so they and :func:`_maker` decide the download."""
    return Path(store) / f"{hashlib.sha256(_maker() + data).hexdigest()[:32]}.ipynb"


def entry_path(source: Path, store: Path) -> Path:
    """Where ``store`` (a folder of the build's cache) keeps the download of the
    executed notebook ``source``."""
    return _entry(Path(source).read_bytes(), store)


def _made(data: bytes, entry: Path, rec: record_module.SentenceRecord) -> Path:
    """``entry``, the download of the notebook ``data`` (whose record is ``rec``), made
    now unless it is there."""
    if not entry.is_file():
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        notebook.write(standalone(nb, rec), entry)
    return entry


def make_entry(source: Path, rec: record_module.SentenceRecord, store: Path) -> Path:
    """The download of the executed notebook ``source`` (its record ``rec``) in
    ``store``, made now unless a build made it before."""
    data = Path(source).read_bytes()
    return _made(data, _entry(data, store), rec)


PENDING: dict[Path, object] = {}  # a cache file being made -> the Future making it


def wait_for(path: Path) -> None:
    """Wait until watch mode's worker (:mod:`.worker`) is done making ``path`` (if it is making it)."""
    pending = PENDING.pop(Path(path), None)
    if pending is not None:
        try:
            pending.result()
        except Exception:  # noqa: BLE001, S110  (the build makes it itself; a real problem shows there)
            pass


def write_download(source: Path, rec: record_module.SentenceRecord, target: Path, store: Path) -> None:
    """Write the download of the executed notebook ``source`` (its record ``rec``) to
    ``target``: from ``store`` when a build made it before or watch mode's worker is
    making it (:mod:`.worker`: waited for), else made now."""
    data = Path(source).read_bytes()
    entry = _entry(data, store)
    wait_for(entry)
    _made(data, entry, rec)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(entry, target)


def write_downloads(gallery: Path, site_gallery: Path, store: Path) -> None:
    """Each executed notebook of ``gallery`` (the staged docs' folder) as a reader
    downloads it, into ``site_gallery/downloads`` of the built site: made once per
    notebook and kept in ``store``; one already newer than its notebook is kept (a
    watch-mode rebuild starts from a copy of the live site)."""
    folder = Path(site_gallery) / config.DOWNLOADS
    for source in sorted(Path(gallery).glob("*.ipynb")):
        target = folder / source.name
        if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
            continue
        write_download(source, read_record_file(source, source.stem, REGISTRY), target, store)
