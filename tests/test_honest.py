"""Honest numbers (issue #12): the untrained head as chance with its seeds, the
ERASER deletion test, IG steps, one colour scale per method, layer change."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from conftest import record_data

from attention_gallery import config, record
from attention_gallery.explain import seeds, views
from attention_gallery.explain.encode import encode
from attention_gallery.explain.facts import catalog
from attention_gallery.explain.forward import run_sentence
from attention_gallery.explain.methods import REGISTRY
from attention_gallery.models import architecture
from attention_gallery.pairs import get_pair
from attention_gallery.web import pages

TEXT = "A good film"


# --- the untrained head: chance, with its seeds -------------------------------------

@pytest.mark.parametrize("pair_fixture", ["tiny_pair", "default_pair"])
def test_the_pair_seed_reproduces_the_untrained_model(pair_fixture, request):
    pair = request.getfixturevalue(pair_fixture)
    sentence = encode(pair.tokenizer, "not bad at all")
    run = run_sentence(pair, sentence)
    p = seeds.p_positive(pair.untrained, sentence, pair.spec.head_seed)
    assert len(p) == config.HEAD_SEEDS
    assert p[0] == pytest.approx(float(run.untrained.probs[-1]), abs=1e-5)
    assert len({round(x, 6) for x in p}) == len(p)  # each seed is another head
    # drawing heads leaves the untrained model itself untouched
    assert np.allclose(run_sentence(pair, sentence).untrained.logits, run.untrained.logits)


def test_the_untrained_head_is_never_right_or_wrong():
    labels = ("negative", "positive")
    runs = {"trained": SimpleNamespace(logits=[-2.0, 2.0], probs=[0.02, 0.98], predicted=1),
            "untrained": SimpleNamespace(logits=[0.01, -0.004], probs=[0.5035, 0.4965], predicted=0)}
    html = views.predictions_table(labels, runs, "negative")
    untrained_row = html.split("<tr>")[-1]
    assert "✓" not in untrained_row and "✗" not in untrained_row and "right" not in untrained_row
    assert "chance (margin 0.014 logit)" in untrained_row
    assert config.UNTRAINED_SHORT in untrained_row


def test_index_and_pair_page_show_the_bias_not_right_answers():
    r = record.parse(record_data(), list(REGISTRY))
    index = pages.index_page(get_pair("minilm-sst2"), [r])
    assert config.UNTRAINED_NAME in index and "chance" in index
    assert "predicts negative on\n**1 of 1**" in index
    assert "✓" not in pages.verdict_cell(r, "untrained")
    evaluation = {"n": 872, "trained_accuracy": 0.89, "untrained_accuracy": 0.53,
                  "trained_predicts_negative_fraction": 0.49, "untrained_predicts_negative_fraction": 0.8,
                  "untrained_head_seeds": list(range(10)), "untrained_seed_accuracy": [0.5] * 9 + [0.6],
                  "untrained_seed_accuracy_mean": 0.51, "untrained_seed_accuracy_sd": 0.03,
                  "untrained_seed_predicts_negative_fraction": [0.2, 0.9]}
    pair = pages.pair_page(get_pair("minilm-sst2"), evaluation, architecture(get_pair("minilm-sst2").untrained), [r])
    assert "predicts negative on **80%**" in pair and "51.0% ± 3.0%" in pair
    assert "on the 1 gallery sentences it predicts negative" in pair.lower()


# --- the deletion test as ERASER defines it ----------------------------------------------

def _toy(tiny_pair):
    from test_metrics import ToyPair

    return ToyPair(tiny_pair.tokenizer)


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_exact_random_expectation_equals_brute_force_over_all_orders(tiny_pair):
    import itertools

    from attention_gallery.explain import faithfulness as F

    run = run_sentence(tiny_pair, "a good film today").trained  # 4 words: 24 orders
    rnd = F.random_expectation(run)
    assert rnd.mode == "exact" and all(v == 0.0 for v in rnd.se.values())
    orders = {str(i): np.array(o) for i, o in enumerate(itertools.permutations(run.sentence.words))}
    every = F._rankings(run, orders, F.KS, None)
    for figure in F.FIGURES:
        brute = np.mean([every[name][figure] for name in orders])
        assert rnd.figures[figure] == pytest.approx(brute, abs=1e-12), figure


def test_random_expectation_is_sampled_with_its_standard_error_past_the_limit(tiny_pair):
    from attention_gallery.explain import faithfulness as F

    run = run_sentence(tiny_pair, "a good film today").trained
    exact = F.random_expectation(run)
    sampled = F.random_expectation(run, exact_limit=3, draws=200)  # C(4,2)=6 > 3: k=2 sampled
    assert sampled.mode == "sampled:200"
    assert sampled.se["comprehensiveness"] > 0
    assert abs(sampled.figures["comprehensiveness"] - exact.figures["comprehensiveness"]) \
        < 4 * sampled.se["comprehensiveness"] + 1e-9


def test_aopc_on_a_toy_model_with_a_known_answer(tiny_pair):
    from attention_gallery.explain import faithfulness as F

    toy = _toy(tiny_pair)
    run = run_sentence(toy, TEXT).trained  # 3 words: bins round to k = 1, 1, 1, 1, 2
    assert F.bin_ks(3) == (1, 1, 1, 1, 2) and F.bin_ks(200) == (2, 10, 20, 40, 100)
    drop = _sig(2) - _sig(-1)  # removing 'good': p(positive) from sigmoid(2) to sigmoid(-1)
    good_first = np.array([1.0 if t == "good" else 0.0 for t in run.sentence.tokens])
    a = F.aopc(run, good_first)
    assert a["aopc_comprehensiveness"] == pytest.approx(drop, abs=1e-12)
    assert a["aopc_sufficiency"] == pytest.approx(0.0, abs=1e-12)
    # 'good' ranked second: only the 50% bin (k = 2) removes it
    good_second = np.array([{"a": 2.0, "good": 1.0}.get(t, 0.0) for t in run.sentence.tokens])
    assert F.aopc(run, good_second)["aopc_comprehensiveness"] == pytest.approx(drop / 5, abs=1e-12)
    # a random order removes 'good' with probability k/3: (4 * 1/3 + 2/3) / 5 = 0.4
    rnd = F.random_expectation(run)
    assert rnd.figures["aopc_comprehensiveness"] == pytest.approx(0.4 * drop, abs=1e-12)


def test_tau_loo_is_one_for_loo_and_follows_kendall():
    from attention_gallery.explain.faithfulness import tau_loo

    special = np.array([True, False, False, False, True])
    loo = np.array([0, 0.3, 0.1, 0.2, 0])
    assert tau_loo(loo, loo, special) == pytest.approx(1.0)
    assert tau_loo(-loo, loo, special) == pytest.approx(-1.0)
    assert tau_loo(np.zeros(5), loo, special) == 0.0


def test_set_figures_split_by_predicted_class():
    a = record.parse(record_data(), list(REGISTRY))
    neg = record_data(slug="b", trained={**record_data()["trained"], "predicted": "negative"})
    b = record.parse(neg, list(REGISTRY))
    m = pages.aggregate([a, b], catalog())
    assert m["random_baseline"] == "exact"
    ig = m["faithfulness"]["ig"]
    assert set(ig["by_predicted_class"]) == {"negative", "positive"}
    assert ig["by_predicted_class"]["negative"]["n"] == 1
    assert set(ig) >= {"comprehensiveness", "sufficiency", "aopc_comprehensiveness", "aopc_sufficiency", "tau_loo"}
    assert "By predicted class" in pages.faithfulness_page(m, catalog())


# --- IG you can trust --------------------------------------------------------------------

@pytest.mark.parametrize("text", ["The movie was not bad at all, highly recommend", "I loved it.",
                                  "cant not laugh"])
def test_ig_completeness_within_one_percent_on_real_sentences(default_pair, text):
    run = run_sentence(default_pair, text)
    a = REGISTRY["ig"].attribute(run.sentence, run.trained)
    info = a.info
    assert info["converged"] and info["n_steps"] <= 512
    assert abs(a.scores.sum() - info["logit_change"]) <= 0.01 * abs(info["logit_change"]) + 1e-9
    assert info["relative_error"] <= 0.01
    u = REGISTRY["ig"].attribute(run.sentence, run.untrained).info
    assert u["completeness_error"] <= 0.001
    assert 0.5 < info["baseline_p_last"] < 1  # the [PAD] baseline already reads as positive


# --- one colour scale per method ------------------------------------------------------------

def _alphas(html):
    import re

    return [float(a) for a in re.findall(r"--a:([0-9.]+)", html)]


def test_one_colour_scale_the_same_score_gives_the_same_colour_in_both_rows():
    muted = np.array([True, False, False, True])
    trained = np.array([0.0, 3.5, 0.02, 0.0])  # a large score, and a small one
    untrained = np.array([0.0, 0.02, -0.01, 0.0])  # the untrained head's tiny scores
    vmax = views.shared_scale([trained, untrained], muted)
    assert vmax == views.full_share() * 3.52  # a share of the larger row's total |score| (tests/test_colour.py)
    rows = [views.token_scores(["[CLS]", "a", "b", "[SEP]"], r, "IG", muted, vmax=vmax) for r in (trained, untrained)]
    (_, t_small), (u_same, _) = _alphas(rows[0]), _alphas(rows[1])
    assert t_small == u_same  # 0.02 in either row: the same colour strength
    assert u_same <= 0.01  # and pale: per-row scaling would have made it the darkest
    assert _alphas(views.token_scores(["[CLS]", "a", "b", "[SEP]"], untrained, "IG", muted))[0] == 0.85


def test_signed_scores_are_coloured_by_class_and_unsigned_in_one_hue(default_pair):
    from attention_gallery.explain import page

    ex = page.explain("I hated it.", "negative", pair="minilm-sst2", mode="gallery")
    ig = ex.attributions["trained"]["ig"]
    assert ig.target == 0  # explaining "negative": its scores are turned toward positive
    assert np.allclose(record.toward_last_label(ig.scores, ig.target, 2), -ig.scores)
    assert np.allclose(record.toward_last_label(ig.scores, 1, 2), ig.scores)  # toward the last label: kept
    scales = page.attribution_scales(ex)
    assert set(scales) == set(REGISTRY)
    html = views.token_scores(["[CLS]", "a", "[SEP]"], [0, 0.5, 0], "Raw attention",
                              [True, False, True], vmax=1.0, signed_scores=False)
    assert "gallery-attr-unsigned" in html and "gallery-attr-pos" not in html
    assert all(scales[name].full == views.full_share() * scales[name].total for name in REGISTRY)
    legend = views.attribution_legend(("negative", "positive"),
                                      {"Integrated Gradients": (views.Scale(5.0, 2.0, 0.5), "logit", True)})
    assert "toward positive" in legend and "full colour = 50% of the total |score| (±2.5 logit)" in legend


# --- direct vs inherited change per layer --------------------------------------------------

def test_layer_change_parts_on_the_tiny_pair_and_the_model_is_restored(tiny_pair):
    from attention_gallery.explain import layerchange

    sentence = encode(tiny_pair.tokenizer, TEXT)
    run = run_sentence(tiny_pair, sentence)
    before = [id(m) for m in layerchange.encoder_layers(tiny_pair.untrained)]
    lc = layerchange.layer_change(tiny_pair, sentence, run.untrained.attention, run.trained.attention)
    assert [id(m) for m in layerchange.encoder_layers(tiny_pair.untrained)] == before
    assert len(lc["total"]) == len(lc["direct"]) == len(lc["inherited"]) == 2
    assert lc["inherited"][0] == 0.0


def test_layer_change_on_the_default_pair_adds_back_to_the_trained_model(default_pair):
    """The adapter touches only encoder layers (not the embeddings): layer 0's change is
    all direct, and swapping every layer gives the fine-tuned model's attention."""
    from attention_gallery.explain import layerchange

    sentence = encode(default_pair.tokenizer, "not bad at all")
    run = run_sentence(default_pair, sentence)
    lc = layerchange.layer_change(default_pair, sentence, run.untrained.attention, run.trained.attention)
    assert lc["direct"][0] == pytest.approx(lc["total"][0], abs=1e-4)
    assert lc["inherited"][0] == 0.0 and all(x > 0 for x in lc["inherited"][1:])
    n = len(lc["total"])
    with layerchange.swapped(default_pair.untrained, default_pair.trained, range(n)) as hybrid:
        assert np.allclose(layerchange._attention(hybrid, sentence), run.trained.attention, atol=1e-5)


def test_heads_page_shows_the_three_parts_and_cites():
    r = record.parse(record_data(), list(REGISTRY))
    m = pages.aggregate([r], catalog())
    assert m["layer_change"] == {"total": [0.1, 0.3], "direct": [0.1, 0.2], "inherited": [0.0, 0.15]}
    page_md = pages.heads_page(m, catalog())
    assert "| 1 | 0.300 | 0.200 | 0.150 |" in page_md
    for key, cite in (("kovaleva-2019", "Kovaleva et al. 2019"), ("hao-2020", "Hao et al. 2020")):
        assert f'data-ref="{key}" href="../../references/#ref-{key}">{cite}</a>' in page_md
    # two layers, 0.1 then 0.3: it grows with depth, and the page may say so
    assert 'data-claim="depth" data-rule="depth" data-outcome="grows"' in page_md
