"""Head change, the registered explanation methods and the deletion test on
hand-made cases with known answers, on tiny DistilBERT models and on a toy
classifier that depends on a single word."""

from __future__ import annotations

import copy
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from attention_gallery.explain import faithfulness, headchange, methods, removal
from attention_gallery.explain.call import forward
from attention_gallery.explain.encode import encode
from attention_gallery.explain.facts import catalog
from attention_gallery.explain.forward import run_sentence
from attention_gallery.explain.methods import REGISTRY, IntegratedGradients
from attention_gallery.models import LoadedPair

TEXT = "the movie was good and fun"


# --- head change ---------------------------------------------------------------

def _random_attention(shape, seed=0):
    x = np.random.default_rng(seed).random(shape)
    return x / x.sum(axis=-1, keepdims=True)


def test_identical_attention_has_zero_change():
    att = _random_attention((3, 4, 5, 5))
    change = headchange.head_change(att, att.copy())
    assert change.shape == (3, 4)
    assert np.all(change == 0.0)


def test_one_hot_vs_uniform_has_the_hand_computed_distance():
    # M = (0.75, 0.25); JSD = 1/2 log2(4/3) + 1/4 log2(2/3) + 1/4
    jsd = 0.5 * math.log2(4 / 3) + 0.25 * math.log2(2 / 3) + 0.25
    expected = math.sqrt(jsd)  # ~0.5579
    a = np.array([[[[0.5, 0.5], [0.3, 0.7]], [[0.5, 0.5], [0.3, 0.7]]]])  # (1, 2, 2, 2)
    b = a.copy()
    b[0, 1, 0] = [1.0, 0.0]  # head 1, query 0: one-hot instead of uniform
    change = headchange.head_change(a, b)
    assert change[0, 0] == 0.0
    assert change[0, 1] == pytest.approx(expected / 2, abs=1e-12)  # 2 queries, 1 changed
    # symmetric, and disjoint supports are at the maximum distance 1
    assert np.array_equal(change, headchange.head_change(b, a))
    assert headchange.js_distance([1.0, 0.0], [0.0, 1.0]) == pytest.approx(1.0)


def test_head_change_refuses_mismatched_shapes():
    with pytest.raises(ValueError):
        headchange.head_change(np.ones((1, 1, 2, 2)) / 2, np.ones((1, 1, 3, 3)) / 3)


def test_top_heads_sorted_descending_ties_by_position():
    change = np.array([[0.1, 0.5, 0.2], [0.5, 0.05, 0.3]])
    assert headchange.top_heads(change, k=4) == [(0, 1, 0.5), (1, 0, 0.5), (1, 2, 0.3),
                                                 (0, 2, 0.2)]
    assert headchange.top_heads(change, k=10)[-1] == (1, 1, 0.05)


# --- the encoded sentence and the one forward pass ------------------------------

def test_encoded_sentence_marks_specials_and_words(tiny_pair):
    s = encode(tiny_pair.tokenizer, "the movie was good [UNK]")
    assert s.tokens[0] == "[CLS]" and s.tokens[-1] == "[SEP]"
    assert s.special.tolist() == [True] + [False] * (len(s) - 2) + [True]  # [UNK] is a word
    assert s.words.tolist() == list(range(1, len(s) - 1))
    assert s.input_ids.shape == s.attention_mask.shape == (1, len(s))
    assert (s.pad_id, s.mask_id) == (tiny_pair.tokenizer.pad_token_id, tiny_pair.tokenizer.mask_token_id)


def test_a_run_is_the_forward_pass_of_the_encoded_sentence(tiny_pair):
    run = run_sentence(tiny_pair, TEXT)
    with torch.no_grad():
        logits, attentions = forward(tiny_pair.trained, run.sentence.input_ids,
                                     run.sentence.attention_mask, attentions=True)
    np.testing.assert_array_equal(run.trained.logits, logits[0].numpy())
    np.testing.assert_array_equal(run.trained.attention[1], attentions[1][0].numpy())
    assert run.trained.probs.sum() == pytest.approx(1.0)
    assert run.trained.model is tiny_pair.trained and run.untrained.model is tiny_pair.untrained


# --- attention-based scores ------------------------------------------------------

def test_rollout_of_identity_attention_is_one_hot_on_cls():
    att = np.broadcast_to(np.eye(4), (3, 2, 4, 4))
    np.testing.assert_allclose(methods.rollout(att), [1.0, 0.0, 0.0, 0.0])


