"""Offline, light notebook pages: what the gallery plugin does to each page.

mkdocs-jupyter inlines about 0.6 MB of JupyterLab CSS and a clipboard script into
every notebook page, and nbconvert's template adds MathJax and Mermaid loaders from a
CDN. :class:`OfflinePages` moves each large inline style or script into one shared
file under ``assets/jupyter/`` (named by the hash of the bytes written, so the browser
caches it once and a change of content, a change of trimming included, is a new name),
drops the CDN loaders (the gallery has no maths or diagrams), and refuses a page that
would still fetch from another host. One instance serves one build.

The shared stylesheets are trimmed when they are written (:func:`trim_css`): a rule
is kept only where it can match, i.e. every class its selector names is used by some
notebook page of the build, and a custom property (``--jp-...``) only where a kept
rule uses it. JupyterLab's stylesheet is written for the whole application; a page
uses a few dozen of its classes (575 KB -> a few tens of KB).
"""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path

import tinycss2
from mkdocs.exceptions import PluginError
from mkdocs.utils import get_relative_url

ASSET_DIR = "assets/jupyter"
MIN_SHARED = 2000  # bytes: smaller inline blocks stay where they are

_MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.DOTALL)
_EXTERNAL_SCRIPT = re.compile(r"<script[^>]*\bsrc=\"(?:https?:)?//[^\"]*\"[^>]*>\s*</script>", re.DOTALL)
_MERMAID = re.compile(r"<script type=\"module\">.*?mermaid.*?</script>", re.DOTALL)
_STYLE = re.compile(r"<style type=\"text/css\">(.*?)</style>", re.DOTALL)
_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_STRAY = re.compile(r"<style>\['pre \{.*?'\]</style>", re.DOTALL)
# Any tag attribute that makes the browser fetch from another host.
_FETCHING = re.compile(r"<(?:script|link|img|iframe|source|video|audio)\b[^>]*\b(?:src|href)=\"(?:https?:)?//", re.IGNORECASE)


# A code cell's source (highlighted, and the copy button's plain copy), its tags, the
# copy button's "Copied!", the "In [n]:" and "Out [n]:" prompts. Material's search
# parser ends an exclusion at the first closing tag of the same name, so the mark goes
# on the innermost elements that hold the text.
_PLUMBING = re.compile(r'<(div|span) class="(jp-InputPrompt|jp-OutputPrompt|clipboard-copy-txt|notice|cell-tag)\b'
                       r'|<div class="(highlight-ipynb[^"]*)"><pre>')


def exclude_code_from_search(content: str) -> str:
    """A notebook page's HTML with its code cells' sources and prompts marked
    ``data-search-exclude`` (Material's search leaves them out of the index: the
    reader searches the explanations, not the notebook's plumbing)."""
    def mark(m):
        if m.group(3):
            return f'<div class="{m.group(3)}"><pre data-search-exclude>'
        return f'<{m.group(1)} data-search-exclude class="{m.group(2)}'
    return _PLUMBING.sub(mark, content)


class OfflinePages:
    """The shared files of one build, and the page rewriting that fills them."""

    def __init__(self):
        self.shared: dict[str, str] = {}
        self.classes: set[str] = set()  # every class the notebook pages use
        self.pages: set[Path] = set()  # written pages that link a shared file

    def _share(self, kind: str, content: str, page_url: str) -> str:
        """A shared file's link. Its name is the hash of what the page gave; a trimmed
        stylesheet is renamed by the hash of its trimmed text when written (:meth:`write`)."""
        name = f"{ASSET_DIR}/{_digest(content)}.{kind}"
        self.shared[name] = content
        return get_relative_url(name, page_url)

    def process(self, output: str, page_url: str, src_path: str, dest_path: Path | str | None = None) -> str:
        """The page ``output`` made light and offline; raises PluginError if it would
        still fetch from another host. ``dest_path``: where the page is written (its
        links to shared files are renamed there by :meth:`write`)."""
        if "jupyter-wrapper" in output:
            if dest_path is not None:
                self.pages.add(Path(dest_path))
            self.classes |= classes_in(output)
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

    def write(self, site_dir: Path, keep_existing: bool = False) -> dict[str, str]:
        """Write the shared files, each named by the hash of its own (trimmed) bytes, and
        point the written pages at those names; returns {name a page was given: name
        written}. ``keep_existing`` (a dirty build, which saw only some pages): a file
        already there is left as the full build wrote it (:mod:`.incremental` checks
        that the pages use the same classes, so the trimmed files are the same)."""
        trimmed = trim_css({n: c for n, c in self.shared.items() if n.endswith(".css")}, self.classes)
        renamed = {}
        for name, content in self.shared.items():
            content = trimmed.get(name, content)
            final = f"{ASSET_DIR}/{_digest(content)}{Path(name).suffix}"
            renamed[name] = final
            path = Path(site_dir) / final
            if keep_existing and path.exists():
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        moves = {Path(a).name: Path(b).name for a, b in renamed.items() if a != b}
        if moves:
            pattern = re.compile("|".join(re.escape(f"{ASSET_DIR}/{old}") for old in moves))
            for page in sorted(self.pages):
                if page.is_file():
                    html = page.read_text(encoding="utf-8")
                    new = pattern.sub(lambda m: f"{ASSET_DIR}/{moves[Path(m.group(0)).name]}", html)
                    if new != html:
                        page.write_text(new, encoding="utf-8")
        return renamed


