"""The training runs behind the default pair, each one process, each writing one JSON
result: the recipe search (a third of each recipe's schedule, scored on the held-out
slice of the training file), full runs with checkpoints and per-checkpoint head
change, the linear probes, and the paired test against an earlier model. The pieces
are gathered into ``training.json`` by ``scripts/train_default.py --collect``."""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch
import yaml
from safetensors.torch import save_file

from .. import config, family
from ..explain.headchange import head_change
from ..models import _apply_adapter, load_classifier, load_tokenizer
from ..pairs import get_pair
from . import data, heldout
from .evaluate import predict
from .train import TrainConfig, log_steps, save_adapter, train

# At most four recipes, each tried at a third of its schedule on the training file
# minus the held-out slice. "a" is the recipe of the first default adapter (89.11% on
# SST-2 dev, 1,800 steps); b-d train three times as long (5,400 steps of 32 phrases,
# about 2.6 passes over the file). Rank 8 throughout: the committed adapters (final,
# checkpoints, two more seeds) must stay under 20 MB together.
RECIPES = {
    "a": TrainConfig(steps=1800, batch_size=32, lr=1e-3, rank=8, alpha=16),
    "b": TrainConfig(steps=5400, batch_size=32, lr=1e-3, rank=8, alpha=16),
    "c": TrainConfig(steps=5400, batch_size=32, lr=2e-3, rank=8, alpha=16),
    "d": TrainConfig(steps=5400, batch_size=32, lr=1e-3, rank=8, alpha=32),
}
CHOSEN = "b"  # the search: b and d tie on the held-out slice (87.29%); a tie goes to the recipe that changes fewer settings of the earlier default (b: only the steps)
SEEDS = (0, 1, 2)
PROBE_L2 = 1e-4


def recipe(name: str, seed: int = 0) -> TrainConfig:
    return replace(RECIPES[name], seed=seed)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def hardware() -> str:
    return f"{os.cpu_count()} CPU cores, {torch.get_num_threads()} torch thread(s)"


def fixed_sentences() -> list[str]:
    """The fixed set head change is measured on during training: the gallery's
    sentences (sentences/gallery.yaml), in order."""
    doc = yaml.safe_load(config.SENTENCES_FILE.read_text(encoding="utf-8"))
    return [str(e["text"]) for e in doc["sentences"]]


def accuracy_of(model, tokenizer, rows) -> tuple[float, list[int]]:
    preds = predict(model, tokenizer, [t for _, t in rows])
    return round(sum(p == y for p, (y, _) in zip(preds, rows)) / len(rows), 4), preds


class Tracker:
    """At each checkpoint: per-head change on the fixed set (Jensen-Shannon, mean over
    its sentences, against step 0 = the untrained model), per-layer mean, p(positive)
    per sentence, dev accuracy; optionally the adapter itself."""

    def __init__(self, texts, dev_rows, save_dir: Path | None, pair, steps_to_save=()):
        self.texts, self.dev, self.save_dir, self.pair = texts, dev_rows, save_dir, pair
        self.steps_to_save = set(steps_to_save)
        self.reference = None
        self.timeline = []

    def _attention(self, model, tokenizer):
        out = []
        probs = []
        for text in self.texts:
            enc = tokenizer(text, return_tensors="pt", truncation=True, max_length=config.MAX_TOKENS)
            res = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], output_attentions=True)
            out.append(torch.stack([a[0] for a in res.attentions]).double().numpy())
            probs.append(float(torch.softmax(res.logits[0].double(), -1)[1]))
        return out, probs

    def __call__(self, step, model, tokenizer):
        start = time.perf_counter()
        att, probs = self._attention(model, tokenizer)
        if self.reference is None:
            self.reference = att
        change = np.mean([head_change(u, t) for u, t in zip(self.reference, att)], axis=0)
        acc, _ = accuracy_of(model, tokenizer, self.dev) if self.dev else (None, None)
        entry = {"step": step, "dev_accuracy": acc,
                 "layer_change": [round(float(x), 5) for x in change.mean(axis=1)],
                 "head_change": [[round(float(x), 5) for x in row] for row in change],
                 "p_positive": [round(p, 5) for p in probs]}
        if self.save_dir is not None and step in self.steps_to_save:
            save_adapter(model, self.save_dir / f"step-{step:05d}", self.pair, half=True)
        entry["seconds"] = round(time.perf_counter() - start, 1)
        self.timeline.append(entry)
        print(f"checkpoint {step}: dev {acc} layer change {entry['layer_change']}", flush=True)


