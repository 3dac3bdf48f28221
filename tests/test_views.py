"""Pure page pieces: escaping, the compact attention blob, the vendor wrapping,
the offline check of the MkDocs hook."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import record_data

from attention_gallery.build import assets
from attention_gallery.explain import views
from attention_gallery.record import SentenceRecord
from attention_gallery.web import pages
from attention_gallery.web.offline import OfflinePages
from attention_gallery.web.templates import shared_bytecode

EVIL = '</script><script>alert(1)</script> "><img src=x onerror=alert(1)> & {{ x }}'


def _blob_payload(html: str) -> dict:
    body = re.fullmatch(r'<script type="application/json"[^>]*>(.*)</script>', html, re.DOTALL).group(1)
    assert "</script" not in body.lower() and "<" not in body
    return json.loads(body)


def _weights(data: dict, shape) -> tuple[np.ndarray, np.ndarray]:
    """The blob's two models' weights, as lib/blob.js reads them."""
    raw = np.frombuffer(zlib.decompress(base64.b64decode(data["weights"])), np.uint8)
    assert raw.size == 2 * int(np.prod(shape))
    return raw[:raw.size // 2].reshape(shape), raw[raw.size // 2:].reshape(shape)


def test_attention_blob_is_inert_and_round_trips():
    rng = np.random.default_rng(0)
    att = rng.random((2, 3, 4, 4))
    att /= att.sum(-1, keepdims=True)
    html = views.attention_blob("attention-x", ["[CLS]", EVIL, "Ġa", "[SEP]"], att, att[::-1])
    data = _blob_payload(html)
    assert data["tokens"][1] == EVIL and data["tokens"][2] == " a"
    assert data["layers"] == 2 and data["heads"] == 3 and data["scale"] == 255
    assert data["encoding"] == "uint8-deflate-base64"
    trained, untrained = _weights(data, att.shape)
    assert np.abs(trained / 255 - att).max() <= 0.5 / 255 + 1e-12
    assert np.abs(untrained / 255 - att[::-1]).max() <= 0.5 / 255 + 1e-12


def test_the_build_reads_the_blob_and_the_views_as_the_kernel_stores_them():
    rng = np.random.default_rng(2)
    att = rng.random((2, 3, 4, 4))
    att /= att.sum(-1, keepdims=True)
    payload = views.attention_payload(["[CLS]", EVIL, "a", "[SEP]"], att, att[::-1])
    element = views.blob_element("attention-x", payload)
    assert element == views.attention_blob("attention-x", ["[CLS]", EVIL, "a", "[SEP]"], att, att[::-1])
    view = views.view_data("head_view", views.COMPARE_ATTENTIONS, 1, [2])
    nb = {"cells": [{"outputs": [{"data": {"text/html": "<p>card</p>" + element,
                                           views.ATTENTION_MIME: {"id": "attention-x", "blob": payload}}}]},
                    {"outputs": [{"data": {"text/html": "<div></div>", views.VIEW_MIME: view}}]}]}
    source, stored = views.attention_output(nb)
    assert source == "attention-x" and views.blob_element(source, stored) == element
    assert views.blob_element(source, dict(sorted(stored.items()))) == element  # as a notebook stores it
    trained, untrained = views.attention_weights(stored)
    raw_trained, raw_untrained = _weights(_blob_payload(element), att.shape)  # as the browser reads the element
    assert np.array_equal(trained, raw_trained / 255) and np.array_equal(untrained, raw_untrained / 255)
    assert [(i, v) for _, i, v in views.view_outputs(nb)] == [
        (0, {"view": "head_view", "attentions": ["trained", "untrained", "gained", "lost"], "layer": 1, "heads": [2]})]
    assert views.attention_output({"cells": [{"outputs": [{"data": {"text/html": element}}]}]}) is None
    with pytest.raises(ValueError, match="unknown attention encoding"):
        views.attention_weights({**stored, "encoding": "float32"})


def test_blob_is_compact():
    rng = np.random.default_rng(1)
    att = rng.random((6, 12, 20, 20)) ** 8  # peaked, as attention is
    att /= att.sum(-1, keepdims=True)
    html = views.attention_blob("a", ["t"] * 20, att, att[::-1])
    # two models x 28,800 weights: under a byte a weight in base64 (bertviz's floats: ~21)
    assert len(html) < 2 * 6 * 12 * 20 * 20 * 1.0
    assert len(html) < len(views.quantize(att)) * 2 * 0.75


def test_everything_from_a_sentence_is_escaped():
    card = views.sentence_card(EVIL, ["[CLS]", EVIL], "positive", note=EVIL)
    scores = views.token_scores([EVIL, "b"], [0.5, -1.0], EVIL)
    record = SentenceRecord.model_validate(record_data(text=EVIL, title=EVIL))
    table = pages.sentence_table([record])
    for html in (card, scores, table):
        assert "<script>" not in html and "<img" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_view_placeholder_rejects_unknown_views():
    html = views.bertviz_view("src", "model_view", "gained", "v1")
    assert 'data-view="model_view"' in html and 'data-attention="gained"' in html
    with pytest.raises(ValueError):
        views.bertviz_view("src", "neuron_view", "trained", "v")
    with pytest.raises(ValueError):
        views.bertviz_view("src", "model_view", "difference", "v")


def test_token_scores_mute_special_tokens_from_the_scale():
    html = views.token_scores(["[CLS]", "good", "bad"], [10.0, 0.5, -0.25], "x", muted=[True, False, False])
    assert "gallery-attr-muted" in html
    assert "--a:0.85" in html  # 'good' is the largest of the visible tokens


def test_wrap_bertviz_removes_the_cdn():
    from pathlib import Path

    import bertviz

    for name in assets.BERTVIZ_VIEWS:
        src = (Path(bertviz.__file__).parent / f"{name}.js").read_text()
        wrapped = assets.wrap_bertviz(src, name)
        assert "cdnjs" in src and "cdnjs" not in wrapped and "require.config" not in wrapped
        assert f'window.bertvizViews["{name}"] = function (PYTHON_PARAMS)' in wrapped
    with pytest.raises(assets.AssetError):
        assets.wrap_bertviz("console.log(1)", "model_view")


def test_offline_pages_move_inline_css_and_drop_cdn_loaders(tmp_path):
    offline = OfflinePages()
    css = "a{color:red}" * 400
    html = (f'<div class="jupyter-wrapper"><style type="text/css">{css}</style>'
            '<!-- Load mathjax -->\n<script src="https://cdnjs.cloudflare.com/x.js"> </script>'
            '<!-- End of mathjax configuration --></div>')
    page = tmp_path / "gallery" / "x" / "index.html"
    out = offline.process(html, "gallery/x/", "gallery/x.ipynb", page)
    assert css not in out and "cdnjs" not in out
    link = re.search(r'<link rel="stylesheet" href="../../(assets/jupyter/[0-9a-f]{16}\.css)">', out)
    assert link
    page.parent.mkdir(parents=True)
    page.write_text(out)
    renamed = offline.write(tmp_path)
    trimmed = "\n".join(["a{color:red}"] * 400)  # trim_css writes a rule a line
    written = (tmp_path / renamed[link.group(1)]).read_text()
    assert written.split() == trimmed.split()
    # named by its own bytes (a change of trimming is a new name), and the page says so
    assert Path(renamed[link.group(1)]).stem == hashlib.sha256(written.encode()).hexdigest()[:16]
    assert renamed[link.group(1)] != link.group(1)
    assert f'href="../../{renamed[link.group(1)]}"' in page.read_text()
    assert not (tmp_path / link.group(1)).exists()
    assert OfflinePages().shared == {}  # one build's shared files are its own


def test_offline_pages_refuse_a_page_that_would_fetch_from_another_host():
    from mkdocs.exceptions import PluginError

    with pytest.raises(PluginError, match="index.md: the page would fetch from another host"):
        OfflinePages().process('<img src="https://example.org/x.png">', "", "index.md")
    # a plain hyperlink is not a fetch
    link = '<a href="https://example.org/">x</a>'
    assert OfflinePages().process(link, "", "index.md") == link


def test_nbconvert_templates_compiled_once_per_build_and_patch_undone(tmp_path, monkeypatch):
    import jinja2
    import nbformat
    from mkdocs_jupyter.nbconvert2 import nb2html
    from nbconvert.exporters.templateexporter import TemplateExporter

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A title"),
                                         nbformat.v4.new_code_cell("1 + 1")])
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    original = TemplateExporter.__dict__["_create_environment"]
    compiled = []
    compile_ = jinja2.Environment.compile
    monkeypatch.setattr(jinja2.Environment, "compile",
                        lambda self, *a, **kw: compiled.append(1) or compile_(self, *a, **kw))
    with shared_bytecode() as cache:
        assert TemplateExporter()._create_environment().bytecode_cache is cache
        first = nb2html(str(path))
        assert cache.store  # the templates' bytecode is kept
        compiled.clear()
        second = nb2html(str(path))  # a new exporter and environment, as mkdocs-jupyter makes per page
        assert second == first and "A title" in second
        assert len(compiled) <= 1, len(compiled)  # only the exporter's inline raw template, if any
    assert TemplateExporter.__dict__["_create_environment"] is original  # no patch outlives the build
    assert TemplateExporter()._create_environment().bytecode_cache is not cache
    with shared_bytecode() as again:  # the next build of the process (watch mode) compiles nothing again
        assert again is cache and cache.store


def test_signed_numbers_never_read_minus_zero():
    assert views.signed(-0.0004) == "+0.000"
    assert views.signed(-0.0006) == "-0.001"
    assert views.signed(2.5) == "+2.500"
    assert views.signed(np.float32(-1.23456), 2) == "-1.23"


def test_trim_css_keeps_what_can_match_and_the_variables_it_uses():
    from attention_gallery.web.offline import trim_css

    theme = ".jupyter-wrapper{--jp-used:red;--jp-chain:var(--jp-used);--jp-unused:blue}"
    css = ('@charset "UTF-8";'
           ".jupyter-wrapper .jp-Cell{color:var(--jp-chain)}"
           ".jupyter-wrapper .jp-Toolbar{color:var(--jp-unused)}"
           ".jp-Cell:not(.jp-Toolbar,.jp-Other),.jp-Dialog .jp-Cell{margin:0}"
           "pre{line-height:125%}"
           "@media print{.jp-Cell{display:none}.jp-Toolbar{display:none}}"
           "@media print{.jp-Toolbar{display:none}}"
           "@keyframes spin{to{transform:rotate(1turn)}}")
    out = trim_css({"theme.css": theme, "lab.css": css}, {"jupyter-wrapper", "jp-Cell"})
    lab, kept_theme = out["lab.css"], out["theme.css"]
    assert ".jupyter-wrapper .jp-Cell{color:var(--jp-chain)}" in lab
    assert "jp-Toolbar{" not in lab and ".jp-Toolbar{display" not in lab
    # a comma inside :not(...) does not split the selector, and :not(.x) needs no .x
    assert ".jp-Cell:not(.jp-Toolbar,.jp-Other){margin:0}" in lab
    assert ".jp-Dialog" not in lab
    assert "pre{line-height:125%}" in lab and "@media print{.jp-Cell{display:none}}" in lab
    assert lab.count("@media") == 1 and "@keyframes spin" in lab
    assert "--jp-used:red" in kept_theme and "--jp-chain:var(--jp-used)" in kept_theme
    assert "--jp-unused" not in kept_theme


def test_code_cells_are_left_out_of_the_search_index():
    from attention_gallery.web.offline import exclude_code_from_search

    html = ('<div class="jp-Cell jp-CodeCell"><div class="jp-InputPrompt jp-InputArea-prompt">In [1]:</div>'
            '<div class="jp-CodeMirrorEditor jp-Editor" data-type="inline"><span class="cell-tag">parameters</span>'
            '<span class="notice" hidden="">Copied!</span>'
            '<div class="highlight-ipynb hl-python"><pre><span>x</span> = 1</pre></div>'
            '<div class="clipboard-copy-txt" id="cell-1">x = 1</div></div></div>'
            '<div class="jp-Cell jp-MarkdownCell"><div class="jp-RenderedMarkdown"><h2>Kept</h2></div></div>')
    out = exclude_code_from_search(html)
    assert out.count("data-search-exclude") == 5
    assert '<div class="highlight-ipynb hl-python"><pre data-search-exclude>' in out
    assert '<div data-search-exclude class="clipboard-copy-txt"' in out
    assert '<div class="jp-RenderedMarkdown"><h2>Kept</h2>' in out

    # Material's own search parser indexes the markdown and none of the code
    from material.plugins.search.plugin import Parser

    parser = Parser()
    parser.feed(out)
    parser.close()
    text = " ".join(s.text and "".join(s.text) or "" for s in parser.data) + " ".join(
        "".join(s.title) for s in parser.data)
    assert "Kept" in text
    for plumbing in ("In [1]", "x = 1", "parameters", "Copied!"):
        assert plumbing not in text, (plumbing, text)


def _luminance(c):
    """WCAG relative luminance of an sRGB colour (0-255 channels)."""
    lin = [(v / 255 / 12.92) if v / 255 <= 0.03928 else ((v / 255 + 0.055) / 1.055) ** 2.4 for v in c]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a, b):
    """WCAG contrast ratio of two colours."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_token_colours_keep_text_readable_at_every_strength():
    """WCAG 1.4.3 for a token's text on its score colour, at every strength a page can
    give (--a from 0 to 0.85 by 0.001), in both palettes, with the text colour the CSS
    picks (--t thresholds): at least 4.5:1. (axe found 4.35:1 for a negative token at
    --a 0.67 on the dark palette, on one page of the full gallery.)"""
    import re

    css = (Path(__file__).resolve().parent.parent / "docs" / "assets" / "stylesheets" / "gallery.css").read_text()

    def rgb(palette_block, name):
        return [int(x) for x in re.search(rf"--gallery-{name}: (\d+), (\d+), (\d+);", palette_block).groups()]

    light, dark = css.split('[data-md-color-scheme="slate"] {', 1)
    thresholds = {m[0]: float(m[1]) for m in re.findall(
        r'\[data-md-color-scheme="slate"\] \.gallery-attr-(pos|neg) \{ --t: clamp\(0, \(([\d.]+) - var\(--a\)\)', css)}
    assert set(thresholds) == {"pos", "neg"}

    backgrounds = {"light": (255, 255, 255), "dark": (30, 33, 41)}  # Material's default and slate pages
    worst = {}
    for palette, block in (("light", light), ("dark", dark)):
        for kind in ("pos", "neg"):
            colour = rgb(block, kind)
            for step in range(851):
                a = step / 1000
                shown = [round(a * c + (1 - a) * b) for c, b in zip(colour, backgrounds[palette])]
                text = (0, 0, 0) if palette == "light" or a >= thresholds[kind] else (255, 255, 255)
                ratio = contrast(shown, text)
                worst[(palette, kind)] = min(worst.get((palette, kind), 99), ratio)
    assert all(r >= 4.5 for r in worst.values()), worst


