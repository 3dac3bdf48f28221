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
    norms_<l>      float32 (batch, heads, tokens), one per layer: ||f_h(x_j)||, the
                                           norm of token j's value vector through head
                                           h's slice of the output projection (Kobayashi
                                           et al. 2020; explain.forward.value_norms)

Exported with PyTorch's TorchScript exporter (opset 17) from the eager-attention
model, its large weights rounded to float16 (every computation stays in float32;
dynamic int8 quantisation moves attention weights by up to 0.57, float16 weights
by about 0.002), then optimised once here by onnxruntime (basic level: constant
folding and redundant nodes; standard ONNX operators only), so the page's session
starts with its optimiser off. It is served as two files:

* the weights (``.f16``): every large float32 initializer of that model, in float16,
  in the order they appear in its serialisation (half the download);
* the skeleton (``.onnx-skeleton``, about 0.1 MB): the serialised float32 model
  with those initializers' bytes cut out; ``regions`` ([offset, bytes] in the
  model) say where they go.

The page widens the weights to float32 (exactly: every float16 is a float32) and
writes them into the skeleton's gaps (:func:`assemble` does the same here), so
onnxruntime-web gets the float32 model byte for byte. Measured in headless
Chromium, this starts a session about three times faster than a float16 graph
with a Cast per weight (folded by the optimiser, in WebAssembly) or float32
external data.

:func:`ensure_graph` exports once per content (the weights' fingerprints, this
file, the pair, the library versions) into the build cache, checks the two files
against PyTorch with onnxruntime, and refuses a graph outside the tolerances.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from .. import family
from ..explain import views
from ..explain.encode import encode, special_ids
from ..explain.forward import run_model
from ..fingerprint import stamp, weights_fingerprint
from ..models import load_classifier, load_pair
from ..models import quiet as quiet_libraries  # `quiet` is ensure_graph's flag

GRAPH_FORMAT = 3  # 3: the value vectors' norms as outputs (norms_<layer>)
MIN_SIZE = 16  # initializers of fewer values stay in the skeleton, in float32
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
    # peft: only an adapter pair has a switched graph (and peft takes seconds to import)
    from peft import PeftModel
    from peft.tuners.lora.layer import Linear as LoraLinear
    from peft.utils.other import ModulesToSaveWrapper

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
    with quiet_libraries():
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

    heads = family.n_heads(model)

    def by_head(weight):
        """(heads, d, out) of a linear map's weight (out, heads * d)."""
        return weight.reshape(weight.shape[0], heads, -1).permute(1, 2, 0)

    def through_output(v, module):
        """f_h = v_h W_O^h for every head: v (B, heads, T, d) through the layer's output
        projection without its bias; a LoRA one as base + gated delta, never forming
        B @ A (a product of two weights would be folded into a weight that is not
        float16, which the split refuses)."""
        if isinstance(module, SwitchedLoRA):
            delta = (v @ by_head(module.lora_A.weight)) @ module.lora_B.weight.t()
            return v @ by_head(module.base.weight) + delta * (gate.value * module.scaling)
        return v @ by_head(module.weight)

    class Live(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, trained):
            gate.value = trained
            out = self.model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                             output_attentions=True, output_hidden_states=True)
            norms = []  # ||f_h(x_j)|| (batch, heads, tokens) per layer, as explain.forward.value_norms
            for layer in range(len(out.attentions)):
                v = family.value_projection(model, layer)(out.hidden_states[layer])  # (B, T, heads * d)
                v = v.reshape(v.shape[0], v.shape[1], heads, -1).permute(0, 2, 1, 3)  # (B, heads, T, d)
                f = through_output(v, family.output_projection(model, layer))  # (B, heads, T, hidden)
                norms.append(torch.linalg.vector_norm(f, dim=-1))
            return (out.logits, *out.attentions, *norms)

    live = Live().eval()
    cfg = model.config
    return live, int(cfg.num_hidden_layers), int(cfg.num_attention_heads), len(spec.labels)


# --------------------------------------------------------------------------- export


