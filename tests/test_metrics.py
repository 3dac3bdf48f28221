"""Head change, attributions and the deletion test on hand-made cases with
known answers, on tiny DistilBERT models and on a toy classifier that depends
on a single word."""

from __future__ import annotations

import copy
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from attention_gallery.explain import faithfulness, headchange
from attention_gallery.explain import methods as attribution
from attention_gallery.explain.forward import run_sentence
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
    assert isinstance(headchange.MEASURE, str) and "Jensen" in headchange.MEASURE


# --- attention-based scores ------------------------------------------------------

def test_rollout_of_identity_attention_is_one_hot_on_cls():
    att = np.broadcast_to(np.eye(4), (3, 2, 4, 4))
    np.testing.assert_allclose(attribution.rollout(att), [1.0, 0.0, 0.0, 0.0])


def test_rollout_two_tokens_by_hand():
    # layer 1: everyone looks at token 1 -> 0.5A + 0.5I = [[.5, .5], [0, 1]]
    # layer 2: everyone looks at token 0 -> [[1, 0], [.5, .5]]
    # R = A2 @ A1 = [[.5, .5], [.25, .75]]  (A1 @ A2 would give [[.75, .25], ...])
    layer1 = np.array([[0.0, 1.0], [0.0, 1.0]])
    layer2 = np.array([[1.0, 0.0], [1.0, 0.0]])
    att = np.stack([np.stack([layer1, layer1]), np.stack([layer2, layer2])])  # (2, 2, 2, 2)
    np.testing.assert_allclose(attribution.rollout_matrix(att), [[0.5, 0.5], [0.25, 0.75]])
    np.testing.assert_allclose(attribution.rollout(att), [0.5, 0.5])
    # heads are averaged first: a "swap" head and an identity head -> uniform
    swap, eye = np.array([[0.0, 1.0], [1.0, 0.0]]), np.eye(2)
    np.testing.assert_allclose(attribution.rollout(np.stack([np.stack([swap, eye])])),
                               [0.75, 0.25])


def test_raw_attention_is_last_layer_cls_row_mean(tiny_pair):
    run = run_sentence(tiny_pair, TEXT)
    a = attribution.attribute(tiny_pair, TEXT, "trained", "attention")
    np.testing.assert_allclose(a.scores, run.trained.attention[-1, :, 0, :].mean(axis=0),
                               atol=1e-6)
    # reusing a run gives the same scores as recomputing
    r1 = attribution.attribute(tiny_pair, TEXT, "trained", "rollout")
    r2 = attribution.attribute(tiny_pair, TEXT, "trained", "rollout", run=run.trained)
    np.testing.assert_allclose(r1.scores, r2.scores, atol=1e-6)
    assert r1.scores.sum() == pytest.approx(1.0)
    assert r1.target == a.target == run.trained.predicted


# --- Integrated Gradients --------------------------------------------------------

@pytest.fixture(scope="module")
def sharp_tiny_pair(tiny_pair):
    """The tiny pair with its classifier weights x30, so that logits move."""
    trained = copy.deepcopy(tiny_pair.trained)
    with torch.no_grad():
        trained.pre_classifier.weight.mul_(30)
        trained.classifier.weight.mul_(30)
    return LoadedPair(tiny_pair.spec, tiny_pair.tokenizer, trained, tiny_pair.untrained)


@pytest.mark.parametrize("which", ["trained", "untrained"])
def test_ig_scores_one_per_token_on_both_models(tiny_pair, which):
    a = attribution.attribute(tiny_pair, TEXT, which, "ig", n_steps=8)
    assert a.method == "ig" and len(a.scores) == len(a.tokens)
    assert a.tokens[0] == "[CLS]" and a.tokens[-1] == "[SEP]"
    assert np.isfinite(a.scores).all()
    assert a.target == run_sentence(tiny_pair, TEXT).run(which).predicted
    assert a.info["completeness_error"] < 1e-3


def test_ig_completeness(sharp_tiny_pair):
    a = attribution.attribute(sharp_tiny_pair, TEXT, "trained", "ig", n_steps=64)
    gap = a.info["f_x"] - a.info["f_baseline"]
    assert abs(gap) > 0.01  # a real change of the logit, not a flat model
    assert a.info["completeness_error"] < 0.05 * abs(gap) + 1e-3
    assert a.info["delta"] < 0.05 * abs(gap) + 1e-3
    assert a.info["n_steps"] == 64 and "logit" in a.info["output"]
    assert "[PAD]" in a.info["baseline"]


def test_ig_baseline_keeps_special_tokens(tiny_pair):
    tok = tiny_pair.tokenizer
    ids = tok(TEXT, return_tensors="pt")["input_ids"]
    base = attribution.ig_baseline_ids(tok, ids)[0].tolist()
    assert base[0] == tok.cls_token_id and base[-1] == tok.sep_token_id
    assert set(base[1:-1]) == {tok.pad_token_id}


def test_attribute_all_and_determinism(tiny_pair):
    first = attribution.attribute_all(tiny_pair, TEXT, "untrained", n_steps=8)
    second = attribution.attribute_all(tiny_pair, TEXT, "untrained", n_steps=8)
    assert set(first) == set(attribution.METHODS) == {"ig", "rollout", "attention"}
    for method in first:
        assert first[method].tokens == second[method].tokens
        assert np.array_equal(first[method].scores, second[method].scores)
        assert len(first[method].scores) == len(first[method].tokens)


