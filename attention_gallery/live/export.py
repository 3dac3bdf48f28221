"""Both models of a pair as one ONNX graph, for the live page (built, never committed).

The trained model of an adapter pair is the untrained one plus a LoRA delta on
its linear layers and its own head; everything else is shared. So one graph
serves both: it holds the base weights, the LoRA factors unmerged and both heads,
and takes an input ``trained`` (shape (1,), float): 1 adds the LoRA deltas and
uses the trained head (the fine-tuned model), 0 adds nothing and uses the
untrained head (the pretrained encoder with its seeded head). Multiplying by
exactly 0 or 1 keeps each model exact.

    input_ids  int64 (batch, tokens)       every sequence of a batch has the same
                                           length (no padding, as every run of the
                                           gallery: removal variants run by length)
    trained    float32 (1,)                1 or 0
    logits     float32 (batch, labels)
    attention_<l>  float32 (batch, heads, tokens, tokens), one per layer

Exported with PyTorch's TorchScript exporter (opset 17) from the eager-attention
model; the weights are then stored in float16 (each cast back to float32 by a
Cast node, which onnxruntime folds when the session starts): half the download,
and every computation stays in float32. (Dynamic int8 quantisation moves attention
weights by up to 0.57; float16 weights move them by about 0.002.)

:func:`ensure_graph` exports once per content (the weights' fingerprints, this
file, the pair, the library versions) into the build cache, checks the graph
against PyTorch with onnxruntime, and refuses a graph outside the tolerances.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from importlib.metadata import version
from pathlib import Path

import numpy as np

GRAPH_FORMAT = 1
OPSET = 17
# what the build accepts (the live page's targets): probabilities and attention
# weights of onnxruntime vs PyTorch on the check sentences
MAX_PROB_DIFF = 0.005
MAX_ATTENTION_DIFF = 0.004
CHECK_SENTENCES = (
    "The movie was not bad at all, highly recommend",
    "I can't say I loved it... but the cast (Penélope, Zoë) was great!",
    "A dull, plodding waste of two hours 😀 東京",
    "ok",
)
LIBRARIES = ("torch", "transformers", "peft", "onnx", "onnxruntime")


class LiveUnavailable(RuntimeError):
    """A pair the live page cannot serve (the message says why)."""


class GraphCheckError(RuntimeError):
    """An exported graph that does not agree with PyTorch."""


def unavailable_reason(spec) -> str | None:
    """Why ``spec`` cannot run live (None: it can)."""
    if not spec.trained.adapter:
        return (f"the live page needs a pair whose trained model is a LoRA adapter of the untrained "
                f"one (one graph serves both); the trained model of {spec.slug!r} is a model of its own")
    if spec.untrained.local_dir() is None:
        return f"the untrained model of {spec.slug!r} comes from the hub; the live page is built from local models"
    return None


def tokenizer_files(spec) -> dict[str, Path]:
    """The tokenizer files the browser reads (``tokenizer.json``, ``tokenizer_config.json``)."""
    folder = spec.untrained.local_dir()
    files = {name: folder / name for name in ("tokenizer.json", "tokenizer_config.json")}
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise LiveUnavailable(f"the tokenizer of {spec.slug!r} has no {', '.join(missing)} (a fast tokenizer's files)")
    return files


# --------------------------------------------------------------------------- the switched model


def _switched(spec):
    """(module, layers, heads, labels): the pair's PEFT model with its LoRA layers and
    its head switched by one shared gate, and a forward(input_ids, trained)."""
    import torch
    from peft import PeftModel
    from peft.tuners.lora.layer import Linear as LoraLinear
    from peft.utils.other import ModulesToSaveWrapper

    from ..models import load_classifier, quiet

    class Gate:
        value = None

    gate = Gate()

    class SwitchedLoRA(torch.nn.Module):
        def __init__(self, layer):
            super().__init__()
            self.base = layer.base_layer
            self.lora_A = layer.lora_A["default"]
            self.lora_B = layer.lora_B["default"]
            self.scaling = float(layer.scaling["default"])

        def forward(self, x):
            return self.base(x) + self.lora_B(self.lora_A(x)) * (gate.value * self.scaling)

    class SwitchedHead(torch.nn.Module):
        def __init__(self, wrapper):
            super().__init__()
            self.untrained = wrapper.original_module
            self.trained = wrapper.modules_to_save["default"]

        def forward(self, x):
            return self.trained(x) * gate.value + self.untrained(x) * (1.0 - gate.value)

    base = load_classifier(spec.untrained, spec.labels, spec.head_seed)
    with quiet():
        peft = PeftModel.from_pretrained(base, str(spec.trained.local_dir())).eval()
    model = peft.base_model.model
    swaps = []
    for name, module in model.named_modules():
        if isinstance(module, LoraLinear):
            swaps.append((name, SwitchedLoRA(module)))
        elif isinstance(module, ModulesToSaveWrapper):
            swaps.append((name, SwitchedHead(module)))
    if not any(isinstance(m, SwitchedLoRA) for _, m in swaps):
        raise LiveUnavailable(f"the adapter of {spec.slug!r} has no LoRA linear layer")
    for name, new in swaps:
        parent_name, _, child = name.rpartition(".")
        setattr(model.get_submodule(parent_name) if parent_name else model, child, new)

    class Live(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, trained):
            gate.value = trained
            out = self.model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                             output_attentions=True)
            return (out.logits, *out.attentions)

    live = Live().eval()
    cfg = model.config
    return live, int(cfg.num_hidden_layers), int(cfg.num_attention_heads), len(spec.labels)


# --------------------------------------------------------------------------- export


def _export_fp32(spec, path: Path) -> dict:
    import torch

    live, layers, heads, labels = _switched(spec)
    ids = torch.tensor([[101, 1996, 3185, 2001, 2025, 2919, 102]], dtype=torch.long)
    outputs = ["logits"] + [f"attention_{l}" for l in range(layers)]
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "logits": {0: "batch"}}
    axes.update({f"attention_{l}": {0: "batch", 2: "tokens", 3: "tokens"} for l in range(layers)})
    from ..models import quiet

    with torch.no_grad(), quiet():  # the tracer's warnings are about paths a batch never takes
        torch.onnx.export(live, (ids, torch.ones(1)), str(path), input_names=["input_ids", "trained"],
                          output_names=outputs, dynamic_axes=axes, opset_version=OPSET, dynamo=False,
                          do_constant_folding=True)
    return {"layers": layers, "heads": heads, "labels": labels}


def half_weights(model, min_size: int = 16):
    """``model`` (an onnx ModelProto) with every float32 initializer of at least
    ``min_size`` values stored in float16 and cast back to float32 where it is used."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    casts = []
    for init in graph.initializer:
        if init.data_type != TensorProto.FLOAT or int(np.prod(init.dims)) < min_size:
            continue
        array = numpy_helper.to_array(init)
        name = init.name
        init.CopyFrom(numpy_helper.from_array(array.astype(np.float16), name + "_fp16"))
        casts.append(helper.make_node("Cast", [name + "_fp16"], [name], to=TensorProto.FLOAT,
                                      name=f"cast_{name}"))
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(casts + nodes)
    onnx.checker.check_model(model)
    return model


