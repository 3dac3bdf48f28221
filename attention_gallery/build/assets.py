"""Third-party JavaScript, served from the site itself or kept for the benchmark.

The live page's runtime (onnxruntime-web's single-threaded WASM build) and tokenizer
library come from the npm registry at set-up, pinned here (``LIVE_NPM_FILES``):
:func:`ensure_vendor` writes them into ``docs/assets/vendor/`` (ignored by git), which
the site publishes. Stock bertviz's views (d3, jQuery and require.js from npm,
``BENCH_NPM_FILES``, and bertviz's own view scripts from the installed package,
wrapped so that they take their data as an argument instead of loading it from a
CDN) draw no page of the site: only ``scripts/bench_pages.py`` compares the gallery's
views with them, so :func:`ensure_bench_vendor` fetches them for it alone, into the
build's cache (``.cache/bench-vendor/``), never into the site. Nothing here is
committed.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tarfile
import tempfile
from importlib.metadata import version
from pathlib import Path

import bertviz

from .. import config

# stock bertviz's views, for scripts/bench_pages.py only:
# npm package -> (version, {file inside the package: name in the bench's vendor folder})
BENCH_NPM_FILES = {
    "requirejs": ("2.3.6", {"package/require.js": "require.js"}),
    "d3": ("5.7.0", {"package/dist/d3.min.js": "d3.min.js"}),
    "jquery": ("2.2.4", {"package/dist/jquery.min.js": "jquery.min.js"}),
}
BENCH_VENDOR_DIR = config.CACHE_DIR.parent / "bench-vendor"
# the live page (loaded by that page only, when the reader asks):
# npm package -> (version, {file inside the package: name served under vendor/})
LIVE_NPM_FILES = {
    "onnxruntime-web": ("1.30.0", {
        "package/dist/ort.wasm.min.js": "onnxruntime-web/ort.wasm.min.js",
        "package/dist/ort-wasm-simd-threaded.mjs": "onnxruntime-web/ort-wasm-simd-threaded.mjs",
        "package/dist/ort-wasm-simd-threaded.wasm": "onnxruntime-web/ort-wasm-simd-threaded.wasm",
    }),
    "@huggingface/tokenizers": ("0.2.0", {
        "package/dist/tokenizers.min.mjs": "tokenizers/tokenizers.min.mjs",
        "package/LICENSE": "tokenizers/LICENSE",
    }),
}
VENDOR_DIR = config.DOCS_DIR / "assets" / "vendor"
BERTVIZ_VIEWS = ("head_view", "model_view")
_STAMP = "vendor.json"
NPM_TIMEOUT = 120  # seconds for one `npm pack` (a package of a few hundred KB)


class AssetError(RuntimeError):
    """The vendor libraries could not be fetched or prepared."""


def wrap_bertviz(source: str, name: str) -> str:
    """Turn bertviz's ``<name>.js`` (a script with a CDN ``require.config`` and a
    ``PYTHON_PARAMS`` marker) into a function ``bertvizViews[name](params)``."""
    stripped, n = re.subn(r"require\.config\(\{.*?\}\s*\);", "", source, count=1, flags=re.S)
    if n != 1 or "PYTHON_PARAMS" not in stripped or "cdnjs" in stripped:
        raise AssetError(f"bertviz {name}.js does not have the expected layout; check the bertviz version")
    return (
        f"/* bertviz {name}.js (installed bertviz package), wrapped by attention_gallery.build.assets */\n"
        "window.bertvizViews = window.bertvizViews || {};\n"
        f"window.bertvizViews[{json.dumps(name)}] = function (PYTHON_PARAMS) {{\n{stripped}\n}};\n"
    )


def _bertviz_dir() -> Path:
    return Path(bertviz.__file__).parent


def _npm_pack(package: str, version: str, dest: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise AssetError(f"npm is not installed: it fetches {package} (apt-get install npm)")
    try:
        out = subprocess.run(
            [npm, "pack", f"{package}@{version}", "--json", "--pack-destination", str(dest)],
            capture_output=True, text=True, cwd=dest, timeout=NPM_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise AssetError(f"npm pack {package}@{version} got no answer in {NPM_TIMEOUT} s: is the npm "
                         "registry reachable? (or put the files in docs/assets/vendor/ by hand)") from None
    if out.returncode != 0:
        raise AssetError(f"npm pack {package}@{version} failed: {out.stderr.strip()[-500:]}")
    try:
        return dest / json.loads(out.stdout)[0]["filename"]
    except (ValueError, LookupError, TypeError):
        raise AssetError(f"npm pack {package}@{version} answered something unexpected: "
                         f"{out.stdout.strip()[:200]!r}") from None


def _fetch(folder: Path, packages: dict, extra: dict, quiet: bool) -> dict:
    """Fetch ``packages`` (npm package -> (version, {member: name})) into ``folder``,
    unless its stamp says they are there (with the same ``extra`` facts); returns
    the stamp's versions. A name an earlier stamp listed that is no longer wanted
    is removed (the folder is this module's alone)."""
    stamp = folder / _STAMP
    wanted = {"npm": {k: v[0] for k, v in packages.items()}, **extra}
    names = {served for _, members in packages.values() for served in members.values()}
    try:
        old = json.loads(stamp.read_text())
    except (OSError, ValueError):
        old = {}
    old_npm = old.get("versions", {}).get("npm", {})
    if (all(old_npm.get(k) == v for k, v in wanted["npm"].items())
            and all(old.get("versions", {}).get(k) == v for k, v in extra.items())
            and all((folder / n).is_file() for n in names)):
        digests = {n: d for n, d in old.get("sha256", {}).items() if n in names}
    else:
        folder.mkdir(parents=True, exist_ok=True)
        digests = {}
        with tempfile.TemporaryDirectory() as tmp:
            for package, (version, members) in packages.items():
                if not quiet:
                    print(f"fetching {package}@{version} from the npm registry")
                tarball = _npm_pack(package, version, Path(tmp))
                with tarfile.open(tarball) as tar:
                    for member, served in members.items():
                        data = tar.extractfile(member).read()
                        (folder / served).parent.mkdir(parents=True, exist_ok=True)
                        (folder / served).write_bytes(data)
                        digests[served] = hashlib.sha256(data).hexdigest()
                Path(tarball).unlink()
    for gone in set(old.get("sha256", {})) - names:
        (folder / gone).unlink(missing_ok=True)
    if old.get("versions") != wanted or old.get("sha256") != digests:
        stamp.write_text(json.dumps({"versions": wanted, "sha256": digests}, indent=1, sort_keys=True))
    return wanted


def ensure_vendor(vendor_dir: Path = VENDOR_DIR, quiet: bool = False) -> Path:
    """Fetch (once) the live page's scripts into ``vendor_dir`` (published by the site);
    returns the folder."""
    _fetch(vendor_dir, LIVE_NPM_FILES, {}, quiet)
    for name in BERTVIZ_VIEWS:  # written there by earlier builds; no page loads them
        (vendor_dir / f"bertviz-{name.replace('_', '-')}.js").unlink(missing_ok=True)
    return vendor_dir


def ensure_bench_vendor(vendor_dir: Path = BENCH_VENDOR_DIR, quiet: bool = False) -> Path:
    """Fetch (once) what stock bertviz's views need into ``vendor_dir`` (outside the
    site: only ``scripts/bench_pages.py`` uses it): d3, jQuery, require.js and
    bertviz's view scripts, wrapped (:func:`wrap_bertviz`); returns the folder."""
    _fetch(vendor_dir, BENCH_NPM_FILES, {"bertviz": version("bertviz")}, quiet)
    for name in BERTVIZ_VIEWS:
        src = (_bertviz_dir() / f"{name}.js").read_text(encoding="utf-8")
        (vendor_dir / f"bertviz-{name.replace('_', '-')}.js").write_text(wrap_bertviz(src, name), encoding="utf-8")
    return vendor_dir