def test_rollout_two_tokens_by_hand():
    # layer 1: everyone looks at token 1 -> 0.5A + 0.5I = [[.5, .5], [0, 1]]
    # layer 2: everyone looks at token 0 -> [[1, 0], [.5, .5]]
    # R = A2 @ A1 = [[.5, .5], [.25, .75]]  (A1 @ A2 would give [[.75, .25], ...])
    layer1 = np.array([[0.0, 1.0], [0.0, 1.0]])
    layer2 = np.array([[1.0, 0.0], [1.0, 0.0]])
    att = np.stack([np.stack([layer1, layer1]), np.stack([layer2, layer2])])  # (2, 2, 2, 2)
    np.testing.assert_allclose(methods.rollout_matrix(att), [[0.5, 0.5], [0.25, 0.75]])
    np.testing.assert_allclose(methods.rollout(att), [0.5, 0.5])
    # heads are averaged first: a "swap" head and an identity head -> uniform
    swap, eye = np.array([[0.0, 1.0], [1.0, 0.0]]), np.eye(2)
    np.testing.assert_allclose(methods.rollout(np.stack([np.stack([swap, eye])])),
                               [0.75, 0.25])


def test_raw_attention_is_last_layer_cls_row_mean(tiny_pair):
    run = run_sentence(tiny_pair, TEXT)
    a = REGISTRY["attention"].attribute(run.sentence, run.trained)
    np.testing.assert_allclose(a.scores, run.trained.attention[-1, :, 0, :].mean(axis=0),
                               atol=1e-6)
    r = REGISTRY["rollout"].attribute(run.sentence, run.trained)
    np.testing.assert_allclose(r.scores, methods.rollout(run.trained.attention))
    assert r.scores.sum() == pytest.approx(1.0)
    assert r.target == a.target == run.trained.predicted


# --- the registry ------------------------------------------------------------------

def test_registry_names_titles_and_descriptions():
    assert list(REGISTRY) == [m.name for m in REGISTRY.values()]
    assert "random" not in REGISTRY  # the baseline's key in the faithfulness results
    for method in REGISTRY.values():
        assert method.title and method.description
        assert "\n" not in method.description and method.description.endswith(".")
    titles = [m.title for m in REGISTRY.values()]
    assert len(set(titles)) == len(titles)


def test_methods_declare_what_they_need_and_consumers_ask(tiny_pair, monkeypatch):
    from attention_gallery.explain import methods
    from attention_gallery.live import page as live

    assert all(m.needs and m.needs <= methods.NEEDS.keys() for m in REGISTRY.values())
    assert [m.name for m in REGISTRY.values() if m.reference] == [methods.reference().name] == ["loo"]
    assert [n for n in REGISTRY if not methods.runs_in_browser(n)] == ["ig"]  # gradients: no JS of theirs
    assert not any(m.browser and "gradients" in m.needs for m in REGISTRY.values())
    assert not methods.ranked_against_reference("loo") and not methods.ranked_against_reference("random")

    # a method added to the registry reaches the live page when it needs no gradients,
    # and leaves it when it does: the live page asks, it names no method
    class Toy(methods.Method):
        name, title, description, needs = "toy", "Toy", "a test method.", frozenset({"attention"})
        browser = True

    facts = {"layers": 2, "heads": 2, "special_ids": [0], "sizes": {k: 1 for k in live.DOWNLOAD},
             "regions": {}, "model_bytes": 1}
    site = live.LiveSite(markdown="", facts=facts)
    monkeypatch.setitem(REGISTRY, "toy", Toy())
    assert "toy" in live.settings(tiny_pair.spec, site, {}, catalog())["methods"]
    monkeypatch.setattr(Toy, "browser", False)
    assert "toy" not in live.settings(tiny_pair.spec, site, {}, catalog())["methods"]
    assert methods.ranked_against_reference("toy")


@pytest.mark.parametrize("name", list(REGISTRY))
@pytest.mark.parametrize("which", ["trained", "untrained"])
def test_every_method_scores_every_token_of_both_models(tiny_pair, name, which):
    run = run_sentence(tiny_pair, TEXT)
    model_run = run.run(which)
    a = REGISTRY[name].attribute(run.sentence, model_run)
    assert a.method == name and a.tokens == run.tokens
    assert a.scores.shape == (len(run.tokens),) and np.isfinite(a.scores).all()
    assert a.target == model_run.predicted
    other = 1 - model_run.predicted
    assert REGISTRY[name].attribute(run.sentence, model_run, target=other).target == other
    again = REGISTRY[name].attribute(run.sentence, model_run)
    assert np.array_equal(a.scores, again.scores)  # deterministic


