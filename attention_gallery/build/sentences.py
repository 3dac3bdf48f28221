"""Load and validate a sentence set (``sentences/gallery.yaml`` or a reader's own file)::

    sentences:
      - slug: not-bad-at-all        # required: lowercase words joined by '-'
        text: The movie was not bad at all, highly recommend   # required: one line
        label: positive             # required: positive | negative
        note: Negation flips a negative word.                 # optional
        group: negation             # optional: the index groups sentences by it
        contrast: not-good          # optional: the slug of another entry; a page
                                    # sets the two side by side
        display: The movie ...      # optional: the text as readers see it (the page's
                                    # title) where the model reads another form of it
                                    # (SST-2's tokenised text: build/devset.py)

The file is untrusted (readers pass their own with ``--sentences``). :mod:`.yamlinput`
reads it safely (a regular file, a bounded read, YAML nodes only: nothing is
constructed) into plain data with the line of every value. The pydantic models
:class:`Entry` and :class:`SentenceSet` declare the schema, their validators the rules:
a slug is lowercase ASCII words joined by hyphens, unique, not taken by a generated
page (``config.RESERVED_SLUGS``) nor a Windows device name; a text is one line with
something to read, without control or bidirectional control characters or
noncharacters (those rules are data, ``rules.json`` "text", which the live page
applies too), and with a tokenizer at most
``max_tokens`` tokens (**refused, never truncated**), one at least a word. Everything
else is data, accepted unchanged: emoji, accents, CJK, right-to-left scripts,
``<script>``, ``{{ x }}``.

All the problems of a file are raised together as one :class:`SentenceSetError`, one
line each, naming the file, the entry (1-based index, slug when known), the line where
the entry starts, and what is wrong.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)

from .. import config, rules
from ..errors import capped
from ..explain.encode import SentenceTooLongError, encode
from ..names import SLUG_PATTERN, codepoint, show, slug_form_problems
from . import yamlinput

__all__ = ["Sentence", "SentenceSetError", "Entry", "SentenceSet", "load_sentences",
           "parse_sentences", "check_text", "MAX_TEXT_CHARS", "MAX_NOTE_CHARS", "MAX_FILE_CHARS",
           "contrast_pairs"]

MAX_NOTE_CHARS = 2_000
MAX_FILE_CHARS = 1_000_000  # a sentence set is a few kilobytes; also the byte limit of a file


def _chars(codes) -> frozenset[str]:
    return frozenset(chr(int(code, 16)) for code in codes)


def _in_ranges(ranges):
    """``ch -> bool``: is ``ch`` in one of the ``[first, last]`` hex ranges."""
    bounds = tuple((int(first, 16), int(last, 16)) for first, last in ranges)
    return lambda ch: any(first <= ord(ch) <= last for first, last in bounds)


# What a text may contain is data shared with the live page (rules.json, "text").
_TEXT = rules.load()["text"]
MAX_TEXT_CHARS = _TEXT["max_chars"]
_LINE_BREAKS = {chr(int(code, 16)): name for code, name in _TEXT["line_breaks"]["chars"].items()}
_CONTROL_CATEGORY = _TEXT["controls"]["category"]
_CONTROL_ALLOWED = _chars(_TEXT["controls"]["allowed"])
_BIDI_CONTROLS = _chars(_TEXT["bidi_controls"]["chars"])
_noncharacter = _in_ranges(_TEXT["noncharacters"]["ranges"])
_surrogate = _in_ranges(_TEXT["surrogates"]["ranges"])
_READABLE = tuple(_TEXT["readable"]["categories"])
_NOT_READABLE = _chars(_TEXT["readable"]["invisible"])


@dataclass(frozen=True)
class Sentence:
    """One sentence of the gallery."""

    slug: str
    text: str
    label: str  # 'positive' | 'negative'
    note: str = ""
    group: str = ""  # a short topic the index groups by ("negation"); "" = ungrouped
    contrast: str = ""  # the slug of another sentence of the set to compare with
    display: str = ""  # the text as shown, where the model reads another form of it; "" = the text
    line: int | None = None  # line of the YAML file where the entry starts, if known

    @property
    def label_index(self) -> int:
        """0 for negative, 1 for positive (the index in ``config.LABELS``)."""
        return config.LABELS.index(self.label)


class SentenceSetError(ValueError):
    """A sentence set with problems; ``errors`` lists them, one string each."""

    def __init__(self, origin: str, errors: list[str]):
        self.origin = origin
        self.errors = list(errors)
        n = len(self.errors)
        head = f"{origin}: {n} problem{'s' if n != 1 else ''} in the sentence set"
        super().__init__("\n".join([head + ":"] + [f"  {e}" for e in capped(self.errors)]))


# --- the rules ------------------------------------------------------------


def _first(text: str, bad) -> tuple[int, str, str] | None:
    """(1-based position, character, ' (and N more)') of the first ``bad`` character."""
    hits = [(i, ch) for i, ch in enumerate(text, start=1) if bad(ch)]
    if not hits:
        return None
    more = f" (and {len(hits) - 1} more)" if len(hits) > 1 else ""
    return hits[0][0], hits[0][1], more


def _readable(ch: str) -> bool:
    """A letter, number, symbol or punctuation mark that shows something."""
    return unicodedata.category(ch)[0] in _READABLE and ch not in _NOT_READABLE


def _problems(check, with_context: bool = False) -> AfterValidator:
    """A field validator from a function listing a value's problems; they travel as the
    lines of one ValueError (the context holds the tokenizer and max_tokens)."""
    def validate(value, info):
        found = check(value, **(info.context or {})) if with_context else check(value)
        if found:
            raise ValueError("\n".join(found))
        return value
    return AfterValidator(validate)


def _slug_problems(slug: str) -> list[str]:
    problems = slug_form_problems(slug)
    if slug in config.RESERVED_SLUGS:
        problems.append(f"slug {slug!r} is reserved: the name is taken by a page the "
                        f"gallery generates; pick another slug")
    return problems


def _label_problems(label: str) -> list[str]:
    if label in config.LABELS:
        return []
    allowed = " or ".join(repr(x) for x in reversed(config.LABELS))
    hint = " (labels are lowercase)" if label.lower() in config.LABELS else ""
    return [f"label must be {allowed}, got {show(label)}{hint}"]


def _note_problems(note: str) -> list[str]:
    problems = []
    if len(note) > MAX_NOTE_CHARS:
        problems.append(f"note is too long: {len(note)} characters; at most "
                        f"{MAX_NOTE_CHARS} are accepted")
    if found := _first(note, lambda ch: unicodedata.category(ch) in ("Cc", "Cs")
                       and ch not in "\t\n\r"):
        problems.append(f"note contains a control character, U+{ord(found[1]):04X} at "
                        f"character {found[0]}; only printable characters, spaces, tabs "
                        f"and line breaks are allowed")
    if found := _first(note, _noncharacter):
        problems.append(_noncharacter_problem("note", found))
    return problems


def _noncharacter_problem(field: str, found) -> str:
    return (f"{field} contains a noncharacter, U+{ord(found[1]):04X} at character {found[0]}{found[2]}; "
            f"noncharacters are not text (an exported SVG could not carry it): remove it")


def check_text(text: str, tokenizer=None, max_tokens: int = config.MAX_TOKENS) -> list[str]:
    """The problems of one sentence's text (empty list: the text is accepted).

    The checks :func:`parse_sentences` applies to ``text``; usable on its own for a
    sentence typed on the command line. The tokenizer checks run only when a
    ``tokenizer`` is given and every other check passed.
    """
    if text == "":
        return ["text is empty"]
    if text.isspace():
        return ["text is blank (only whitespace)"]
    if not any(_readable(ch) for ch in text):
        shown = ", ".join(sorted({codepoint(ch) for ch in text if not ch.isspace()})[:5])
        return [f"text has no visible characters (only whitespace and {shown}); a sentence "
                f"needs at least one letter, number, symbol or punctuation mark"]
    problems = []
    if len(text) > MAX_TEXT_CHARS:
        problems.append(f"text is too long: {len(text)} characters; at most "
                        f"{MAX_TEXT_CHARS} are accepted (overlong sentences are refused, "
                        f"not truncated)")
    if found := _first(text, _LINE_BREAKS.__contains__):
        problems.append(f"text must be a single line, but it has a line break "
                        f"({_LINE_BREAKS[found[1]]}) at character {found[0]}; write the "
                        f"sentence on one line (a plain or quoted scalar, or '>-' to fold it)")
    if found := _first(text, lambda ch: unicodedata.category(ch) == _CONTROL_CATEGORY
                       and ch not in _CONTROL_ALLOWED and ch not in _LINE_BREAKS):
        problems.append(f"text contains a control character, U+{ord(found[1]):04X} at "
                        f"character {found[0]}{found[2]}; only printable characters, spaces "
                        f"and tabs are allowed")
    if found := _first(text, _BIDI_CONTROLS.__contains__):
        problems.append(f"text contains a bidirectional control character, "
                        f"{codepoint(found[1])} at character {found[0]}{found[2]}; it makes "
                        f"the page show the text in another order than the model reads it")
    if found := _first(text, _surrogate):
        problems.append(f"text contains a lone surrogate (U+{ord(found[1]):04X}) at character "
                        f"{found[0]}, which is not a valid character")
    if found := _first(text, _noncharacter):
        problems.append(_noncharacter_problem("text", found))
    if tokenizer is not None and not problems:
        try:
            encoded = encode(tokenizer, text, max_tokens)
        except SentenceTooLongError as exc:
            return [f"text is too long: {exc}; overlong sentences are refused, not truncated"]
        if len(encoded.words) == 0:  # only [CLS], [SEP]... ([UNK] is a word)
            problems.append(f"text gives no token but {' '.join(encoded.tokens)}: the model would "
                            "read no word of it")
    return problems


GROUP_PATTERN = re.compile(r"[a-z0-9]+(?: [a-z0-9]+)*")  # lowercase words, single spaces
MAX_GROUP_CHARS = 40


def _display_problems(display: str) -> list[str]:
    """A display form follows a text's rules but the token limit (the model never reads it)."""
    return check_text(display) if display else []


