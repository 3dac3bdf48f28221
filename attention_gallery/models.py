"""Load a model pair: the tokenizer and both classifiers, on CPU, in eval mode,
with attention weights available (``attn_implementation="eager"``).

A pair is loaded once per process; later calls return the same objects.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import socket
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import torch
from huggingface_hub import constants
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer
from transformers.utils import logging as hf_logging

from . import config
from .pairs import ModelSource, PairSpec, get_pair
from .sources import ModelUnavailableError, check_pair, check_source  # noqa: F401  (re-exported)


@dataclass
class LoadedPair:
    spec: PairSpec
    tokenizer: object
    trained: torch.nn.Module
    untrained: torch.nn.Module

    @property
    def labels(self) -> tuple[str, ...]:
        return self.spec.labels

    def model(self, which: str) -> torch.nn.Module:
        if which not in ("trained", "untrained"):
            raise ValueError(f"which must be 'trained' or 'untrained', not {which!r}")
        return getattr(self, which)


_LOADED: dict[object, LoadedPair] = {}


@contextlib.contextmanager
def quiet():
    """Silence transformers' load reports, warnings and progress bars."""
    previous = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    old_hub = os.environ.get("HF_HUB_DISABLE_PROGRESS_BARS")
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            logging.disable(logging.WARNING)
            yield
    finally:
        logging.disable(logging.NOTSET)
        hf_logging.set_verbosity(previous)
        if old_hub is None:
            os.environ.pop("HF_HUB_DISABLE_PROGRESS_BARS", None)
        else:
            os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = old_hub


