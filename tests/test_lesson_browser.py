"""The page tells its lesson, in a real browser (headless Debian Chromium, tests/browser.py).

A small gallery of three sentences of the default set (the two originals, a contrast
pair in the group "the originals", and "cant-not-laugh", which the fine-tuned model
gets wrong) is built with the real default pair into a temporary folder, reusing the
gallery's notebook cache (.cache/gallery: warm after `make gallery`), and checked:
"What to notice" names the record's top head; the side-by-side block opens on the head
of the address (#head-L-H) on a fresh load and after a click on a heatmap cell; its
controls drive all four views; the untrained row is never marked right or wrong; the
contrast page is reached from both sentences and shows both; the overview is grouped
and its "only wrong" switch hides the right rows; the SVG and PNG exports are valid
files; the reading page's figures are drawn from a sentence of the gallery; and axe-core
finds no serious or critical violation on the five kinds of page, in both palettes.

    .venv/bin/pytest -q -s tests/test_lesson_browser.py
"""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from browser import (
    DESKTOP,
    PHONE,
    axe_check,
    axe_source,
    launch,
    open_page,
    serious,
    serve,
    wait_for_views,
)

pytestmark = pytest.mark.browser

PAIR = "minilm-sst2"
SLUGS = ("not-really-good", "not-bad-at-all", "cant-not-laugh")  # entries of sentences/gallery.yaml
A, B = SLUGS[:2]  # a contrast pair, both right; SLUGS[2] is wrong
CONTRAST = f"gallery/contrast/{A}--{B}/"
SVG = "{http://www.w3.org/2000/svg}"
PAGES = {"home": "", "index": "gallery/", "sentence": f"gallery/{A}/", "contrast": CONTRAST,
         "lesson": "gallery/lesson/"}


@pytest.fixture(scope="module")
def entries():
    default = yaml.safe_load((Path(__file__).parent.parent / "sentences" / "gallery.yaml").read_text("utf-8"))
    picked = [e for e in default["sentences"] if e["slug"] in SLUGS]
    assert [e["slug"] for e in picked] == list(SLUGS)
    assert next(e for e in picked if e["slug"] == A).get("contrast") == B
    return picked


