"""Accuracy of both models of a pair on labelled sentences, and the untrained
model's class bias and seed spread."""

from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import tqdm

from .. import config
from ..explain import seeds as seeding
from ..explain.seeds import seeds_of
from ..models import LoadedPair


def _batches(tokenizer, texts, batch_size: int, max_length: int):
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        yield idx, tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                             max_length=max_length, return_tensors="pt")


@torch.inference_mode()
def predict(model, tokenizer, texts, batch_size: int = 64, max_length: int = 128):
    """Predicted label index of each text."""
    preds = [0] * len(texts)
    for idx, enc in _batches(tokenizer, texts, batch_size, max_length):
        for i, p in zip(idx, model(**enc).logits.argmax(-1).tolist()):
            preds[i] = p
    return preds


@torch.inference_mode()
def seeded_predictions(model, tokenizer, texts, seeds, batch_size: int = 64,
                       max_length: int = 128) -> np.ndarray:
    """Predicted label index (seeds, texts) of the untrained head drawn with each
    seed, the encoder run once per batch (see ``explain.seeds``)."""
    preds = np.zeros((len(seeds), len(texts)), dtype=np.int64)
    for idx, enc in _batches(tokenizer, texts, batch_size, max_length):
        hidden = seeding.encoder_output(model, enc["input_ids"], enc["attention_mask"])
        preds[:, idx] = seeding.seeded_logits(model, hidden, seeds).argmax(-1).numpy()
    return preds


def accuracy(pair: LoadedPair, rows, progress: bool = True) -> dict:
    texts = [t for _, t in rows]
    gold = [y for y, _ in rows]
    result = {"pair": pair.spec.slug, "n": len(rows)}
    for which in tqdm(("trained", "untrained"), desc="evaluating", disable=not progress):
        preds = predict(pair.model(which), pair.tokenizer, texts)
        result[f"{which}_accuracy"] = round(sum(p == y for p, y in zip(preds, gold)) / len(rows), 4)
        result[f"{which}_predicts_negative_fraction"] = round(sum(p == 0 for p in preds) / len(rows), 4)
    seeds = seeds_of(pair.spec.head_seed, config.HEAD_SEEDS)
    preds = seeded_predictions(pair.untrained, pair.tokenizer, texts, seeds)
    acc = (preds == np.asarray(gold)[None]).mean(axis=1)
    result.update({
        "untrained_head_seeds": seeds,
        "untrained_seed_accuracy": [round(float(a), 4) for a in acc],
        "untrained_seed_accuracy_mean": round(float(acc.mean()), 4),
        "untrained_seed_accuracy_sd": round(float(acc.std(ddof=1)), 4),
        "untrained_seed_predicts_negative_fraction": [round(float(f), 4) for f in (preds == 0).mean(axis=1)],
    })
    return result