def search_run(name: str, out_json: Path) -> dict:
    """Recipe ``name`` at a third of its schedule on the training file minus the
    held-out slice; scored on the slice (and, only to report, on dev)."""
    pair = get_pair(config.DEFAULT_PAIR)
    rows = data.read_tsv(config.SST2_TRAIN)
    train_rows, held, definition = heldout.split(rows)
    full = recipe(name)
    cfg = replace(full, steps=full.steps // 3)
    start = time.perf_counter()
    model = train(train_rows, None, cfg, pair, progress=True)
    seconds = time.perf_counter() - start
    tokenizer = _tokenizer(pair)
    held_acc, _ = accuracy_of(model, tokenizer, held)
    dev_acc, _ = accuracy_of(model, tokenizer, data.read_tsv(config.SST2_DEV))
    result = {"recipe": name, "config": asdict(full), "trained_steps": cfg.steps,
              "heldout_accuracy": held_acc, "dev_accuracy": dev_acc, "seconds": round(seconds),
              "hardware": hardware(), "heldout": definition}
    _write(out_json, result)
    return result


def _tokenizer(pair):
    return load_tokenizer(pair.untrained)


def full_run(name: str, seed: int, out_dir: Path, out_json: Path, save_checkpoints: bool,
             stop_at: int | None = None, fp32_copy: Path | None = None) -> dict:
    """Recipe ``name`` on the whole training file with seed ``seed``: the final
    adapter in ``out_dir`` (float16 LoRA), per-checkpoint measurements in
    ``out_json``; with ``save_checkpoints`` the checkpoint adapters in
    ``out_dir/checkpoints/step-NNNNN``."""
    pair = get_pair(config.DEFAULT_PAIR)
    rows = data.read_tsv(config.SST2_TRAIN)
    dev = data.read_tsv(config.SST2_DEV)
    cfg = recipe(name, seed)
    steps = log_steps(cfg.steps)
    if stop_at is not None:
        steps = [s for s in steps if s <= stop_at]
    texts = fixed_sentences()
    ckpt_dir = Path(out_dir) / "checkpoints" if save_checkpoints else None
    tracker = Tracker(texts, dev, ckpt_dir, pair, steps_to_save=[s for s in steps if s != cfg.steps])
    start = time.perf_counter()
    model = train(rows, None, cfg, pair, progress=True, checkpoints=steps, on_checkpoint=tracker,
                  stop_at=stop_at)
    seconds = time.perf_counter() - start
    if stop_at is None:
        save_adapter(model, Path(out_dir), pair, half=True)
        if fp32_copy is not None:
            save_adapter(model, Path(fp32_copy), pair, half=False)
    tokenizer = _tokenizer(pair)
    dev_acc, preds = accuracy_of(model, tokenizer, dev)
    eval_seconds = sum(e["seconds"] for e in tracker.timeline)
    result = {"recipe": name, "seed": seed, "config": asdict(cfg), "rows": len(rows),
              "data_sha256": sha256(config.SST2_TRAIN), "dev_accuracy": dev_acc, "dev_predictions": preds,
              "seconds": round(seconds), "checkpoint_seconds": round(eval_seconds),
              "hardware": hardware(), "checkpoint_steps": steps, "stop_at": stop_at,
              "fixed_sentences": texts, "timeline": tracker.timeline}
    _write(out_json, result)
    return result


# --- linear probes --------------------------------------------------------------------

@torch.inference_mode()
def features(model, tokenizer, texts, batch_size: int = 64, max_length: int = 64):
    """(pooled, mean) features of the frozen encoder: the classifier's own pooling
    (BERT's pooler: tanh(dense([CLS]))), and the mean of the token states (padding
    excluded), each (N, hidden)."""
    bert = model.base_model
    pooled = np.zeros((len(texts), model.config.hidden_size), np.float32)
    mean = np.zeros_like(pooled)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for s in range(0, len(order), batch_size):
        idx = order[s : s + batch_size]
        enc = tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=max_length,
                        return_tensors="pt")
        out = bert(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
        m = enc["attention_mask"].unsqueeze(-1).float()
        pooled[idx] = out.pooler_output.numpy()
        mean[idx] = ((out.last_hidden_state * m).sum(1) / m.sum(1)).numpy()
    return pooled, mean


def fit_head(x: np.ndarray, y: np.ndarray, init: torch.nn.Linear, l2: float = PROBE_L2) -> torch.nn.Linear:
    """A linear 2-label head on fixed features by full-batch L-BFGS (cross-entropy +
    l2 on the weight), starting from ``init``: deterministic."""
    head = torch.nn.Linear(x.shape[1], 2)
    head.load_state_dict(init.state_dict())
    xt, yt = torch.from_numpy(x).double(), torch.from_numpy(y)
    head = head.double()
    opt = torch.optim.LBFGS(head.parameters(), lr=1, max_iter=500, tolerance_grad=1e-9,
                            tolerance_change=1e-12, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(head(xt), yt) + l2 * head.weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return head.float()


def probes(out_dir: Path, out_json: Path) -> dict:
    """Both probes on the whole training file: heads saved as safetensors in
    ``out_dir`` (``probe-pooler.safetensors``: the classifier's own pooling, loadable
    as the model's ``classifier``; ``probe-mean.safetensors``: on mean-pooled tokens)."""
    pair = get_pair(config.DEFAULT_PAIR)
    torch.manual_seed(0)
    model = load_classifier(pair.untrained, pair.labels, pair.head_seed)
    tokenizer = _tokenizer(pair)
    rows = data.read_tsv(config.SST2_TRAIN)
    dev = data.read_tsv(config.SST2_DEV)
    start = time.perf_counter()
    tr_pooled, tr_mean = features(model, tokenizer, [t for _, t in rows])
    dv_pooled, dv_mean = features(model, tokenizer, [t for _, t in dev], max_length=128)
    feat_seconds = time.perf_counter() - start
    y, ydev = np.array([r[0] for r in rows]), np.array([r[0] for r in dev])
    result = {"rows": len(rows), "data_sha256": sha256(config.SST2_TRAIN), "l2": PROBE_L2,
              "feature_seconds": round(feat_seconds), "hardware": hardware()}
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    for name, xtr, xdv in (("pooler", tr_pooled, dv_pooled), ("mean", tr_mean, dv_mean)):
        t0 = time.perf_counter()
        head = fit_head(xtr, y, family.classifier(model))
        with torch.no_grad():
            acc = float((head(torch.from_numpy(xdv)).argmax(-1).numpy() == ydev).mean())
            train_acc = float((head(torch.from_numpy(xtr)).argmax(-1).numpy() == y).mean())
        save_file({"weight": head.weight.detach().contiguous(), "bias": head.bias.detach().contiguous()},
                  str(Path(out_dir) / f"probe-{name}.safetensors"), metadata={"format": "pt"})
        result[name] = {"dev_accuracy": round(acc, 4), "train_accuracy": round(train_acc, 4),
                        "seconds": round(time.perf_counter() - t0, 1),
                        "file": f"probe-{name}.safetensors"}
        print(name, result[name], flush=True)
    _write(out_json, result)
    return result


# --- the paired test ------------------------------------------------------------------

def mcnemar(gold, new, old) -> dict:
    """Exact McNemar test: two-sided binomial test on the discordant pairs."""
    b = sum(n == g != o for g, n, o in zip(gold, new, old))  # new right, old wrong
    c = sum(o == g != n for g, n, o in zip(gold, new, old))  # old right, new wrong
    n = b + c
    k = min(b, c)
    p = min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n) if n else 1.0
    return {"new_right_old_wrong": b, "old_right_new_wrong": c, "discordant": n, "p_value": round(p, 5),
            "test": "exact McNemar: two-sided binomial test (p = 1/2) on the discordant pairs"}


def _write(path: Path, obj) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1) + "\n")


