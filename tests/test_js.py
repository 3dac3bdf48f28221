"""The site's own JavaScript: ESLint and its unit tests, and the golden files both
languages are held to.

* ``node --test tests/js/`` (Node's own runner): the views' modules, the live page's
  numbers against ``tests/golden/live.json``, the attention blob against
  ``tests/golden/blob.json``, the markup against ``tests/golden/markup.json``, the
  claim rule and the colour scale against theirs;
* ESLint with the checked-in ``eslint.config.js`` (``npm ci`` at ``make setup``);
* the Python side still writes those golden files (``scripts/js_golden.py``):
  the blob and the markup here, the live page's numbers with the default pair (slow).

    .venv/bin/python -m pytest -q tests/test_js.py
    .venv/bin/python scripts/js_golden.py      # rewrite the golden files after a deliberate change
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
NODE = shutil.which("node")
ESLINT = ROOT / "node_modules" / ".bin" / "eslint"
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")

sys.path.insert(0, str(ROOT / "scripts"))
import js_golden  # noqa: E402


@needs_node
def test_the_javascript_unit_tests_pass():
    done = subprocess.run([NODE, "--test", "tests/js/"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    counts = dict(line[2:].split(" ", 1) for line in done.stdout.splitlines() if line.startswith("# ") and " " in line[2:])
    assert int(counts["pass"]) >= 30 and int(counts["fail"]) == 0, counts


@needs_node
def test_eslint_passes():
    assert ESLINT.exists(), "ESLint is not installed: run `make setup` (npm ci, from package-lock.json)"
    done = subprocess.run([NODE, str(ESLINT), "--max-warnings", "0", "."], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


@needs_node
def test_each_page_kind_loads_one_classic_script_bundled_from_the_modules(tmp_path):
    """The pages load their entry bundled by esbuild (the gallery plugin runs
    scripts/bundle_js.mjs at every build): one classic script each (it parses as a
    script: no import or export left, so it also runs opened from file://), the same
    bytes for the same sources, the raster worker inside it, and no global but the
    entry's own."""
    import re

    from attention_gallery.web.plugin import bundle_scripts

    src = ROOT / "docs" / "assets" / "javascripts"
    bundles = bundle_scripts(src)
    assert bundles == bundle_scripts(src)
    assert set(bundles) == {"gallery.js", "live.js"}
    globals_ = {"gallery.js": {"GalleryViews"}, "live.js": {"LiveGallery"}}
    for name, text in bundles.items():
        script = tmp_path / (name[:-3] + ".cjs")
        script.write_text(text, encoding="utf-8")
        checked = subprocess.run([NODE, "--check", str(script)], capture_output=True, text=True, timeout=60)
        assert checked.returncode == 0, (name, checked.stderr[-2000:])
        assert "RASTER_WORKER" not in text and "createCore(out, taskQueue())" in text, name
        assert set(re.findall(r"\bwindow\.([A-Za-z_$][\w$]*)\s*=[^=]", text)) == globals_[name], name
    # the live page's entry writes its markup and computes its numbers with the modules
    # the golden files hold to Python's (no copy of its own)
    live = (src / "live.js").read_text(encoding="utf-8")
    for module in ("markup", "maths", "deletion", "claims", "colour-scale", "text-rules", "blob", "page"):
        assert f'from "./lib/{module}.js"' in live, module
    assert not re.search(r"function (esc|signed|softmax|rollout|tauB|headChange|levels)\b", live)


def test_node_modules_are_installed_not_committed():
    assert "/node_modules/" in (ROOT / ".gitignore").read_text().split()
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert {"eslint", "globals", "@eslint/js", "esbuild"} <= set(lock["packages"][""]["devDependencies"])


def _same(got, want, where: str, tolerance: float) -> None:
    """``got == want`` for a golden file's data: floats to ``tolerance`` (numpy's
    vectorised loops and float32 model outputs differ in the last bits from one CPU to
    another), float32 arrays in base64 (keys ending ``_f32``) to it too, levels (keys
    ending ``levels``) to one level in under 0.1% of them, everything else exactly."""
    if isinstance(want, dict):
        assert got.keys() == want.keys(), where
        for k in want:
            _same(got[k], want[k], f"{where}.{k}", tolerance)
    elif isinstance(want, list):
        assert len(got) == len(want), where
        for i, (x, y) in enumerate(zip(got, want)):
            _same(x, y, f"{where}[{i}]", tolerance)
    elif isinstance(want, float):
        assert abs(got - want) <= tolerance, (where, got, want)
    elif isinstance(want, str) and where.endswith("_f32"):
        x = np.frombuffer(base64.b64decode(got), np.float32)
        y = np.frombuffer(base64.b64decode(want), np.float32)
        assert x.shape == y.shape and np.abs(x - y).max() <= tolerance, where
    elif isinstance(want, str) and where.endswith("levels"):
        x = np.frombuffer(base64.b64decode(got), np.uint8).astype(int)
        y = np.frombuffer(base64.b64decode(want), np.uint8).astype(int)
        # another CPU's float32 may land a weight on the other side of a rounding edge
        assert x.shape == y.shape and np.abs(x - y).max() <= 1 and (x != y).mean() < 1e-3, where
    else:
        assert got == want, where


def test_python_still_writes_the_blob_and_markup_golden_files():
    _same(js_golden.blob_golden(), json.loads((GOLDEN / "blob.json").read_text("utf-8")), "blob", 1e-12)
    assert json.loads((GOLDEN / "markup.json").read_text("utf-8")) == js_golden.markup_golden()
    # the check can fail: a float off by more than the last bits is a difference
    wrong = js_golden.blob_golden()
    wrong["trained"][0] += 1e-9
    with pytest.raises(AssertionError):
        _same(wrong, json.loads((GOLDEN / "blob.json").read_text("utf-8")), "blob", 1e-12)


def test_python_still_says_what_the_notice_golden_file_says():
    """What to notice (explain/notice.py) on the live golden sentences' numbers and on the
    rules' own cases: lib/notice.js is held to the same file (tests/js/notice.test.js)."""
    live = json.loads((GOLDEN / "live.json").read_text("utf-8"))
    want = json.loads((GOLDEN / "notice.json").read_text("utf-8"))
    assert json.loads(json.dumps(js_golden.notice_golden(live["cases"]))) == want
    outcomes = {p["outcome"] for s in want["sentences"] for p in s["points"]}
    assert "no-gold" in outcomes  # a typed sentence has no gold label


def test_python_still_packs_a_downloads_view_as_the_golden_file_says():
    assert json.loads((GOLDEN / "download.json").read_text("utf-8")) == js_golden.download_golden()
    from attention_gallery.build import download

    g = json.loads((GOLDEN / "download.json").read_text("utf-8"))
    packed = g["packed"]["attention"][0]["attn"]
    levels = np.frombuffer(zlib.decompress(base64.b64decode(packed["deflated"]), -15), "<u2")
    assert np.array_equal(levels.reshape(packed["shape"]) / packed["scale"], g["params"]["attention"][0]["attn"])
    with pytest.raises(ValueError):
        download.compact_params({"attention": [{"attn": [[[[-0.5]]]]}]})


def test_the_blob_golden_file_reads_back_in_python():
    import re

    g = json.loads((GOLDEN / "blob.json").read_text("utf-8"))
    text = re.fullmatch(r'<script type="application/json" class="gallery-attention-data" id="[^"]+">(.*)</script>',
                        g["element"], re.DOTALL).group(1)
    d = json.loads(text)
    assert d["encoding"] == "uint8-deflate-base64" and d["tokens"] == g["tokens"]
    assert zlib.decompress(base64.b64decode(d["weights"])) == base64.b64decode(g["levels"])


def test_the_views_settings_are_the_python_sides():
    from attention_gallery import config
    from attention_gallery.explain import views

    settings = json.loads((ROOT / "attention_gallery" / "views.json").read_text("utf-8"))
    assert settings["titles"] == views.VIEW_TITLES
    assert settings["titles"]["untrained"] == config.UNTRAINED_SHORT
    assert settings["compare_attentions"] == list(views.COMPARE_ATTENTIONS)
    assert len(settings["palette"]) == 10


@pytest.mark.slow
def test_python_still_computes_the_live_golden_numbers(default_pair):
    want = json.loads((GOLDEN / "live.json").read_text("utf-8"))
    got = json.loads(json.dumps(js_golden.live_golden(default_pair)))
    assert [c["text"] for c in got["cases"]] == [c["text"] for c in want["cases"]]

    _same(got, want, "live", want["tolerance"])