def test_attribute_all_follows_the_registry(tiny_pair):
    run = run_sentence(tiny_pair, TEXT)
    both = methods.attribute_all(run.sentence, run.untrained)
    assert list(both) == list(REGISTRY)


# --- Integrated Gradients --------------------------------------------------------

@pytest.fixture(scope="module")
def sharp_tiny_pair(tiny_pair):
    """The tiny pair with its classifier weights x30, so that logits move."""
    trained = copy.deepcopy(tiny_pair.trained)
    with torch.no_grad():
        trained.pre_classifier.weight.mul_(30)
        trained.classifier.weight.mul_(30)
    return LoadedPair(tiny_pair.spec, tiny_pair.tokenizer, trained, tiny_pair.untrained)


def _logit_change(model, sentence, target):
    """f(x) - f(baseline) of the target logit, computed here by hand."""
    with torch.no_grad():
        both, _ = forward(model, torch.cat([sentence.input_ids, methods.ig_baseline_ids(sentence)]),
                          sentence.attention_mask.repeat(2, 1))
    return float(both[0, target] - both[1, target])


def test_ig_completeness_comes_from_captums_delta(sharp_tiny_pair):
    run = run_sentence(sharp_tiny_pair, TEXT)
    a = IntegratedGradients(n_steps=64, max_steps=64).attribute(run.sentence, run.trained)
    gap = _logit_change(sharp_tiny_pair.trained, run.sentence, a.target)
    assert abs(gap) > 0.01  # a real change of the logit, not a flat model
    # the explained output is the logit (not the probability): it moves by ``gap``
    assert a.info["logit_change"] == pytest.approx(gap, abs=1e-4)
    assert a.info["completeness_error"] == pytest.approx(abs(a.scores.sum() - gap), abs=1e-4)
    assert a.info["completeness_error"] < 0.05 * abs(gap) + 1e-3
    assert a.info["n_steps"] == 64


def test_ig_reports_the_delta_captum_returned(tiny_pair, monkeypatch):
    from captum.attr import LayerIntegratedGradients

    real = LayerIntegratedGradients.attribute

    def shifted(self, *args, **kwargs):
        attributions, delta = real(self, *args, **kwargs)
        return attributions, delta + 0.25

    monkeypatch.setattr(LayerIntegratedGradients, "attribute", shifted)
    run = run_sentence(tiny_pair, TEXT)
    a = IntegratedGradients(n_steps=8).attribute(run.sentence, run.trained)
    true_gap = _logit_change(tiny_pair.trained, run.sentence, a.target)
    # the reported figures follow Captum's (shifted) delta: no forward pass of its own
    assert a.info["completeness_error"] == pytest.approx(0.25, abs=2e-3)
    assert a.info["logit_change"] == pytest.approx(true_gap - 0.25, abs=2e-3)
    assert "IG completeness" in REGISTRY["ig"].caption(a)


def test_ig_baseline_keeps_special_tokens(tiny_pair):
    tok = tiny_pair.tokenizer
    sentence = encode(tok, TEXT)
    base = methods.ig_baseline_ids(sentence)[0].tolist()
    assert base[0] == tok.cls_token_id and base[-1] == tok.sep_token_id
    assert set(base[1:-1]) == {tok.pad_token_id}


# --- a model built to depend on one token -------------------------------------------