# --- measurements on saved adapters ---------------------------------------------------

def adapter_model(adapter_dir: Path):
    """The default pair's base (head from its head seed) with the adapter in
    ``adapter_dir`` merged, as the gallery loads it."""
    pair = get_pair(config.DEFAULT_PAIR)
    base = load_classifier(pair.untrained, pair.labels, pair.head_seed)
    return _apply_adapter(base, Path(adapter_dir))


def predictions(adapter_dir: Path, out_json: Path, label: str) -> dict:
    """Dev predictions of an adapter (e.g. an earlier default, for the paired test)."""
    pair = get_pair(config.DEFAULT_PAIR)
    dev = data.read_tsv(config.SST2_DEV)
    acc, preds = accuracy_of(adapter_model(adapter_dir), _tokenizer(pair), dev)
    result = {"adapter": label, "dev_accuracy": acc, "dev_predictions": preds}
    _write(out_json, result)
    return result


@torch.inference_mode()
def half_error(fp32_dir: Path, fp16_dir: Path, out_json: Path) -> dict:
    """Largest |attention| and |logit| difference between an adapter saved in float32
    and the same adapter with float16 LoRA matrices, over the fixed sentences and SST-2
    dev (one sentence at a time, no padding)."""
    pair = get_pair(config.DEFAULT_PAIR)
    tok = _tokenizer(pair)
    a, b = adapter_model(fp32_dir), adapter_model(fp16_dir)
    texts = fixed_sentences() + [t for _, t in data.read_tsv(config.SST2_DEV)]
    att_err = logit_err = 0.0
    flips = 0
    for text in texts:
        enc = tok(text, return_tensors="pt", truncation=True, max_length=config.MAX_TOKENS)
        ra = a(**enc, output_attentions=True)
        rb = b(**enc, output_attentions=True)
        att_err = max(att_err, max(float((x - y).abs().max()) for x, y in zip(ra.attentions, rb.attentions)))
        logit_err = max(logit_err, float((ra.logits - rb.logits).abs().max()))
        flips += int(ra.logits.argmax() != rb.logits.argmax())
    result = {"sentences": len(texts), "max_attention_abs_diff": att_err, "limit": 1 / 255,
              "within_limit": att_err <= 1 / 255, "max_logit_abs_diff": logit_err,
              "prediction_flips": flips}
    _write(out_json, result)
    return result


def same_files(a: Path, b: Path) -> dict:
    """sha256 of every adapter file under ``a`` against the same path under ``b``."""
    out = {}
    for f in sorted(Path(a).rglob("adapter_model.safetensors")):
        rel = f.relative_to(a)
        g = Path(b) / rel
        out[str(rel.parent)] = {"identical": g.exists() and sha256(f) == sha256(g), "sha256": sha256(f)}
    return out
