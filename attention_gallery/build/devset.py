"""The dev-set gallery: every sentence of SST-2 dev (``../shared/data/sst2/dev.tsv``)
as a sentence set, one page each (``make gallery-dev``).

SST-2 is lowercased and tokenised the Penn Treebank way (``-lrb-`` for "(", ``n't``
and ``'s`` split off, quotes as ``` `` ``` and ``''``). The model is fed the text
exactly as SST-2 gives it, the text it was evaluated on; the page's title shows it
detokenised (:func:`detokenise`: a fixed table of rules, below), and the page's note
says so and quotes both. Slugs are ``dev-0001`` ... by row of the file; the set is
generated (into the cache folder), never copied into the repository.
"""

from __future__ import annotations

import json
from pathlib import Path

from .. import config
from ..labelled import LabelledSetError, read_tsv

__all__ = ["detokenise", "dev_set_yaml", "write_dev_set", "DevSetMissing"]

# Bracket tokens of the Penn Treebank
_BRACKETS = {"-lrb-": "(", "-rrb-": ")", "-lsb-": "[", "-rsb-": "]", "-lcb-": "{", "-rcb-": "}"}
_OPEN = {"(", "[", "{", "``", "`", "$"}  # glued to the next token
_CLOSE = {".", ",", "!", "?", ";", ":", "%", ")", "]", "}", "''", "'", "...", "n't"}  # glued to the previous
_CLITICS = {"'s", "'re", "'ve", "'ll", "'d", "'m", "'em"}  # glued to the previous ("it 's" -> "it's")
_QUOTES = {"``": "\u201c", "''": "\u201d", "`": "\u2018", "'": "\u2019"}


def detokenise(text: str) -> str:
    """SST-2's tokenised text as a reader writes it: brackets and quotes restored,
    clitics and punctuation glued back, "--" a dash, "i" capitalised, and the first
    letter too. Words are never changed otherwise (SST-2 lowercased proper names too).

    >>> detokenise("it 's a charming and often affecting journey . ")
    "It's a charming and often affecting journey."
    >>> detokenise("i do n't think -lrb- or `` hope '' -rrb- so")
    "I don't think (or \u201chope\u201d) so"
    """
    out: list[str] = []
    glue_next = False
    for raw in text.split():
        tok = _BRACKETS.get(raw, raw)
        if tok == "i":
            tok = "I"
        shown = _QUOTES.get(tok, tok)
        for quote in ("``", "`"):  # an opening quote SST-2 left on its word ("`fun")
            if tok.startswith(quote) and len(tok) > len(quote) and tok not in _QUOTES:
                shown = _QUOTES[quote] + tok[len(quote):]
                break
        if tok == "--":
            shown = "\u2014"
        if tok in _CLITICS or tok == "n't":
            shown = tok  # the plain apostrophe: what a reader types into the search box
        if out and (glue_next or tok in _CLOSE or tok in _CLITICS):
            out[-1] += shown
        else:
            out.append(shown)
        glue_next = tok in _OPEN
    readable = " ".join(out)
    return readable[:1].upper() + readable[1:]


class DevSetMissing(LabelledSetError):
    """The SST-2 dev file is not where the dev-set gallery reads it."""


def dev_set_yaml(path: Path = config.SST2_DEV, limit: int | None = None) -> str:
    """The sentence set of SST-2 dev (its first ``limit`` rows), as YAML text."""
    path = Path(path)
    if not path.is_file():
        raise DevSetMissing(f"{path}: no SST-2 dev file there; the dev-set gallery needs it "
                            "(../shared/data/sst2/dev.tsv beside the checkout, or DEV=path/to/dev.tsv)")
    rows = read_tsv(path)[:limit]
    lines = ["# Generated from SST-2 dev by attention_gallery/build/devset.py; do not edit.", "sentences:"]
    for i, (label, text) in enumerate(rows, start=1):
        shown = detokenise(text)
        note = (f"SST-2 dev sentence {i} of {len(rows)}. The title shows it detokenised: \u201c{shown}\u201d. "
                f"The model read it as SST-2 gives it, lowercased and tokenised, the text it was "
                f"evaluated on: \u201c{text}\u201d.")
        lines += [f"  - slug: dev-{i:04d}", f"    text: {json.dumps(text, ensure_ascii=False)}",
                  f"    label: {config.LABELS[label]}", f"    display: {json.dumps(shown, ensure_ascii=False)}",
                  f"    note: {json.dumps(note, ensure_ascii=False)}"]
    return "\n".join(lines) + "\n"


def write_dev_set(target: Path, path: Path = config.SST2_DEV, limit: int | None = None) -> Path:
    """Write :func:`dev_set_yaml` to ``target`` (atomically; unchanged bytes are not rewritten,
    so a watcher or a cache sees no change)."""
    text = dev_set_yaml(path, limit)
    target = Path(target)
    if target.is_file() and target.read_text(encoding="utf-8") == text:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    return target