def _hub_reachable(timeout: float = 3.0) -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes", "on"):
        return False
    url = urlparse(constants.ENDPOINT)
    try:
        with socket.create_connection((url.hostname, url.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def _unavailable(source: ModelSource, reason: str) -> ModelUnavailableError:
    return ModelUnavailableError(
        f"cannot load model {source.hub!r}: {reason}. It is not in the local Hugging Face "
        f"cache ({os.environ.get('HF_HOME', '~/.cache/huggingface')}) and the model hub is "
        f"unreachable (offline, or HF_HUB_OFFLINE=1). Build the offline default pair "
        f"instead (--pair {config.DEFAULT_PAIR}), or run once where the hub is reachable "
        f"to fill the cache."
    )


def _from_pretrained(cls, source: ModelSource, **kwargs):
    """``cls.from_pretrained`` for any source; hub ids try the local cache first. A
    local folder is checked first (:func:`check_source`), and what it holds but cannot
    load is one line naming it."""
    local = check_source(source)
    if local is not None:
        if getattr(cls, "__name__", "").startswith("AutoModel"):
            kwargs = {**kwargs, "use_safetensors": True}  # never a pickle lying beside them
        try:
            with quiet():
                return cls.from_pretrained(str(local), **kwargs)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelUnavailableError(f"cannot load {local} ({cls.__name__}): {first}; fix the folder "
                                        "or its path in the pairs file") from None
    with quiet():
        try:
            return cls.from_pretrained(
                source.hub, revision=source.revision, local_files_only=True, **kwargs
            )
        except OSError:
            pass
    if not _hub_reachable():
        raise _unavailable(source, "no network connection to the hub")
    try:
        with quiet():
            return cls.from_pretrained(source.hub, revision=source.revision, **kwargs)
    except OSError as exc:  # network trouble or a missing repository
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _unavailable(source, first_line) from None


def seeded_head(model: torch.nn.Module, missing_keys, seed: int) -> None:
    """Re-initialise the parameters the checkpoint lacked (the fresh head) from
    ``seed``, so the untrained model is the same on every machine."""
    generator = torch.Generator().manual_seed(seed)
    std = getattr(model.config, "initializer_range", 0.02)
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name in sorted(missing_keys):
            if name not in params:
                continue
            p = params[name]
            if p.dim() >= 2:
                p.copy_(torch.randn(p.shape, generator=generator) * std)
            elif name.endswith("weight") and "LayerNorm" in name:
                p.fill_(1.0)
            else:
                p.zero_()


def load_classifier(source: ModelSource, labels, head_seed: int) -> torch.nn.Module:
    """A sequence classifier from ``source``; missing head weights are seeded."""
    model, info = _from_pretrained(
        AutoModelForSequenceClassification,
        source,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        attn_implementation="eager",
        output_loading_info=True,
    )
    missing = tuple(sorted(info.get("missing_keys", ())))
    seeded_head(model, missing, head_seed)
    model.gallery_head_keys = missing  # what was drawn from the seed (see explain.seeds)
    return model.eval()


def architecture(source: ModelSource) -> dict:
    """What a model is, from its own configuration (no weights loaded): its type,
    layers, heads, hidden size and the std its fresh weights are drawn with."""
    cfg = _from_pretrained(AutoConfig, source)
    return {"model_type": cfg.model_type, "layers": cfg.num_hidden_layers, "heads": cfg.num_attention_heads,
            "hidden": cfg.hidden_size, "init_std": getattr(cfg, "initializer_range", 0.02)}


def load_tokenizer(source: ModelSource):
    return _from_pretrained(AutoTokenizer, source)


def _peft_model():
    # peft: only an adapter pair needs it (seconds to import)
    from peft import PeftModel

    return PeftModel


def _apply_adapter(base: torch.nn.Module, adapter_dir: Path) -> torch.nn.Module:
    if not (adapter_dir / "adapter_config.json").exists():
        raise ModelUnavailableError(
            f"adapter {adapter_dir} is missing; train it with scripts/train_default.py"
        )
    with quiet():
        merged = _peft_model().from_pretrained(base, str(adapter_dir)).merge_and_unload()
    return merged.eval()


@dataclass
class Checkpoints:
    """The trained adapter's run step by step: one base model with every checkpoint
    loaded as a named adapter, switched (``at(step)``) rather than loaded per step."""

    steps: tuple[int, ...]
    model: torch.nn.Module  # a PeftModel

    def at(self, step: int) -> torch.nn.Module:
        self.model.set_adapter(f"step-{step}")
        return self.model


_CHECKPOINTS: dict[object, Checkpoints] = {}


def load_checkpoints(spec: PairSpec) -> Checkpoints | None:
    """The pair's checkpoints (``spec.checkpoints``) on one loaded base, once per
    process; None for a pair that declares none."""
    if not spec.checkpoints:
        return None
    if spec not in _CHECKPOINTS:
        check_pair(spec)
        base = load_classifier(spec.untrained, spec.labels, spec.head_seed)
        (first_step, first), *rest = spec.checkpoints
        with quiet():
            model = _peft_model().from_pretrained(base, str(config.PACKAGE_DIR / first),
                                                  adapter_name=f"step-{first_step}")
            for step, adapter in rest:
                model.load_adapter(str(config.PACKAGE_DIR / adapter), adapter_name=f"step-{step}")
        model.requires_grad_(False)
        _CHECKPOINTS[spec] = Checkpoints(tuple(s for s, _ in spec.checkpoints), model.eval())
    return _CHECKPOINTS[spec]


def adapter_model(spec: PairSpec, adapter_dir: Path) -> torch.nn.Module:
    """Another adapter of ``spec``'s base (e.g. another fine-tuning run), merged into
    the untrained base as :func:`load_pair` merges the trained one."""
    check_source(ModelSource(adapter=str(adapter_dir)), f"an adapter of pair {spec.slug!r}")
    base = load_classifier(spec.untrained, spec.labels, spec.head_seed)
    return _apply_adapter(base, Path(adapter_dir)).requires_grad_(False)


def load_pair(pair: str | PairSpec = config.DEFAULT_PAIR) -> LoadedPair:
    """Tokenizer and both models of ``pair`` (a slug or a spec), loaded once."""
    spec = get_pair(pair) if isinstance(pair, str) else pair
    if spec in _LOADED:
        return _LOADED[spec]
    check_pair(spec)
    tokenizer = load_tokenizer(spec.untrained)
    untrained = load_classifier(spec.untrained, spec.labels, spec.head_seed)
    if spec.trained.adapter:
        base = load_classifier(spec.untrained, spec.labels, spec.head_seed)
        trained = _apply_adapter(base, spec.trained.local_dir())
    else:
        trained = load_classifier(spec.trained, spec.labels, spec.head_seed)
    for model in (trained, untrained):
        model.requires_grad_(False)
    _LOADED[spec] = LoadedPair(spec, tokenizer, trained, untrained)
    return _LOADED[spec]