class OneWordModel(torch.nn.Module):
    """positive logit = 3 * (number of 'good' tokens) - 1, negative logit = 0:
    p(positive) = sigmoid(2) with 'good', sigmoid(-1) without. Its single
    attention head makes [CLS] look at 'good' (uniform when absent)."""

    def __init__(self, vocab_size: int, good_id: int):
        super().__init__()
        self.embeddings = torch.nn.Embedding(vocab_size, 1)
        with torch.no_grad():
            self.embeddings.weight.zero_()
            self.embeddings.weight[good_id] = 1.0
        self.requires_grad_(False)
        self.calls = []  # the batch sizes it was run on

    def get_input_embeddings(self):
        return self.embeddings

    def forward(self, input_ids, attention_mask, output_attentions=False):
        self.calls.append([tuple(row) for row in input_ids.tolist()])
        good = self.embeddings(input_ids)[..., 0] * attention_mask  # (batch, T)
        positive = 3.0 * good.sum(-1) - 1.0
        logits = torch.stack([torch.zeros_like(positive), positive], dim=-1)
        attentions = None
        if output_attentions:
            b, t = input_ids.shape
            att = torch.full((b, 1, t, t), 1.0 / t)
            cls = (good > 0).float()
            cls = torch.where(cls.sum(-1, keepdim=True) > 0, cls, torch.ones_like(cls))
            att[:, 0, 0] = cls / cls.sum(-1, keepdim=True)
            attentions = (att,)
        return SimpleNamespace(logits=logits, attentions=attentions)


class ToyPair:
    """Just the attributes the stages rely on."""

    labels = ("negative", "positive")

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.trained = OneWordModel(len(tokenizer), tokenizer.convert_tokens_to_ids("good"))
        self.untrained = self.trained

    def model(self, which):
        return getattr(self, which)


@pytest.fixture()
def toy(tiny_pair):
    return ToyPair(tiny_pair.tokenizer)


def _sig(x):
    return 1.0 / (1.0 + math.exp(-x))


def test_ig_on_toy_model_is_exact_and_ranks_good_first(toy):
    run = run_sentence(toy, TEXT).trained
    a = REGISTRY["ig"].attribute(run.sentence, run)
    assert a.target == 1
    assert a.tokens[int(np.argmax(a.scores))] == "good"
    assert a.scores[a.tokens.index("good")] == pytest.approx(3.0, abs=1e-5)
    assert a.info["completeness_error"] < 1e-5


# --- leave-one-out occlusion ---------------------------------------------------------

def test_loo_by_hand_on_the_toy_model(toy):
    run = run_sentence(toy, "good good and fun").trained  # positive logit 3 * 2 - 1 = 5
    a = REGISTRY["loo"].attribute(run.sentence, run)
    assert a.target == 1
    expected = {"good": _sig(5) - _sig(2), "and": 0.0, "fun": 0.0, "[CLS]": 0.0, "[SEP]": 0.0}
    for token, score in zip(a.tokens, a.scores):
        assert score == pytest.approx(expected[token], abs=1e-12), token
    # explaining the other class: removing a 'good' raises p(negative)
    neg = REGISTRY["loo"].attribute(run.sentence, run, target=0)
    assert neg.scores[1] == pytest.approx(-(_sig(5) - _sig(2)), abs=1e-12)


def test_loo_runs_one_batch_and_never_removes_special_tokens(toy):
    run = run_sentence(toy, TEXT).trained
    toy.trained.calls.clear()
    a = REGISTRY["loo"].attribute(run.sentence, run)
    # one forward pass per length: the variants (one word deleted each), then the sentence
    short, whole = toy.trained.calls
    n_words = len(run.sentence.words)
    ids = run.sentence.input_ids[0].tolist()
    assert whole == [tuple(ids)] and len(short) == n_words
    for i, row in zip(run.sentence.words, short):
        assert list(row) == ids[:i] + ids[i + 1:]  # deleted, [CLS] and [SEP] kept
    assert a.scores[0] == a.scores[-1] == 0.0


def test_loo_on_tiny_distilbert_matches_a_forward_pass_by_hand(tiny_pair):
    run = run_sentence(tiny_pair, TEXT).trained
    a = REGISTRY["loo"].attribute(run.sentence, run)
    ids = run.sentence.input_ids
    position = 4  # 'good'
    short = torch.cat([ids[:, :position], ids[:, position + 1:]], dim=1)
    with torch.no_grad():
        whole, _ = forward(tiny_pair.trained, ids, run.sentence.attention_mask)
        less, _ = forward(tiny_pair.trained, short, torch.ones_like(short))
    p = torch.softmax(torch.cat([whole, less]).double(), -1)[:, a.target]
    assert a.scores[position] == pytest.approx(float(p[0] - p[1]), abs=1e-6)
    assert a.scores[0] == a.scores[-1] == 0.0 and np.count_nonzero(a.scores[1:-1]) > 0


# --- removal: one definition -----------------------------------------------------------