def _group_problems(group: str) -> list[str]:
    if group == "":
        return []
    if not GROUP_PATTERN.fullmatch(group) or len(group) > MAX_GROUP_CHARS:
        return [f"group {show(group)} is not allowed: a group is a short topic in lowercase "
                f"ASCII words separated by single spaces (e.g. 'double negation'), at most "
                f"{MAX_GROUP_CHARS} characters"]
    return []


def _contrast_problems(contrast: str) -> list[str]:
    if contrast == "" or SLUG_PATTERN.fullmatch(contrast):
        return []
    return [f"contrast {show(contrast)} is not a slug: name another entry of the file by its slug"]


# --- the schema -----------------------------------------------------------

# Inputs stay out of pydantic's own messages: a YAML node's repr expands its aliases.
_CONFIG = ConfigDict(extra="forbid", strict=True, frozen=True, hide_input_in_errors=True)


class Entry(BaseModel):
    """One entry of a sentence set. A field with a default is an optional key."""

    model_config = _CONFIG

    slug: Annotated[str, _problems(_slug_problems)]
    text: Annotated[str, _problems(check_text, with_context=True)]
    label: Annotated[str, _problems(_label_problems)]
    note: Annotated[str, BeforeValidator(lambda v: "" if v is None else v),  # 'note:' empty
                    _problems(_note_problems)] = ""
    group: Annotated[str, BeforeValidator(lambda v: "" if v is None else v),
                     _problems(_group_problems)] = ""
    contrast: Annotated[str, BeforeValidator(lambda v: "" if v is None else v),
                        _problems(_contrast_problems)] = ""
    display: Annotated[str, BeforeValidator(lambda v: "" if v is None else v),
                       _problems(_display_problems)] = ""


