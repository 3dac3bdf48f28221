"""Whether a sentence is typical of a finding: its most-changed head's attention from
the words to [CLS] against the same head's over the findings' set (the manifest's
``findings["to_cls"]``: in how many of the set's sentences it fell and rose). Decided
by ``rules.json``'s ``claims.findings.typical``."""

from __future__ import annotations

from .. import claims, rules

RULE = rules.section("claims")["findings"]
TYPICAL, EXCEPTION, SPLIT = RULE["typical_outcomes"]


def typical(findings: dict | None, record) -> claims.Claim | None:
    """The claim, or None where the set was not measured per head."""
    counts = (findings or {}).get("to_cls")
    if not counts:
        return None
    layer, head, _ = record.top_heads[0]
    change = record.sink.to_cls_trained[layer][head] - record.sink.to_cls_untrained[layer][head]
    n, fell, rose = counts["n"], counts["fell"][layer][head], counts["rose"][layer][head]
    name = findings["set"]["name"]
    majority, k = ("fell", fell) if fell >= rose else ("rose", rose)
    lo, hi = claims.wilson(k, n)
    here = "fell" if change < 0 else "rose" if change > 0 else "did not move"
    numbers = {"n": n, "fell": fell, "rose": rose, "change": round(change, 4), "ci95": [round(lo, 4), round(hi, 4)]}
    where = (f"In {claims.pct(k / n)} of the {n} sentences of {name} (95% interval {claims.pct(lo)}–{claims.pct(hi)}), "
             f"fine-tuning {majority} the words' attention to [CLS] in layer {layer}, head {head}")
    amount = f" by {abs(change):.2f}" if change else ""
    if lo <= 0.5:
        outcome, text = SPLIT, (f"{name} is split on layer {layer}, head {head}: the words' attention to [CLS] fell in "
                                f"{fell} of its {n} sentences and rose in {rose}; here it {here}{amount}.")
    elif here == majority:
        outcome, text = TYPICAL, f"{where}; here it {here}{amount}, as is typical."
    else:
        outcome, text = EXCEPTION, f"{where}; here it {here}{amount}: this sentence is an exception."
    return claims.Claim("typical", "findings.typical", outcome, text, numbers, (layer, head))
