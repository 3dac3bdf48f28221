"""Honest numbers (issue #12): the untrained head as chance with its seeds, the
ERASER deletion test, IG steps, one colour scale per method, layer change."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from conftest import record_data

from attention_gallery import config, record
from attention_gallery.explain import seeds, views
from attention_gallery.explain.encode import encode
from attention_gallery.explain.forward import run_sentence
from attention_gallery.gallery import pages as site
from attention_gallery.explain.methods import REGISTRY

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
    index = site.index_page(site.get_pair("minilm-sst2"), [r])
    assert config.UNTRAINED_NAME in index and "chance" in index
    assert "predicts negative on\n**1 of 1**" in index
    assert "✓" not in site._verdict(r, "untrained")
    evaluation = {"n": 872, "trained_accuracy": 0.89, "untrained_accuracy": 0.53,
                  "trained_predicts_negative_fraction": 0.49, "untrained_predicts_negative_fraction": 0.8,
                  "untrained_head_seeds": list(range(10)), "untrained_seed_accuracy": [0.5] * 9 + [0.6],
                  "untrained_seed_accuracy_mean": 0.51, "untrained_seed_accuracy_sd": 0.03,
                  "untrained_seed_predicts_negative_fraction": [0.2, 0.9]}
    pair = site.pair_page(site.get_pair("minilm-sst2"), evaluation, [r])
    assert "predicts negative on **80%**" in pair and "51.0% ± 3.0%" in pair
    assert "on the 1 gallery sentences it predicts negative" in pair.lower()
