"""Small wordings that must say what the numbers and the layout show (issue 22).

* the reading page states no typed figure about the set: its facts are filled from
  the build's records (web/figures.py ``set_facts``), whatever the set;
* the template's model-view caption says which view comes first (they are stacked,
  not left and right);
* the live page's status says the deletion test is the fine-tuned model's only
  (tests/test_colour.py checks the script's text).
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import nbformat

from attention_gallery.web import figures

ROOT = Path(__file__).resolve().parents[1]
READING = ROOT / "docs" / "reading.md"


def _record(p):
    return SimpleNamespace(ig={"trained": SimpleNamespace(baseline_p_positive=p)})


def test_the_reading_page_takes_its_set_figures_from_the_build():
    text = READING.read_text(encoding="utf-8")
    assert not re.search(r"\b\d+ gallery sentences\b", text)  # a count typed in goes stale
    names = set(re.findall(r'<span class="gallery-fact" data-fact="([a-z-]+)"></span>', text))
    assert {"n-sentences", "pad-range", "pad-median", "full-share"} <= names
    records = [_record(p) for p in (0.9, 0.95, 0.86, 0.93)]
    assert set(figures.set_facts(records)) >= names
    html = "<p>" + "</p><p>".join(f'<span class="gallery-fact" data-fact="{n}"></span>' for n in sorted(names)) + "</p>"
    filled = figures.add_facts(html, figures.PAGE, records)
    assert "gallery-fact" not in filled
    assert "4 sentences" in filled and "0.915 (0.860-0.950)" in filled and "50%" in filled
    # another page is left alone; an empty set says what it cannot give
    assert figures.add_facts(html, "index.md", records) == html
    assert "not measured" in figures.add_facts(html, figures.PAGE, [])
    # the page states figures of the whole set: any changed sentence renders it again
    assert figures.may_show(["a", "b"], {"b"}) and not figures.may_show(["a", "b"], set())


def test_the_model_view_caption_says_which_view_comes_first():
    nb = nbformat.read(ROOT / "notebooks" / "sentence.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("## Every head of both models"))
    assert "on the left" not in cell.source.split("In each thumbnail")[0]
    assert "on the right" not in cell.source.split("In each thumbnail")[0]
    assert "fine-tuned model's view comes first" in cell.source
