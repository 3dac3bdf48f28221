"""Intervals over sentences: the percentile bootstrap every page uses, with its seed
and its number of resamples from ``rules.json`` (``claims.findings``), so the same
numbers give the same interval on every build. Pure numpy."""

from __future__ import annotations

import functools

import numpy as np

from . import rules

RULES = rules.section("claims")["findings"]
LEVEL = RULES["interval"]


@functools.lru_cache(maxsize=8)
def resample_counts(n: int, resamples: int, seed: int) -> np.ndarray:
    """(resamples, n): how often each sentence is drawn in each resample (with
    replacement), from a generator seeded ``seed``; drawn once per set size, since every
    bootstrap of the set uses the same resamples."""
    rng = np.random.default_rng(seed)
    counts = np.empty((resamples, n))
    for start in range(0, resamples, 250):  # 250 resamples at a time: bounded memory on 872 sentences
        idx = rng.integers(0, n, size=(min(250, resamples - start), n))
        rows = np.arange(len(idx))[:, None] * n
        counts[start:start + len(idx)] = np.bincount((rows + idx).ravel(), minlength=len(idx) * n).reshape(-1, n)
    counts.flags.writeable = False
    return counts


def bootstrap(values, resamples: int = RULES["resamples"], seed: int = RULES["seed"],
              level: float = LEVEL) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, low, high) of the mean over the first axis (sentences) of ``values``:
    the percentile bootstrap, ``resamples`` draws of the sentences with replacement
    from a generator seeded ``seed`` (so pages are the same from build to build)."""
    x = np.asarray(values, dtype=np.float64)
    n = x.shape[0]
    means = (resample_counts(n, resamples, seed) @ x.reshape(n, -1) / n).reshape((resamples,) + x.shape[1:])
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2], axis=0)
    return x.mean(axis=0), lo, hi