def test_a_line_of_weight_a_third_or_more_has_3_to_1_contrast_in_every_head_colour():
    """Issue 29: the weight-to-opacity mapping (views.json ``opacity``, lib/raster.js
    ``opacity``) gives a weight of 0.33 the opacity ``at_knee``, and more to a larger
    weight; every palette colour at that opacity has at least 3:1 contrast (WCAG 1.4.11)
    on each background a view is drawn on: white, black (the model view in the dark
    palette) and Material's slate (the head views in the dark palette)."""
    ramp = views.VIEW_SETTINGS["opacity"]
    assert ramp["knee"] <= 0.33 and 0 < ramp["at_knee"] <= 1

    a = ramp["at_knee"]
    worst = {}
    for hex_ in views.PALETTE:
        colour = [int(hex_[i:i + 2], 16) for i in (1, 3, 5)]
        for name, bg in (("white", (255, 255, 255)), ("black", (0, 0, 0)), ("slate", (30, 33, 41))):
            shown = [a * c + (1 - a) * b for c, b in zip(colour, bg)]
            worst[(hex_, name)] = contrast(shown, bg)
    assert min(worst.values()) >= 3, sorted(worst.items(), key=lambda kv: kv[1])[:3]
    # bertviz's own colours (d3.schemeCategory10) would not: its orange has 2.5:1 on white at full opacity
    assert contrast((255, 127, 14), (255, 255, 255)) < 3


