"""The notebook a reader downloads: it stands alone.

A sentence page is rendered from a light notebook whose views are placeholders
that only the site's scripts fill. The download is a separate file made from it
(the page's weight does not grow): the same cells, with

* the ``parameters`` cell holding the page's own sentence (papermill's injected
  cell folded into it), in ``mode = "jupyter"``, so the first thing a reader sees
  is this sentence and a re-run draws bertviz's interactive views;
* every view saved as bertviz's own output (its HTML and JavaScript with the
  attention data, exactly what ``model_view``/``head_view`` display in Jupyter),
  so the notebook shows the views when opened, without re-running;
* the site-only attention blob removed (the views carry the data).

Weights come from the page's blob (one byte per weight), so the saved views show
what the site shows, rounded to 1/255. Deterministic: the same notebook gives the
same download byte for byte, so :func:`write_download` keeps each in the build's cache,
keyed on the notebook's bytes and this module's own (a build makes only the downloads
of notebooks it has not seen; making one costs about as much as rendering its page).
"""

from __future__ import annotations

import ast
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

from .notebook import INJECTED_TAG, PARAMETERS_TAG, literal

BLOB = re.compile(r'<script type="application/json" class="gallery-attention-data"[^>]*>(.*?)</script>', re.DOTALL)
VIEW_CALL = re.compile(r"^page\.(model_view|head_view|compare)\(ex(?:, (.*))?\)$")
DOWNLOADS = "downloads"  # gallery/downloads/<slug>.ipynb in the site
STORE = ".downloads"  # in the build's cache: each download made once


def _injected(nb) -> tuple[int | None, dict]:
    for i, cell in enumerate(nb.cells):
        if INJECTED_TAG in cell.metadata.get("tags", []):
            values = {}
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                    values[node.targets[0].id] = ast.literal_eval(node.value)
            return i, values
    return None, {}


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


def _attention(html: str) -> tuple[dict, np.ndarray, np.ndarray]:
    payload = json.loads(BLOB.search(html).group(1))
    layers, heads, n = payload["layers"], payload["heads"], len(payload["tokens"])
    raw = zlib.decompress(base64.b64decode(payload["weights"]))
    both = np.frombuffer(raw, dtype=np.uint8).astype(np.float64) / payload["scale"]
    both = both.reshape(2, layers, heads, n, n)
    return payload, both[0], both[1]


def _bertviz_outputs(view: str, weights: np.ndarray, tokens: list[str], tag: str = "", **kwargs) -> list:
    """What bertviz's view displays in a Jupyter cell, as saved outputs: its
    require.js tag, its HTML and its JavaScript (``html_action='view'`` shows these
    three; ``'return'`` joins them, which works without an IPython shell)."""
    import torch
    from bertviz import head_view, model_view

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
    tag_end = html.index("</script>") + len("</script>")
    js_start = html.rindex('\n<script type="text/javascript">\n')
    require, body = html[:tag_end], html[tag_end:js_start]
    js = html[js_start:].removeprefix('\n<script type="text/javascript">\n').removesuffix("\n</script>\n")
    return [_display({"text/html": require, "text/plain": "<IPython.core.display.HTML object>"}),
            _display({"text/html": body, "text/plain": "<IPython.core.display.HTML object>"}),
            _display({"application/javascript": js, "text/plain": "<IPython.core.display.Javascript object>"})]


def _display(data: dict) -> nbformat.NotebookNode:
    """A ``display_data`` output, as ``nbformat.v4.new_output`` makes it but without
    validating each one against the schema (a quarter of a download's time): the
    whole notebook is validated once, when it is written."""
    return nbformat.from_dict({"output_type": "display_data", "data": data, "metadata": {}})