def test_removal_deletes_tokens_as_eraser_does(tiny_pair):
    assert "deleted" in removal.REMOVAL and "[MASK]" not in removal.REMOVAL
    sentence = encode(tiny_pair.tokenizer, TEXT)
    assert len(removal.remove(sentence, [1, 2])) == len(sentence) - 2


def test_remove_and_keep_only(tiny_pair):
    sentence = encode(tiny_pair.tokenizer, TEXT)
    ids = sentence.input_ids[0].tolist()
    assert removal.remove(sentence, [2, 4]).tolist() == [ids[0], ids[1], ids[3]] + ids[5:]
    kept = removal.keep_only(sentence, [2])
    assert kept.tolist() == [ids[0], ids[2], ids[-1]]
    assert removal.remove(sentence, []).tolist() == ids
    with pytest.raises(ValueError, match="never removed"):
        removal.remove(sentence, [0])


def test_loo_and_the_deletion_test_share_one_removal(toy, monkeypatch):
    seen = []
    real = removal.remove
    monkeypatch.setattr(removal, "remove", lambda s, p: seen.append("x") or real(s, p))
    run = run_sentence(toy, TEXT).trained
    REGISTRY["loo"].attribute(run.sentence, run)
    after_loo = len(seen)
    faithfulness.random_baseline(run, draws=2)
    assert after_loo > 0 and len(seen) > after_loo


# --- the deletion test -------------------------------------------------------------------

def test_good_first_ranking_beats_random(toy):
    run = run_sentence(toy, TEXT).trained
    scores = np.array([1.0 if t == "good" else 0.0 for t in run.sentence.tokens])
    drop = _sig(2) - _sig(-1)
    comp = faithfulness.comprehensiveness(run, scores)
    suff = faithfulness.sufficiency(run, scores)
    rand = faithfulness.random_baseline(run, (1, 2, 3), draws=10, seed=0)
    assert comp == pytest.approx(drop)  # 'good' is removed for every k
    assert suff == pytest.approx(0.0, abs=1e-12)  # 'good' is always kept
    assert comp > rand["comprehensiveness"] + 0.1
    assert suff < rand["sufficiency"] - 0.1
    # ranking 'good' last: nothing that matters is removed for k <= 3 of 6 words
    assert faithfulness.comprehensiveness(run, -scores) == pytest.approx(0.0)


# the toy model has no value projections: the methods that need them are left out
TOY_METHODS = [name for name, m in REGISTRY.items() if "values" not in m.needs]


def toy_attributions(run):
    return {name: REGISTRY[name].attribute(run.sentence, run) for name in TOY_METHODS}


def test_faithfulness_table_on_toy_model(toy):
    run = run_sentence(toy, TEXT).trained
    table = faithfulness.faithfulness(run, toy_attributions(run))
    assert list(table) == [*TOY_METHODS, "random"] and len(TOY_METHODS) == len(REGISTRY) - 1
    drop = round(_sig(2) - _sig(-1), 4)
    for method in TOY_METHODS:  # every method finds 'good' here
        on_p = {k: table[method][k] for k in (*faithfulness.FIGURES, "tau_loo")}
        assert on_p == {"comprehensiveness": drop, "sufficiency": 0.0, "tau_loo": table[method]["tau_loo"],
                        "aopc_comprehensiveness": drop, "aopc_sufficiency": 0.0}
        # on log-odds: removing 'good' moves the logit from 2 to -1; keeping it moves nothing
        assert table[method]["comprehensiveness_logodds"] == pytest.approx(3.0, abs=1e-4)
        assert table[method]["sufficiency_logodds"] == pytest.approx(0.0, abs=1e-4)
        assert table[method]["removed_p"] == [round(_sig(-1), 4)] * 3
        assert table[method]["kept_p"] == [round(_sig(2), 4)] * 3
        assert table[method]["comprehensiveness"] > table["random"]["comprehensiveness"]
        assert table[method]["sufficiency"] < table["random"]["sufficiency"]
    assert all(isinstance(v, float) or all(isinstance(x, float) for x in v)
               for row in table.values() for v in row.values())
    fresh = run_sentence(toy, TEXT).trained
    assert faithfulness.faithfulness(fresh, toy_attributions(fresh)) == table


