"""The findings stage: what fine-tuning changed, measured over a whole labelled set.

For every sentence of the set (default: all of SST-2 dev, ``config.FINDINGS_SET``)
both models run once, one sentence at a time as the gallery runs them (no padding);
from their attention (:mod:`.measures`) each layer's share of attention to [CLS],
[SEP] and punctuation under attention weights and under norm-based attention, and
each layer's attention entropy; each layer's change of attention in the fine-tuned
model, total and split into direct and inherited (:mod:`..explain.layerchange`); and
the predictions of the fine-tuned model and of
the linear probes on the frozen encoder (the control: what a model gets without
changing any attention). The cards (:mod:`.cards`) turn the per-sentence numbers into
means, bootstrap intervals and verdicts.

Cached by content (:func:`key`: the set's bytes, the limit, the pair and its weights,
this package and the kernel code it runs): a second build computes nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import time
import warnings
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from tqdm.auto import tqdm

from .. import config, family
from ..explain import methods, views
from ..explain.encode import SentenceTooLongError, encode
from ..explain.faithfulness import deletion_test, tau_loo
from ..explain.forward import run_model, run_sentence
from ..explain.headchange import head_change, sink_facts
from ..explain.layerchange import layer_change
from ..fingerprint import hash_tree, stamp, weights_fingerprint
from ..labelled import LabelledSetError, read_tsv
from ..models import adapter_model, load_pair
from ..pairs import ModelSource
from . import ablation, cards, measures

FORMAT = 4
PROBES = ("mean", "pooler")  # probe-<name>.safetensors in config.PROBES_DIR / <pair>


@dataclass(frozen=True)
class LabelledSet:
    """A set the stage measures: its name, where it came from and its rows."""

    name: str
    source: str  # a file, or the sentence set's
    rows: list[tuple[int, str]]  # (label index, text)


def dev_set(labels, path: Path | None = None, limit: int | None = None) -> LabelledSet | None:
    """SST-2 dev (or ``path``), its first ``limit`` rows; None where it is missing."""
    path = Path(path or config.FINDINGS_SET)
    if not path.is_file():
        return None
    rows = read_tsv(path, len(labels))
    name = "SST-2 dev" if path.resolve() == Path(config.SST2_DEV).resolve() else path.name
    return LabelledSet(name if limit is None or limit >= len(rows) else f"{name} (first {limit})",
                       str(path), rows[:limit] if limit else rows)


def check(spec, tokenizer, set_path: Path | None = None, limit: int | None = None) -> None:
    """Refuse, before anything runs, a labelled set the stage could not measure: a
    malformed row, an unknown label, a sentence over ``config.MAX_TOKENS`` tokens
    (:class:`LabelledSetError`, naming the row). A missing set is no error."""
    labelled = dev_set(spec.labels, set_path, limit if limit is not None else config.FINDINGS_LIMIT)
    if labelled is None:
        return
    lengths = [len(ids) for ids in tokenizer([t for _, t in labelled.rows])["input_ids"]]
    for row, n in enumerate(lengths, start=1):
        if n > config.MAX_TOKENS:
            raise LabelledSetError(f"{labelled.source}: row {row}: sentence has {n} tokens; the gallery accepts at "
                                   f"most {config.MAX_TOKENS}")


def gallery_set(sentences, labels) -> LabelledSet:
    """The gallery's own sentences with their gold labels."""
    return LabelledSet("the gallery's sentences", "sentences", [(labels.index(s.label), s.text) for s in sentences])


# --------------------------------------------------------------------------- measuring


def _probes(pair_slug: str) -> dict[str, torch.nn.Linear]:
    folder = config.PROBES_DIR / pair_slug
    heads = {}
    for name in PROBES:
        path = folder / f"probe-{name}.safetensors"
        if path.is_file():
            state = load_file(str(path))
            head = torch.nn.Linear(state["weight"].shape[1], state["weight"].shape[0])
            head.load_state_dict(state)
            heads[name] = head.eval().requires_grad_(False)
    return heads


