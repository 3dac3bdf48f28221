"""Load and validate a sentence set (``sentences/gallery.yaml`` or a reader's own file).

A sentence set is a YAML file::

    sentences:
      - slug: not-bad-at-all        # required: lowercase words joined by '-'
        text: The movie was not bad at all, highly recommend   # required: one line
        label: positive             # required: positive | negative
        note: Negation flips a negative word.                 # optional

The file is untrusted input (readers pass their own with ``--sentences``), so it is
parsed with PyYAML's safe loader only (nodes are composed with ``SafeLoader``; no
Python objects are ever constructed from tags) and every entry is checked:

* the top level is a mapping whose only key is ``sentences``, a non-empty list;
* each entry is a mapping with the string keys ``slug``, ``text``, ``label`` and
  optionally ``note``; no other keys, no key twice, every value a string
  (``note`` may also be left empty);
* ``slug`` is lowercase ASCII letters and digits in words joined by single hyphens
  (``^[a-z0-9]+(?:-[a-z0-9]+)*$``), at most 80 characters, unique in the file and
  not reserved (``index``); slugs name output files, so ``../x``, ``a/b``, dots,
  spaces, uppercase and non-ASCII letters are refused;
* ``label`` is exactly ``positive`` or ``negative`` (lowercase, see ``config.LABELS``);
* ``text`` is one line of at most 2,000 characters with at least one visible
  character: no line breaks, no control characters other than tab, no lone
  surrogates, not only whitespace or invisible characters (U+200B, U+FEFF, ...);
* when a tokenizer is given, ``text`` has at most ``max_tokens`` tokens
  (special tokens included, as :func:`attention_gallery.explain.encode.encode` counts).
  **Overlong sentences are refused, never truncated**: a truncated sentence would
  show attention over a sentence the reader did not write.

Everything else is accepted unchanged: emoji, accents, CJK, right-to-left scripts,
zero-width joiners inside visible text, and markup-looking strings such as
``<script>``, ``{{ x }}`` or backslashes are plain data (escaping them is the
renderer's job).

All the problems of a file are collected and raised together as one
:class:`SentenceSetError`, whose message starts with the file name and the number
of problems, then lists one problem per line, each naming the file, the entry
(1-based index, slug when known), the line where the entry starts, and what is wrong.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from . import config

__all__ = [
    "Sentence",
    "SentenceSetError",
    "load_sentences",
    "parse_sentences",
    "check_text",
    "SLUG_PATTERN",
    "MAX_SLUG_CHARS",
    "MAX_TEXT_CHARS",
    "MAX_NOTE_CHARS",
    "MAX_FILE_CHARS",
    "RESERVED_SLUGS",
]

SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # used with fullmatch
MAX_SLUG_CHARS = 80
MAX_TEXT_CHARS = 2_000
MAX_NOTE_CHARS = 2_000
MAX_FILE_CHARS = 1_000_000  # a sentence set is a few kilobytes; refuse anything huge
RESERVED_SLUGS = frozenset({"index"})  # the gallery's own index page

REQUIRED_KEYS = ("slug", "text", "label")
OPTIONAL_KEYS = ("note",)
ALLOWED_KEYS = REQUIRED_KEYS + OPTIONAL_KEYS

_STR_TAG = "tag:yaml.org,2002:str"
_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_SCALAR_KINDS = {
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:timestamp": "a date",
    "tag:yaml.org,2002:binary": "binary data",
    _NULL_TAG: "nothing (null)",
}

# Tags the safe loader resolves plain YAML to; any other tag (!!python/..., !!set,
# !custom) is refused as a value, never constructed.
_PLAIN_TAGS = {_STR_TAG, _MAP_TAG, _SEQ_TAG, *_SCALAR_KINDS} - {"tag:yaml.org,2002:binary"}

_LINE_BREAKS = {"\n": "LF", "\r": "CR", "\x85": "NEL", "\u2028": "LINE SEPARATOR",
                "\u2029": "PARAGRAPH SEPARATOR"}
# Characters that show nothing but are not Unicode whitespace or format (Cf) characters.
_BLANK_LOOKING = {"\u034f", "\u115f", "\u1160", "\u17b4", "\u17b5", "\u2800", "\u3164",
                  "\uffa0"}


@dataclass(frozen=True)
class Sentence:
    """One sentence of the gallery."""

    slug: str
    text: str
    label: str  # 'positive' | 'negative'
    note: str = ""
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
        super().__init__("\n".join([head + ":"] + [f"  {e}" for e in self.errors]))


# --- helpers --------------------------------------------------------------


def _show(value: str, limit: int = 60) -> str:
    """A safe, short rendering of untrusted text for messages (escapes controls)."""
    if len(value) > limit:
        return repr(value[:limit]) + f"... ({len(value)} characters)"
    return repr(value)


def _codepoint(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


def _kind(node) -> str:
    """What a YAML node is, in words (for 'got ...' in messages)."""
    if node.tag not in _PLAIN_TAGS:
        return f"a value tagged {_show(node.tag)}"
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == _STR_TAG:
        return f"a string ({_show(node.value, 30)})"
    kind = _SCALAR_KINDS.get(node.tag)
    if kind is None:
        return f"a value tagged {_show(node.tag)}"
    if node.tag == _NULL_TAG:
        return kind
    return f"{kind} ({_show(node.value, 30)}; put it in quotes to make it a string)"


def _value(node: ScalarNode) -> str:
    """The string of a str node. PyYAML decodes JSON-style escaped surrogate pairs
    ("\\ud83d\\ude00") into two lone surrogates; join valid pairs into the character
    they encode (lone surrogates are left for the checks to refuse)."""
    text = node.value
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        text = re.sub("[\ud800-\udbff][\udc00-\udfff]",
                      lambda m: m.group().encode("utf-16-le", "surrogatepass")
                      .decode("utf-16-le"), text)
    return text


def _is_str(node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _STR_TAG


def _is_map(node) -> bool:
    return isinstance(node, MappingNode) and node.tag == _MAP_TAG


def _is_seq(node) -> bool:
    return isinstance(node, SequenceNode) and node.tag == _SEQ_TAG


def _line(node) -> int:
    return node.start_mark.line + 1


def check_text(text: str, tokenizer=None, max_tokens: int = config.MAX_TOKENS) -> list[str]:
    """The problems of one sentence's text (empty list: the text is accepted).

    The same checks :func:`parse_sentences` applies to ``text``; usable on its own
    for a sentence typed on the command line. Tokens are counted only when a
    ``tokenizer`` is given and every other check passed.
    """
    if text == "":
        return ["text is empty"]
    problems = []
    if all(ch.isspace() for ch in text):
        return ["text is blank (only whitespace)"]
    if all(ch.isspace() or ch in _BLANK_LOOKING or unicodedata.category(ch) == "Cf"
           for ch in text):
        shown = ", ".join(sorted({_codepoint(ch) for ch in text if not ch.isspace()})[:5])
        return [f"text has no visible characters (only whitespace and invisible "
                f"characters: {shown})"]
    if len(text) > MAX_TEXT_CHARS:
        problems.append(f"text is too long: {len(text)} characters; at most "
                        f"{MAX_TEXT_CHARS} are accepted (overlong sentences are refused, "
                        f"not truncated)")
    for i, ch in enumerate(text, start=1):
        if ch in _LINE_BREAKS:
            problems.append(f"text must be a single line, but it has a line break "
                            f"({_LINE_BREAKS[ch]}) at character {i}; write the sentence on "
                            f"one line (a plain or quoted scalar, or '>-' to fold it)")
            break
    bad_controls = [(i, ch) for i, ch in enumerate(text, start=1)
                    if unicodedata.category(ch) == "Cc" and ch != "\t" and ch not in _LINE_BREAKS]
    if bad_controls:
        i, ch = bad_controls[0]
        more = f" (and {len(bad_controls) - 1} more)" if len(bad_controls) > 1 else ""
        problems.append(f"text contains a control character, U+{ord(ch):04X} at character "
                        f"{i}{more}; only printable characters, spaces and tabs are allowed")
    surrogates = [i for i, ch in enumerate(text, start=1) if unicodedata.category(ch) == "Cs"]
    if surrogates:
        problems.append(f"text contains a lone surrogate (U+{ord(text[surrogates[0] - 1]):04X}) "
                        f"at character {surrogates[0]}, which is not a valid character")
    if tokenizer is not None and not problems:
        from .explain.encode import SentenceTooLongError, encode

        try:
            encode(tokenizer, text, max_tokens)
        except SentenceTooLongError as exc:
            problems.append(f"text is too long: {exc}; overlong sentences are refused, "
                            f"not truncated")
    return problems


def _check_slug(slug: str) -> list[str]:
    if slug == "":
        return ["slug is empty; a slug is lowercase ASCII letters and digits in words "
                "joined by single hyphens, e.g. 'not-bad-at-all'"]
    problems = []
    if not SLUG_PATTERN.fullmatch(slug):
        problems.append(
            f"slug {_show(slug)} is not allowed: a slug is lowercase ASCII letters and "
            f"digits in words joined by single hyphens, e.g. 'not-bad-at-all' (no spaces, "
            f"slashes, dots, uppercase or other characters; it names output files)")
    if len(slug) > MAX_SLUG_CHARS:
        problems.append(f"slug is too long: {len(slug)} characters; at most "
                        f"{MAX_SLUG_CHARS} are allowed")
    if slug in RESERVED_SLUGS:
        problems.append(f"slug {slug!r} is reserved for the gallery's own pages; "
                        f"choose another")
    return problems


def _check_note(note: str) -> list[str]:
    problems = []
    if len(note) > MAX_NOTE_CHARS:
        problems.append(f"note is too long: {len(note)} characters; at most "
                        f"{MAX_NOTE_CHARS} are accepted")
    bad = [i for i, ch in enumerate(note, start=1)
           if unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\t\n\r"]
    if bad:
        problems.append(f"note contains a control character, U+{ord(note[bad[0] - 1]):04X} "
                        f"at character {bad[0]}; only printable characters, spaces, tabs "
                        f"and line breaks are allowed")
    return problems


def _mapping_items(node: MappingNode, where: str, errors: list[str]):
    """(key, key node, value node) of a mapping; reports non-string, merge and
    duplicate keys. A key given twice keeps its first value."""
    seen: dict[str, int] = {}
    items = []
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode) and key_node.tag == _MERGE_TAG:
            errors.append(f"{where}: merge keys ('<<') are not supported; "
                          f"write every key out (line {_line(key_node)})")
            continue
        if not _is_str(key_node):
            errors.append(f"{where}: keys must be strings, got {_kind(key_node)} "
                          f"(line {_line(key_node)})")
            continue
        key = key_node.value
        if key in seen:
            errors.append(f"{where}: key {_show(key)} appears twice (lines {seen[key]} "
                          f"and {_line(key_node)})")
            continue
        seen[key] = _line(key_node)
        items.append((key, key_node, value_node))
    return items


# --- parsing --------------------------------------------------------------


def _compose(text: str, origin: str):
    """The YAML node tree of ``text`` (SafeLoader), or a SentenceSetError."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{origin}: line {mark.line + 1}, column {mark.column + 1}" if mark else origin
        context = exc.context
        if context and exc.context_mark and exc.context_mark is not mark:
            context += f" (from line {exc.context_mark.line + 1}, column " \
                       f"{exc.context_mark.column + 1})"
        what = "; ".join(part for part in (context, exc.problem) if part)
        raise SentenceSetError(origin, [f"{where}: invalid YAML: {what}"]) from None
    except yaml.reader.ReaderError as exc:
        # position counts characters of the stream; only characters before it matter.
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise SentenceSetError(origin, [
            f"{origin}: line {line}, column {column}: invalid YAML: unacceptable character "
            f"U+{exc.character if isinstance(exc.character, int) else ord(exc.character):04X}"
            f" (control characters may appear only as escapes in double-quoted strings, "
            f"and are refused in sentences anyway)"]) from None
    except yaml.YAMLError as exc:
        raise SentenceSetError(origin, [f"{origin}: invalid YAML: {exc}"]) from None
    except RecursionError:
        raise SentenceSetError(origin, [f"{origin}: invalid YAML: nested too deeply"]) from None