@pytest.fixture(scope="module")
def built(tmp_path_factory, entries):
    """The small gallery, built with the gallery's own cache; yields (site folder, records)."""
    from attention_gallery import config
    from attention_gallery.build import notebook
    from attention_gallery.build.build import build
    from attention_gallery.build.cache import NotebookCache
    from attention_gallery.build.sentences import load_sentences
    from attention_gallery.explain.methods import REGISTRY
    from attention_gallery.pairs import get_pair
    from attention_gallery.records import read_record

    root = tmp_path_factory.mktemp("lesson-gallery")
    path = root / "sentences.yaml"
    path.write_text(yaml.safe_dump({"sentences": entries}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    report = build(path, PAIR, root / "site", config.CACHE_DIR, quiet=True, progress=False)
    pair = get_pair(PAIR)
    cache = NotebookCache(config.CACHE_DIR, pair, notebook.read_template(config.TEMPLATE))
    records = {s.slug: read_record(cache.get(notebook.parameters(s, PAIR)), s.slug, REGISTRY)
               for s in load_sentences(path)}
    return report.site_dir, records


@pytest.fixture(scope="module")
def base_url(built):
    with serve(built[0]) as url:
        yield url


@pytest.fixture(scope="module")
def records(built):
    return built[1]


@pytest.fixture(scope="module")
def browser():
    with launch() as b:
        yield b


@pytest.fixture(scope="module")
def axe():
    return axe_source()


def _block(page) -> dict:
    return page.evaluate("""() => {
      const b = document.querySelector('#compare');
      const r = b.getBoundingClientRect();
      return {layer: b.getAttribute('data-layer'), head: b.getAttribute('data-head'),
              shown: Array.from(b.querySelectorAll('.gallery-bertviz')).map(v => v.getAttribute('data-shown')),
              kinds: Array.from(b.querySelectorAll('.gallery-bertviz')).map(v => v.getAttribute('data-attention')),
              inView: r.top < innerHeight && r.bottom > 0, hash: location.hash};
    }""")


def _wait_shown(page, layer: int, head: int, timeout_s: float = 30) -> dict:
    """Until the block says it shows (layer, head) and its four views were drawn on it."""
    page.wait_for_function(
        """([l, h]) => { const b = document.querySelector('#compare');
             const v = b && b.querySelectorAll('.gallery-bertviz');
             return b && b.getAttribute('data-layer') === String(l) && b.getAttribute('data-head') === String(h)
               && v.length === 4 && Array.from(v).every(x => x.getAttribute('data-shown') === l + '-' + h); }""",
        arg=[layer, head], timeout=timeout_s * 1000)
    return _block(page)


# --------------------------------------------------------------------------- a sentence page


def test_what_to_notice_links_the_records_top_head(browser, base_url, records):
    rec = records[A]
    layer, head, _ = rec.top_heads[0]
    with open_page(browser, *DESKTOP) as (page, watcher):
        page.goto(f"{base_url}gallery/{A}/", wait_until="load")
        items = page.locator("ul.gallery-notice li[data-notice]")
        assert items.count() >= 3
        link = page.locator('ul.gallery-notice li[data-notice="head"] a.gallery-head-link')
        assert link.count() == 1
        assert (link.get_attribute("data-layer"), link.get_attribute("data-head")) == (str(layer), str(head))
        assert link.get_attribute("href") == f"#head-{layer}-{head}"
        assert link.text_content() == f"layer {layer}, head {head}"
        # the block opens on that head without an address
        state = _block(page)
        assert (state["layer"], state["head"]) == (str(layer), str(head))
        assert state["kinds"] == ["trained", "untrained", "gained", "lost"]
        # a click on the link scrolls the block into view on that head
        page.evaluate("window.scrollTo(0, 0)")
        link.click()
        state = _wait_shown(page, layer, head)
        assert state["inView"] and state["hash"] == f"#head-{layer}-{head}"
        assert watcher.console_errors == []


def test_the_address_opens_the_block_on_a_fresh_load_and_from_the_heatmap(browser, base_url):
    with open_page(browser, *DESKTOP) as (page, watcher):
        page.goto(f"{base_url}gallery/{A}/#head-2-7", wait_until="load")
        state = _wait_shown(page, 2, 7)
        assert state["inView"], "the block opened from the address is scrolled into view"
        # a heatmap cell sets the address; the block follows
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        cell = page.locator('.gallery-heatmap a[href="#head-1-3"]:visible')  # the map on weights (norms: hidden)
        assert cell.count() == 1
        cell.click()
        state = _wait_shown(page, 1, 3)
        assert state["inView"] and state["hash"] == "#head-1-3"
        # an address out of range is clamped, never an error
        page.evaluate("location.hash = '#head-99-99'")
        _wait_shown(page, 5, 11)
        assert watcher.console_errors == []


def test_one_set_of_controls_drives_all_four_views(browser, base_url):
    with open_page(browser, *DESKTOP) as (page, watcher):
        page.goto(f"{base_url}gallery/{A}/#head-5-4", wait_until="load")
        _wait_shown(page, 5, 4)
        select = page.get_by_label("Layer", exact=True)
        assert select.count() == 1
        select.select_option("3")
        state = _wait_shown(page, 3, 4)
        assert state["hash"] == "#head-3-4", "the controls keep the address current"
        heads = page.locator("#compare .gc-head")
        assert heads.count() == 12 and heads.nth(6).inner_text() == "6"
        heads.nth(6).click()
        state = _wait_shown(page, 3, 6)
        assert state["hash"] == "#head-3-6"
        assert page.locator('#compare .gc-head[aria-pressed="true"]').all_inner_texts() == ["6"]
        # hovering a token of one view shows its lines in all four
        view = page.locator("#compare .gallery-bertviz").first.locator(".gv-hit").first
        box = view.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 5)
        page.wait_for_function("document.querySelectorAll('#compare .gv-token-bg[visibility=visible]').length === 4")
        page.mouse.move(0, 0)
        page.wait_for_function("document.querySelectorAll('#compare .gv-token-bg[visibility=visible]').length === 0")
        # ... and so does the keyboard: a column takes the focus, the arrow keys move along its tokens
        page.focus("#compare .gallery-bertviz >> nth=1 >> .gv-hit >> nth=0")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        focused = page.evaluate("""() => { const e = document.activeElement;
            return [e.getAttribute('role'), e.getAttribute('aria-valuenow'), e.getAttribute('aria-valuetext')]; }""")
        assert focused[:2] == ["slider", "2"] and focused[2].startswith("lines from token 2, "), focused
        rows = page.evaluate("""() => Array.from(document.querySelectorAll('#compare .gv-token-bg[visibility=visible]'))
                                   .map(r => r.getAttribute('y'))""")
        assert len(rows) == 4 and len(set(rows)) == 1, rows  # the same token, in all four views
        page.keyboard.press("Tab")  # the next stop: the same view's right column, on its first token
        assert page.evaluate("document.activeElement.getAttribute('aria-valuetext')").startswith("lines to token 0, ")
        page.evaluate("document.activeElement.blur()")  # leaving the view takes the token's lines away
        page.wait_for_function("document.querySelectorAll('#compare .gv-token-bg[visibility=visible]').length === 0")
        assert watcher.console_errors == []


def test_the_model_view_answers_the_keyboard_as_it_answers_the_mouse(browser, base_url):
    """Focus a model view and the arrow keys choose a layer and head and open its detail
    (a click's work); Tab reaches the detail's tokens, whose arrow keys draw one token's
    lines (a hover's work); Escape closes the detail."""
    with open_page(browser, *DESKTOP) as (page, watcher):
        page.goto(f"{base_url}gallery/{A}/", wait_until="load")
        wait_for_views(page, 60)
        view = page.locator(".gv-model-over").first
        view.scroll_into_view_if_needed()
        view.focus()
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        detail = page.locator(".gv-model .gv-detail").first
        assert detail.locator("text").first.text_content() == "Layer 1, Head 2"
        page.keyboard.press("Tab")
        page.keyboard.press("ArrowDown")
        focused = page.evaluate("""() => { const e = document.activeElement;
            return [e.getAttribute('role'), e.getAttribute('aria-valuenow'), e.getAttribute('aria-valuetext')]; }""")
        assert focused[:2] == ["slider", "1"] and focused[2].startswith("lines from token 1, "), focused
        page.keyboard.press("Escape")
        assert page.locator(".gv-model .gv-detail").count() == 0
        assert watcher.console_errors == []


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1280", "390"])
def test_views_fit_their_frames_and_their_labels_are_readable(browser, base_url, size):
    """The block's four views fit their columns (no token column cut off) with text of
    at least 11 px; model-view labels are at least 11 px however narrow the view."""
    with open_page(browser, *size) as (page, _):
        page.goto(f"{base_url}gallery/{A}/#head-5-4", wait_until="load")
        _wait_shown(page, 5, 4)
        wait_for_views(page, 60)
        facts = page.evaluate("""() => {
          // the text's size on screen: its font size in the view's units times the view's scale
          const px = sel => Array.from(document.querySelectorAll(sel)).map(t => {
            const svg = t.ownerSVGElement, vb = svg.viewBox.baseVal;
            const k = vb && vb.width ? svg.getBoundingClientRect().width / vb.width : 1;
            return parseFloat(t.getAttribute('font-size')) * k; });
          const over = Array.from(document.querySelectorAll('#compare .gc-grid figure')).filter(f => {
            const s = f.querySelector('.gv-head-stage').getBoundingClientRect(), r = f.getBoundingClientRect();
            return s.right > r.right + 1 || s.width < 50; });
          // each model view whole inside the viewport (all 12 heads without scrolling sideways),
          // and the two models of a pair of views one right after the other
          const stages = Array.from(document.querySelectorAll('.gv-model .gv-stage')).map(e => e.getBoundingClientRect());
          const pairs = Array.from(document.querySelectorAll('.gallery-side-by-side')).filter(p => p.querySelector('.gv-model'))
            .map(p => Array.from(p.querySelectorAll('.gv-model .gv-stage')).map(e => e.getBoundingClientRect()));
          return {over: over.map(f => f.dataset.attention), head: Math.min(...px('#compare .gv-text text')),
                  model: Math.min(...px('.gv-model .gv-over .gv-text text')),
                  stages: stages.length, outside: stages.filter(r => r.left < -1 || r.right > innerWidth + 1).length,
                  gaps: pairs.filter(p => p.length === 2).map(p => Math.max(p[1].top - p[0].bottom, p[0].top - p[1].bottom))};
        }""")
        assert facts["over"] == [], f"views wider than their column: {facts['over']}"
        assert facts["head"] >= 10.9 and facts["model"] >= 11.9, facts
        assert facts["stages"] >= 2 and facts["outside"] == 0, facts
        assert facts["gaps"] and max(facts["gaps"]) < 120, facts  # the two models adjacent


def test_the_untrained_model_is_never_right_or_wrong(browser, base_url):
    with open_page(browser, *DESKTOP) as (page, _):
        for url in (f"gallery/{A}/", f"gallery/{SLUGS[2]}/"):
            page.goto(base_url + url, wait_until="load")
            rows = page.locator('.gallery-scroll[aria-label="predictions of both models"] tbody tr')
            # text_content: notebook cells out of sight skip rendering (content-visibility), so no innerText
            texts = {rows.nth(i).locator("th").text_content(): rows.nth(i).text_content() for i in range(rows.count())}
            untrained = next(t for name, t in texts.items() if "untrained" in name)
            trained = next(t for name, t in texts.items() if "fine-tuned" in name)
            assert "✓" not in untrained and "✗" not in untrained and "chance" in untrained
            assert ("✓" in trained) != ("✗" in trained)
        page.goto(f"{base_url}gallery/", wait_until="load")
        for row in page.locator("table.gallery-index tbody tr").all():
            cells = row.locator("td").all_inner_texts()
            assert "✓" not in cells[-1] and "✗" not in cells[-1], cells


def test_a_contrast_page_is_reached_from_both_sentences_and_shows_both(browser, base_url, records):
    with open_page(browser, *DESKTOP) as (page, watcher):
        for slug in (A, B):
            page.goto(f"{base_url}gallery/{slug}/", wait_until="load")
            link = page.locator(f'.gallery-page-links a[href="../contrast/{A}--{B}/"]')
            assert link.count() == 1, slug
        with page.expect_navigation(wait_until="load"):
            link.click()
        assert page.url == base_url + CONTRAST
        cols = page.locator(".gallery-compare-col")
        assert cols.count() == 2
        for col, slug in zip(cols.all(), (A, B)):
            assert records[slug].text in col.inner_text()
            assert col.locator(f'h3 a[href="../../{slug}/"]').count() == 1
        # the same head of both models in both sentences, drawn from the sentences' own attention
        layer, head, _ = records[A].top_heads[0]
        state = wait_for_views(page, 60)
        heads = [v for v in state["views"] if v["view"] == "head_view"]
        assert len(heads) == 4 and all(v["drawn"] for v in heads), heads
        shown = page.evaluate("Array.from(document.querySelectorAll('[id^=contrast-]')).map(e => "
                              "[e.getAttribute('data-source'), e.getAttribute('data-layer'), e.getAttribute('data-heads')])")
        assert sorted({s for s, _, _ in shown}) == sorted(f"attention-{s}" for s in (A, B))
        assert {(l, h) for _, l, h in shown} == {(str(layer), f"[{head}]")}
        assert watcher.console_errors == []


def test_the_overview_is_grouped_and_can_show_only_the_wrong(browser, base_url, records):
    wrong = [s for s in SLUGS if not records[s].trained.correct]
    assert wrong == [SLUGS[2]], "the set's one sentence the fine-tuned model gets wrong"
    with open_page(browser, *PHONE) as (page, _):
        page.goto(f"{base_url}gallery/", wait_until="load")
        groups = page.locator("section.gallery-group")
        assert [g.locator("h2").inner_text() for g in groups.all()] == ["The originals", "Double negation"]
        assert groups.nth(0).locator("tbody tr").count() == 2 and groups.nth(1).locator("tbody tr").count() == 1
        # both models' columns on a phone: the table fits, nothing is hidden
        for g in groups.all():
            assert g.locator("thead th").count() == 4  # sentence (the link), gold, both models
            frame = g.locator(".gallery-scroll")
            assert frame.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), "the index scrolls at 390 px"
        page.get_by_label("Show only the 1 sentence the fine-tuned model gets wrong").check()
        visible = [a.inner_text() for a in page.locator(".gallery-groups table.gallery-index tbody tr a").all() if a.is_visible()]
        assert visible == [records[SLUGS[2]].text]
        assert not groups.nth(0).is_visible(), "a group with no wrong sentence is hidden"