class SentenceSet(BaseModel):
    """A sentence set file: only the key ``sentences``, a non-empty list of entries."""

    model_config = _CONFIG

    sentences: list[Entry] = Field(min_length=1)


_FIELDS = list(Entry.model_fields)
_REQUIRED = [name for name, field in Entry.model_fields.items() if field.is_required()]
_OPTIONAL = [name for name in _FIELDS if name not in _REQUIRED]


# --- parsing --------------------------------------------------------------

_SHAPE = {"sentences": [{}]}  # what the YAML nodes are read as (see yamlinput.to_data)


def parse_sentences(text: str, origin: str = "<string>", tokenizer=None,
                    max_tokens: int = config.MAX_TOKENS) -> list[Sentence]:
    """The sentences of a sentence set given as YAML ``text``.

    ``origin`` names the source in messages (usually the file path). When
    ``tokenizer`` is given, sentences over ``max_tokens`` tokens are refused.
    Raises :class:`SentenceSetError` listing every problem found.
    """
    def refuse(*problems):
        return SentenceSetError(origin, [f"{origin}: {p}" for p in problems])

    if len(text) > MAX_FILE_CHARS:
        raise refuse(f"file is too large: {len(text)} characters; a sentence set may have "
                     f"at most {MAX_FILE_CHARS}")
    shape = "a mapping with a 'sentences' list"
    try:
        root = yamlinput.compose(text)
        if root is None:
            raise refuse(f"the file is empty; expected {shape}")
        data, lines, key_problems = yamlinput.to_data(root, _SHAPE, MAX_FILE_CHARS)
    except yamlinput.InputError as exc:
        raise refuse(str(exc)) from None
    if not isinstance(data, dict):
        got = yamlinput.kind(data)
        hint = " (put the list under a 'sentences:' key)" if got == "a list" else ""
        raise refuse(f"line {lines[()]}: the top level must be {shape}, got {got}{hint}")
    if "sentences" not in data:
        others = f" (found {', '.join(map(show, data))})" if data else ""
        raise refuse(*[f"line {lines[()]}: top level: {p}" for _, p in key_problems],
                     f"line {lines[()]}: no 'sentences' key{others}; expected {shape}")

    valid, schema_problems = None, []
    try:
        valid = SentenceSet.model_validate(data, context={"tokenizer": tokenizer,
                                                          "max_tokens": max_tokens})
    except ValidationError as exc:
        schema_problems = _schema_problems(exc)
    entries = data["sentences"] if isinstance(data["sentences"], list) else []
    slugs = [entry.get("slug") if isinstance(entry, dict) else None for entry in entries]
    duplicates, first_use = [], {}
    for i, slug in enumerate(slugs):
        if isinstance(slug, str) and slug in first_use:
            first = first_use[slug]
            duplicates.append((("sentences", i, "slug"), f"duplicate slug {show(slug)}: entry "
                               f"{first + 1} (line {lines['sentences', first]}) already uses "
                               f"it; slugs must be unique"))
        elif isinstance(slug, str):
            first_use[slug] = i
    for i, entry in enumerate(entries):  # a contrast names another entry of this file
        other = entry.get("contrast") if isinstance(entry, dict) else None
        if not isinstance(other, str) or not other or not SLUG_PATTERN.fullmatch(other):
            continue
        if other == slugs[i]:
            duplicates.append((("sentences", i, "contrast"), f"contrast {show(other)} is the "
                               f"entry itself; name another entry's slug"))
        elif other not in first_use:
            duplicates.append((("sentences", i, "contrast"), f"contrast {show(other)} names no "
                               f"entry of this file; name another entry's slug"))

    def where(loc) -> str:  # 'line 3' or 'entry 2 (slug 'x', line 5)'
        if len(loc) < 2 or loc[0] != "sentences":
            return f"line {lines[loc[:1]]}" + (": top level" if not loc else "")
        slug = f"slug {show(slugs[loc[1]])}, " if isinstance(slugs[loc[1]], str) else ""
        return f"entry {loc[1] + 1} ({slug}line {lines[loc[:2]]})"

    def order(problem) -> tuple:  # the top level, then entry by entry, field by field
        loc = problem[0]
        entry = loc[1] if len(loc) > 1 and loc[0] == "sentences" else -1
        return entry, _FIELDS.index(loc[2]) if len(loc) > 2 and loc[2] in _FIELDS else -1

    found = sorted(key_problems + schema_problems + duplicates, key=order)
    if found or valid is None:
        raise refuse(*[f"{where(loc)}: {problem}" for loc, problem in found])
    return [Sentence(**entry.model_dump(), line=lines["sentences", i])
            for i, entry in enumerate(valid.sentences)]