def parse_sentences(text: str, origin: str = "<string>", tokenizer=None,
                    max_tokens: int = config.MAX_TOKENS) -> list[Sentence]:
    """The sentences of a sentence set given as YAML ``text``.

    ``origin`` names the source in messages (usually the file path). When
    ``tokenizer`` is given, sentences over ``max_tokens`` tokens are refused.
    Raises :class:`SentenceSetError` listing every problem found.
    """
    if len(text) > MAX_FILE_CHARS:
        raise SentenceSetError(origin, [
            f"{origin}: file is too large: {len(text)} characters; a sentence set may have "
            f"at most {MAX_FILE_CHARS}"])
    root = _compose(text, origin)
    shape = "a mapping with a 'sentences' list"
    if root is None:
        raise SentenceSetError(origin, [f"{origin}: the file is empty; expected {shape}"])
    if not _is_map(root):
        hint = " (put the list under a 'sentences:' key)" if _is_seq(root) else ""
        raise SentenceSetError(origin, [
            f"{origin}: line {_line(root)}: the top level must be {shape}, "
            f"got {_kind(root)}{hint}"])

    errors: list[str] = []
    entries_node = None
    others = []
    for key, key_node, value_node in _mapping_items(root, f"{origin}: top level", errors):
        if key == "sentences":
            entries_node = value_node
        else:
            others.append((key, key_node))
    if entries_node is None:
        found = f" (found {', '.join(_show(k) for k, _ in others)})" if others else ""
        errors.append(f"{origin}: line {_line(root)}: no 'sentences' key{found}; "
                      f"expected {shape}")
        raise SentenceSetError(origin, errors)
    for key, key_node in others:
        errors.append(f"{origin}: line {_line(key_node)}: unknown top-level key "
                      f"{_show(key)}; the only allowed key is 'sentences'")
    if not _is_seq(entries_node):
        errors.append(f"{origin}: line {_line(entries_node)}: 'sentences' must be a list of "
                      f"entries, got {_kind(entries_node)}")
    elif not entries_node.value:
        errors.append(f"{origin}: line {_line(entries_node)}: the 'sentences' list is empty; "
                      f"give at least one entry")
    if not _is_seq(entries_node) or not entries_node.value:
        raise SentenceSetError(origin, errors)

    sentences: list[Sentence] = []
    first_use: dict[str, tuple[int, int]] = {}  # slug -> (entry number, line)
    for number, node in enumerate(entries_node.value, start=1):
        line = _line(node)
        if not _is_map(node):
            errors.append(f"{origin}: entry {number} (line {line}): an entry must be a mapping "
                          f"with keys {', '.join(REQUIRED_KEYS)} (and optionally note), "
                          f"got {_kind(node)}")
            continue
        slug_node = next((v for k, v in node.value if _is_str(k) and k.value == "slug"), None)
        label = f"entry {number}"
        if slug_node is not None and _is_str(slug_node):
            label += f" (slug {_show(_value(slug_node))}, line {line})"
        else:
            label += f" (line {line})"
        where = f"{origin}: {label}"

        problems: list[str] = []
        values: dict[str, str] = {}
        present = set()
        for key, _key_node, value_node in _mapping_items(node, where, errors):
            present.add(key)
            if key not in ALLOWED_KEYS:
                problems.append(f"unknown key {_show(key)}; allowed keys: "
                                f"{', '.join(ALLOWED_KEYS)}")
            elif key == "note" and isinstance(value_node, ScalarNode) \
                    and value_node.tag == _NULL_TAG:
                values[key] = ""
            elif not _is_str(value_node):
                problems.append(f"{key} must be a string, got {_kind(value_node)}")
            else:
                values[key] = _value(value_node)
        missing = [k for k in REQUIRED_KEYS if k not in present]
        if missing:
            problems.append(f"missing key{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(missing)}; every entry needs "
                            f"{', '.join(REQUIRED_KEYS)} (note is optional)")

        if "slug" in values:
            problems += _check_slug(values["slug"])
            slug = values["slug"]
            if slug in first_use:
                other, other_line = first_use[slug]
                problems.append(f"duplicate slug {_show(slug)}: entry {other} (line "
                                f"{other_line}) already uses it; slugs must be unique")
            else:
                first_use[slug] = (number, line)
        if "label" in values and values["label"] not in config.LABELS:
            allowed = " or ".join(repr(x) for x in sorted(config.LABELS, reverse=True))
            hint = (" (labels are lowercase)" if values["label"].lower() in config.LABELS
                    else "")
            problems.append(f"label must be {allowed}, got {_show(values['label'])}{hint}")
        if "text" in values:
            problems += check_text(values["text"], tokenizer, max_tokens)
        if "note" in values:
            problems += _check_note(values["note"])

        errors += [f"{where}: {p}" for p in problems]
        if not problems and all(k in values for k in REQUIRED_KEYS):
            sentences.append(Sentence(slug=values["slug"], text=values["text"],
                                      label=values["label"], note=values.get("note", ""),
                                      line=line))
    if errors:
        raise SentenceSetError(origin, errors)
    return sentences


def load_sentences(path=config.SENTENCES_FILE, tokenizer=None,
                   max_tokens: int = config.MAX_TOKENS) -> list[Sentence]:
    """The sentences of the YAML file at ``path`` (UTF-8); see :func:`parse_sentences`.

    Raises :class:`SentenceSetError` when the file cannot be read, is not UTF-8,
    or has any problem; the message names the file as ``path`` was given.
    """
    origin = str(path)
    try:
        size = Path(path).stat().st_size
        if size > MAX_FILE_CHARS * 4:  # cheap guard before reading a huge file
            raise SentenceSetError(origin, [
                f"{origin}: file is too large: {size} bytes; a sentence set may have at "
                f"most {MAX_FILE_CHARS} characters"])
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SentenceSetError(origin, [
            f"{origin}: cannot read the file: {exc.strerror or exc}"]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SentenceSetError(origin, [
            f"{origin}: line {line}: the file is not valid UTF-8 (byte {exc.start + 1}: "
            f"{exc.reason}); save it as UTF-8"]) from None
    return parse_sentences(text, origin=origin, tokenizer=tokenizer, max_tokens=max_tokens)