def _digest(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()[:16]


_CLASS_ATTR = re.compile(r'\bclass="([^"]*)"')


def classes_in(html: str) -> set[str]:
    """Every class named in a class attribute of ``html``."""
    return {name for attr in _CLASS_ATTR.findall(html) for name in attr.split()}
_SELECTOR_CLASS = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")
# what a selector may name without needing the class: attribute values, strings and
# functional pseudo-classes (:not(.x) matches without .x; :is(.x, .y) with either)
_IGNORED = re.compile(r"\[[^\]]*\]|\"[^\"]*\"|:[\w-]+\((?:[^()]|\([^()]*\))*\)")
_VAR_USE = re.compile(r"var\(\s*(--[\w-]+)")
_KEEP_AT_RULES = {"font-face", "keyframes", "-webkit-keyframes", "-moz-keyframes", "charset", "import",
                  "namespace", "page"}


def _split_selectors(prelude: str) -> list[str]:
    """A selector list split at its top-level commas (not those inside :is(...) etc.)."""
    parts, depth, start, quote = [], 0, 0, None
    for i, ch in enumerate(prelude):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(prelude[start:i])
            start = i + 1
    parts.append(prelude[start:])
    return [p.strip() for p in parts if p.strip()]


@functools.lru_cache(maxsize=16)
def _parsed_css(css: str) -> tuple:
    """``css`` as a tree that does not depend on the classes kept: ("rule", selectors,
    declarations text), ("statement", head, None), ("nested", head, subtree) or ("keep",
    head, text); parsed once per process (watch mode trims the same stylesheets after
    every save)."""
    def tree(rules) -> tuple:
        out = []
        for rule in rules:
            if rule.type == "qualified-rule":
                out.append(("rule", tinycss2.serialize(rule.prelude).strip(), tinycss2.serialize(rule.content)))
            elif rule.type == "at-rule":
                head = "@" + rule.at_keyword + tinycss2.serialize(rule.prelude)
                if rule.content is None:
                    out.append(("statement", head, None))
                elif rule.lower_at_keyword in ("media", "supports", "layer", "container"):
                    out.append(("nested", head, tree(tinycss2.parse_rule_list(
                        rule.content, skip_comments=True, skip_whitespace=True))))
                elif rule.lower_at_keyword in _KEEP_AT_RULES:
                    out.append(("keep", head, tinycss2.serialize(rule.content)))
        return tuple(out)

    return tree(tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True))


@functools.cache
def _declarations(body: str) -> tuple[tuple[str, str], ...]:
    parsed = tinycss2.parse_blocks_contents(body, skip_comments=True, skip_whitespace=True)
    return tuple((d.name, tinycss2.serialize(d.value).strip() + (" !important" if d.important else ""))
                 for d in parsed if d.type == "declaration")


def trim_css(sheets: dict[str, str], classes: set[str]) -> dict[str, str]:
    """Each stylesheet of ``sheets`` (name -> text) without the rules that cannot match
    a page using only ``classes`` (a selector naming another class), and without the
    custom properties that no kept rule of any of them uses. Conservative: anything
    it does not understand is kept. Remembered for the last few inputs (watch mode
    trims the same sheets for the same classes after every save)."""
    return dict(_trimmed(tuple(sorted(sheets.items())), frozenset(classes)))


@functools.lru_cache(maxsize=4)
def _trimmed(sheets: tuple, classes: frozenset) -> tuple:
    return tuple(_trim_css(dict(sheets), classes).items())


def _trim_css(sheets: dict[str, str], classes: frozenset) -> dict[str, str]:

    def selectors(prelude: str) -> str:
        kept = [sel for sel in _split_selectors(prelude)
                if all(c in classes for c in _SELECTOR_CLASS.findall(_IGNORED.sub("", sel)))]
        return ",".join(kept)

    def walk(items) -> list[tuple[str, list | str]]:
        """[(prelude, declarations text)] or [(at-rule prelude, nested)] of what matches."""
        out = []
        for kind, head, body in items:
            if kind == "rule":
                prelude = selectors(head)
                if prelude:
                    out.append((prelude, body))
            elif kind == "nested":
                nested = walk(body)
                if nested:
                    out.append((head, nested))
            else:
                out.append((head, body))
        return out

    trees = {name: walk(_parsed_css(css)) for name, css in sheets.items()}
    declarations = _declarations

    def flat(items):
        for head, body in items:
            if isinstance(body, list):
                yield from flat(body)
            elif body is not None:
                yield head, body

    # custom properties: the ones used outside definitions, then whatever those use
    defined: dict[str, list[str]] = {}
    used: set[str] = set()
    for _, body in (item for tree in trees.values() for item in flat(tree)):
        for name, value in declarations(body):
            if name.startswith("--"):
                defined.setdefault(name, []).append(value)
            else:
                used.update(_VAR_USE.findall(value))
    todo = list(used)
    while todo:
        for value in defined.get(todo.pop(), []):
            for name in _VAR_USE.findall(value):
                if name not in used:
                    used.add(name)
                    todo.append(name)

    def emit(items) -> str:
        parts = []
        for head, body in items:
            if body is None:
                parts.append(head.strip() + ";")
            elif isinstance(body, list):
                inner = emit(body)
                if inner:
                    parts.append(f"{head.strip()}{{{inner}}}")
            elif head.startswith("@"):
                parts.append(f"{head.strip()}{{{body}}}")
            else:
                kept = [f"{n}:{v}" for n, v in declarations(body) if not n.startswith("--") or n in used]
                if kept:
                    parts.append(f"{head}{{{';'.join(kept)}}}")
        return "\n".join(parts)

    return {name: emit(tree) + "\n" for name, tree in trees.items()}