def test_ks_are_capped_and_specials_never_ranked(toy):
    assert faithfulness.capped_ks((1, 3, 10, 12), 6) == (1, 3, 6)
    special = np.array([True, False, False, True])
    assert faithfulness.rank_tokens([9.0, 1.0, 1.0, 5.0], special).tolist() == [1, 2]
    # k capped at 6 words: keeping all of them changes nothing, removing all removes 'good'
    run = run_sentence(toy, TEXT).trained
    scores = np.zeros(8)
    assert faithfulness.sufficiency(run, scores, ks=(6, 50)) == 0.0
    assert faithfulness.comprehensiveness(run, scores, ks=(50,)) == pytest.approx(_sig(2) - _sig(-1))


def test_faithfulness_deterministic_on_tiny_distilbert(tiny_pair):
    def table(seed=0):
        run = run_sentence(tiny_pair, TEXT).trained
        return faithfulness.faithfulness(run, methods.attribute_all(run.sentence, run), seed=seed)

    assert table() == table()
    run = run_sentence(tiny_pair, TEXT).trained
    assert faithfulness.random_baseline(run, seed=3) == faithfulness.random_baseline(run, seed=3)


def test_each_distinct_variant_runs_once(toy):
    run = run_sentence(toy, TEXT).trained
    attributions = toy_attributions(run)
    toy.trained.calls.clear()
    table = faithfulness.faithfulness(run, attributions, draws=10, seed=0)
    rows = [row for call in toy.trained.calls for row in call]
    assert len(rows) == len(set(rows))  # nothing ran twice...
    loo_variants = {tuple(removal.remove(run.sentence, [i]).tolist()) for i in run.sentence.words}
    assert not loo_variants & set(rows)  # ...not even what leave-one-out already ran
    # 6 words: every subset of each size is enumerated (the random expectation is exact)
    assert len(rows) <= 1 + 2 * sum(math.comb(6, k) for k in (1, 2, 3))
    # sharing variants between rankings and methods changes no number
    alone = faithfulness.random_baseline(run_sentence(toy, TEXT).trained, draws=10, seed=0)
    assert table["random"] == {**{k: [round(x, 4) for x in v] if isinstance(v, list) else round(v, 4)
                                  for k, v in alone.items()}, "tau_loo": 0.0}


def test_norm_based_attention_adds_up_to_the_attention_block_output(tiny_pair):
    """Σ_h Σ_j α_ij f_h(x_j) + b_O is what the attention block's output projection
    gives (captured from the model itself): the value norms are of the vectors the
    heads really move."""
    import torch

    from attention_gallery import family
    from attention_gallery.explain.call import hidden_states
    from attention_gallery.explain.forward import run_model

    model = tiny_pair.trained
    sentence = encode(tiny_pair.tokenizer, "not bad at all, a fine film")
    run = run_model(model, sentence)
    captured = {}

    def keep(layer):
        def hook(module, inputs, output):  # returns None: the model's output stays its own
            captured[layer] = output[0].detach().double()
        return hook

    hooks = [family.output_projection(model, layer).register_forward_hook(keep(layer))
             for layer in range(run.attention.shape[0])]
    try:
        with torch.no_grad():
            states = hidden_states(model, sentence.input_ids, sentence.attention_mask)
    finally:
        for h in hooks:
            h.remove()
    heads = family.n_heads(model)
    for layer in range(run.attention.shape[0]):
        with torch.no_grad():
            v = family.value_projection(model, layer)(states[layer][0]).double()
        proj = family.output_projection(model, layer)
        w = proj.weight.detach().double()
        t, d = v.shape[0], v.shape[1] // heads
        f = torch.einsum("thd,ohd->hto", v.reshape(t, heads, d), w.reshape(w.shape[0], heads, d))
        alpha = torch.from_numpy(run.attention[layer]).double()
        moved = torch.einsum("hij,hjo->io", alpha, f) + proj.bias.detach().double()
        assert torch.allclose(moved, captured[layer], atol=1e-4)
        assert np.allclose(run.value_norms[layer], f.norm(dim=-1).numpy(), atol=1e-5)
    assert np.allclose(run.norm_attention, run.attention * run.value_norms[:, :, None, :])
    scores = REGISTRY["norms"].attribute(sentence, run).scores
    assert np.allclose(scores, run.norm_attention[-1, :, 0, :].sum(axis=0))
    assert (scores >= 0).all() and not np.allclose(scores / scores.sum(),
                                                    run.attention[-1, :, 0, :].mean(0))  # another picture
