"""Gather the runs' results (``.cache/training/*.json``) into the default pair's
``training.json``: the recipe and its run (top level, what the site's pair page
reads), the held-out slice, every recipe tried, the three seeds, the checkpoints,
the probes, the paired test against the earlier default and the measured checks."""

from __future__ import annotations

import json
from pathlib import Path

from .. import config
from . import data
from .runs import CHOSEN, RECIPES, SEEDS, mcnemar


def _load(path: Path):
    return json.loads(path.read_text()) if path.exists() else None


def _size(root: Path) -> int:
    return sum(f.stat().st_size for f in root.rglob("*.safetensors"))


def probes_section(probes: dict) -> dict:
    """``training.json``'s ``probes``: what the control is, and each probe's result
    (``runs.probes``) with its file."""
    return {
        "what": "frozen pretrained encoder (attention = the untrained model's), only a linear "
                "2-label head trained (full-batch L-BFGS, cross-entropy + l2 on the weight, from "
                "the pair's seeded head) on the whole training file",
        "rows": probes["rows"], "data_sha256": probes["data_sha256"],
        "pooler": {**probes["pooler"], "pooling": "the classifier's own: BERT pooler tanh(dense([CLS]))",
                   "file": f"attention_gallery/probes/minilm-sst2/{probes['pooler']['file']}"},
        "mean_pooled": {**probes["mean"], "pooling": "mean of the last layer's token states (padding excluded)",
                        "file": f"attention_gallery/probes/minilm-sst2/{probes['mean']['file']}"},
        "l2": probes["l2"], "feature_seconds": probes["feature_seconds"], "hardware": probes["hardware"],
        "command": "python scripts/train_default.py --probes"}


def add_probes(probes: dict, weights: Path) -> Path:
    """The probes' result into an existing ``training.json`` (its other entries kept):
    the probes can be trained again without the runs' work files."""
    path = Path(weights) / "training.json"
    meta = json.loads(path.read_text())
    meta["probes"] = probes_section(probes)
    path.write_text(json.dumps(meta, indent=1) + "\n")
    return path


def collect(work: Path, weights: Path) -> Path:
    work, weights = Path(work), Path(weights)
    seed0 = _load(work / "seed-0.json")
    if seed0 is None:
        raise FileNotFoundError(f"{work / 'seed-0.json'}: train seed 0 first (python scripts/train_default.py)")
    cfg = seed0["config"]
    out = {**{k: cfg[k] for k in ("steps", "batch_size", "lr", "warmup", "rank", "alpha", "dropout",
                                  "max_length", "seed", "target_modules", "weight_decay")},
           "recipe": seed0["recipe"], "rows": seed0["rows"], "data": "train.tsv",
           "data_sha256": seed0["data_sha256"], "seconds": seed0["seconds"],
           "checkpoint_seconds": seed0["checkpoint_seconds"], "hardware": seed0["hardware"],
           "dev_accuracy": seed0["dev_accuracy"],
           "adapter_kb": round((weights / "adapter_model.safetensors").stat().st_size / 1024),
           "adapter_dtype": "LoRA matrices float16, classification head float32",
           "command": "python scripts/train_default.py"}
    searches = [s for s in (_load(work / f"search-{n}.json") for n in sorted(RECIPES)) if s]
    if searches:
        out["heldout"] = searches[0]["heldout"]
        out["search"] = {
            "rule": "each recipe trained for a third of its steps (its schedule compressed to them) on "
                    "the training file minus the held-out slice; the recipe with the best held-out "
                    "accuracy is trained fully; SST-2 dev only reported",
            "chosen": CHOSEN,
            "recipes": [{k: s[k] for k in ("recipe", "config", "trained_steps", "heldout_accuracy",
                                           "dev_accuracy", "seconds", "hardware")} for s in searches]}
    out["checkpoints"] = [{"step": e["step"],
                           "adapter": "." if e["step"] == cfg["steps"] else f"checkpoints/step-{e['step']:05d}",
                           "dev_accuracy": e["dev_accuracy"]} for e in seed0["timeline"]]
    out["fixed_sentences"] = {"source": "sentences/gallery.yaml", "texts": seed0["fixed_sentences"],
                              "measure": "per-head Jensen-Shannon distance (explain.headchange) against "
                                         "step 0, mean over the sentences; layer_change = mean over heads"}
    out["runs"] = []
    for seed in SEEDS:
        r = _load(work / f"seed-{seed}.json")
        if r is None:
            continue
        out["runs"].append({"seed": seed, "dev_accuracy": r["dev_accuracy"], "seconds": r["seconds"],
                            "checkpoint_seconds": r["checkpoint_seconds"], "hardware": r["hardware"],
                            "adapter": "." if seed == 0 else f"seeds/seed-{seed}",
                            "timeline": [{k: e[k] for k in ("step", "dev_accuracy", "layer_change",
                                                            "head_change", "p_positive")}
                                         for e in r["timeline"]]})
    probes = _load(work / "probes.json")
    if probes:
        out["probes"] = probes_section(probes)
    old = _load(work / "old-predictions.json")
    if old:
        gold = [y for y, _ in data.read_tsv(config.SST2_DEV)]
        out["paired_test"] = {"against": old["adapter"], "against_dev_accuracy": old["dev_accuracy"],
                              "new_dev_accuracy": seed0["dev_accuracy"],
                              **mcnemar(gold, seed0["dev_predictions"], old["dev_predictions"])}
    for name in ("half_error", "reproducibility"):
        got = _load(work / f"{name}.json")
        if got:
            out[name] = got
    out["weights_bytes"] = _size(weights)
    path = weights / "training.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    return path