def test_no_table_is_clipped_at_desktop_width_and_wide_ones_show_they_scroll(browser, base_url):
    with open_page(browser, *DESKTOP) as (page, _):
        page.goto(f"{base_url}gallery/{A}/", wait_until="load")
        frames = page.locator(".gallery-scroll")
        assert frames.count() >= 3
        over = frames.evaluate_all("fs => fs.filter(f => f.scrollWidth > f.clientWidth + 1).map(f => f.getAttribute('aria-label'))")
        assert over == [], f"tables wider than the page at 1280 px: {over}"
        verdict = page.locator("table.gallery-table td.gallery-right, table.gallery-table td.gallery-wrong").first
        assert verdict.evaluate("e => e.scrollWidth <= e.clientWidth && e.getBoundingClientRect().right <= "
                                "e.closest('.gallery-scroll').getBoundingClientRect().right + 1")
    with open_page(browser, *PHONE) as (page, _):
        page.goto(f"{base_url}gallery/{A}/", wait_until="load")
        frame = page.locator('.gallery-scroll[aria-label="predictions of both models"]')
        assert frame.evaluate("e => e.scrollWidth > e.clientWidth"), "expected the predictions to scroll at 390 px"
        assert frame.get_attribute("tabindex") == "0"
        assert "gradient" in frame.evaluate("e => getComputedStyle(e).backgroundImage"), "no scroll cue"