@torch.inference_mode()
def _probe_features(model, sentence) -> dict[str, torch.Tensor]:
    """The frozen encoder's features of one sentence, as the probes were fitted on
    (training/runs.py features): the pooler's output and the mean token state."""
    out = family.encoder(model)(input_ids=sentence.input_ids, attention_mask=sentence.attention_mask)
    return {"pooler": out.pooler_output[0], "mean": out.last_hidden_state[0].mean(0)}


SPLIT_SAMPLE = 200  # sentences whose change is split into direct and inherited (all of a smaller set)


def split_rows(n: int, k: int = SPLIT_SAMPLE) -> set[int]:
    """The rows (0-based) of a set of ``n`` whose layer change is split: all of them up
    to ``k``, else ``k`` drawn without replacement by a generator seeded 0."""
    if n <= k:
        return set(range(n))
    return {int(i) for i in np.random.default_rng(0).choice(n, size=k, replace=False)}


METHOD_DRAWS = 1  # the random ranking's expectation from one seeded draw per sentence and k (unbiased)


def measure(pair, labelled: LabelledSet, progress: bool = True, explain_methods: bool = True) -> dict:
    """Per-sentence numbers of ``labelled`` (lists, one entry per sentence)."""
    tok = pair.tokenizer
    cls_id, sep_id = tok.cls_token_id, tok.sep_token_id
    probes = _probes(pair.spec.slug)
    models = ("trained", "untrained")
    out = {"gold": [], "predicted": {m: [] for m in models}, "tokens": [],
           "sinks": {m: {k: [] for k in measures.KINDS} for m in models},
           "sinks_norm": {m: {k: [] for k in measures.KINDS} for m in models},
           "positions": {k: [] for k in measures.KINDS},
           "entropy": {m: [] for m in models}, "probes": {name: [] for name in probes},
           "layer_change": {"total": []}, "head_change": [],
           # per head, the words' mean attention to [CLS], fine-tuned less untrained (a sentence's typicality)
           "to_cls_change": [],
           # direct and inherited change on a fixed, seeded sample (11 more forward passes a sentence)
           "layer_split": {"rows": [], "direct": [], "inherited": []},
           # every registered method and its deletion test on the same sample (explain_methods)
           "methods": {"rows": [], "predicted": [], "words": [], "figures": [], "tau": []},
           "method_titles": {name: m.title for name, m in methods.REGISTRY.items()}}
    # the other fine-tuning runs (their final adapters) on every sentence: what a card measures of the
    # fine-tuned model, so each card's value has a spread over runs
    runs = other_runs(pair)
    out["runs"] = {str(seed): {"predicted": [], "sinks": {k: [] for k in measures.KINDS},
                               "sinks_norm": {k: [] for k in measures.KINDS}, "entropy": [],
                               "layer_change": {"total": []},
                               # the methods and their deletion tests on the same sample as run 0's
                               "methods": {"predicted": [], "figures": [], "tau": []}} for seed in runs}
    split = split_rows(len(labelled.rows))
    bar = tqdm(labelled.rows, desc=f"findings on {labelled.name}", unit="sentence",
               disable=None if progress else True, file=sys.stderr)  # None: shown on a terminal only
    for row, (label, text) in enumerate(bar, start=1):
        try:
            sentence = encode(tok, text)
        except SentenceTooLongError as exc:
            raise LabelledSetError(f"{labelled.source}: row {row}: {exc}") from None
        run = run_sentence(pair, sentence)
        masks = measures.token_kinds(sentence.tokens, sentence.input_ids[0].numpy(), cls_id, sep_id)
        out["gold"].append(int(label))
        out["tokens"].append(len(sentence.tokens))
        for kind, mask in masks.items():
            out["positions"][kind].append(float(mask.mean()))
        for m in models:
            r = run.run(m)
            out["predicted"][m].append(int(r.predicted))
            for kind, v in measures.sink_shares(r.attention, masks).items():
                out["sinks"][m][kind].append(v.tolist())
            for kind, v in measures.sink_shares(views.row_normalised(r.norm_attention), masks).items():
                out["sinks_norm"][m][kind].append(v.tolist())
            out["entropy"][m].append(measures.row_entropy(r.attention).tolist())
        # per layer, the change of attention in the fine-tuned model, and the parts due to the
        # layer's own adapter and to the layers below (hybrid models: explain.layerchange)
        change = head_change(run.untrained.attention, run.trained.attention)
        out["layer_change"]["total"].append([round(float(v), 4) for v in change.mean(axis=1)])
        out["head_change"].append(np.round(change, 4).tolist())
        others = {str(seed): run_model(model, sentence) for seed, model in runs.items()}
        for seed, r in others.items():
            _measure_run(out["runs"][seed], r, run.untrained, masks)
        sink = sink_facts(run.trained.attention, run.untrained.attention, sentence.words)
        out["to_cls_change"].append(np.round(sink["to_cls"]["trained"] - sink["to_cls"]["untrained"], 4).tolist())
        if row - 1 in split and explain_methods:
            out["methods"]["rows"].append(row - 1)
            out["methods"]["words"].append(int(len(sentence.words)))
            for into, r in [(out["methods"], run.trained)] + [(out["runs"][seed]["methods"], r) for seed, r in others.items()]:
                _measure_methods(into, sentence, r, row)
        if row - 1 in split:
            parts = layer_change(pair, sentence, run.untrained.attention, run.trained.attention)
            out["layer_split"]["rows"].append(row - 1)
            for part in ("direct", "inherited"):
                out["layer_split"][part].append(parts[part])
        if probes:
            feats = _probe_features(pair.model("untrained"), sentence)
            with torch.inference_mode():
                for name, head in probes.items():
                    out["probes"][name].append(int(head(feats[name]).argmax()))
    # every head of the fine-tuned model masked alone, on every sentence (batched)
    out["ablation"] = ablation.ablate(pair.model("trained"), tok, labelled.rows)
    # and of the other fine-tuning runs (their final adapters), on the seeded sample
    sample = sorted(split)
    out["ablation_runs"] = {str(seed): {"rows": sample, **ablation.ablate(model, tok, [labelled.rows[i] for i in sample])}
                            for seed, model in other_runs(pair).items()}
    return out


