"""The overview's explorer: every sentence of the set in one table that a reader
searches, sorts, filters and pages through (``lib/overview.js``), for a set of 32 or 872.

The rows are made here, once, from the records: every value a control compares is a
``data-`` attribute of its row (``data-confidence``, ``data-change`` ...), so the
browser computes nothing but the order and the page. The first page of rows is in the
table, so the page reads without JavaScript; the others wait in a ``<template>``
(inert: no layout, no images, no elements in the document) until the script shows them.
State lives in the address (``?q=not&sort=change&head=3-9``), so a view of the set is a
link: the heads page links each head to the sentences it changed most.
"""

from __future__ import annotations

from collections import Counter

from ..explain import views
from ..record import SentenceRecord
from .teaching import verdict_cell

__all__ = ["SORTS", "PAGE_ROWS", "explorer", "row_values", "head_key"]

PAGE_ROWS = 50  # rows a page of the table shows

# sort key -> (label, the default direction: "desc" = largest first)
SORTS = {
    "set": ("the set's order", "asc"),
    "confidence": ("fine-tuned confidence", "desc"),
    "correct": ("wrong first", "asc"),
    "length": ("length (tokens)", "desc"),
    "change": ("how much the top head changed", "desc"),
    "margin": ("untrained margin", "desc"),
}


def head_key(layer: int, head: int) -> str:
    """``"3-9"``: layer and head, 0-based as everywhere on the site (``#head-3-9``)."""
    return f"{layer}-{head}"


def row_values(r: SentenceRecord, i: int, entry: dict) -> dict:
    """What the controls read from a row: every value computed here, rounded as shown."""
    layer, head, change = r.top_heads[0]
    shown = entry.get("display") or r.text
    return {"i": i, "slug": r.slug, "gold": r.label, "predicted": r.trained.predicted,
            "right": int(r.trained.correct), "confidence": round(r.trained.confidence, 4),
            "length": r.n_tokens, "change": round(change, 4), "head": head_key(layer, head),
            "margin": round(abs(r.untrained.logits[0] - r.untrained.logits[-1]), 4),
            "group": entry.get("group", ""),
            "search": " ".join(" ".join(x.split()) for x in (shown, r.text, r.note) if x).lower()}


def _row(r: SentenceRecord, v: dict, prefix: str, display: str) -> str:
    attrs = " ".join(f'data-{k}="{views.esc(str(v[k]))}"' for k in
                     ("i", "gold", "predicted", "right", "confidence", "length", "change", "head", "margin",
                      "group", "search"))
    note = "" if display else r.note  # a display form's note only repeats the sentence
    more = f'<br><span class="gallery-note-inline">{views.esc(note)}</span>' if note else ""
    return (f'<tr {attrs}><td class="gallery-text-cell"><a href="{prefix}{views.esc(r.slug)}/" dir="auto">'
            f'{views.esc(display or r.text)}</a>{more}</td>'
            f'<td><span class="gallery-label gallery-{views.esc(r.label)}">{views.esc(r.label)}</span></td>'
            f'{verdict_cell(r, "trained")}'
            f'<td class="gallery-num">{v["length"]}</td>'
            f'<td><a href="{prefix}{views.esc(r.slug)}/#head-{v["head"]}">L{v["head"].replace("-", "H")}</a> '
            f'<span class="gallery-conf">{v["change"]:.3f}</span></td>'
            f'<td class="gallery-chance">≈ chance: {views.esc(r.untrained.predicted)} '
            f'<span class="gallery-conf">margin {v["margin"]:.3f}</span></td></tr>')


def _select(name: str, label: str, options: list[tuple[str, str]]) -> str:
    opts = "".join(f'<option value="{views.esc(v)}">{views.esc(t)}</option>' for v, t in options)
    return (f'<label class="gallery-explore-field">{views.esc(label)} '
            f'<select name="{name}" data-explore="{name}">{opts}</select></label>')


def explorer(records: list[SentenceRecord], entries: list[dict], prefix: str = "") -> str:
    """The explorer's HTML: its controls, the table (the first :data:`PAGE_ROWS` rows),
    the rest in a template, a live count for screen readers."""
    by_slug = {e["slug"]: e for e in entries}
    position = {e["slug"]: i for i, e in enumerate(entries)}
    ordered = sorted(records, key=lambda r: position.get(r.slug, len(entries)))
    values = [row_values(r, i, by_slug.get(r.slug, {})) for i, r in enumerate(ordered)]
    rows = [_row(r, v, prefix, by_slug.get(r.slug, {}).get("display", "")) for r, v in zip(ordered, values)]
    n = len(rows)
    heads = Counter(v["head"] for v in values)
    groups = list(dict.fromkeys(v["group"] for v in values if v["group"]))
    labels = list(dict.fromkeys(r.label for r in ordered)) + [p for p in dict.fromkeys(
        r.trained.predicted for r in ordered) if p not in {r.label for r in ordered}]
    controls = [
        '<label class="gallery-explore-field gallery-explore-search">Search '
        '<input type="search" name="q" data-explore="q" placeholder="words of the sentence" '
        'autocomplete="off" spellcheck="false"></label>',
        _select("sort", "Sort by", [(k, t) for k, (t, _) in SORTS.items()]),
        _select("dir", "Order", [("", "default"), ("asc", "ascending"), ("desc", "descending")]),
        _select("right", "Fine-tuned model", [("", "right or wrong"), ("1", "right"), ("0", "wrong")]),
        _select("predicted", "Predicted", [("", "either class")] + [(lab, lab) for lab in labels]),
    ]
    if groups:
        controls.append(_select("group", "Group", [("", "every group")] + [(g, g) for g in groups]))
    controls.append(_select("head", "Most-changed head", [("", "any head")] + [
        (h, f"L{h.replace('-', 'H')} ({c} sentence{'s' * (c != 1)})")
        for h, c in sorted(heads.items(), key=lambda kv: (-kv[1], [int(x) for x in kv[0].split("-")]))]))
    head = ("<thead><tr><th>sentence (its page)</th><th>gold</th>"
            f"<th>{views.esc(views.model_name('trained'))}</th><th>tokens</th>"
            '<th><abbr title="the head fine-tuning changed most, and by how much">top head</abbr></th>'
            f'<th><abbr title="{views.esc(views.model_name("untrained"))}: its verdict is chance">'
            "untrained head</abbr></th></tr></thead>")
    first, rest = rows[:PAGE_ROWS], rows[PAGE_ROWS:]
    more = (f'<noscript><p>The table shows the first {len(first)} of {n} sentences; searching, sorting and '
            "the other pages need JavaScript. Every sentence page is listed in the site's "
            f'<a href="{prefix}../sitemap.xml">sitemap</a>.</p></noscript>') if rest else ""
    return (f'<div class="gallery-explore" data-page-rows="{PAGE_ROWS}" data-total="{n}">'
            f'<form class="gallery-explore-controls" role="search" aria-label="Find sentences">{"".join(controls)}</form>'
            f'<p class="gallery-explore-count" role="status" aria-live="polite">'
            f'{len(first)} of {n} sentences shown.</p>'
            f'<div class="gallery-scroll" tabindex="0" role="region" aria-label="sentences (table)">'
            f'<table class="gallery-table gallery-index gallery-explore-table">{head}'
            f'<tbody>{"".join(first)}</tbody></table></div>'
            f'<nav class="gallery-explore-pages" aria-label="pages of the table"></nav>'
            f'<template class="gallery-explore-rest">{"".join(rest)}</template>{more}</div>')