def test_the_lessons_links_resolve_and_open_heads(browser, base_url, records):
    with open_page(browser, *DESKTOP) as (page, _):
        page.goto(f"{base_url}gallery/lesson/", wait_until="load")
        links = page.evaluate("Array.from(document.querySelectorAll('.md-content a[href]')).map(a => a.href)")
        local = sorted({u.split("#")[0] for u in links if u.startswith(base_url)})
        assert f"{base_url}{CONTRAST}" in local and f"{base_url}gallery/{A}/" in local
        broken = [u for u in local if page.request.get(u).status != 200]
        assert broken == [], broken
        layer, head, _ = records[A].top_heads[0]
        page.locator(f'a[href="../{A}/#head-{layer}-{head}"]').first.click()
        assert _wait_shown(page, layer, head)["inView"]


def test_the_lessons_steps_show_their_heads_drawn_small_and_linked(browser, base_url, records):
    """Each lesson step has a picture: a head view of each model on the head the step is
    about, drawn by the site's views from the sentence's blob, captioned with a link to
    that head on the sentence page; a head question's picture opens with its answer.
    The lesson fits a phone's width."""
    for width, height in (DESKTOP, PHONE):
        with open_page(browser, width, height) as (page, watcher):
            page.goto(f"{base_url}gallery/lesson/", wait_until="load")
            figures = page.locator("figure.gallery-lesson-figure")
            assert figures.count() >= 2
            wait_for_views(page, 60)
            facts = page.evaluate("""Array.from(document.querySelectorAll('figure.gallery-lesson-figure')).map(f => ({
                views: Array.from(f.querySelectorAll('.gallery-bertviz')).map(v => [v.getAttribute('data-attention'),
                  v.getAttribute('data-layer'), v.getAttribute('data-heads'), v.hasAttribute('data-drawn'),
                  !!v.querySelector('canvas')]),
                link: f.querySelector('figcaption a').getAttribute('href'),
                inAnswer: !!f.closest('details')}))""")
            for f in facts:
                slug, head = f["link"].split("/")[1], f["link"].split("#head-")[1]
                assert slug in records, f
                layer, h = head.split("-")
                assert [v[:3] for v in f["views"]] == [["trained", layer, f"[{h}]"], ["untrained", layer, f"[{h}]"]], f
                assert all(v[3] and v[4] for v in f["views"]), f
            assert len(facts) == page.locator(".gallery-predict").count()  # one a step
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            assert watcher.console_errors == []