def _measure_methods(into: dict, sentence, r, row: int) -> None:
    """Every registered method on one sentence and fine-tuned model ``r`` (a ModelRun),
    their deletion test (the random ranking from one draw seeded by the row) and the
    Kendall tau between each two, into ``into``."""
    attrs = methods.attribute_all(sentence, r)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():  # one draw has no standard error (unused)
        warnings.simplefilter("ignore", RuntimeWarning)
        table, _ = deletion_test(r, attrs, draws=METHOD_DRAWS, seed=row)
    names = list(attrs)
    into["predicted"].append(int(r.predicted))
    into["figures"].append(table)
    into["tau"].append({f"{a}|{b}": round(tau_loo(attrs[a].scores, attrs[b].scores, sentence.special), 4)
                        for i, a in enumerate(names) for b in names[i + 1:]})


def _measure_run(into: dict, r, untrained, masks) -> None:
    """One sentence's numbers of another run's fine-tuned model ``r`` (a ModelRun) into ``into``."""
    into["predicted"].append(int(r.predicted))
    for kind, v in measures.sink_shares(r.attention, masks).items():
        into["sinks"][kind].append(v.tolist())
    for kind, v in measures.sink_shares(views.row_normalised(r.norm_attention), masks).items():
        into["sinks_norm"][kind].append(v.tolist())
    into["entropy"].append(measures.row_entropy(r.attention).tolist())
    change = head_change(untrained.attention, r.attention)
    into["layer_change"]["total"].append([round(float(v), 4) for v in change.mean(axis=1)])


