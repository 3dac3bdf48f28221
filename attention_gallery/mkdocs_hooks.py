"""MkDocs hooks (``hooks:`` in mkdocs.yml): keep the site light and offline.

mkdocs-jupyter inlines about 0.6 MB of JupyterLab CSS and a clipboard script into
every notebook page, and nbconvert's template adds MathJax and Mermaid loaders from a
CDN. Here each large inline style or script becomes one shared file under
``assets/jupyter/`` (named by its hash, so the browser caches it once), the CDN
loaders are dropped (the gallery has no maths or diagrams), and a page that still
references another host fails the build.

nbconvert also builds a new Jinja environment for every notebook it converts, and
so compiles its templates again each time (more than half of a page's 0.19 s of
rendering, measured on the gallery's pages); :func:`on_config` gives those environments one shared in-memory bytecode
cache (Jinja's own mechanism), so the templates are compiled once per build.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import jinja2
from mkdocs.exceptions import PluginError
from mkdocs.utils import get_relative_url

ASSET_DIR = "assets/jupyter"
_shared: dict[str, str] = {}

_MATHJAX = re.compile(
    r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
_EXTERNAL_SCRIPT = re.compile(r"<script[^>]*\bsrc=\"(?:https?:)?//[^\"]*\"[^>]*>\s*</script>", re.S)
_MERMAID = re.compile(r"<script type=\"module\">.*?mermaid.*?</script>", re.S)
_STYLE = re.compile(r"<style type=\"text/css\">(.*?)</style>", re.S)
_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
_STRAY = re.compile(r"<style>\['pre \{.*?'\]</style>", re.S)
# Any tag attribute that makes the browser fetch from another host.
_FETCHING = re.compile(r"<(?:script|link|img|iframe|source|video|audio)\b[^>]*\b(?:src|href)=\"(?:https?:)?//", re.I)
MIN_SHARED = 2000  # bytes: smaller inline blocks stay where they are


def _share(kind: str, content: str, page_url: str) -> str:
    digest = hashlib.sha256(content.encode()).hexdigest()[:16]
    name = f"{ASSET_DIR}/{digest}.{kind}"
    _shared[name] = content
    return get_relative_url(name, page_url)


class SharedBytecode(jinja2.BytecodeCache):
    """Compiled templates kept in memory, shared by every Jinja environment given it.

    Jinja checks each entry against its template source's checksum, so a changed
    template is compiled again rather than served stale.
    """

    def __init__(self):
        self.store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self.store.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.store[bucket.key] = bucket.bytecode_to_string()


def share_template_bytecode() -> SharedBytecode:
    """Make every nbconvert exporter's Jinja environment use one :class:`SharedBytecode`
    and return it (idempotent).

    The cache lives on the patched method, not in this module: mkdocs loads a hook file
    as a module of its own on every build, and all of them must find the one cache.
    """
    from nbconvert.exporters.templateexporter import TemplateExporter

    create = TemplateExporter._create_environment
    shared = getattr(create, "gallery_bytecode", None)
    if shared is not None:
        return shared
    shared = SharedBytecode()

    def _create_environment(self):
        environment = create(self)
        environment.bytecode_cache = shared
        return environment

    _create_environment.gallery_bytecode = shared
    TemplateExporter._create_environment = _create_environment
    return shared


def on_config(config):
    share_template_bytecode()
    return config


def on_pre_build(config):
    _shared.clear()


def on_post_page(output: str, page, config) -> str:
    if "jupyter-wrapper" in output:
        output = _MATHJAX.sub("", output)
        output = _MERMAID.sub("", output)
        output = _STRAY.sub("", output)

        def style(match):
            if len(match.group(1)) < MIN_SHARED:
                return match.group(0)
            return f'<link rel="stylesheet" href="{_share("css", match.group(1), page.url)}">'

        def script(match):
            if len(match.group(1)) < MIN_SHARED:
                return match.group(0)
            return f'<script src="{_share("js", match.group(1), page.url)}"></script>'

        output = _STYLE.sub(style, output)
        output = _SCRIPT.sub(script, output)
    output = _EXTERNAL_SCRIPT.sub("", output) if "jupyter-wrapper" in output else output
    found = _FETCHING.search(output)
    if found:
        raise PluginError(
            f"{page.file.src_path}: the page would fetch from another host "
            f"({output[found.start():found.start() + 120]!r}); the site must work offline"
        )
    return output


def on_post_build(config):
    site = Path(config["site_dir"])
    for name, content in _shared.items():
        path = site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