_SAYS = {  # pydantic's error type -> the problem in words
    "extra_forbidden": "unknown key {name}; allowed keys: {fields}",
    "extra_top": "unknown top-level key {name}; the only allowed key is 'sentences'",
    "too_short": "the 'sentences' list is empty; give at least one entry",
    "list_type": "'sentences' must be a list of entries, got {got}",
    "model_type": "an entry must be a mapping with keys {required} (and optionally "
                  "{optional}), got {got}",
    "string_type": "{field} must be a string, got {got}",
    "missing": "missing key{s} {names}; every entry needs {required} ({optional} {are} optional)",
}


def _schema_problems(exc: ValidationError) -> list[tuple[tuple, str]]:
    """pydantic's errors in words, as (loc, problem); the missing keys of an entry
    make one problem."""
    found, missing = [], {}
    for error in exc.errors():
        loc, kind = error["loc"], error["type"]
        if kind == "value_error":  # a validator's problems, one per line
            found += [(loc, p) for p in str(error["ctx"]["error"]).split("\n")]
        elif kind == "missing":
            missing.setdefault(loc[:-1], []).append(loc[-1])
        else:
            kind = "extra_top" if kind == "extra_forbidden" and len(loc) == 1 else kind
            found.append((loc, _say(kind, field=loc[-1], name=show(str(loc[-1])),
                                    got=yamlinput.kind(error["input"]), msg=error["msg"])))
    return found + [(loc, _say("missing", s="s" * (len(names) > 1), names=", ".join(names)))
                    for loc, names in missing.items()]