def run_adapters(spec) -> dict[int, Path]:
    """{seed: folder} of the fine-tuning runs beside the trained model's own (run 0):
    the final adapters its ``training.json`` lists (``runs``: ``adapter`` relative to
    the trained adapter's folder) that are there. {} for a pair without them."""
    if not spec.trained.adapter:
        return {}
    folder = spec.trained.local_dir()
    try:
        runs = json.loads((folder / "training.json").read_text(encoding="utf-8")).get("runs", [])
    except (OSError, ValueError):
        return {}
    return {int(r["seed"]): folder / r["adapter"] for r in runs
            if r.get("adapter", ".") != "." and (folder / r["adapter"] / "adapter_config.json").is_file()}


_RUNS: dict[object, dict] = {}


def other_runs(pair) -> dict:
    """{seed: model} of :func:`run_adapters`, each merged into the untrained base as
    the gallery loads the trained model; loaded once per process."""
    spec = pair.spec
    if spec not in _RUNS:
        _RUNS[spec] = {seed: adapter_model(spec, folder) for seed, folder in run_adapters(spec).items()}
    return _RUNS[spec]


# --------------------------------------------------------------------------- the stage


def key(spec, labelled: LabelledSet, code: str | None = None) -> str:
    """What decides the measured numbers: the rows, the pair and its weights, the probes,
    this stage and its measures, the kernel code they run, the libraries (not the
    cards: they are made from the numbers at every build)."""
    h = hashlib.sha256((code or _code_key(spec)).encode())
    h.update(json.dumps([labelled.name, labelled.rows], ensure_ascii=False).encode())
    return h.hexdigest()[:32]


# The package's files whose code decides the measured numbers, by name: this module, what
# it imports to measure (not the cards, made from the numbers at every build; not the
# fingerprints' code, whose output is hashed) and all that imports. No number depends on
# a data file the package reads (rules.json: wordings and the cards' rules; views.json:
# colours and titles). tests/test_findings.py checks the list against the import graph
# (grimp), so an edit elsewhere (a page's wording, a notebook-only method's helper)
# re-measures nothing, and one here re-measures everything.
MEASURED_BY = (
    "findings/__init__.py", "findings/stage.py", "findings/measures.py", "findings/ablation.py",
    "explain/__init__.py", "explain/call.py", "explain/encode.py", "explain/faithfulness.py",
    "explain/forward.py", "explain/headchange.py", "explain/layerchange.py", "explain/methods.py",
    "explain/removal.py", "explain/views.py",
    "__init__.py", "config.py", "family.py", "labelled.py", "models.py", "names.py", "pairs.py", "record.py",
    "formats.py", "rules.py", "sources.py",
)


def _code_key(spec) -> str:
    h = hashlib.sha256(f"findings {FORMAT}\0".encode())
    h.update(json.dumps([spec.slug, repr(spec)], default=str).encode())
    for which in ("untrained", "trained"):
        h.update(_fingerprint(getattr(spec, which)).encode())
    for seed, folder in run_adapters(spec).items():  # the other runs, which the ablation card masks too
        h.update(f"run {seed}:{_fingerprint(ModelSource(adapter=str(folder)))}".encode())
    for name in MEASURED_BY:
        h.update(f"{name}\0".encode() + (config.PACKAGE_DIR / name).read_bytes())
    if (config.PROBES_DIR / spec.slug).is_dir():
        hash_tree(h, config.PROBES_DIR / spec.slug, "probes")
    # the libraries that run the models (the notebooks' key hashes the same and more)
    h.update(json.dumps({name: version(name) for name in ("torch", "transformers", "peft")}, sort_keys=True).encode())
    return h.hexdigest()[:32]


_FINGERPRINTS: dict[tuple, str] = {}