# --------------------------------------------------------------------------- exports


def test_exports_are_a_valid_svg_and_a_png_at_twice_the_size(browser, base_url, records, tmp_path):
    tokens = records[A].tokens
    with open_page(browser, *DESKTOP) as (page, watcher):
        page.goto(f"{base_url}gallery/{A}/#head-5-4", wait_until="load")
        _wait_shown(page, 5, 4)
        panel = page.locator('#compare figure[data-attention="trained"]')
        with page.expect_download() as info:
            panel.get_by_role("button", name="SVG").click()
        svg = tmp_path / "view.svg"
        info.value.save_as(svg)
        assert info.value.suggested_filename == f"{A}-trained-layer5-head4.svg"
        root = ET.parse(svg).getroot()  # raises on a file that is not well-formed XML
        assert root.tag == f"{SVG}svg" and float(root.get("width")) > 100
        words = [t.text for t in root.iter(f"{SVG}text")]
        assert words.count("not") >= 4 and len(words) >= 2 * len(tokens)
        lines = list(root.iter(f"{SVG}line"))
        assert len(lines) >= len(tokens), "one line per weight of the head"
        assert all(0 < float(line.get("stroke-opacity")) <= 1 for line in lines)
        # PNG of a model view: a PNG file, drawn at twice the view's 970 units
        with page.expect_download() as info:
            page.locator(".gallery-view-caption").first.get_by_role("button", name="PNG").click()
        png = tmp_path / "view.png"
        info.value.save_as(png)
        head = png.read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">I", head[16:20])[0] == 2 * 970
        # the four views of the block in one picture
        with page.expect_download() as info:
            page.get_by_role("button", name="PNG of all four").click()
        assert info.value.suggested_filename == f"{A}-side-by-side-layer5-head4.png"
        info.value.save_as(png)
        head = png.read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">I", head[16:20])[0] > 4 * 200
        assert watcher.console_errors == []


