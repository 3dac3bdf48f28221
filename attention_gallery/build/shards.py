"""Sharded execution: a sentence set split over machines (CI jobs), merged by copying.

``--shard K/N`` executes only shard K of N into the cache and stops before the site.
The shares are balanced by a sentence's expected cost, its token count (a notebook's
time grows with the length: ``docs/performance.md``): longest first, each to the
shard with the least cost so far (the lowest-numbered on a tie). That is
deterministic, and every sentence lies in exactly one shard.

Cache entries are plain content-addressed files written atomically under names of
their own (:func:`.notebook.write`), so shards writing into one folder at once lose
nothing, a killed shard leaves no partial entry, and merging caches is copying their
folders into one. A build with ``--cached-only`` (the merge job) executes nothing: it
names the sentences whose entries are missing instead of publishing an incomplete
site, and otherwise publishes the site a one-machine build would (byte for byte).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import BuildError

__all__ = ["Shard", "ShardSpecError", "parse_shard", "assign", "share", "MissingEntries"]

_SPEC = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")
MAX_SHARDS = 256  # GitHub Actions runs at most 256 jobs of a matrix


class ShardSpecError(ValueError):
    """A ``--shard`` value that is not ``K/N`` with ``1 <= K <= N``."""


@dataclass(frozen=True)
class Shard:
    index: int  # K, 1-based
    count: int  # N

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(spec: str) -> Shard:
    """``"2/4"`` -> ``Shard(2, 4)``; anything else raises :class:`ShardSpecError` (one line)."""
    m = _SPEC.fullmatch(str(spec))
    if not m:
        raise ShardSpecError(f"--shard {spec!r} is not K/N: give this job's shard and the number of "
                             "shards, e.g. --shard 1/4")
    k, n = int(m.group(1)), int(m.group(2))
    if not 1 <= n <= MAX_SHARDS:
        raise ShardSpecError(f"--shard {spec}: the number of shards must be 1 to {MAX_SHARDS}, e.g. --shard 1/4")
    if not 1 <= k <= n:
        raise ShardSpecError(f"--shard {spec}: shards are numbered 1 to {n}, so K must be one of those, "
                             f"e.g. --shard 1/{n}")
    return Shard(k, n)


def assign(costs: list[float], n: int) -> list[int]:
    """The shard (0-based) of each item, by its cost: longest first, each to the shard
    with the least total so far (ties: the earlier item, the lower shard). Every item
    lies in exactly one shard; no shard's total exceeds another's by more than the
    largest single cost."""
    if n < 1:
        raise ValueError("n must be at least 1")
    loads = [0.0] * n
    where = [0] * len(costs)
    for i in sorted(range(len(costs)), key=lambda i: (-costs[i], i)):
        target = min(range(n), key=lambda s: (loads[s], s))
        where[i] = target
        loads[target] += costs[i]
    return where


def share(sentences, shard: Shard, cost) -> list:
    """The sentences of ``shard``, in the set's order; ``cost(sentence)`` its expected cost."""
    where = assign([float(cost(s)) for s in sentences], shard.count)
    return [s for s, w in zip(sentences, where) if w == shard.index - 1]


class MissingEntries(BuildError):
    """A ``--cached-only`` build whose cache lacks some sentences' entries."""

    def __init__(self, slugs: list[str], cache_dir):
        self.slugs = list(slugs)
        shown = ", ".join(self.slugs[:10]) + (f" and {len(self.slugs) - 10} more" if len(self.slugs) > 10 else "")
        super().__init__(
            f"--cached-only: {len(self.slugs)} sentence(s) have no executed notebook in {cache_dir}: {shown}; "
            "a shard job did not finish (run its --shard K/N again and merge its cache), or build "
            "without --cached-only to execute them here. The site was not changed")
