"""Every statement the site generates is decided here.

A :class:`Claim` is a statement, the numbers it cites, the rule under which it may
be said and the rule's outcome, which chooses the wording. The rules' thresholds
and their plain-words statement live in ``rules.json`` (section ``claims``), which
the live page's JavaScript reads too (``docs/assets/javascripts/lib/claims.js``; one
golden file, ``tests/golden/claims.json``, tests both). This module is pure:
numbers in, claims out; it imports no torch, so the kernel, the site and the
tests share it.

On a page every claim is one element carrying ``data-claim`` (what kind of
statement), ``data-rule`` (which rule decided it) and ``data-outcome`` (what the
rule said), so a check can read which rule decided it without parsing prose.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist

from . import rules
from .formats import pct, pct_range, points, signed  # claims.pct etc., for the pages

RULES = rules.section("claims")
FAITH = RULES["faithfulness"]
HEAD = RULES["head"]
SET = RULES["set"]

FAITHFUL, PARTLY_COMP, PARTLY_SUFF, NOT_FAITHFUL, UNINFORMATIVE = FAITH["outcomes"]
VERDICT_LABELS: dict[str, str] = FAITH["labels"]


@dataclass(frozen=True)
class Claim:
    """One generated statement: ``kind`` (what it is about), ``rule`` (the rule's
    name in ``rules.json``), ``outcome`` (what the rule decided), ``text`` (the
    wording the outcome chose) and the ``numbers`` it cites; ``head`` is the
    ``(layer, head)`` it points at, where it is about one."""

    kind: str
    rule: str
    outcome: str
    text: str
    numbers: dict = field(default_factory=dict)
    head: tuple[int, int] | None = None

    def html(self, tag: str = "span", inner: str | None = None, extra: str = "") -> str:
        """The claim as one element; ``inner`` replaces the escaped text (markup
        the caller built from the same text, e.g. with a link)."""
        body = html.escape(self.text) if inner is None else inner
        return (f'<{tag} data-claim="{html.escape(self.kind)}" data-rule="{html.escape(self.rule)}" '
                f'data-outcome="{html.escape(self.outcome)}"{extra}>{body}</{tag}>')


def margin(logits) -> float:
    """The gap between a model's first and last logit (what the untrained rule reads)."""
    return abs(float(logits[0]) - float(logits[-1]))


def at_chance(logits) -> bool:
    """The untrained head's verdict is chance by the site's rule (``untrained.max_margin``)."""
    return margin(logits) < RULES["untrained"]["max_margin"]


# --- small wording helpers (numbers: formats.py) ---------------------------------

def possessive(name: str) -> str:
    """'IG's', 'Integrated Gradients'' (a name ending in s takes the apostrophe alone)."""
    return f"{name}’" if name.endswith("s") else f"{name}’s"


def plain(value: float, digits: int = 3) -> str:
    """A number with a minus sign only where it is negative (never -0.000)."""
    return f"{round(float(value), digits) + 0.0:.{digits}f}"


def moves(drop: float, what: str) -> str:
    """'lowers p(x) by 0.41' for a drop, 'raises p(x) by 0.13' for a negative one."""
    return f"lowers {what} by {plain(drop)}" if round(drop, 3) >= 0 else f"raises {what} by {plain(-drop)}"


def join(items: Sequence[str]) -> str:
    items = list(items)
    if not items:
        return ""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def in_sentences(k: int, n: int, where: str = "of these sentences") -> str:
    """'In all 3 of these sentences', 'In this sentence' (one of one)."""
    return "In this sentence" if n == 1 and k == 1 else f"In {count_words(k, n)} {where}"


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def count_words(k: int, n: int) -> str:
    """'all 3', 'none of the 3', '2 of 3'."""
    if n and k == n:
        return f"all {n}" if n > 2 else ("both" if n == 2 else "the one")
    if k == 0:
        return f"none of the {n}"
    return f"{k} of {n}"


# --- faithfulness: one method's deletion test against the random ranking -----------

def _beats(gap: float, se: float, margin: float, multiplier: float) -> tuple[bool, float]:
    """Whether a gap (method better than random when > 0) beats random, and the
    margin used: ``multiplier`` standard errors of random's estimate where it is
    sampled (``se`` > 0), else the fixed ``margin`` (an exact expectation)."""
    need = multiplier * se if se > 0 else margin
    return (gap > need if se > 0 else gap >= need), need


