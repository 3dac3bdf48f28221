"""The registry of model pairs (``pairs.yaml``): what each pair is, not how it loads."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from . import config
from .names import slug_form_problems


class UnknownPairError(KeyError):
    """A pair slug that the registry does not declare."""

    def __str__(self) -> str:  # KeyError would print the repr
        return self.args[0]


class PairsFileError(ValueError):
    """A pairs file that cannot be read or is malformed; the message names the file."""


@dataclass(frozen=True)
class ModelSource:
    """Where one model comes from: a hub id, a local path, a package or an adapter."""

    hub: str | None = None
    revision: str | None = None
    path: str | None = None
    package: str | None = None
    adapter: str | None = None
    name: str | None = None

    @property
    def display_name(self) -> str:
        return self.name or self.hub or self.path or self.package or str(self.adapter)

    def local_dir(self) -> Path | None:
        """The directory to load from when the source is local, else None (hub)."""
        if self.path:
            return Path(self.path).expanduser()
        if self.package:
            module = importlib.import_module(self.package)
            return Path(module.get_model_path())
        if self.adapter:
            return config.PACKAGE_DIR / self.adapter
        return None


@dataclass(frozen=True)
class PairSpec:
    slug: str
    title: str
    untrained: ModelSource
    trained: ModelSource
    labels: tuple[str, ...] = config.LABELS
    head_seed: int = config.HEAD_SEED
    offline: bool = False
    description: str = ""
    # the trained adapter's run step by step: ((step, adapter folder relative to the
    # package), ...) in increasing order of step; the kernel runs each (a timeline)
    checkpoints: tuple[tuple[int, str], ...] = ()


def _source(data: dict, where: str) -> ModelSource:
    allowed = {"hub", "revision", "path", "package", "adapter", "name"}
    unknown = set(data) - allowed
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
    if sum(bool(data.get(k)) for k in ("hub", "path", "package", "adapter")) != 1:
        raise ValueError(f"{where}: give exactly one of hub, path, package, adapter")
    return ModelSource(**data)


PAIR_KEYS = {"title", "untrained", "trained", "labels", "head_seed", "offline", "description", "checkpoints"}


def _checkpoints(value, where: str, trained: ModelSource) -> tuple[tuple[int, str], ...]:
    """``checkpoints:``, a list of ``{step, adapter}`` in increasing order of step."""
    if value is None:
        return ()
    if not trained.adapter:
        raise ValueError(f"{where}: checkpoints are adapters of the trained model's run, so the trained model "
                         "must be an adapter too")
    if not isinstance(value, list) or not value:
        raise ValueError(f"{where}: checkpoints must be a list of {{step, adapter}} entries")
    out = []
    for i, entry in enumerate(value, start=1):
        if not isinstance(entry, dict) or set(entry) != {"step", "adapter"} \
                or not isinstance(entry["step"], int) or isinstance(entry["step"], bool) or entry["step"] < 0 \
                or not isinstance(entry["adapter"], str) or not entry["adapter"].strip():
            raise ValueError(f"{where}: checkpoint {i} must be {{step: a whole number >= 0, adapter: a folder}}, "
                             f"got {entry!r}")
        if out and entry["step"] <= out[-1][0]:
            raise ValueError(f"{where}: checkpoints must be in increasing order of step, but step {entry['step']} "
                             f"(checkpoint {i}) comes after step {out[-1][0]}")
        out.append((entry["step"], entry["adapter"]))
    return tuple(out)


def parse_pairs(raw: dict, origin: str = "pairs") -> dict[str, PairSpec]:

    pairs = {}
    for slug, data in raw.items():
        where = f"{origin}: pair {slug!r}"
        # the slug names folders (the cache's, the live page's files): '../x' would escape them
        problems = slug_form_problems(slug, "pair slug") if isinstance(slug, str) else [
            f"a pair slug must be a string, got {type(slug).__name__}"]
        if problems:
            raise ValueError(f"{where}: {'; '.join(problems)}")
        unknown = set(data) - PAIR_KEYS
        if unknown:  # a misspelt key (head_sead: 7) would silently be ignored
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(PAIR_KEYS)}")
        try:
            pairs[slug] = PairSpec(
                slug=slug,
                title=data["title"],
                untrained=_source(data["untrained"], f"{where}, untrained"),
                trained=_source(data["trained"], f"{where}, trained"),
                labels=tuple(data.get("labels", config.LABELS)),
                head_seed=int(data.get("head_seed", config.HEAD_SEED)),
                offline=bool(data.get("offline", False)),
                description=" ".join(str(data.get("description", "")).split()),
                checkpoints=_checkpoints(data.get("checkpoints"), where,
                                         _source(data["trained"], f"{where}, trained")),
            )
        except KeyError as exc:
            raise ValueError(f"{where}: missing key {exc.args[0]!r}") from None
        if pairs[slug].untrained.adapter:
            raise ValueError(f"{where}: the untrained model cannot be an adapter")
    return pairs


def _read(path) -> dict[str, PairSpec]:
    try:
        with open(path, encoding="utf-8") as fh:
            raw = yaml.safe_load(fh) or {}
        if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
            raise ValueError(f"{path}: expected a mapping of pair slugs to pair definitions")
        return parse_pairs(raw, origin=str(path))
    except OSError as exc:
        raise PairsFileError(f"cannot read the pairs file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise PairsFileError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', None) or exc}); "
                             "fix the file (see the format at the top of attention_gallery/pairs.yaml)") from None
    except (ValueError, TypeError) as exc:
        what = str(exc) if str(path) in str(exc) else f"{path}: {exc}"
        raise PairsFileError(f"{what}; fix the file (see the format at the top of "
                             "attention_gallery/pairs.yaml)") from None


@lru_cache(maxsize=None)
def all_pairs() -> dict[str, PairSpec]:
    """The repository's pairs, plus those of ``$ATTENTION_GALLERY_PAIRS`` if set."""
    pairs = _read(config.PAIRS_FILE)
    if config.EXTRA_PAIRS_FILE:
        pairs.update(_read(config.EXTRA_PAIRS_FILE))
    return pairs


def get_pair(slug: str) -> PairSpec:
    pairs = all_pairs()
    if slug not in pairs:
        raise UnknownPairError(
            f"unknown model pair {slug!r}; known pairs: {', '.join(sorted(pairs))} "
            f"(declared in {config.PAIRS_FILE.relative_to(config.REPO_ROOT)}"
            + (f" and {config.EXTRA_PAIRS_FILE}" if config.EXTRA_PAIRS_FILE else "") + ")"
        )
    return pairs[slug]