def _export_fp32(spec, path: Path) -> dict:
    live, layers, heads, labels = _switched(spec)
    ids = torch.tensor([[101, 1996, 3185, 2001, 2025, 2919, 102]], dtype=torch.long)
    outputs = ["logits"] + [f"attention_{l}" for l in range(layers)] + [f"norms_{l}" for l in range(layers)]
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "logits": {0: "batch"}}
    axes.update({f"attention_{l}": {0: "batch", 2: "tokens", 3: "tokens"} for l in range(layers)})
    axes.update({f"norms_{l}": {0: "batch", 2: "tokens"} for l in range(layers)})

    with torch.no_grad(), quiet_libraries():  # the tracer's warnings are about paths a batch never takes
        torch.onnx.export(live, (ids, torch.ones(1)), str(path), input_names=["input_ids", "trained"],
                          output_names=outputs, dynamic_axes=axes, opset_version=OPSET, dynamo=False,
                          do_constant_folding=True)
    return {"layers": layers, "heads": heads, "labels": labels}


def half_round(model, min_size: int = MIN_SIZE):
    """Round every float32 initializer of ``model`` with at least ``min_size`` values
    to the nearest float16 (kept as float32)."""
    # onnx: only to export (a second to import; a build whose graph is cached never does)
    from onnx import TensorProto, numpy_helper


    for init in model.graph.initializer:
        if init.data_type == TensorProto.FLOAT and int(np.prod(init.dims)) >= min_size:
            array = numpy_helper.to_array(init).astype(np.float16).astype(np.float32)
            init.CopyFrom(numpy_helper.from_array(array, init.name))
    return model


def optimise(model):
    """``model`` optimised by onnxruntime at the basic level (hardware-independent)."""
    # onnx: only to export (a second to import; a build whose graph is cached never does)
    import onnx


    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "in.onnx", Path(tmp) / "out.onnx"
        onnx.save(model, str(source))
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(target)
        ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
        return onnx.load(str(target))


def split(model, min_size: int = MIN_SIZE) -> tuple[bytes, bytes, list[list[int]]]:
    """(skeleton, float16 weights, regions) of ``model``, whose large initializers
    must hold float16 values. ``assemble(skeleton, weights, regions)`` gives back
    ``model.SerializeToString()``."""
    # onnx: only to export (a second to import; a build whose graph is cached never does)
    from onnx import TensorProto, numpy_helper


    data = model.SerializeToString()
    regions, halves, skeleton, at = [], [], [], 0
    for init in model.graph.initializer:  # serialised in this order
        if init.data_type != TensorProto.FLOAT or int(np.prod(init.dims)) < min_size:
            continue
        array = numpy_helper.to_array(init)
        half = array.astype("<f2")
        if not np.array_equal(half.astype(np.float32), array):
            raise GraphCheckError(f"initializer {init.name!r} does not hold float16 values")
        raw = array.astype("<f4").tobytes()
        found = data.find(raw, at)
        if found < 0 or not init.raw_data:
            raise GraphCheckError(f"initializer {init.name!r}: its bytes are not in the serialised model")
        skeleton.append(data[at:found])
        halves.append(half.tobytes())
        regions.append([found, len(raw)])
        at = found + len(raw)
    skeleton.append(data[at:])
    return b"".join(skeleton), b"".join(halves), regions


def assemble(skeleton: bytes, weights: bytes, regions) -> bytes:
    """The float32 model from its skeleton and float16 weights (what the page does)."""
    wide = np.frombuffer(weights, dtype="<f2").astype("<f4").tobytes()
    out, s, w, end = [], 0, 0, 0  # s: in the skeleton, w: in the widened weights, end: of the model so far
    for at, size in regions:
        out += [skeleton[s:s + at - end], wide[w:w + size]]
        s, w, end = s + at - end, w + size, at + size
    out.append(skeleton[s:])
    return b"".join(out)