def max_move(p0: float, removed: Sequence[float], kept: Sequence[float]) -> float:
    """How far any of the top-k variants moves p(target) from ``p0``."""
    return max([abs(p0 - p) for p in (*removed, *kept)], default=0.0)


def faithfulness_outcome(method: Mapping, random: Mapping, se: Mapping, p0: float) -> dict:
    """The faithfulness rule on plain numbers (``method``/``random``: the record's
    :class:`~attention_gallery.record.Deletion` fields; ``se``: random's standard
    errors, 0 where exact; ``p0``: p(target) of the whole sentence). Returns the
    outcome and the numbers that decided it."""
    moved = max(max_move(p0, method["removed_p"], method["kept_p"]),
                max_move(p0, random["removed_p"], random["kept_p"]))
    logodds = moved < FAITH["min_move_p"]
    suffix = "_logodds" if logodds else ""
    margin = FAITH["logodds_margin"] if logodds else FAITH["exact_margin"]
    c, s = "comprehensiveness" + suffix, "sufficiency" + suffix
    # the figures have 4 decimals: so do their gaps (0.30 - 0.28 is 0.02, not 0.0199...)
    gap_c = round(float(method[c]) - float(random[c]), 4)
    gap_s = round(float(random[s]) - float(method[s]), 4)  # lower sufficiency is better
    beats_c, need_c = _beats(gap_c, float(se.get(c, 0.0)), margin, FAITH["se_multiplier"])
    beats_s, need_s = _beats(gap_s, float(se.get(s, 0.0)), margin, FAITH["se_multiplier"])
    if logodds and abs(gap_c) < margin and abs(gap_s) < margin:
        outcome = UNINFORMATIVE
    elif beats_c and beats_s:
        outcome = FAITHFUL
    elif beats_c:
        outcome = PARTLY_COMP
    elif beats_s:
        outcome = PARTLY_SUFF
    else:
        outcome = NOT_FAITHFUL
    return {"outcome": outcome, "scale": "logodds" if logodds else "probability", "moved": round(moved, 4),
            "gap_comprehensiveness": round(gap_c, 4), "gap_sufficiency": round(gap_s, 4),
            "margin_comprehensiveness": round(need_c, 4), "margin_sufficiency": round(need_s, 4),
            "method_comprehensiveness": float(method[c]), "random_comprehensiveness": float(random[c]),
            "method_sufficiency": float(method[s]), "random_sufficiency": float(random[s])}


def faithfulness_claim(title: str, method: Mapping, random: Mapping, se: Mapping, p0: float,
                       label: str, other: str, top_tokens: Sequence[str] = ()) -> Claim:
    """The verdict on one method's ranking for one sentence, in words.

    ``top_tokens``: the method's top tokens (quoted), named where they matter to
    the wording (kept alone, they read as the other class)."""
    n = faithfulness_outcome(method, random, se, p0)
    o = n["outcome"]
    unit = " logit" if n["scale"] == "logodds" else ""
    what = "its log-odds" if n["scale"] == "logodds" else f"p({label})"
    rc = plain(n["random_comprehensiveness"])
    rs = plain(n["random_sufficiency"])
    ks = len(method.get("removed_p", [])) or 3
    top = "its top token" if ks == 1 else f"its top 1 to {ks} tokens"
    removing = f"removing {top} {moves(n['method_comprehensiveness'], what)}{unit} on average (random tokens: {rc}{unit})"
    keeping = f"keeping only them {moves(n['method_sufficiency'], 'it')}{unit} (random tokens: {rs}{unit}; lower is better)"
    why = ""
    if n["scale"] == "logodds":
        why = (f" The model is so sure here (p = {p0:.3f}) that no variant moves p({label}) by "
               f"{FAITH['min_move_p']:.2f}, so the test is read in log-odds.")
    kept_p = list(method.get("kept_p", []))
    alone_other = bool(kept_p) and kept_p[-1] < 0.5
    alone = ""
    if alone_other:
        names = join(list(top_tokens)) if top_tokens else "its top tokens"
        alone = f": {names} on their own read as {other} (p({label}) = {kept_p[-1]:.2f})"
    if o == FAITHFUL:
        text = f"{possessive(title)} ranking is faithful here: {removing}, and {keeping}."
    elif o == PARTLY_COMP:
        text = (f"{possessive(title)} ranking is partly faithful: its top tokens remove the prediction but do not "
                f"carry it alone{alone}. In numbers, {removing}, but {keeping}, no better than random.")
    elif o == PARTLY_SUFF:
        text = (f"{possessive(title)} ranking is partly faithful: its top tokens carry the prediction alone, but "
                f"removing them hurts no more than removing random ones. In numbers, {keeping}, "
                f"but {removing}.")
    elif o == NOT_FAITHFUL:
        text = f"{possessive(title)} ranking is not faithful here: it beats random tokens neither when removed nor when kept alone ({removing}; {keeping})."
    else:
        text = (f"The deletion test cannot tell whether {possessive(title)} ranking is faithful here: removing or "
                f"keeping its top tokens moves the prediction no more than random tokens do, by less "
                f"than {FAITH['logodds_margin']:.1f} logit either way.")
    return Claim("faithfulness", "faithfulness", o, text + why, n)


