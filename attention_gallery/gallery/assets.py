"""Third-party JavaScript the bertviz views and the live page need, served from the
site itself.

d3, jQuery and require.js come from the npm registry at set-up, pinned here, and
bertviz's own view scripts come from the installed bertviz package, wrapped so that
they take their data as an argument instead of loading it from a CDN. The live page's
runtime (onnxruntime-web's single-threaded WASM build) and tokenizer library come
from npm too (``LIVE_NPM_FILES``). Nothing here is committed: ``ensure_vendor()``
writes ``docs/assets/vendor/`` (ignored by git).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from .. import config

# npm package -> (version, file inside the package, name served by the site)
NPM_FILES = {
    "requirejs": ("2.3.6", "package/require.js", "require.js"),
    "d3": ("5.7.0", "package/dist/d3.min.js", "d3.min.js"),
    "jquery": ("2.2.4", "package/dist/jquery.min.js", "jquery.min.js"),
}
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
        f"/* bertviz {name}.js (installed bertviz package), wrapped by attention_gallery.gallery.assets */\n"
        "window.bertvizViews = window.bertvizViews || {};\n"
        f"window.bertvizViews[{json.dumps(name)}] = function (PYTHON_PARAMS) {{\n{stripped}\n}};\n"
    )


def _bertviz_dir() -> Path:
    import bertviz

    return Path(bertviz.__file__).parent


def _wanted() -> dict:
    import bertviz  # noqa: F401  (version recorded in the stamp)
    from importlib.metadata import version

    return {"npm": {k: v[0] for k, v in {**NPM_FILES, **LIVE_NPM_FILES}.items()}, "bertviz": version("bertviz")}


def _npm_pack(package: str, version: str, dest: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise AssetError("npm is not installed: it fetches d3, jQuery, require.js, onnxruntime-web and "
                         "@huggingface/tokenizers (apt-get install npm)")
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


def ensure_vendor(vendor_dir: Path = VENDOR_DIR, quiet: bool = False) -> Path:
    """Fetch (once) and write the vendor scripts; returns the folder."""
    stamp = vendor_dir / _STAMP
    wanted = _wanted()
    if stamp.exists() and json.loads(stamp.read_text()) .get("versions") == wanted:
        return vendor_dir
    vendor_dir.mkdir(parents=True, exist_ok=True)
    digests = {}
    wanted_files = {package: (version, {member: served}) for package, (version, member, served) in NPM_FILES.items()}
    wanted_files.update(LIVE_NPM_FILES)
    with tempfile.TemporaryDirectory() as tmp:
        for package, (version, members) in wanted_files.items():
            if not quiet:
                print(f"fetching {package}@{version} from the npm registry")
            tarball = _npm_pack(package, version, Path(tmp))
            with tarfile.open(tarball) as tar:
                for member, served in members.items():
                    data = tar.extractfile(member).read()
                    (vendor_dir / served).parent.mkdir(parents=True, exist_ok=True)
                    (vendor_dir / served).write_bytes(data)
                    digests[served] = hashlib.sha256(data).hexdigest()
            Path(tarball).unlink()
    for name in BERTVIZ_VIEWS:
        src = (_bertviz_dir() / f"{name}.js").read_text(encoding="utf-8")
        (vendor_dir / f"bertviz-{name.replace('_', '-')}.js").write_text(wrap_bertviz(src, name), encoding="utf-8")
    stamp.write_text(json.dumps({"versions": wanted, "sha256": digests}, indent=1, sort_keys=True))
    return vendor_dir
