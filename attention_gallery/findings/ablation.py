"""Head ablation (Michel et al. 2019, Kovaleva et al. 2019 §4.6): each head of a
classifier masked alone, its slice of the attention output zeroed before the output
projection (a forward pre-hook on that projection: transformers 5 has no
``head_mask``), and the prediction read again.

Batched over sentences of similar length. The hidden states entering every layer are
computed once per batch; masking a head of layer ``l`` reruns only layers ``l`` and
above from them (the layers below do not see the mask), with the encoder's additive
attention mask, as the model's own forward builds it (equal to it bit for bit, checked
in the tests).
"""

from __future__ import annotations

import numpy as np
import torch

from .. import family

BATCH = 64


def _additive_mask(attention_mask: torch.Tensor, dtype) -> torch.Tensor:
    return (1.0 - attention_mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


def _upper(model, hidden: torch.Tensor, mask: torch.Tensor, start: int) -> torch.Tensor:
    """Layers ``start`` and above on ``hidden`` (the states entering layer ``start``)."""
    for layer in family.encoder_layers(model)[start:]:
        out = layer(hidden, attention_mask=mask)
        hidden = out[0] if isinstance(out, tuple) else out
    return hidden


def _log_odds(logits: torch.Tensor, gold: torch.Tensor) -> torch.Tensor:
    """log p(gold) - log(1 - p(gold)), per sentence."""
    logp = torch.log_softmax(logits.double(), -1)
    mine = logp.gather(1, gold[:, None])[:, 0]
    rest = torch.logsumexp(logp.scatter(1, gold[:, None], float("-inf")), dim=1)
    return mine - rest


@torch.inference_mode()
def ablate(model, tokenizer, rows: list[tuple[int, str]], max_length: int = 512) -> dict:
    """For each sentence of ``rows`` ((gold label, text)): the model's log-odds of the
    gold label and whether it is right, unmasked (``base_logodds``, ``base_correct``)
    and with each head masked alone (``logodds``, ``correct``: layers x heads), in the
    rows' order."""
    layers = len(family.encoder_layers(model))
    heads = family.n_heads(model)
    n = len(rows)
    base_lo, base_ok = np.zeros(n), np.zeros(n, dtype=np.int8)
    lo, ok = np.zeros((n, layers, heads)), np.zeros((n, layers, heads), dtype=np.int8)
    order = sorted(range(n), key=lambda i: (len(rows[i][1]), i))
    for s in range(0, n, BATCH):
        idx = order[s : s + BATCH]
        enc = tokenizer([rows[i][1] for i in idx], padding=True, truncation=True, max_length=max_length,
                        return_tensors="pt")
        gold = torch.tensor([rows[i][0] for i in idx])
        out = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], output_hidden_states=True)
        states = out.hidden_states  # the input of every layer, then the last layer's output
        mask = _additive_mask(enc["attention_mask"], states[0].dtype)
        base_lo[idx] = _log_odds(out.logits, gold).numpy()
        base_ok[idx] = (out.logits.argmax(-1) == gold).numpy()
        for l in range(layers):
            proj = family.output_projection(model, l)
            width = proj.in_features // heads
            for h in range(heads):
                def zero(module, args, h=h):
                    x = args[0].clone()
                    x[..., h * width : (h + 1) * width] = 0
                    return (x, *args[1:])

                handle = proj.register_forward_pre_hook(zero)
                try:
                    logits = family.head_logits(model, _upper(model, states[l], mask, l))
                finally:
                    handle.remove()
                lo[idx, l, h] = _log_odds(logits, gold).numpy()
                ok[idx, l, h] = (logits.argmax(-1) == gold).numpy()
    return {"base_logodds": [round(float(v), 5) for v in base_lo], "base_correct": base_ok.tolist(),
            "logodds": np.round(lo, 5).tolist(), "correct": ok.tolist()}