# --- faithfulness on a model built to depend on one token ------------------------

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

    def get_input_embeddings(self):
        return self.embeddings

    def forward(self, input_ids, attention_mask, output_attentions=False):
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
    """Just the attributes the metrics rely on."""

    labels = ("negative", "positive")

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.trained = OneWordModel(len(tokenizer), tokenizer.convert_tokens_to_ids("good"))
        self.untrained = self.trained

    def model(self, which):
        return getattr(self, which)


@pytest.fixture(scope="module")
def toy(tiny_pair):
    return ToyPair(tiny_pair.tokenizer)


def _sig(x):
    return 1.0 / (1.0 + math.exp(-x))


def test_ig_on_toy_model_is_exact_and_ranks_good_first(toy):
    a = attribution.attribute(toy, TEXT, method="ig")
    assert a.target == 1
    assert a.tokens[int(np.argmax(a.scores))] == "good"
    assert a.scores[a.tokens.index("good")] == pytest.approx(3.0, abs=1e-5)
    assert a.info["completeness_error"] < 1e-5


def test_good_first_ranking_beats_random(toy):
    scores = np.array([1.0 if t == "good" else 0.0 for t in
                       attribution.attribute(toy, TEXT, method="attention").tokens])
    drop = _sig(2) - _sig(-1)
    comp = faithfulness.comprehensiveness(toy, TEXT, "trained", scores)
    suff = faithfulness.sufficiency(toy, TEXT, "trained", scores)
    rand = faithfulness.random_baseline(toy, TEXT, "trained", (1, 2, 3), draws=10, seed=0)
    assert comp == pytest.approx(drop)  # 'good' is removed for every k
    assert suff == pytest.approx(0.0, abs=1e-12)  # 'good' is always kept
    assert comp > rand["comprehensiveness"] + 0.1
    assert suff < rand["sufficiency"] - 0.1
    # ranking 'good' last: nothing that matters is removed for k <= 3 of 6 words
    assert faithfulness.comprehensiveness(toy, TEXT, "trained", -scores) == pytest.approx(0.0)


def test_faithfulness_table_on_toy_model(toy):
    table = faithfulness.faithfulness(toy, TEXT, "trained")
    assert set(table) == {"ig", "rollout", "attention", "random"}
    drop = round(_sig(2) - _sig(-1), 4)
    for method in ("ig", "rollout", "attention"):  # every method finds 'good' here
        assert table[method] == {"comprehensiveness": drop, "sufficiency": 0.0}
        assert table[method]["comprehensiveness"] > table["random"]["comprehensiveness"]
        assert table[method]["sufficiency"] < table["random"]["sufficiency"]
    assert all(isinstance(v, float) for row in table.values() for v in row.values())
    assert faithfulness.faithfulness(toy, TEXT, "trained") == table  # deterministic


def test_ks_are_capped_and_specials_never_ranked(toy):
    assert faithfulness.capped_ks((1, 3, 10, 12), 6) == (1, 3, 6)
    special = np.array([True, False, False, True])
    assert faithfulness.rank_tokens([9.0, 1.0, 1.0, 5.0], special).tolist() == [1, 2]
    # k capped at 6 words: keeping all of them changes nothing, removing all removes 'good'
    scores = np.zeros(8)
    assert faithfulness.sufficiency(toy, TEXT, "trained", scores, ks=(6, 50)) == 0.0
    assert faithfulness.comprehensiveness(toy, TEXT, "trained", scores, ks=(50,)) == \
        pytest.approx(_sig(2) - _sig(-1))


def test_removal_uses_mask_then_pad(tiny_pair):
    tok = tiny_pair.tokenizer
    assert faithfulness.removal_id(tok) == tok.mask_token_id
    assert faithfulness.removal_id(SimpleNamespace(mask_token_id=None, pad_token_id=0)) == 0
    assert "[MASK]" in faithfulness.REMOVAL and "higher" in faithfulness.READING


def test_faithfulness_deterministic_on_tiny_distilbert(tiny_pair):
    attrs = attribution.attribute_all(tiny_pair, TEXT, "trained", n_steps=8)
    one = faithfulness.faithfulness(tiny_pair, TEXT, "trained", attributions=attrs)
    two = faithfulness.faithfulness(tiny_pair, TEXT, "trained", attributions=attrs)
    assert one == two
    assert faithfulness.random_baseline(tiny_pair, TEXT, "trained", seed=3) == \
        faithfulness.random_baseline(tiny_pair, TEXT, "trained", seed=3)


def test_each_distinct_variant_runs_once(toy, monkeypatch):
    batches = []
    probs = faithfulness._Sentence.probs
    monkeypatch.setattr(faithfulness._Sentence, "probs",
                        lambda self, batch: batches.append([tuple(ids.tolist()) for ids in batch])
                        or probs(self, batch))
    table = faithfulness.faithfulness(toy, TEXT, "trained", draws=10, seed=0)
    (rows,) = batches
    assert len(rows) == len(set(rows))
    # 1 + (3 methods + 10 random draws) x 3 ks x 2 variants, of which many coincide
    assert len(rows) < 1 + 13 * 3 * 2
    # sharing variants between rankings changes no number
    alone = faithfulness.random_baseline(toy, TEXT, "trained", draws=10, seed=0)
    assert table["random"] == {k: round(v, 4) for k, v in alone.items()}