def standalone(nb: nbformat.NotebookNode, tokens: list[str], top_head: tuple[int, int]) -> nbformat.NotebookNode:
    """The download of an executed gallery notebook (see the module's docstring);
    ``tokens`` are the record's (unformatted) tokens, ``top_head`` its most changed
    head (what the side-by-side views open on)."""
    nb = copy.deepcopy(nb)
    index, values = _injected(nb)
    if index is None:
        raise ValueError("the notebook has no injected parameters: not an executed gallery notebook")
    values["mode"] = "jupyter"
    del nb.cells[index]
    for cell in nb.cells:
        if PARAMETERS_TAG in cell.metadata.get("tags", []):
            _set_parameters(cell, values)
            break
    weights = None
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            html = out.get("data", {}).get("text/html")
            if html is not None and BLOB.search("".join(html)):
                html = "".join(html)
                _, trained, untrained = _attention(html)
                weights = {"trained": trained, "untrained": untrained,
                           "gained": np.clip(trained - untrained, 0, None),
                           "lost": np.clip(untrained - trained, 0, None)}
                out["data"]["text/html"] = BLOB.sub("", html)
    if weights is None:
        raise ValueError("the notebook carries no attention data (was it executed in gallery mode?)")
    layer, head = top_head
    for cell in nb.cells:
        m = VIEW_CALL.match(cell.source.strip()) if cell.cell_type == "code" else None
        if not m:
            continue
        view, args = m.group(1), m.group(2)
        kinds = [a for a in (ast.literal_eval(f"({args},)") if args else ()) if isinstance(a, str)]
        outputs = []
        if view == "model_view":
            for kind in kinds or ["trained"]:
                outputs += _bertviz_outputs("model_view", weights[kind], tokens, tag=kind)
        else:  # head views of one layer, opened on the most changed head
            for kind in (kinds or ["trained"]) if view == "head_view" else ["trained", "untrained", "gained"]:
                outputs += _bertviz_outputs("head_view", weights[kind], tokens, tag=kind, layer=layer, heads=[head])
        cell.outputs = outputs
    nb.metadata["attention_gallery"] = {"download": "views saved as bertviz outputs; re-run with the project installed"}
    return nb


@lru_cache(maxsize=1)
def _maker() -> bytes:
    """What decides a download besides its notebook: this module and bertviz."""
    return hashlib.sha256(Path(__file__).read_bytes() + f"bertviz {version('bertviz')}".encode()).digest()


def _entry(data: bytes, tokens: list[str], top_head: tuple[int, int], store: Path) -> Path:
    key = hashlib.sha256(_maker() + json.dumps([tokens, list(top_head)]).encode() + data).hexdigest()[:32]
    return Path(store) / f"{key}.ipynb"


def entry_path(source: Path, tokens: list[str], top_head: tuple[int, int], store: Path) -> Path:
    """Where ``store`` (a folder of the build's cache) keeps the download of the
    executed notebook ``source``."""
    return _entry(Path(source).read_bytes(), tokens, top_head, store)


def _made(data: bytes, entry: Path, tokens: list[str], top_head: tuple[int, int]) -> Path:
    """``entry``, the download of the notebook ``data``, made now unless it is there."""
    from .notebook import write

    if not entry.is_file():
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        write(standalone(nb, tokens, top_head), entry)
    return entry


def make_entry(source: Path, tokens: list[str], top_head: tuple[int, int], store: Path) -> Path:
    """The download of the executed notebook ``source`` in ``store``, made now unless
    a build made it before."""
    data = Path(source).read_bytes()
    return _made(data, _entry(data, tokens, top_head, store), tokens, top_head)


PENDING: dict[Path, object] = {}  # a cache file being made -> the Future making it


def wait_for(path: Path) -> None:
    """Wait until watch mode's worker (:mod:`.worker`) is done making ``path`` (if it is making it)."""
    pending = PENDING.pop(Path(path), None)
    if pending is not None:
        try:
            pending.result()
        except Exception:  # noqa: BLE001, S110  (the build makes it itself; a real problem shows there)
            pass


def write_download(source: Path, tokens: list[str], top_head: tuple[int, int], target: Path, store: Path) -> None:
    """Write the download of the executed notebook ``source`` to ``target``: from
    ``store`` when a build made it before or watch mode's worker is making it
    (:mod:`.worker`: waited for), else made now."""
    data = Path(source).read_bytes()
    entry = _entry(data, tokens, top_head, store)
    wait_for(entry)
    _made(data, entry, tokens, top_head)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(entry, target)
