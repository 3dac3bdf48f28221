"""A sentence page's title is made from the sentence's own text (build/notebook.py).

The text shortened at a word boundary to about ``TITLE_WIDTH`` columns, "…" when
cut, no punctuation left before the "…", the first letter as written; and the
title reads as that text wherever it lands (the notebook's Markdown heading, the
page's <title>, the navigation), whatever the text holds.
"""

from __future__ import annotations

import re
import unicodedata

import pytest

from attention_gallery.build import notebook
from attention_gallery.build.notebook import ELLIPSIS, TITLE_WIDTH, title_of


@pytest.mark.parametrize("text, title", [
    ("I loved it.", "I loved it."),  # fits: as written, its full stop too
    ("The movie was not bad at all, highly recommend", "The movie was not bad at all, highly…"),
    ("You can't not laugh at this movie.", "You can't not laugh at this movie."),
    ("The cast is great, and the story goes somewhere.", "The cast is great, and the story goes…"),
    ("It is never boring, not even for a minute, not once.", "It is never boring, not even for a…"),
    ("Beautiful to look at, yet strangely empty and cold.", "Beautiful to look at, yet strangely…"),
    ("i loved it", "i loved it"),  # the first letter as written, never capitalised
    ("  A \t film   worth\u00a0seeing  ", "A film worth seeing"),  # spaces collapsed
])
def test_titles_from_the_text(text, title):
    assert title_of(text) == title


def test_a_cut_title_ends_at_a_word_with_no_punctuation_before_the_ellipsis():
    texts = ["Oh great, another two hours of my life I will never get back.",
             "It was fairly enjoyable, I suppose; if a little long - and slow.",
             "Wow... just wow!!! What a film, honestly — a triumph, a joy, a gem."]
    for text in texts:
        title = title_of(text)
        assert title.endswith(ELLIPSIS) and len(title) <= TITLE_WIDTH + 1
        body = title[:-1]
        assert not unicodedata.category(body[-1]).startswith("P"), title
        assert text.startswith(body) or " ".join(text.split()).startswith(body)
        # a word boundary: what follows the cut in the text is a space or punctuation
        rest = " ".join(text.split())[len(body):]
        assert rest[0] == " " or unicodedata.category(rest[0]).startswith("P"), (title, rest)


def test_a_first_word_longer_than_the_limit_is_cut_inside_it():
    word = "Supercalifragilisticexpialidociouslyoverlong"  # 44 letters
    title = title_of(word + " film, truly")
    assert title == word[:TITLE_WIDTH] + ELLIPSIS
    assert title_of("x" * 100) == "x" * TITLE_WIDTH + ELLIPSIS


def test_non_ascii_text():
    assert title_of("Ce film était très émouvant, et la musique — sublime — m’a ému") == \
        "Ce film était très émouvant, et la…"
    # a wide (East Asian) character takes two columns: no spaces, cut inside the "word"
    jp = "東京の映画はとても面白かったです。本当に素晴らしい作品でした。"
    title = title_of(jp)
    assert title == jp[:20] + ELLIPSIS
    # never between a letter and its combining mark
    decomposed = "x" * (TITLE_WIDTH - 1) + "e\u0301" + "tail"
    assert title_of(decomposed) == "x" * (TITLE_WIDTH - 1) + "e\u0301" + ELLIPSIS
    assert title_of("x" * TITLE_WIDTH + "e\u0301tail") == "x" * TITLE_WIDTH + ELLIPSIS
    # nor inside an emoji sequence (a family: four people joined by zero-width joiners)
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
    title = title_of("y" * (TITLE_WIDTH - 2) + family + " and more")
    assert title in ("y" * (TITLE_WIDTH - 2) + ELLIPSIS, "y" * (TITLE_WIDTH - 2) + family + ELLIPSIS)
    assert "\u200d" not in title[-2:]
    assert title_of("Ärger über Öl — ein Überraschungserfolg") == "Ärger über Öl — ein Überraschungserfolg"


class _Sentence:
    slug, text, label, note = "no-slug-words", "The cast is great, but the story goes nowhere.", "positive", ""


def test_the_build_titles_pages_from_their_text():
    params = notebook.parameters(_Sentence, "minilm-sst2")
    assert params["title"] == "The cast is great, but the story goes…"  # not "No slug words"


HOSTILE = "<img src=x onerror=alert(1)> & *not bold* [a](b) $5 `x` # _y_ \\ </title><script>"


def test_the_heading_reads_as_the_text_in_every_renderer():
    import html

    import markdown
    from markdown.extensions.toc import TocExtension
    from nbconvert import HTMLExporter

    title = title_of(HOSTILE, width=200)
    nb = notebook.parameterize(notebook.read_template(), {"text": HOSTILE}, title=title)
    cell = next(c for c in nb.cells if notebook.TITLE_TAG in c.metadata.get("tags", []))
    heading = cell.source.split("\n", 1)[0]
    assert "<" not in heading and "*" not in heading
    # Python-Markdown (mkdocs-jupyter's page title and table of contents)
    md = markdown.Markdown(extensions=[TocExtension(toc_depth=3)])
    md.convert(heading)
    assert html.unescape(md.toc_tokens[0]["name"]) == title
    assert "<" not in md.toc_tokens[0]["name"]
    # nbconvert (the rendered notebook cell)
    one = notebook.nbformat.v4.new_notebook()
    one.cells = [notebook.nbformat.v4.new_markdown_cell(heading)]
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(one)
    h1 = re.search(r"<h1[^>]*>(.*?)<a class=\"anchor-link\"", body, re.S).group(1)
    assert "<img" not in h1 and "<em>" not in h1 and "<code>" not in h1 and "<script" not in h1
    assert html.unescape(h1) == title


def test_only_what_markdown_reads_is_encoded():
    assert notebook.markdown_title("I loved it. Can't (really) - \"ok\"!") == "I loved it. Can't (really) - \"ok\"!"
    assert notebook.markdown_title("a *b* <c>") == "a &#42;b&#42; &#60;c&#62;"