def export_graph(spec, path: Path) -> dict:
    """Export ``spec``'s switched model to ``path`` (float16 weights); returns its shape facts."""
    import onnx

    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        facts = _export_fp32(spec, fp32)
        model = half_weights(onnx.load(str(fp32)))
    model.producer_name = "attention-gallery"
    model.doc_string = f"pair {spec.slug}: input 'trained' 1 = fine-tuned model, 0 = untrained head"
    onnx.save(model, str(path))
    return facts


# --------------------------------------------------------------------------- check


def run_onnx(session, ids: np.ndarray, trained: bool):
    """(logits (N, labels), attention (layers, N, heads, T, T)) of a session of the graph."""
    out = session.run(None, {"input_ids": np.asarray(ids, dtype=np.int64),
                             "trained": np.array([1.0 if trained else 0.0], dtype=np.float32)})
    return out[0], np.stack(out[1:])


def check_graph(path: Path, pair, sentences=CHECK_SENTENCES) -> dict:
    """Largest differences between the graph (onnxruntime, CPU) and the pair's PyTorch
    models on ``sentences``: logits, probabilities, attention weights."""
    import onnxruntime as ort
    import torch

    from ..explain.encode import encode
    from ..explain.forward import run_model

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    worst = {"logits": 0.0, "probs": 0.0, "attention": 0.0}
    for text in sentences:
        sentence = encode(pair.tokenizer, text)
        for which in ("trained", "untrained"):
            ref = run_model(pair.model(which), sentence)
            logits, attention = run_onnx(session, sentence.input_ids.numpy(), which == "trained")
            probs = torch.softmax(torch.from_numpy(logits[0]).double(), -1).numpy()
            worst["logits"] = max(worst["logits"], float(np.abs(logits[0] - ref.logits).max()))
            worst["probs"] = max(worst["probs"], float(np.abs(probs - ref.probs).max()))
            worst["attention"] = max(worst["attention"], float(np.abs(attention[:, 0] - ref.attention).max()))
    return {k: round(v, 6) for k, v in worst.items()}