def export_graph(spec, skeleton: Path, weights: Path) -> dict:
    """Export ``spec``'s switched model: its skeleton to ``skeleton``, its float16
    weights to ``weights``; returns its facts (shape, regions, the model's size and hash)."""
    # onnx: only to export (a second to import; a build whose graph is cached never does)
    import onnx


    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        facts = _export_fp32(spec, fp32)
        model = onnx.load(str(fp32))
    onnx.checker.check_model(model)
    model = optimise(half_round(model))
    model.producer_name = "attention-gallery"
    model.doc_string = f"pair {spec.slug}: input 'trained' 1 = fine-tuned model, 0 = untrained head"
    bones, half, regions = split(model)
    whole = model.SerializeToString()
    if assemble(bones, half, regions) != whole:
        raise GraphCheckError(f"the live graph of {spec.slug} does not reassemble from its two files")
    skeleton.write_bytes(bones)
    weights.write_bytes(half)
    facts.update({"regions": regions, "model_bytes": len(whole), "model_sha256": hashlib.sha256(whole).hexdigest(),
                  "nodes": len(model.graph.node)})
    return facts


def session(skeleton: Path, weights: Path, regions, threads: int = 1):
    """An onnxruntime session of the model assembled from its two files, as the page makes it."""

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # as the page
    model = assemble(Path(skeleton).read_bytes(), Path(weights).read_bytes(), regions)
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


# --------------------------------------------------------------------------- check


def run_onnx(session, ids: np.ndarray, trained: bool, norms: bool = False):
    """(logits (N, labels), attention (layers, N, heads, T, T)) of a session of the graph;
    with ``norms``, also the value vectors' norms ||f_h(x_j)|| (layers, N, heads, T)."""
    out = session.run(None, {"input_ids": np.asarray(ids, dtype=np.int64),
                             "trained": np.array([1.0 if trained else 0.0], dtype=np.float32)})
    layers = (len(out) - 1) // 2
    attention = np.stack(out[1:1 + layers])
    return (out[0], attention, np.stack(out[1 + layers:])) if norms else (out[0], attention)


def check_graph(skeleton: Path, weights: Path, regions, pair, sentences=CHECK_SENTENCES) -> dict:
    """Largest differences between the graph (onnxruntime, CPU) and the pair's PyTorch
    models on ``sentences``: logits, probabilities, attention weights and norm-based
    attention (rows scaled to sum to 1, as the views draw it)."""
    onnx_session = session(skeleton, weights, regions)
    worst = {"logits": 0.0, "probs": 0.0, "attention": 0.0, "norms": 0.0}
    for text in sentences:
        sentence = encode(pair.tokenizer, text)
        for which in ("trained", "untrained"):
            ref = run_model(pair.model(which), sentence)
            logits, attention, value = run_onnx(onnx_session, sentence.input_ids.numpy(), which == "trained", True)
            shown = views.row_normalised(attention[:, 0] * value[:, 0, :, None, :])
            worst["norms"] = max(worst["norms"], float(np.abs(shown - views.row_normalised(ref.norm_attention)).max()))
            probs = torch.softmax(torch.from_numpy(logits[0]).double(), -1).numpy()
            worst["logits"] = max(worst["logits"], float(np.abs(logits[0] - ref.logits).max()))
            worst["probs"] = max(worst["probs"], float(np.abs(probs - ref.probs).max()))
            worst["attention"] = max(worst["attention"], float(np.abs(attention[:, 0] - ref.attention).max()))
    return {k: round(v, 6) for k, v in worst.items()}


# --------------------------------------------------------------------------- cache


_KEYS: dict[tuple, str] = {}  # (pair, files' sizes and times) -> graph_key: a build hashes the weights once


def graph_key(spec) -> str:
    """What decides the graph: this file, the pair, its weights, the library versions
    (remembered by the process while no weight file changes size or time: watch mode
    asks after every save)."""
    seen = (json.dumps(dataclasses.asdict(spec), sort_keys=True, default=str), stamp(spec.untrained),
            stamp(spec.trained))
    if seen not in _KEYS:
        _KEYS[seen] = _graph_key(spec)
    return _KEYS[seen]