def _fingerprint(source) -> str:
    seen = stamp(source)
    if seen not in _FINGERPRINTS:
        _FINGERPRINTS[seen] = weights_fingerprint(source)
    return _FINGERPRINTS[seen]


def merge(parts: list[dict], offsets: list[int] | None = None):
    """The per-sentence numbers of several measurements, one after the other: lists
    joined, a sample's ``rows`` (positions in its set) shifted by the sentences before
    them, what is not per sentence (a string, a number) taken from the first."""
    if offsets is None:
        sizes = [len(p["gold"]) for p in parts]
        offsets = [sum(sizes[:i]) for i in range(len(parts))]
    first = parts[0]
    if isinstance(first, dict):
        return {k: ([r + o for p, o in zip(parts, offsets) for r in p[k]] if k == "rows"
                    else merge([p.get(k, [] if isinstance(first[k], list) else {}) for p in parts], offsets))
                for k in first}
    if isinstance(first, list):
        return [v for p in parts for v in p]
    return first


def _measured(spec, labelled: LabelledSet, folder: Path, progress: bool, pair=None):
    """(numbers, pair, seconds measuring or None) of ``labelled``: from the cache, or
    measured and cached. The gallery's sentences are cached one by one (a save in
    watch mode measures the sentence it changed, not the set); a data set as one."""
    def cached(path: Path):
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def store(path: Path, numbers: dict) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(numbers), encoding="utf-8")
        tmp.replace(path)

    start = time.perf_counter()
    code = _code_key(spec)  # once: the gallery's sentences are keyed one by one
    if labelled.source != "sentences":
        path = folder / f"{key(spec, labelled, code)}.json"
        numbers = cached(path)
        if numbers is not None:
            return numbers, pair, numbers.get("seconds")
        pair = pair or load_pair(spec)
        numbers = measure(pair, labelled, progress=progress)
        numbers["seconds"] = round(time.perf_counter() - start, 1)
        store(path, numbers)
        return numbers, pair, None
    parts, ran = [], False
    for row in labelled.rows:
        one = dataclasses.replace(labelled, rows=[row])
        path = folder / f"one-{key(spec, one, code)}.json"
        numbers = cached(path)
        if numbers is None:
            pair = pair or load_pair(spec)
            numbers = measure(pair, one, progress=False, explain_methods=False)  # the records hold them
            store(path, numbers)
            ran = True
        parts.append(numbers)
    return merge(parts), pair, round(time.perf_counter() - start, 1) if ran else None


def findings(spec, sentences, cache_dir: Path, quiet: bool = False, progress: bool = True,
             set_path: Path | None = None, limit: int | None = None) -> dict:
    """The findings the site shows (the manifest's ``findings``): measured on SST-2 dev
    (``set_path``, its first ``limit`` rows) and on the gallery's sentences, or on the
    gallery's alone where the dev set is missing (said in one line); cached by content."""
    limit = limit if limit is not None else config.FINDINGS_LIMIT
    gallery = gallery_set(sentences, list(spec.labels))
    dev = dev_set(spec.labels, set_path, limit)
    if dev is None and not quiet:
        print(f"findings: no labelled set at {set_path or config.FINDINGS_SET} (SST-2 dev: see ../shared/README.md); "
              "measured on the gallery's sentences only", file=sys.stderr, flush=True)
    folder = Path(cache_dir) / "findings"
    # a gallery of the set itself (the dev-set gallery): its sentences' numbers are the set's, measured once
    same = dev is not None and dev.rows == gallery.rows
    measured, pair = {}, None
    for labelled in ([dev] if dev else []) + ([] if same else [gallery]):
        measured[labelled.name], pair, _ = _measured(spec, labelled, folder, progress and not quiet, pair)
    main = dev or gallery
    if same:
        measured[gallery.name] = measured[dev.name]
    result = cards.findings(main.name, measured[main.name], gallery.name if dev else None,
                            measured[gallery.name] if dev else None, list(spec.labels))
    if same:
        result["gallery"]["same"] = True
    return result