# --------------------------------------------------------------------------- cache


def graph_key(spec) -> str:
    """What decides the graph: this file, the pair, its weights, the library versions."""
    from ..gallery.cache import weights_fingerprint

    h = hashlib.sha256()
    h.update(f"format {GRAPH_FORMAT} opset {OPSET}\0".encode())
    h.update(Path(__file__).read_bytes())
    h.update(json.dumps(dataclasses.asdict(spec), sort_keys=True, default=str).encode())
    for which in ("untrained", "trained"):
        h.update(f"{which}:{weights_fingerprint(getattr(spec, which))}".encode())
    h.update(json.dumps({name: version(name) for name in LIBRARIES}, sort_keys=True).encode())
    return h.hexdigest()[:32]


def ensure_graph(spec, cache_dir: Path, quiet: bool = False) -> tuple[Path, dict]:
    """The pair's graph and its facts (shape, size, check figures), from the cache
    or exported, checked and cached now. Raises :class:`LiveUnavailable` for a pair
    that cannot run live, :class:`GraphCheckError` for a graph that disagrees."""
    reason = unavailable_reason(spec)
    if reason:
        raise LiveUnavailable(reason)
    folder = Path(cache_dir) / "live" / spec.slug
    key = graph_key(spec)
    graph, facts_path = folder / f"{key}.onnx", folder / f"{key}.json"
    if graph.is_file() and facts_path.is_file():
        try:
            facts = json.loads(facts_path.read_text(encoding="utf-8"))
            if facts.get("bytes") == graph.stat().st_size:
                return graph, facts
        except (OSError, ValueError):
            pass
    import sys
    import time

    from ..models import load_pair

    if not quiet:
        print(f"exporting the live page's graph of {spec.slug} (once; cached in {folder})",
              file=sys.stderr, flush=True)
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    fd, tmp = tempfile.mkstemp(suffix=".onnx.part", dir=folder)
    os.close(fd)
    try:
        facts = export_graph(spec, Path(tmp))
        seconds = time.perf_counter() - start
        pair = load_pair(spec)
        diffs = check_graph(Path(tmp), pair)
        if diffs["probs"] > MAX_PROB_DIFF or diffs["attention"] > MAX_ATTENTION_DIFF:
            raise GraphCheckError(
                f"the live graph of {spec.slug} disagrees with PyTorch: max |dp| {diffs['probs']} "
                f"(at most {MAX_PROB_DIFF}), max |d attention| {diffs['attention']} (at most "
                f"{MAX_ATTENTION_DIFF})")
        data = Path(tmp).read_bytes()
        specials = set(pair.tokenizer.all_special_ids) - {pair.tokenizer.unk_token_id}  # as encode.special_mask
        facts.update({"pair": spec.slug, "key": key, "special_ids": sorted(int(i) for i in specials),
                      "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "opset": OPSET,
                      "weights": "float16", "check": diffs, "check_sentences": len(CHECK_SENTENCES),
                      "export_seconds": round(seconds, 1)})
        os.replace(tmp, graph)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    facts_path.write_text(json.dumps(facts, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return graph, facts