def _graph_key(spec) -> str:
    h = hashlib.sha256()
    h.update(f"format {GRAPH_FORMAT} opset {OPSET}\0".encode())
    h.update(Path(__file__).read_bytes())
    h.update(json.dumps(dataclasses.asdict(spec), sort_keys=True, default=str).encode())
    for which in ("untrained", "trained"):
        h.update(f"{which}:{weights_fingerprint(getattr(spec, which))}".encode())
    h.update(json.dumps({name: version(name) for name in LIBRARIES}, sort_keys=True).encode())
    return h.hexdigest()[:32]


def _digest(path: Path) -> dict:
    data = Path(path).read_bytes()
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def ensure_graph(spec, cache_dir: Path, quiet: bool = False) -> tuple[dict[str, Path], dict]:
    """The pair's files (``{"model": skeleton, "weights": float16 weights}``) and their
    facts (shape, sizes, check figures), from the cache or exported, checked and
    cached now. Raises :class:`LiveUnavailable` for a pair that cannot run live,
    :class:`GraphCheckError` for a graph that disagrees."""
    reason = unavailable_reason(spec)
    if reason:
        raise LiveUnavailable(reason)
    folder = Path(cache_dir) / "live" / spec.slug
    key = graph_key(spec)
    files, facts_path = {"model": folder / f"{key}.onnx-skeleton", "weights": folder / f"{key}.f16"}, folder / f"{key}.json"
    if all(p.is_file() for p in files.values()) and facts_path.is_file():
        try:
            facts = json.loads(facts_path.read_text(encoding="utf-8"))
            if all(facts["files"][k]["bytes"] == p.stat().st_size for k, p in files.items()):
                return files, facts
        except (OSError, ValueError, KeyError, TypeError):
            pass


    if not quiet:
        print(f"exporting the live page's graph of {spec.slug} (once; cached in {folder})",
              file=sys.stderr, flush=True)
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    tmp = {}
    for k, p in files.items():
        fd, tmp[k] = tempfile.mkstemp(suffix=p.suffix + ".part", dir=folder)
        os.close(fd)
    tmp = {k: Path(t) for k, t in tmp.items()}
    try:
        facts = export_graph(spec, tmp["model"], tmp["weights"])
        seconds = time.perf_counter() - start
        pair = load_pair(spec)
        diffs = check_graph(tmp["model"], tmp["weights"], facts["regions"], pair)
        if diffs["probs"] > MAX_PROB_DIFF or max(diffs["attention"], diffs["norms"]) > MAX_ATTENTION_DIFF:
            raise GraphCheckError(
                f"the live graph of {spec.slug} disagrees with PyTorch: max |dp| {diffs['probs']} "
                f"(at most {MAX_PROB_DIFF}), max |d attention| {diffs['attention']}, max |d norm-based "
                f"attention| {diffs['norms']} (at most {MAX_ATTENTION_DIFF})")
        digests = {k: _digest(t) for k, t in tmp.items()}
        facts.update({"pair": spec.slug, "key": key, "special_ids": sorted(special_ids(pair.tokenizer)),
                      "files": digests, "bytes": sum(d["bytes"] for d in digests.values()), "opset": OPSET,
                      "weights": "float16", "check": diffs, "check_sentences": len(CHECK_SENTENCES),
                      "export_seconds": round(seconds, 1)})
        for k, t in tmp.items():
            os.replace(t, files[k])
    finally:
        for t in tmp.values():
            if t.exists():
                t.unlink()
    facts_path.write_text(json.dumps(facts, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return files, facts


def published(spec, cache_dir: Path, quiet: bool = False) -> dict:
    """What the manifest tells the live page (:mod:`.page`, which imports no torch)
    of ``spec``: its graph's files (exported now when the cache lacks them), the
    tokenizer's files and the graph's facts; or why the pair cannot run live."""
    try:
        graph, facts = ensure_graph(spec, cache_dir, quiet=quiet)
        tokenizer = tokenizer_files(spec)
    except LiveUnavailable as exc:
        return {"reason": str(exc)}
    return {"graph": {k: str(p) for k, p in graph.items()}, "tokenizer": {k: str(p) for k, p in tokenizer.items()},
            "facts": facts}