def test_norms_blob_decodes_to_norm_attention_rows_scaled_to_one(tiny_pair):
    """The page's norms blob (explain/page.py show_sentence) holds both models'
    ``ModelRun.norm_attention`` with each query row scaled to sum to 1, in the weights
    blob's format; the weights blob names its file, whose address changes with it,
    and that file (a classic script) carries the same text under the norms id."""
    from attention_gallery.explain.encode import encode
    from attention_gallery.explain.forward import run_sentence

    sentence = encode(tiny_pair.tokenizer, "not bad at all, a fine film")
    run = run_sentence(tiny_pair, sentence)
    weights = views.attention_payload(sentence.tokens, run.trained.attention, run.untrained.attention)
    norms = views.norms_payload(sentence.tokens, run.trained.norm_attention, run.untrained.norm_attention)
    html = views.blob_element("attention-x", weights, norms)
    file = re.search(r'data-norms="([^"]+)"', html).group(1)
    assert re.fullmatch(r"gallery/norms/attention-x\.js\?v=[0-9a-f]{12}", file)
    assert _blob_payload(html) == {k: weights[k] for k in views.BLOB_KEYS}  # the weights stay inline
    script = views.norms_script("attention-x", norms)
    m = re.fullmatch(r'\(self\.galleryBlobs = self\.galleryBlobs \|\| \{\}\)\["attention-x-norms"\] = (".*");\n',
                     script, re.DOTALL)
    assert m and json.loads(json.loads(m.group(1))) == {k: norms[k] for k in views.BLOB_KEYS}
    trained, untrained = views.attention_weights(norms)
    for got, model_run in ((trained, run.trained), (untrained, run.untrained)):
        want = model_run.norm_attention / model_run.norm_attention.sum(-1, keepdims=True)
        assert got.shape == want.shape == model_run.attention.shape
        assert np.abs(got - want).max() <= 1 / 255
        assert not np.allclose(got, model_run.attention, atol=2 / 255)  # another picture than the weights
    # another sentence's norms: another address
    other = views.norms_payload(sentence.tokens, run.untrained.norm_attention, run.trained.norm_attention)
    assert views.norms_file("attention-x", other) != file
    zero = views.row_normalised(np.zeros((1, 1, 2, 2)))
    assert (zero == 0).all()
