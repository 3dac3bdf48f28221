"""The live page: both models of the default pair run in the browser.

A one-sentence gallery is built cold with the real default pair (the build exports
the live page's ONNX graph into its own cache). Then:

* the graph, run by onnxruntime in Python, agrees with PyTorch (probabilities,
  attention) on sentences of several lengths, in a batch too;
* in headless Chromium, the tokenizer library gives the Python tokenizer's ids;
* a typed sentence runs: both predictions match the Python pipeline, the views are
  drawn, leave-one-out and the deletion test follow, nothing is fetched before the
  reader asks, nothing from another host, no console error;
* ``?text=`` runs on load; hostile text is shown as text; an overlong sentence is
  refused with the build's message; sentence pages link to the live page.

    .venv/bin/pytest -q -s tests/test_live.py
"""

from __future__ import annotations

import json
import re
import time
from urllib.parse import quote

import numpy as np
import pytest
import yaml
from browser import is_external, launch, new_context, open_page, serve, wait_for_views

from attention_gallery import claims
from attention_gallery.explain.methods import REGISTRY, runs_in_browser

PAIR = "minilm-sst2"
SENTENCE = {"slug": "not-bad-at-all", "text": "The movie was not bad at all, highly recommend", "label": "positive"}
TYPED = "I can't say I loved it... but the cast (Penélope, Zoë) was great!"
TOKENIZER_CASES = [
    TYPED,
    "A dull, plodding waste of two hours 😀 東京 مرحبا",
    "  ok  ",
    "naïve café—déjà vu?! 123,456.78 $5 e-mail@x.com",
    "UNBELIEVABLY good;it's\tthe best-ever 'film' of 2024 (no kidding)",
    "<script>alert(1)</script> \"><img src=x onerror=alert(1)>",
]
HOSTILE = "<img src=x onerror=alert(1)> <script>alert(2)</script> & a fine film"
MAX_DP = 0.005  # the targets
MAX_DATTENTION = 0.004
LOAD_TIMEOUT_MS = 180_000  # a shared 2-core machine: generous
VIEWS = 8  # the side-by-side block's four head views and four model views


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(site folder, cache folder) of a cold one-sentence build."""
    from attention_gallery.build.build import build

    root = tmp_path_factory.mktemp("live")
    sentences = root / "sentences.yaml"
    sentences.write_text(yaml.safe_dump({"sentences": [SENTENCE]}), encoding="utf-8")
    report = build(sentences, PAIR, root / "site", root / "cache", quiet=True, progress=False)
    return report.site_dir, root / "cache"


@pytest.fixture(scope="module")
def graph(built):
    from attention_gallery.live.export import ensure_graph
    from attention_gallery.pairs import get_pair

    started = time.perf_counter()
    path, facts = ensure_graph(get_pair(PAIR), built[1], quiet=True)
    assert time.perf_counter() - started < 5, "the build's graph was not reused from its cache"
    return path, facts


@pytest.fixture(scope="module")
def base_url(built):
    with serve(built[0]) as url:
        yield url


@pytest.fixture(scope="module")
def context(base_url):
    """One browser context for the module: the models download once (HTTP cache)."""
    with launch() as browser:
        ctx = new_context(browser)
        yield ctx
        ctx.close()


def _config(page) -> dict:
    return json.loads(page.text_content("#live-config"))


def _result(page, stage: str, timeout: int = LOAD_TIMEOUT_MS) -> dict:
    page.wait_for_selector(f'#live-result[data-stage="{stage}"]', state="attached", timeout=timeout)
    return json.loads(page.get_attribute("#live-result", "data-result"))


def _python(default_pair, text):
    from attention_gallery.explain.forward import run_sentence
    from attention_gallery.explain.headchange import head_change

    run = run_sentence(default_pair, text)
    return run, head_change(run.untrained.attention, run.trained.attention)


def _check_against_python(result, default_pair, text):
    run, change = _python(default_pair, text)
    assert result["text"] == text
    assert result["tokens"] == run.tokens
    for which in ("trained", "untrained"):
        dp = np.abs(np.array(result[which]["probs"]) - getattr(run, which).probs).max()
        assert dp <= MAX_DP, (which, dp)
    layer, head = result["top_head"]
    top = np.unravel_index(np.argmax(change), change.shape)
    assert (layer, head) == tuple(int(i) for i in top) or change.max() - change[layer, head] <= 0.005
    return run


# --------------------------------------------------------------------------- the graph


@pytest.mark.slow
def test_graph_agrees_with_pytorch(graph, default_pair):
    """onnxruntime on the exported graph vs PyTorch: one sentence at a time and a batch."""
    import torch

    from attention_gallery.explain.encode import encode
    from attention_gallery.explain.forward import value_norms
    from attention_gallery.live import export
    from attention_gallery.live.export import run_onnx

    files, facts = graph
    assert facts["weights"] == "float16" and facts["bytes"] < 50e6
    assert facts["files"]["model"]["bytes"] < 1e6, "the skeleton holds no large weight"
    assert facts["check"]["probs"] <= MAX_DP and facts["check"]["attention"] <= MAX_DATTENTION
    assert facts["check"]["norms"] <= MAX_DATTENTION  # norm-based attention, as the views draw it
    session = export.session(files["model"], files["weights"], facts["regions"])
    tok = default_pair.tokenizer
    for text in (SENTENCE["text"], TYPED, "bad"):
        ids = tok(text, return_tensors="pt")["input_ids"]
        for which in ("trained", "untrained"):
            logits, attention = run_onnx(session, ids.numpy(), which == "trained")
            with torch.no_grad():
                ref = default_pair.model(which)(input_ids=ids, attention_mask=torch.ones_like(ids),
                                                output_attentions=True)
            p, q = (torch.softmax(torch.as_tensor(x).double(), -1).numpy() for x in (logits, ref.logits))
            assert np.abs(p - q).max() <= MAX_DP
            assert np.abs(attention - np.stack([a.numpy() for a in ref.attentions])).max() <= MAX_DATTENTION
            # the value vectors' norms ||f_h(x_j)||: the kernel's (explain.forward.value_norms)
            _, _, norms = run_onnx(session, ids.numpy(), which == "trained", norms=True)
            want = value_norms(default_pair.model(which), encode(tok, text))
            assert norms.shape == (want.shape[0], 1, *want.shape[1:])
            assert np.abs(norms[:, 0] - want).max() <= 0.01 * want.max()
    # a batch of equal-length sequences (leave-one-out's variants), both models
    ids = tok(["a good film indeed", "a bad film really"], return_tensors="pt")["input_ids"]
    for which in ("trained", "untrained"):
        logits, _ = run_onnx(session, ids.numpy(), which == "trained")
        with torch.no_grad():
            ref = default_pair.model(which)(input_ids=ids, attention_mask=torch.ones_like(ids)).logits.numpy()
        assert np.abs(logits - ref).max() < 0.01
    # the untrained switch really is the untrained model: the heads differ
    both = [run_onnx(session, ids.numpy(), t)[0] for t in (True, False)]
    assert np.abs(both[0] - both[1]).max() > 0.1


def test_skeleton_and_half_weights_give_back_the_model():
    """split + assemble (what the page does) give the float32 model byte for byte; a
    weight that is not a float16 value is refused, not silently rounded."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from attention_gallery.live import export

    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(shape).astype(np.float16).astype(np.float32) for shape in ((4, 8), (8, 3), (3,))]
    inits = [numpy_helper.from_array(w, f"w{i}") for i, w in enumerate(weights)]
    nodes = [helper.make_node("MatMul", ["x", "w0"], ["h"]), helper.make_node("MatMul", ["h", "w1"], ["o"]),
             helper.make_node("Add", ["o", "w2"], ["y"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    skeleton, half, regions = export.split(model)
    assert [size for _, size in regions] == [4 * 8 * 4, 8 * 3 * 4], "w2 (3 values) stays in the skeleton"
    assert len(half) == 2 * (32 + 24) and len(skeleton) == len(model.SerializeToString()) - 4 * 56
    assert export.assemble(skeleton, half, regions) == model.SerializeToString()
    back = onnx.load_from_string(export.assemble(skeleton, half, regions))
    assert all(np.array_equal(numpy_helper.to_array(a), numpy_helper.to_array(b))
               for a, b in zip(back.graph.initializer, model.graph.initializer))
    model.graph.initializer[0].CopyFrom(numpy_helper.from_array(weights[0] + np.float32(1e-4), "w0"))
    with pytest.raises(export.GraphCheckError, match="float16 values"):
        export.split(model)


# --------------------------------------------------------------------------- in the browser


@pytest.mark.browser
@pytest.mark.slow
def test_js_tokenizer_gives_the_python_ids(context, base_url, default_pair):
    with open_page(context) as (page, watcher):
        page.goto(base_url + "gallery/live/")
        cfg = _config(page)
        ids = page.evaluate("""async ([cfg, texts]) => {
            const abs = (key) => new URL(cfg.urls[key], location.href).href;
            const {Tokenizer} = await import(abs("tokenizers"));
            const [json, conf] = await Promise.all([fetch(abs("tokenizer")).then(r => r.json()),
                                                    fetch(abs("tokenizer_config")).then(r => r.json())]);
            const tok = new Tokenizer(json, conf);
            return texts.map(t => Array.from(tok.encode(t).ids, Number));
        }""", [cfg, TOKENIZER_CASES])
        assert watcher.console_errors == []
    for text, got in zip(TOKENIZER_CASES, ids):
        assert got == default_pair.tokenizer(text)["input_ids"], text


@pytest.mark.browser
@pytest.mark.slow
def test_a_typed_sentence_runs_both_models(context, base_url, default_pair):
    with open_page(context) as (page, watcher):
        page.goto(base_url + "gallery/live/", wait_until="load")
        page.wait_for_timeout(300)
        before = list(watcher.requests)
        assert not [u for u in before if re.search(r"\.(onnx-skeleton|f16|wasm|mjs)$|tokenizer", u)], \
            "the page downloaded the models before the reader asked"
        assert page.get_attribute("#live-result", "data-stage") == "idle"
        page.fill("#live-text", TYPED)
        page.click("#live-run")
        result = _result(page, "predictions")
        run = _check_against_python(result, default_pair, TYPED)
        assert result["trained"]["predicted"] == default_pair.labels[run.trained.predicted]
        state = wait_for_views(page)
        assert state["placeholders"] == VIEWS and state["drawn"] == VIEWS, state
        # the side-by-side block opens on the most changed head, as on a gallery page; the heatmap's
        # cells open it on theirs; every view can be saved for slides
        block = page.locator("#compare")
        assert [block.get_attribute("data-layer"), block.get_attribute("data-head")] == \
            [str(x) for x in result["top_head"]]
        page.click('#live-heads table a[href="#head-0-1"]')
        page.wait_for_function("document.querySelector('#compare').getAttribute('data-head') === '1'"
                               " && document.querySelector('#compare').getAttribute('data-layer') === '0'")
        assert "text=" in page.url and page.url.endswith("#head-0-1")
        assert page.locator("#live-output .gallery-export-button").count() >= 4 * 2 + 4
        # the untrained row reads as chance, never right or wrong
        rows = page.locator("#live-predictions tbody tr")
        assert "chance" in rows.nth(1).inner_text() and "✓" not in page.inner_text("#live-predictions")
        result = _result(page, "complete")
        loo = result["loo"]["trained"]
        assert len(loo) == len(run.tokens) and loo[0] == 0 and any(abs(v) > 1e-3 for v in loo)
        in_browser = {name for name in REGISTRY if runs_in_browser(name)}  # what the registry says the page runs
        assert in_browser == set(REGISTRY) - {"ig"}  # today's registry
        assert set(result["deletion"]["figures"]) == in_browser | {"random"}
        assert page.locator("#live-deletion table tbody tr").count() == len(in_browser) + 1
        assert "live" in page.inner_text("#live-status")
        # "What to notice", by the gallery's rules (lib/notice.js, held to explain/notice.py by
        # tests/golden/notice.json): once complete, every point, the head one linking its head
        kinds = page.eval_on_selector_all("#live-notice-points [data-claim]", "els => els.map(e => e.dataset.claim)")
        assert kinds == ["verdict", "head", "tokens", "norms", "untrained"], kinds
        top = result["top_head"]
        assert page.locator(f'#live-notice-points a[href="#head-{top[0]}-{top[1]}"]').count() == 1
        verdict = page.inner_text('#live-notice-points [data-claim="verdict"]')
        assert verdict.startswith(f"The fine-tuned model reads this sentence as {result['trained']['predicted']}")
        assert page.get_attribute('#live-notice-points [data-claim="tokens"]', "data-outcome") in claims.FAITH["outcomes"]
        assert page.locator("#live-notice .live-pending").count() == 0
        # the weights / norms switch: the block draws from the norms blob the page made from
        # the graph's value-vector norms (norm-based attention, as a gallery page's)
        source = page.get_attribute("#compare", "data-source")
        assert page.locator(f"#{source}-norms").count() == 1
        assert page.locator("#live-output .gallery-measure select").count() == 4 + 1 + 1  # model views, block, map
        page.select_option("#compare .gallery-measure select", "norms")
        page.wait_for_function("Array.from(document.querySelectorAll('#compare .gc-view')).every("
                               "v => v.getAttribute('data-measure') === 'norms' && v._gvDrawing)")
        page.evaluate("Promise.all(Array.from(document.querySelectorAll('#compare .gc-view')).map(v => v._gvDrawing))")
        assert page.locator("#live-heads .gm-norms caption").text_content().startswith("Change of norm-based attention")
        assert watcher.console_errors == [] and watcher.failed == []
        # blob: and data: URLs are the page's own memory (a worker, an export), not the network
        assert not [u for u in watcher.requests if is_external(u)]
        print(f"\nlive page: {json.dumps(result['timings'])}")
    # the reader comes back: the worker reads the files from the Cache Storage, and the page
    # starts it as it opens, before run is pressed
    with open_page(context) as (page, watcher):
        page.goto(base_url + "gallery/live/", wait_until="load")
        page.wait_for_function("document.querySelector('#live-status').textContent.includes('ready')",
                               timeout=LOAD_TIMEOUT_MS)
        timings = page.evaluate("window.LiveGallery.timings")
        assert timings["from_cache"] == 3 and timings["session_s"] > 0, timings
        assert not [u for u in watcher.requests if re.search(r"\.(onnx-skeleton|f16|wasm)$", u)]
        assert watcher.console_errors == []


@pytest.mark.browser
@pytest.mark.slow
def test_text_in_the_address_runs_on_load_and_hostile_text_stays_text(context, base_url, default_pair):
    with open_page(context) as (page, watcher):
        page.goto(base_url + "gallery/live/?text=" + quote(HOSTILE), wait_until="load")
        result = _result(page, "predictions")
        _check_against_python(result, default_pair, HOSTILE)
        assert page.input_value("#live-text") == HOSTILE
        assert page.locator("#live-output img").count() == 0
        assert HOSTILE in page.inner_text("#live-sentence")
        # an overlong sentence: refused with the build's message, the last result kept
        page.fill("#live-text", "good " * 130)
        page.click("#live-run")
        page.wait_for_function("document.querySelector('#live-status').classList.contains('live-error')")
        status = page.inner_text("#live-status")
        assert "132 tokens" in status and "at most 128" in status and "not truncated" in status, status
        assert json.loads(page.get_attribute("#live-result", "data-result"))["text"] == HOSTILE
        assert watcher.dialogs == [] and watcher.console_errors == []


@pytest.mark.browser
@pytest.mark.slow
def test_the_live_page_colours_tokens_as_the_gallery_does(context, base_url, default_pair):
    """The same colour strengths as a gallery page (views.colour_scale, a share of the
    larger model's total |score|, rules.json's full_share) for the attention methods
    the browser computes; the float16 weights move a strength by 0.01 at most."""
    from attention_gallery.explain import views
    from attention_gallery.explain.forward import run_sentence
    from attention_gallery.explain.methods import REGISTRY

    run = run_sentence(default_pair, SENTENCE["text"])
    muted = np.asarray(run.sentence.special, bool)
    with open_page(context) as (page, watcher):
        page.goto(base_url + "gallery/live/?text=" + quote(SENTENCE["text"]), wait_until="load")
        _result(page, "predictions")
        assert _config(page)["colour"]["full_share"] == views.full_share()
        shown = page.evaluate("""() => [...document.querySelectorAll('#live-attributions .gallery-attribution')]
            .filter(d => d.querySelector('.gallery-attr'))
            .map(d => [d.querySelector('.gallery-attr-caption').textContent,
                       [...d.querySelectorAll('.gallery-attr:not(.gallery-attr-muted)')].map(s => +s.style.getPropertyValue('--a'))])""")
        for name in ("rollout", "attention"):
            method = REGISTRY[name]
            rows = [method.attribute(run.sentence, getattr(run, w)).scores for w in ("trained", "untrained")]
            scale = views.colour_scale(rows, muted)
            got = [a for title, a in shown if title == method.title]
            assert len(got) == 2, shown
            for row, live in zip(rows, got):
                want = [scale.strength(v) for v in np.asarray(row)[~muted]]
                assert np.abs(np.array(live) - want).max() <= 0.01, (name, live, want)
        assert f"full colour = {views.pct(views.full_share())} of the total |score|" in page.inner_text("#live-attributions")
        assert watcher.console_errors == []


@pytest.mark.slow
def test_sentence_pages_link_to_the_live_page(built):
    html = (built[0] / "gallery" / SENTENCE["slug"] / "index.html").read_text(encoding="utf-8")
    assert f'href="../live/?text={quote(SENTENCE["text"], safe="")}"' in html
    assert "Try a variation of this sentence" in html
    live = (built[0] / "gallery" / "live" / "index.html").read_text(encoding="utf-8")
    assert 'id="live-text"' in live and 'id="live-run"' in live and "ort.wasm" not in live.split("live-config")[0]


# --------------------------------------------------------------------------- without a model


def test_only_adapter_pairs_run_live():
    from attention_gallery.live.export import unavailable_reason
    from attention_gallery.live.page import unavailable_page
    from attention_gallery.pairs import get_pair

    assert unavailable_reason(get_pair(PAIR)) is None
    reason = unavailable_reason(get_pair("distilbert-imdb"))
    assert "adapter" in reason
    assert "cannot run in the browser" in unavailable_page(reason)


def test_the_live_package_does_not_invalidate_executed_notebooks(tmp_path):
    """Editing the live page's code must not re-run the gallery's notebooks."""
    import hashlib

    from attention_gallery.build.cache import site_only
    from attention_gallery.fingerprint import hash_tree

    (tmp_path / "explain").mkdir()
    (tmp_path / "live").mkdir()
    (tmp_path / "explain" / "a.py").write_text("x = 1")
    (tmp_path / "live" / "b.py").write_text("y = 1")

    def digest():
        h = hashlib.sha256()
        hash_tree(h, tmp_path, "package", skip=site_only)
        return h.hexdigest()

    before = digest()
    (tmp_path / "live" / "b.py").write_text("y = 2")
    assert digest() == before
    (tmp_path / "explain" / "a.py").write_text("x = 2")
    assert digest() != before
