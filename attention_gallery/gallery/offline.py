"""Offline, light notebook pages: what the gallery plugin does to each page.

mkdocs-jupyter inlines about 0.6 MB of JupyterLab CSS and a clipboard script into
every notebook page, and nbconvert's template adds MathJax and Mermaid loaders from a
CDN. :class:`OfflinePages` moves each large inline style or script into one shared
file under ``assets/jupyter/`` (named by its hash, so the browser caches it once),
drops the CDN loaders (the gallery has no maths or diagrams), and refuses a page that
would still fetch from another host. One instance serves one build.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.utils import get_relative_url

ASSET_DIR = "assets/jupyter"
MIN_SHARED = 2000  # bytes: smaller inline blocks stay where they are

_MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
_EXTERNAL_SCRIPT = re.compile(r"<script[^>]*\bsrc=\"(?:https?:)?//[^\"]*\"[^>]*>\s*</script>", re.S)
_MERMAID = re.compile(r"<script type=\"module\">.*?mermaid.*?</script>", re.S)
_STYLE = re.compile(r"<style type=\"text/css\">(.*?)</style>", re.S)
_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
_STRAY = re.compile(r"<style>\['pre \{.*?'\]</style>", re.S)
# Any tag attribute that makes the browser fetch from another host.
_FETCHING = re.compile(r"<(?:script|link|img|iframe|source|video|audio)\b[^>]*\b(?:src|href)=\"(?:https?:)?//", re.I)


class OfflinePages:
    """The shared files of one build, and the page rewriting that fills them."""

    def __init__(self):
        self.shared: dict[str, str] = {}

    def _share(self, kind: str, content: str, page_url: str) -> str:
        name = f"{ASSET_DIR}/{hashlib.sha256(content.encode()).hexdigest()[:16]}.{kind}"
        self.shared[name] = content
        return get_relative_url(name, page_url)

    def process(self, output: str, page_url: str, src_path: str) -> str:
        """The page ``output`` made light and offline; raises PluginError if it would
        still fetch from another host."""
        if "jupyter-wrapper" in output:
            for pattern in (_MATHJAX, _MERMAID, _STRAY, _EXTERNAL_SCRIPT):
                output = pattern.sub("", output)

            def style(match):
                if len(match.group(1)) < MIN_SHARED:
                    return match.group(0)
                return f'<link rel="stylesheet" href="{self._share("css", match.group(1), page_url)}">'

            def script(match):
                if len(match.group(1)) < MIN_SHARED:
                    return match.group(0)
                return f'<script src="{self._share("js", match.group(1), page_url)}"></script>'

            output = _SCRIPT.sub(script, _STYLE.sub(style, output))
        found = _FETCHING.search(output)
        if found:
            raise PluginError(f"{src_path}: the page would fetch from another host "
                              f"({output[found.start():found.start() + 120]!r}); the site must work offline")
        return output

    def write(self, site_dir: Path) -> None:
        for name, content in self.shared.items():
            path = Path(site_dir) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