# --- intervals over sentences ------------------------------------------------------

def mean_interval(values: Sequence[float], level: float = SET["interval"]) -> tuple[float, float, float]:
    """Mean and its two-sided t interval over ``values`` (sentences)."""
    values = [float(v) for v in values]
    n = len(values)
    if n == 0:
        return 0.0, 0.0, 0.0
    mean = sum(values) / n
    if n < 2:
        return mean, mean, mean
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    # only where an interval is asked for (scipy loads slowly)
    from scipy.stats import t as student_t

    half = float(student_t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def wilson(k: int, n: int, level: float = SET["interval"]) -> tuple[float, float]:
    """Wilson score interval of a share k/n."""
    if n == 0:
        return 0.0, 0.0
    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def interval_text(mean: float, lo: float, hi: float, digits: int = 3) -> str:
    return f"{signed(mean, digits)} (95% interval {signed(lo, digits)} to {signed(hi, digits)})"


def direction(lo: float, hi: float) -> str:
    """'above' / 'below' / 'unclear' for an interval against 0."""
    return "above" if lo > 0 else ("below" if hi < 0 else "unclear")


# --- attention of one head ---------------------------------------------------------

def head_story(to_cls_trained: float, to_cls_untrained: float, cls_gain: float, cls_gain_token: str,
               cls_gain_trained: float, cls_gain_untrained: float, largest: tuple[str, str, float, float]) -> tuple[str, str]:
    """What changed most in one head, by the head rule: ``(outcome, text)``.

    Candidates: the words' mean attention to [CLS] (fell or rose), [CLS]'s
    attention to one word (grew), else the largest single weight change
    (``largest``: query, key, trained, untrained)."""
    sink = to_cls_trained - to_cls_untrained
    floor = HEAD["min_change"]
    if abs(sink) >= floor and abs(sink) >= cls_gain:
        verb = "fell" if sink < 0 else "rose"
        return (f"to-cls-{'fell' if sink < 0 else 'rose'}",
                f"In that head, the words' attention to [CLS] {verb} from {pct(to_cls_untrained)} to "
                f"{pct(to_cls_trained)} (mean over the words; before → after fine-tuning).")
    if cls_gain >= floor:
        return ("cls-row-gained",
                f"In that head, [CLS] (the position the classifier reads) now sends "
                f"{pct(cls_gain_trained)} of its attention to {cls_gain_token} "
                f"(before fine-tuning: {pct(cls_gain_untrained)}).")
    q, k, t, u = largest
    return ("largest-change",
            f"Neither the words' attention to [CLS] nor [CLS]'s attention to any word moved by "
            f"{points(floor)}; the largest change is from {q} to {k}: {pct(t)} of its attention now, "
            f"{pct(u)} before fine-tuning.")


def depth_claim(total: Sequence[float]) -> Claim:
    """Does the change grow with depth? Only where every layer exceeds the one below."""
    total = [float(v) for v in total]
    last = len(total) - 1
    breaks = [i for i in range(1, len(total)) if total[i] <= total[i - 1]]
    top = max(range(len(total)), key=lambda i: total[i])
    numbers = {"total": total, "breaks": breaks, "largest_layer": top}
    if not breaks:
        return Claim("depth", "depth", "grows", f"The total change grows with depth, layer by layer, from "
                     f"{total[0]:.3f} in layer 0 to {total[last]:.3f} in layer {last}.", numbers)
    broken = join([f"layer {i} ({total[i]:.3f}) is not above layer {i - 1} ({total[i - 1]:.3f})" for i in breaks])
    return Claim("depth", "depth", "not-monotone",
                 f"The total change does not grow at every layer: {broken}. It is largest in layer {top} "
                 f"({total[top]:.3f}); layer 0 has {total[0]:.3f} and layer {last} {total[last]:.3f}.",
                 numbers)


# --- over a set of sentences -------------------------------------------------------

def verdict_summary(rows: Sequence[Mapping]) -> dict:
    """The faithfulness verdicts of one method over sentences: ``rows`` are
    :func:`faithfulness_outcome` results. Share of each outcome, and the mean gap
    to random (comprehensiveness and sufficiency, on p) with its 95% interval."""
    n = len(rows)
    out = {"n": n, "shares": {o: round(sum(r["outcome"] == o for r in rows) / n, 4) if n else 0.0
                              for o in FAITH["outcomes"]}}
    for side in ("comprehensiveness", "sufficiency"):
        gaps = [r["gap_" + side] for r in rows if r["scale"] == "probability"]
        mean, lo, hi = mean_interval(gaps)
        out["gap_" + side] = {"mean": round(mean, 4), "low": round(lo, 4), "high": round(hi, 4), "n": len(gaps)}
    return out


def set_verdict_claim(title: str, summary: Mapping, where: str) -> Claim:
    """A method's verdict over a set: the shares, and whether its mean gap to
    random is a finding (interval excludes 0) on each side."""
    n = summary["n"]
    shares = summary["shares"]
    parts = [f"{pct(shares[o])} {VERDICT_LABELS[o]}" for o in FAITH["outcomes"] if shares[o] > 0]
    said = []
    outcome = []
    for side, name in (("comprehensiveness", "removing its top tokens"), ("sufficiency", "keeping only them")):
        g = summary["gap_" + side]
        d = direction(g["low"], g["high"])
        outcome.append(d)
        if d == "above":
            said.append(f"{name} beats random tokens on average by {interval_text(g['mean'], g['low'], g['high'])}")
        elif d == "below":
            said.append(f"{name} does worse than random tokens on average ({interval_text(g['mean'], g['low'], g['high'])})")
        else:
            said.append(f"{name} cannot be told from random tokens on average "
                        f"({interval_text(g['mean'], g['low'], g['high'])})")
    text = (f"{title} on {where} (n = {n}): {', '.join(parts)}; {said[0]}, and {said[1]} "
            "(gaps to random in p, positive = better than random).")
    return Claim("set-faithfulness", "set", "-".join(outcome), text, dict(summary))


def share_claim(kind: str, k: int, n: int, what: str, where: str) -> Claim:
    """'In k of n sentences (95% interval a–b%), <what>.'"""
    lo, hi = wilson(k, n)
    outcome = "all" if n and k == n else ("none" if k == 0 else ("most" if 2 * k > n else "some"))
    text = f"In {count_words(k, n)} {where} (95% interval {pct(lo)}–{pct(hi)}), {what}."
    return Claim(kind, "set", outcome, text, {"k": k, "n": n, "low": round(lo, 4), "high": round(hi, 4)})


def group_sink_claim(layer: int, head: int, before: Sequence[float], after: Sequence[float]) -> Claim:
    """A lesson step's statement on one head over its sentences: did the words'
    attention to [CLS] fall (by the head rule's threshold) in all, some or none?"""
    floor = HEAD["min_change"]
    n = len(before)
    fell = [i for i in range(n) if after[i] <= before[i] - floor]
    rose = [i for i in range(n) if after[i] >= before[i] + floor]
    numbers = {"layer": layer, "head": head, "before": list(before), "after": list(after),
               "fell": len(fell), "rose": len(rose), "n": n}
    where = f"layer {layer}, head {head}"
    if fell and len(fell) >= len(rose):
        b = [before[i] for i in fell]
        a = [after[i] for i in fell]
        text = (f"{in_sentences(len(fell), n)}, the words' attention to [CLS] in {where} "
                f"fell, from {pct_range(b)} to {pct_range(a)} (mean over each sentence's words): the tokens "
                "stopped parking their attention on [CLS] and look at other words instead.")
        outcome = "fell-all" if len(fell) == n else "fell-some"
    elif rose:
        b = [before[i] for i in rose]
        a = [after[i] for i in rose]
        text = (f"{in_sentences(len(rose), n)}, the words' attention to [CLS] in {where} "
                f"rose, from {pct_range(b)} to {pct_range(a)} (mean over each sentence's words).")
        outcome = "rose-all" if len(rose) == n else "rose-some"
    else:
        text = (f"In {where}, the words' attention to [CLS] changed by less than {points(floor)} "
                + ("in this sentence" if n == 1 else f"in every one of these {n} sentences")
                + ": what changed is elsewhere in the head (open it to see).")
        outcome = "unchanged"
    return Claim("lesson-sink", "head", outcome, text, numbers, (layer, head))


def evenness(scores: Sequence[float]) -> float:
    """How evenly a method spreads its |score| over the words: the entropy of the
    shares, over its largest value log(n) (1 = uniform, 0 = all on one word), so
    sentences of different lengths compare."""
    values = [abs(float(v)) for v in scores]
    total = sum(values)
    if len(values) < 2 or total <= 0:
        return 0.0
    h = -sum((v / total) * math.log(v / total) for v in values if v > 0)
    return h / math.log(len(values))


NORMS = RULES["norms"]


def special_share(scores: Sequence[float], special: Sequence[bool]) -> float:
    """The share of a row of non-negative scores that lands on the special tokens."""
    scores = [float(x) for x in scores]
    total = sum(scores)
    return sum(x for x, s in zip(scores, special) if s) / total if total > 0 else 0.0


def norms_claim(weights: Sequence[float], norms: Sequence[float], special: Sequence[bool]) -> Claim:
    """Do norm-based attention and the attention weights agree on how much of the last
    layer's [CLS] attention goes to the special tokens? (Kobayashi et al. 2020: the
    tokens with the largest weights often carry the smallest vectors.)"""
    w, n = special_share(weights, special), special_share(norms, special)
    floor = NORMS["min_difference"]
    said = (f"In the last layer, {pct(w)} of [CLS]'s attention weight lands on [CLS] and [SEP]; "
            f"weighted by the norm of what is moved, {pct(n)}")
    if n <= w - floor:
        outcome, text = "less-on-specials", (f"{said}: by norms the words matter more than the weights "
                                             "suggest (the special tokens carry small vectors).")
    elif n >= w + floor:
        outcome, text = "more-on-specials", f"{said}: by norms the special tokens matter more than the weights suggest."
    else:
        outcome, text = "agree", f"{said}: on this, norms and weights tell the same story."
    return Claim("norms", "norms", outcome, text, {"weights": round(w, 4), "norms": round(n, 4)})


def concentration_claim(title: str, group: Sequence[float], rest: Sequence[float]) -> Claim:
    """Is a method's score flatter on some sentences than on the others? Compared
    by the mean :func:`evenness` (length-adjusted), by at least the head rule's 0.05."""
    g, _, _ = mean_interval(group)
    r, _, _ = mean_interval(rest)
    floor = HEAD["min_change"]
    said = f"{possessive(title)} evenness (1 = the same score on every word, 0 = all on one) is {g:.2f} here"
    if not rest:
        outcome, text = "alone", f"{said} (mean)."
    elif g >= r + floor:
        outcome, text = "flatter", f"{said}, flatter than on the other sentences ({r:.2f})."
    elif g <= r - floor:
        outcome, text = "more-peaked", f"{said}, more peaked than on the other sentences ({r:.2f})."
    else:
        outcome, text = "similar", f"{said}, about as on the other sentences ({r:.2f})."
    return Claim("lesson-concentration", "concentration", outcome, text,
                 {"group": round(g, 4), "rest": round(r, 4), "n_group": len(group), "n_rest": len(rest)})


def agreement_claim(a_title: str, b_title: str, a: Sequence[float], b: Sequence[float], where: str) -> Claim:
    """Which of two methods agrees better with leave-one-out, over sentences (paired)."""
    diff = [x - y for x, y in zip(a, b)]
    ma, _, _ = mean_interval(a)
    mb, _, _ = mean_interval(b)
    mean, lo, hi = mean_interval(diff)
    d = direction(lo, hi)
    head = (f"On {where}, the rank agreement with leave-one-out (Kendall's tau) is {signed(ma, 2)} for "
            f"{a_title.lower()} and {signed(mb, 2)} for {b_title.lower()} (means over {len(diff)} sentences); "
            f"the paired difference is {interval_text(mean, lo, hi)}")
    tail = {"above": f": here {a_title.lower()} agrees better.", "below": f": here {b_title.lower()} agrees better.",
            "unclear": ": here the two cannot be told apart."}[d]
    return Claim("agreement", "set", d, head + tail, {"a": round(ma, 4), "b": round(mb, 4), "diff": round(mean, 4),
                                                       "low": round(lo, 4), "high": round(hi, 4), "n": len(diff)})