# --------------------------------------------------------------------------- the reading page


def test_the_reading_page_draws_its_figures_from_a_gallery_sentence(browser, base_url, records):
    layer, head, _ = records[A].top_heads[0]
    with open_page(browser, *DESKTOP) as (page, watcher):
        page.goto(f"{base_url}reading/", wait_until="load")
        figures = page.locator("figure.gallery-figure")
        assert [f.get_attribute("data-figure") for f in figures.all()] == ["line", "layer", "gained"]
        assert all(f.get_attribute("data-sentence") == A for f in figures.all())
        page.evaluate("GalleryViews.compare.figures()")
        page.wait_for_function("Array.from(document.querySelectorAll('figure.gallery-figure')).every(f => f.hasAttribute('data-drawn'))",
                               timeout=30000)
        assert page.locator("figure.gallery-figure canvas").count() >= 3
        assert page.locator("figure.gallery-figure .gallery-annotations").count() == 3
        notes = figures.locator("figcaption").all_inner_texts()
        assert all(f"layer {layer}, head {head}" in n for n in notes), notes
        assert page.locator(f'.gallery-figure-sentence a[href="../gallery/{A}/"]').count() == 1
        assert watcher.console_errors == []


# --------------------------------------------------------------------------- accessibility


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_or_critical_accessibility_violation(browser, base_url, axe, scheme):
    """axe-core 4.x on the five kinds of page, every view drawn; only Material's
    search dialog would be allowed an unnamed dialog (tests/browser.py AXE_ALLOWED)."""
    found = {}
    with open_page(browser, *DESKTOP, scheme=scheme) as (page, _):
        for name, url in PAGES.items():
            page.goto(base_url + url, wait_until="load")
            wait_for_views(page, 60)
            found[name] = serious(axe_check(page, axe))
            assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == (
                "slate" if scheme == "dark" else "default")
    problems = [f"{name}: {line}" for name, lines in found.items() for line in lines]
    assert not problems, "\n".join(problems)


