"""Training of the default pair, in miniature: a short seeded run is deterministic and
reloads to the same logits; step 0 is exactly the untrained model; the linear probe
leaves attention as the untrained model's; the held-out slice does not leak; the
paired test. Fast: a few steps on a few sentences of the real (small) base model."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np
import pytest
import torch

from attention_gallery.pairs import get_pair
from attention_gallery.training import heldout
from attention_gallery.training.runs import fit_head, mcnemar
from attention_gallery.training.train import TrainConfig, log_steps, train

ROWS = [(1, "a charming and funny film"), (0, "dull , lifeless and far too long"),
        (1, "the best movie of the year"), (0, "not worth the price of a ticket"),
        (1, "warm , witty and wise"), (0, "a mess from start to finish"),
        (1, "beautifully acted"), (0, "boring")]
TINY = TrainConfig(steps=4, batch_size=4, lr=1e-2, rank=2, alpha=4, max_length=16, seed=0)
TEXT = "The movie was not bad at all, highly recommend"


@pytest.fixture(scope="module")
def pair():
    return get_pair("minilm-sst2")


@pytest.fixture(scope="module")
def untrained(pair):
    from attention_gallery.models import load_classifier

    return load_classifier(pair.untrained, pair.labels, pair.head_seed)


@pytest.fixture(scope="module")
def tokenizer(pair):
    from attention_gallery.models import load_tokenizer

    return load_tokenizer(pair.untrained)


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@torch.inference_mode()
def _run(model, tokenizer, text=TEXT):
    enc = tokenizer(text, return_tensors="pt")
    out = model(**enc, output_attentions=True)
    return out.logits, torch.stack([a[0] for a in out.attentions])


def test_short_run_is_deterministic_and_reloads_to_the_same_logits(pair, tokenizer, tmp_path):
    from peft import PeftModel

    from attention_gallery.models import _apply_adapter, load_classifier

    torch.set_num_threads(1)
    first = train(ROWS, tmp_path / "one", TINY, pair, progress=False)
    train(ROWS, tmp_path / "two", TINY, pair, progress=False)
    assert _sha(tmp_path / "one" / "adapter_model.safetensors") == _sha(tmp_path / "two" / "adapter_model.safetensors")
    train(ROWS, tmp_path / "seed1", replace(TINY, seed=1), pair, progress=False)
    assert _sha(tmp_path / "one" / "adapter_model.safetensors") != _sha(tmp_path / "seed1" / "adapter_model.safetensors")
    logits, att = _run(first, tokenizer)
    base = load_classifier(pair.untrained, pair.labels, pair.head_seed)
    reloaded = PeftModel.from_pretrained(base, str(tmp_path / "one")).eval()
    logits2, att2 = _run(reloaded, tokenizer)
    assert torch.equal(logits, logits2) and torch.equal(att, att2)
    # as the gallery loads it (merged into the base): the same up to float rounding
    merged = _apply_adapter(load_classifier(pair.untrained, pair.labels, pair.head_seed), tmp_path / "one")
    logits3, att3 = _run(merged, tokenizer)
    assert torch.allclose(logits, logits3, atol=1e-5) and torch.allclose(att, att3, atol=1e-6)


def test_step_zero_is_exactly_the_untrained_model(pair, untrained, tokenizer, tmp_path):
    from attention_gallery.models import _apply_adapter, load_classifier
    from attention_gallery.training.train import save_adapter

    seen = {}

    def at(step, model, tok):
        seen[step] = _run(model, tok)
        save_adapter(model, tmp_path / f"step-{step}", pair, half=True)

    train(ROWS, None, TINY, pair, progress=False, checkpoints=[0, TINY.steps], on_checkpoint=at)
    logits_u, att_u = _run(untrained, tokenizer)
    assert torch.equal(seen[0][0], logits_u) and torch.equal(seen[0][1], att_u)
    # the saved step-0 adapter (float16 LoRA), merged as the gallery merges it, too
    step0 = _apply_adapter(load_classifier(pair.untrained, pair.labels, pair.head_seed), tmp_path / "step-0")
    logits0, att0 = _run(step0, tokenizer)
    assert torch.equal(logits0, logits_u) and torch.equal(att0, att_u)
    # and training moved it
    assert not torch.equal(seen[TINY.steps][1], att_u)


def test_the_probe_leaves_attention_as_the_untrained_models(pair, untrained, tokenizer):
    import copy

    from attention_gallery.training.runs import features

    torch.manual_seed(0)
    pooled, _ = features(untrained, tokenizer, [t for _, t in ROWS])
    head = fit_head(pooled, np.array([y for y, _ in ROWS]), untrained.classifier)
    probe = copy.deepcopy(untrained)
    probe.classifier.load_state_dict(head.state_dict())
    logits_p, att_p = _run(probe, tokenizer)
    logits_u, att_u = _run(untrained, tokenizer)
    assert torch.equal(att_p, att_u)
    assert not torch.equal(logits_p, logits_u)
    # the probe fits its training phrases (the frozen features separate them)
    with torch.no_grad():
        assert (head(torch.from_numpy(pooled)).argmax(-1).numpy() == [y for y, _ in ROWS]).all()


def test_heldout_slice_drops_its_sub_phrases_from_training():
    rows = [(1, "a b c d"), (1, "a b"), (1, "b c"), (0, "c d e"), (0, "d e"), (1, "b"), (0, "x y z"),
            (0, "x y"), (1, "ab")]
    assert [rows[i][1] for i in heldout.full_sentence_rows(rows)] == ["a b c d", "c d e", "x y z", "ab"]
    train_rows, held, info = heldout.split(rows, fraction=2 / len(rows), seed=3)
    assert len(held) == 2 and all(t in ("a b c d", "c d e", "x y z", "ab") for _, t in held)
    for _, h in held:
        for _, t in train_rows:
            assert f" {t} " not in f" {h} ", (t, h)  # no training phrase inside a held-out one
    assert info["training_rows_left"] == len(train_rows)
    assert heldout.split(rows, fraction=2 / len(rows), seed=3) == (train_rows, held, info)


def test_mcnemar_exact_binomial():
    gold = [1] * 10
    new = [1] * 8 + [0] * 2   # 8 right
    old = [0] * 6 + [1] * 4   # 4 right: new-only right 6 (0..5), old-only right 2 (8, 9)
    r = mcnemar(gold, new, old)
    assert (r["new_right_old_wrong"], r["old_right_new_wrong"]) == (6, 2)
    assert r["p_value"] == round(2 * (1 + 8 + 28) / 256, 5)


def test_checkpoint_steps_are_log_spaced():
    assert log_steps(1800) == [0, 25, 50, 100, 200, 400, 800, 1600, 1800]
    assert log_steps(3600)[-2:] == [3200, 3600]
