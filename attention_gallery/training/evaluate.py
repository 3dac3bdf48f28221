"""Accuracy of both models of a pair on labelled sentences."""

from __future__ import annotations

import torch
from tqdm.auto import tqdm

from ..models import LoadedPair


@torch.inference_mode()
def predict(model, tokenizer, texts, batch_size: int = 64, max_length: int = 128):
    """Predicted label index of each text."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    preds = [0] * len(texts)
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        enc = tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                        max_length=max_length, return_tensors="pt")
        for i, p in zip(idx, model(**enc).logits.argmax(-1).tolist()):
            preds[i] = p
    return preds


def accuracy(pair: LoadedPair, rows, progress: bool = True) -> dict:
    texts = [t for _, t in rows]
    gold = [y for y, _ in rows]
    result = {"pair": pair.spec.slug, "n": len(rows)}
    for which in tqdm(("trained", "untrained"), desc="evaluating", disable=not progress):
        preds = predict(pair.model(which), pair.tokenizer, texts)
        result[f"{which}_accuracy"] = round(sum(p == y for p, y in zip(preds, gold)) / len(rows), 4)
    return result