def test_a_predict_then_reveal_answer_opens_only_after_a_choice(browser, base_url):
    """The lesson's questions: with JavaScript the answer stays closed until a choice is
    made (a click on it says so), then opens and says whether the guess was right."""
    with open_page(browser, *DESKTOP) as (page, watcher):
        page.goto(f"{base_url}gallery/lesson/", wait_until="load")
        block = page.locator(".gallery-predict").first
        block.scroll_into_view_if_needed()
        details = block.locator("details")
        details.locator("summary").click()
        assert details.get_attribute("open") is None, "the answer opened before a choice"
        assert "Choose an answer first" in block.locator(".gallery-predict-hint").inner_text()
        right = block.get_attribute("data-answer")
        wrong = next(v for v in block.locator("input[type=radio]").evaluate_all("els => els.map(e => e.value)")
                     if v != right)
        block.locator(f'input[value="{wrong}"]').check()
        details.locator("summary").click()
        assert details.get_attribute("open") is not None
        page.wait_for_function("document.querySelector('.gallery-predict').getAttribute('data-result') === 'wrong'")
        assert "not the answer" in block.locator(".gallery-predict-hint").inner_text()
        assert watcher.console_errors == []


def test_the_lesson_prints_as_a_handout(browser, base_url):
    """Print media: no navigation or controls (the block's, a view's own layer menu and
    head squares), every view drawn first (beforeprint), the lesson's pictures too."""
    with open_page(browser, *DESKTOP) as (page, watcher):
        page.goto(f"{base_url}gallery/lesson/", wait_until="load")
        page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        page.wait_for_function("Array.from(document.querySelectorAll('.gallery-lesson-figure .gallery-bertviz'))"
                               ".every(v => v.hasAttribute('data-drawn'))", timeout=60000)
        page.emulate_media(media="print")
        shown = page.evaluate("""sel => sel.map(s => Array.from(document.querySelectorAll(s))
                                   .filter(e => getComputedStyle(e).display !== 'none' && e.getClientRects().length).length)""",
                              [".md-sidebar", ".md-header", ".gv-controls", ".gv-check", ".gallery-lesson-figure canvas"])
        assert shown[:4] == [0, 0, 0, 0], shown
        assert shown[4] >= 2, shown
        assert watcher.console_errors == []
