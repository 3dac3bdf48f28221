"""The parameterised notebook: read the template, inject parameters as data,
and normalise an executed notebook so that the same inputs give the same bytes."""

from __future__ import annotations

import ast
import copy
import os
import tempfile
import unicodedata
from pathlib import Path

import nbformat

from .. import config
from ..errors import BuildError

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"  # papermill's convention
TITLE_TAG = "gallery-title"


TITLE_WIDTH = 40  # a sentence page's title: its text shortened to about this many columns
ELLIPSIS = "\u2026"
# what may not end a shortened title before its ellipsis: connector, dash, "other"
# and opening punctuation (a closing bracket or quote stays with its word)
_TRAILING = ("Pc", "Pd", "Po", "Ps", "Pi")


def _width(char: str) -> int:
    """Columns ``char`` takes: 2 for wide East Asian characters, 0 for marks."""
    if unicodedata.category(char).startswith("M") or char in "\u200d\ufe0e\ufe0f":
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _joins(text: str, i: int) -> bool:
    """Whether ``text[i]`` belongs to the character before it (a mark, a joiner, a
    variation selector or skin tone, or what follows a joiner): no cut between them."""
    c = text[i]
    return (unicodedata.category(c).startswith("M") or c in "\u200d\ufe0e\ufe0f"
            or "\U0001f3fb" <= c <= "\U0001f3ff" or text[i - 1] == "\u200d")


def title_of(text: str, width: int = TITLE_WIDTH) -> str:
    """A sentence page's title: the sentence's own text, its spaces collapsed, cut at
    the last word boundary within ``width`` columns (a wide character counts two)
    and ended with "…" when cut, without the punctuation the cut left before it;
    the first letter stays as written. A first word longer than ``width`` is cut
    inside the word (never inside a character and its marks).

    >>> title_of("The movie was not bad at all, highly recommend")
    'The movie was not bad at all, highly…'
    """
    words = " ".join(str(text).split())
    if sum(map(_width, words)) <= width:
        return words
    used, end = 0, 0
    for i, char in enumerate(words):
        used += _width(char)
        if used > width:
            break
        end = i + 1
    while 0 < end < len(words) and _joins(words, end):
        end -= 1  # back off to a whole character
    cut = words[:end]
    if end < len(words) and words[end] != " " and " " in cut:
        cut = cut[:cut.rindex(" ")]  # the last whole word
    cut = cut.rstrip()
    while cut and unicodedata.category(cut[-1]) in _TRAILING:
        cut = cut[:-1].rstrip()
    return (cut or words[:max(end, 1)]) + ELLIPSIS


MARKDOWN_SPECIAL = frozenset("\\`*_[]{}<>&#$~|")  # what can make a heading's text anything but text


def markdown_title(title: str) -> str:
    """``title`` as the text of a Markdown heading that every renderer of the page
    reads as that text (nbconvert's mistune, Python-Markdown for the page's title and
    table of contents): the characters that could make emphasis, code, a link, math,
    markup or a closing ``#`` as numeric character references, and only those (the
    title's other characters reach MkDocs as they are: its footer escapes the title
    once more); the title stays HTML-safe wherever MkDocs uses it unescaped."""
    return "".join(f"&#{ord(c)};" if c in MARKDOWN_SPECIAL else c for c in title)


def parameters(sentence, pair_slug: str) -> dict:
    """The notebook parameters of ``sentence`` in a gallery build: the one place that
    lists what a page is made from (the cache key hashes exactly these)."""
    return {"text": sentence.text, "label": sentence.label, "note": sentence.note, "pair": pair_slug,
            "slug": sentence.slug, "title": sentence_title(sentence), "mode": "gallery"}


def sentence_title(sentence) -> str:
    """A sentence's page title: its display form (where it has one) or its text, cut
    (:func:`title_of`). ``sentence``: a :class:`~.sentences.Sentence`, or a record (a
    download's parameters; its title is its own)."""
    return title_of(getattr(sentence, "display", "") or sentence.text)


def read_template(path: Path = config.TEMPLATE) -> nbformat.NotebookNode:
    """The template notebook; a missing, unreadable or unfit one raises
    :class:`~.errors.BuildError` naming the file."""
    try:
        nb = nbformat.read(str(path), as_version=4)
    except OSError as exc:
        raise BuildError(f"cannot read the template {path}: {exc.strerror}") from None
    except Exception as exc:  # not JSON, or not a notebook
        raise BuildError(f"the template {path} is not a notebook ({type(exc).__name__}); "
                         "give a Jupyter notebook with a cell tagged 'parameters'") from None
    if not any(PARAMETERS_TAG in c.metadata.get("tags", []) for c in nb.cells):
        raise BuildError(f"the template {path} has no cell tagged {PARAMETERS_TAG!r}: tag the cell "
                         "that sets the sentence's parameters (as notebooks/sentence.ipynb does)")
    return nb


def literal(value) -> str:
    """A Python literal for ``value`` that evaluates back to exactly ``value``.

    ``repr`` of str/int/float/bool/None is a literal, so a parameter is data: a
    sentence full of quotes, backslashes or code stays a string. Checked here."""
    text = repr(value)
    if ast.literal_eval(text) != value:
        raise ValueError(f"parameter {value!r} does not round-trip as a literal")
    return text


def parameterize(template: nbformat.NotebookNode, params: dict, title: str | None = None):
    """A copy of ``template`` with an ``injected-parameters`` cell after the
    ``parameters`` cell (papermill's layout) and, optionally, a new page title."""
    nb = copy.deepcopy(template)
    for name in params:
        if not name.isidentifier():
            raise ValueError(f"parameter name {name!r} is not an identifier")
    source = "# Parameters\n" + "\n".join(f"{k} = {literal(v)}" for k, v in params.items())
    for i, cell in enumerate(nb.cells):
        if PARAMETERS_TAG in cell.metadata.get("tags", []):
            injected = nbformat.v4.new_code_cell(source, metadata={"tags": [INJECTED_TAG]})
            injected.id = "injected-parameters"
            nb.cells.insert(i + 1, injected)
            break
    if title is not None:
        for cell in nb.cells:
            if TITLE_TAG in cell.metadata.get("tags", []):
                rest = cell.source.split("\n", 1)[1] if "\n" in cell.source else ""
                cell.source = f"# {markdown_title(title)}\n" + rest
    return nb


def normalise(nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, list[str]]:
    """Strip what changes from run to run (timings, kernel state, counters) and the
    noise a reader should not see. Returns the notebook and the stderr it dropped."""
    dropped = []
    count = 0
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    for index, cell in enumerate(nb.cells):
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
        if cell.cell_type != "code":
            continue
        count += 1
        cell.execution_count = count
        kept = []
        for out in cell.get("outputs", []):
            if out.output_type == "stream" and out.name == "stderr":
                dropped.append(f"cell {index}: {out.text.strip()[:200]}")
                continue
            if "execution_count" in out:
                out.execution_count = count
            kept.append(out)
        cell.outputs = kept
    return nb, dropped


def write(nb: nbformat.NotebookNode, path: Path) -> None:
    """Write atomically: a reader (or an interrupted build) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:  # a name of its own: two builds may write one key
            nbformat.write(nb, fh)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
