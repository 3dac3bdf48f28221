"""Where a pair's models come from, checked before anything loads them: a local
folder must hold a model (its configuration and safetensors weights; pickle
checkpoints are refused). Torch-free and cheap (it lists one folder, reads
nothing), so the build checks a pair before any kernel starts or byte is hashed.
"""

from __future__ import annotations

import json
from pathlib import Path

from . import config
from .pairs import ModelSource, PairSpec


class ModelUnavailableError(RuntimeError):
    """A model that is neither on this machine nor reachable on the hub."""


# Checkpoints that torch.load unpickles: loading one can run any code its author put in it.
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
SAFE_SUFFIX = ".safetensors"
TO_SAFETENSORS = ("convert it to safetensors (load the model once where you trust the file and "
                  "save_pretrained(folder, safe_serialization=True)), or give a folder that holds safetensors weights")


def _folder(source: ModelSource, what: str) -> Path:
    try:
        return source.local_dir()
    except ImportError as exc:  # a package source that is not installed
        raise ModelUnavailableError(f"{what}: package {source.package!r} cannot be imported ({exc}); "
                                    f"install it (pip install) or fix the pairs file") from None


def check_source(source: ModelSource, what: str = "model") -> Path | None:
    """Refuse, in one line naming the file and what to do, a local model that is not one:
    the folder must exist and hold its configuration (``config.json``; an adapter's
    ``adapter_config.json``) and its weights in safetensors (pickle checkpoints, which
    can run code as they load, are refused). Returns the folder (None: a hub model).
    Cheap: it lists one folder, reads nothing."""
    folder = _folder(source, what)
    if folder is None:
        return None
    fix = "fix its path in the pairs file (ATTENTION_GALLERY_PAIRS or attention_gallery/pairs.yaml)"
    kind, config_name = ("adapter", "adapter_config.json") if source.adapter else ("model", "config.json")
    if source.adapter:
        fix = f"train it (scripts/train_default.py makes the default pair's) or {fix}"
    if not folder.exists():
        raise ModelUnavailableError(f"{what}: the {kind} folder {folder} does not exist; {fix}")
    if not folder.is_dir():
        raise ModelUnavailableError(f"{what}: {folder} is not a folder (a {kind} is a folder with "
                                    f"{config_name} and *{SAFE_SUFFIX} weights); {fix}")
    try:
        names = sorted(p.name for p in folder.iterdir() if p.is_file())
    except OSError as exc:
        raise ModelUnavailableError(f"{what}: the {kind} folder {folder} cannot be read "
                                    f"({exc.strerror}); {fix}") from None
    if config_name not in names:
        raise ModelUnavailableError(f"{what}: {folder / config_name} does not exist, so {folder} is not "
                                    f"a saved {kind} (save_pretrained writes it); {fix}")
    if any(n.endswith(SAFE_SUFFIX) for n in names):
        return folder
    pickles = [n for n in names if n.endswith(PICKLE_SUFFIXES)]
    if pickles:
        raise ModelUnavailableError(f"{what}: {folder / pickles[0]} is a pickle checkpoint (loading it can "
                                    f"run code), refused: {TO_SAFETENSORS}")
    raise ModelUnavailableError(f"{what}: {folder} has no weights (*{SAFE_SUFFIX} files); save the {kind} "
                                f"there with save_pretrained, or {fix}")


def check_pair(spec: PairSpec) -> None:
    """:func:`check_source` for both models of ``spec`` and its checkpoints: before any
    kernel starts."""
    for which in ("untrained", "trained"):
        check_source(getattr(spec, which), f"the {which} model of pair {spec.slug!r}")
    check_checkpoints(spec)


# What makes two adapters checkpoints of one run: the same base, the same kind and shape.
SAME_RUN = ("base_model_name_or_path", "peft_type", "task_type", "r", "lora_alpha", "target_modules",
            "modules_to_save")


def _adapter_config(folder: Path, what: str) -> dict:
    path = folder / "adapter_config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelUnavailableError(f"{what}: {path} cannot be read as JSON ({exc}); save the adapter again "
                                    "with save_pretrained") from None
    if not isinstance(data, dict):
        raise ModelUnavailableError(f"{what}: {path} is not an adapter configuration (a JSON object)")
    return data


def check_checkpoints(spec: PairSpec) -> None:
    """Each checkpoint of ``spec`` is an adapter folder (:func:`check_source`) of the
    trained adapter's run: the same base model, kind and shape (rank, scale, target
    modules) as the trained adapter; refused in one line naming the file."""
    if not spec.checkpoints:
        return
    trained = _adapter_config(spec.trained.local_dir(), f"the trained model of pair {spec.slug!r}")
    fix = "fix the pair's checkpoints in the pairs file, or train the run again (scripts/train_default.py)"
    for step, adapter in spec.checkpoints:
        what = f"checkpoint step {step} of pair {spec.slug!r}"
        folder = check_source(ModelSource(adapter=adapter), what)
        got = _adapter_config(folder, what)
        for key in SAME_RUN:
            a, b = got.get(key), trained.get(key)
            if isinstance(a, list) and isinstance(b, list):
                a, b = sorted(map(str, a)), sorted(map(str, b))
            if a != b:
                kind = "another base" if key == "base_model_name_or_path" else "another shape"
                raise ModelUnavailableError(
                    f"{what}: {folder / 'adapter_config.json'} is an adapter of {kind} ({key} {a!r}, the "
                    f"trained adapter's is {b!r}); {fix}")


def checkpoint_dir(adapter: str) -> Path:
    """A checkpoint's folder (relative to the package, like an adapter source)."""
    return config.PACKAGE_DIR / adapter
