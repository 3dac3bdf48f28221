"""The figures of "How to read the views" come from a real gallery sentence.

``docs/reading.md`` holds placeholders ``<figure class="gallery-figure" data-figure="line|layer|gained">``
and, for the figures it states about the set, ``<span class="gallery-fact" data-fact="NAME">``
(:func:`set_facts`: from the build's records, never typed).
At build this module gives them one sentence of the gallery being built (the set's
``not-really-good`` if it has it, else its first sentence): the attention blob its
notebook stores (``views.attention_output``: both models, the element its page
carries) and its most changed head, from its record (``GalleryPlugin.on_page_content``
calls :func:`add_figures`). The site's scripts (``docs/assets/javascripts/``) then
draw each figure with the same view code as every sentence page and annotate it: a
line, a head, a layer, a gained line. Nothing is a screenshot; a gallery built from
another set shows its own sentence.

Site-only (``cache.SITE_ONLY``): it changes no notebook, so editing it re-executes none.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat
import numpy as np

from .. import claims
from ..explain import views

PAGE = "reading.md"
PREFERRED = "not-really-good"  # the sentence the gallery grew from
FIGURE = re.compile(r'<figure class="gallery-figure"')


def _sentence(gallery: Path, records):
    """(record, blob element, source id) of the sentence the figures show, or None
    when there is no gallery to draw from."""
    by_slug = {r.slug: r for r in records}
    for slug in ([PREFERRED] if PREFERRED in by_slug else []) + list(by_slug):
        path = gallery / f"{slug}.ipynb"
        if not path.is_file():
            continue
        nb = nbformat.read(str(path), as_version=4)
        found = views.attention_output(nb)
        if found is None:
            continue
        source, payload = found
        norms = views.norms_output(nb)
        return by_slug[slug], views.blob_element(source, payload, norms[1] if norms else None), source
    return None


def may_show(slugs, changed) -> bool:
    """Whether the page may show something of the ``changed`` sentences of a set of
    ``slugs``: it states figures of the whole set (:func:`set_facts`, and the set's
    claims), so any change does."""
    return bool(changed)


FACT = re.compile(r'<span class="gallery-fact" data-fact="([a-z-]+)"></span>')


def set_facts(records) -> dict[str, str]:
    """The figures ``docs/reading.md`` states about the gallery being built, by name
    (``<span class="gallery-fact" data-fact="NAME"></span>`` there): never typed."""
    facts = {"full-share": claims.pct(views.full_share())}
    ramp = views.VIEW_SETTINGS["opacity"]  # the views' weight-to-opacity mapping (lib/raster.js)
    facts.update({"ramp-knee": f"{ramp['knee']:g}", "ramp-at-knee": f"{ramp['at_knee']:g}",
                  "ramp-slope": f"{ramp['at_knee'] / ramp['knee']:.2f}"})
    n = len(records)
    facts["n-sentences"] = f"{n} sentence{'' if n == 1 else 's'}"
    pad = sorted(r.ig["trained"].baseline_p_positive for r in records if "trained" in r.ig)
    if pad:
        median = float(np.median(pad))
        facts["pad-median"] = f"{median:.3f}"
        facts["pad-range"] = f"{median:.3f} ({pad[0]:.3f}-{pad[-1]:.3f})"
    return facts


def add_facts(html_text: str, src_uri: str, records) -> str:
    """``html_text`` of the page ``src_uri`` with its facts filled from ``records``
    (a fact the set cannot give, as with no sentence, reads "not measured")."""
    if src_uri != PAGE or not FACT.search(html_text):
        return html_text
    facts = set_facts(records)
    return FACT.sub(lambda m: html.escape(facts.get(m.group(1), "not measured")), html_text)


def add_figures(html_text: str, src_uri: str, gallery: Path, records=()) -> str:
    """``html_text`` of the page ``src_uri`` with its figures given a sentence of ``gallery``
    (the built gallery's notebooks) and its facts the figures of ``records``
    (:func:`add_facts`); any other page unchanged."""
    html_text = add_facts(html_text, src_uri, records)
    if src_uri != PAGE or not FIGURE.search(html_text):
        return html_text
    found = _sentence(gallery, records)
    if found is None:
        return html_text
    rec, blob, source = found
    slug, title, text = rec.slug, rec.title, rec.text
    layer, head, _ = rec.top_heads[0]
    attrs = (f'<figure class="gallery-figure" data-source="{html.escape(source)}" data-layer="{layer}" '
             f'data-head="{head}" data-sentence="{html.escape(slug)}"')
    html_text = FIGURE.sub(attrs, html_text)
    link = (f'<p class="gallery-figure-sentence">The pictures on this page are drawn, by the same code '
            f'as every sentence page, from the sentence <a href="../gallery/{html.escape(slug)}/">'
            f'{html.escape(title)}</a>: “<span dir="auto">{html.escape(text)}</span>”, '
            f'on the head fine-tuning changed most there, layer {layer}, head {head}.</p>')
    at = html_text.find("<h2")
    return (html_text[:at] + link + html_text[at:] if at >= 0 else link + html_text) + blob


def _attention(gallery: Path, slug: str):
    """(source id, payload) of the attention blob ``slug``'s executed notebook stores,
    or None where this build has no such notebook."""
    path = Path(gallery) / f"{slug}.ipynb"
    return views.attention_output(nbformat.read(str(path), as_version=4)) if path.is_file() else None


CONTRAST_VIEWS = re.compile(r'<div class="gallery-contrast-views" data-a="([^"]+)" data-b="([^"]+)" '
                            r'data-layer="(\d+)" data-head="(\d+)" data-changed-a="([\d ]*)" '
                            r'data-changed-b="([\d ]*)"></div>')


def add_contrast_views(html_text: str, gallery: Path, records=()) -> str:
    """A contrast page's placeholder (``teaching.contrast_views``) filled: both sentences'
    attention blobs (from their notebooks) and, for each, a head view of the fine-tuned
    and of the untrained model on the page's head, drawn by the site's view code; the
    tokens that differ named under each. Any other page unchanged."""
    m = CONTRAST_VIEWS.search(html_text)
    if m is None:
        return html_text
    a, b, layer, head = m.group(1), m.group(2), int(m.group(3)), int(m.group(4))
    by_slug = {r.slug: r for r in records}
    parts, blobs = [], []
    for slug, changed, which in ((a, m.group(5), "first"), (b, m.group(6), "second")):
        found = _attention(gallery, html.unescape(slug))
        if found is None:
            parts.append(f"<p>The {which} sentence's attention is not in this build.</p>")
            continue
        source, payload = found
        blobs.append(views.blob_element(source, payload))
        rec = by_slug.get(html.unescape(slug))
        marked = ", ".join(f"<mark>{html.escape(rec.tokens[int(i)])}</mark>" for i in changed.split()) if rec else ""
        cells = [views.bertviz_view(source, "head_view", kind, f"contrast-{slug}-{kind}", layer, [head])
                 for kind in ("trained", "untrained")]
        parts.append(f'<p class="gallery-contrast-sentence"><strong>The {which} sentence</strong>'
                     + (f" (only here: {marked})" if marked else "") + "</p>" + views.side_by_side(cells))
    return html_text[:m.start()] + "".join(parts) + "".join(blobs) + html_text[m.end():]


LESSON_VIEWS = re.compile(r'<div class="gallery-lesson-views" data-slug="([^"]+)" data-layer="(\d+)" '
                          r'data-head="(\d+)"></div>')


def add_lesson_views(html_text: str, gallery: Path, records=()) -> str:
    """The lesson's pictures (``teaching.lesson_views`` placeholders) filled: for each,
    a small head view of the fine-tuned and of the untrained model on its sentence and
    head, drawn by the site's view code from the sentence's attention blob (read from its
    notebook, carried once a sentence at the end of the page), captioned with a link to
    the sentence page's side-by-side block on that head. A sentence this build has no
    notebook for gets a line that says so. Any page without them unchanged."""
    if not LESSON_VIEWS.search(html_text):
        return html_text
    by_slug = {r.slug: r for r in records}
    blobs: dict[str, str] = {}
    seen: dict[str, int] = {}
    found_of: dict[str, object] = {}  # a sentence two steps show: its notebook read once

    def picture(m) -> str:
        slug, layer, head = html.unescape(m.group(1)), int(m.group(2)), int(m.group(3))
        rec = by_slug.get(slug)
        if slug not in found_of:
            found_of[slug] = _attention(gallery, slug)
        found = found_of[slug]
        if found is None or rec is None:
            return f"<p>The attention of {html.escape(slug)} is not in this build.</p>"
        source, payload = found
        blobs.setdefault(slug, views.blob_element(source, payload))
        key = f"lesson-{slug}-{layer}-{head}"
        seen[key] = seen.get(key, 0) + 1  # the same picture twice on the page: ids stay unique
        suffix = f"-{seen[key]}" if seen[key] > 1 else ""
        cells = [views.bertviz_view(source, "head_view", kind, f"{key}-{kind}{suffix}",
                                    layer, [head], fit=True) for kind in ("trained", "untrained")]
        href = f"../{html.escape(slug)}/#head-{layer}-{head}"
        return (f'<figure class="gallery-lesson-figure">{views.side_by_side(cells)}'
                f'<figcaption>Layer {layer}, head {head} of <a href="{href}">{html.escape(rec.title)}</a>: the '
                f'fine-tuned model (first) and the untrained one. <a href="{href}">Open it side by side</a>, '
                f"with what it gained and lost.</figcaption></figure>")

    out = LESSON_VIEWS.sub(picture, html_text)
    return out + "".join(blobs.values())
