"""How the site writes a number in words: shares as percentages, signed and plain
decimals (never -0.000). Pure formatting, below every module that says anything, so
the views can format a number without importing the claims' rules and wordings."""

from __future__ import annotations

from collections.abc import Sequence


def pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def points(x: float) -> str:
    """A difference of two shares: '5 percentage points'."""
    return f"{100 * x:.0f} percentage points"


def pct_range(values: Sequence[float]) -> str:
    lo, hi = min(values), max(values)
    return pct(lo) if round(100 * lo) == round(100 * hi) else f"{100 * lo:.0f}–{100 * hi:.0f}%"


def signed(value: float, digits: int = 3) -> str:
    """``value`` with its sign and ``digits`` decimals; a value that rounds to zero
    reads +0.000, never -0.000."""
    return f"{round(float(value), digits) + 0.0:+.{digits}f}"