def _say(kind: str, **values) -> str:
    return _SAYS.get(kind, "{field}: {msg}").format(
        fields=", ".join(_FIELDS), required=", ".join(_REQUIRED), optional=", ".join(_OPTIONAL),
        are="is" if len(_OPTIONAL) == 1 else "are", **values)


def contrast_pairs(sentences: list[Sentence]) -> list[tuple[str, str]]:
    """The contrast pairs of a set, each once (``a: contrast b`` and ``b: contrast a``
    are one pair), as ``(first, second)`` in the set's order, in order of first mention."""
    position = {s.slug: i for i, s in enumerate(sentences)}
    pairs: list[tuple[str, str]] = []
    for s in sentences:
        if s.contrast and s.contrast in position:
            pair = tuple(sorted((s.slug, s.contrast), key=position.__getitem__))
            if pair not in pairs:
                pairs.append(pair)
    return pairs


def load_sentences(path=config.SENTENCES_FILE, tokenizer=None,
                   max_tokens: int = config.MAX_TOKENS) -> list[Sentence]:
    """The sentences of the YAML file at ``path`` (UTF-8); see :func:`parse_sentences`.

    Raises :class:`SentenceSetError` when the file is missing, is not a regular file
    (after following symlinks), is over ``MAX_FILE_CHARS`` bytes (it is never read
    further), is not UTF-8, or has any problem; messages name the file as given.
    """
    origin = str(path)
    try:
        text = yamlinput.read_text(path, MAX_FILE_CHARS)
    except yamlinput.InputError as exc:
        raise SentenceSetError(origin, [f"{origin}: {exc}"]) from None
    return parse_sentences(text, origin=origin, tokenizer=tokenizer, max_tokens=max_tokens)
