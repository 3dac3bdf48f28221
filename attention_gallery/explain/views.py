"""HTML for a sentence page: pure functions from numbers to markup.

Everything a sentence contributes (its text, its tokens) is escaped here, so a
sentence is always shown as text and never runs as markup or script. Attention
views are placeholders drawn in the browser by the site's view script
(``docs/assets/javascripts/``: bertviz's layout, drawn on canvas) from one compact
attention blob per page (see :func:`attention_blob`).

The blob's format lives here, both ways: the kernel stores it in the sentence card's
output twice, as markup the page carries and as data (:data:`ATTENTION_MIME`), and
every view's output names its view as data (:data:`VIEW_MIME`), so the build reads
them (:func:`attention_output`, :func:`attention_weights`, :func:`view_outputs`)
without parsing a page or a template cell.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import zlib
from dataclasses import dataclass

import numpy as np

from .. import config, rules
from ..formats import pct, signed

SCALE = config.ATTENTION_LEVELS


def esc(text: str) -> str:
    return html.escape(str(text), quote=True)


def safe_json(obj) -> str:
    """JSON that is safe inside a <script> element (no '</script>', no '<!--')."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def levels(attention: np.ndarray) -> np.ndarray:
    """Attention weights as bytes, 0..SCALE for 0..1: a browser draws a line's opacity
    with 8 bits anyway."""
    return np.rint(np.clip(np.asarray(attention, dtype=np.float64), 0.0, 1.0) * SCALE).astype(np.uint8)


def quantize(attention: np.ndarray) -> str:
    """Attention weights as bytes (0..255 for 0..1), base64: 1.33 characters a weight
    (bertviz's unrounded JSON costs about 21)."""
    return base64.b64encode(levels(attention).tobytes()).decode("ascii")


ATTENTION_MIME = "application/vnd.attention-gallery.attention+json"  # {"id", "blob", "norms", "steps"}
VIEW_MIME = "application/vnd.attention-gallery.view+json"  # what a view output draws (see view_data)
ENCODING = "uint8-deflate-base64"


def display_tokens(tokens) -> list[str]:
    """The tokens as bertviz shows them (``bertviz.util.format_special_chars``, the
    same replacements: a test holds them equal; bertviz itself imports torch, which
    the site does not): BPE's word marks become spaces, ``</w>`` goes."""
    return [t.replace("\u0120", " ").replace("\u2581", " ").replace("</w>", "") for t in tokens]


def attention_payload(tokens, trained: np.ndarray, untrained: np.ndarray) -> dict:
    """Both models' attention for a page: one byte per weight, the trained model's
    then the untrained's (layer, head, query, key order), zlib-deflated (the browser
    inflates it with DecompressionStream) and base64-encoded: about half a byte a
    weight."""
    layers, heads = trained.shape[:2]
    packed = zlib.compress(levels(trained).tobytes() + levels(untrained).tobytes(), 9)
    return {
        "tokens": display_tokens(tokens),
        "layers": int(layers),
        "heads": int(heads),
        "encoding": ENCODING,
        "scale": SCALE,
        "weights": base64.b64encode(packed).decode("ascii"),
    }


BLOB_KEYS = ("tokens", "layers", "heads", "encoding", "scale", "weights")  # in the page's order


def blob_text(payload: dict) -> str:
    """A payload as its element carries it: JSON, its keys in :data:`BLOB_KEYS`' order
    (whatever order a stored copy has them in: a notebook sorts them)."""
    return safe_json({k: payload[k] for k in BLOB_KEYS})


def blob_element(source_id: str, payload: dict, norms: dict | None = None, steps: dict | None = None) -> str:
    """The inert JSON script element that carries ``payload`` on a page. With
    ``norms`` (:func:`norms_payload`), it names the file its views' "norms" setting
    draws from (``data-norms``, :func:`norms_file`); with ``steps`` (:func:`steps_payload`),
    the file of the fine-tuned model's attention at each training checkpoint
    (``data-steps``) and the steps (``data-step-list``): each fetched only when a reader
    asks for it, so a page weighs what it did."""
    extra = f' data-norms="{esc(norms_file(source_id, norms))}"' if norms is not None else ""
    if steps is not None:
        extra += (f' data-steps="{esc(sidecar_file(source_id, steps, config.STEPS))}"'
                  f' data-step-list="{" ".join(str(int(s)) for s in steps["steps"])}"')
    return (f'<script type="application/json" class="gallery-attention-data" id="{esc(source_id)}"{extra}>'
            f"{blob_text(payload)}</script>")


# --------------------------------------------------------------------------- norm-based attention
# Kobayashi et al. (2020): ||alpha_ij f_h(x_j)||, the weight times the norm of what it
# moves (explain/forward.py ModelRun.norm_attention). Each query row is scaled to sum
# to 1, so it quantises and draws as weights do: the views show where a head's output
# comes from, in shares.

def source_id(slug: str) -> str:
    """The element id of a sentence page's attention blob."""
    return f"attention-{slug}"


NORMS_SUFFIX = "-norms"  # the norms blob's id: its weights blob's id + this (lib/blob.js sourceFor)


def norms_source_id(source_id: str) -> str:
    """The id of the norm-based blob of the weights blob ``source_id``."""
    return source_id + NORMS_SUFFIX


def row_normalised(norms: np.ndarray) -> np.ndarray:
    """Norm-based attention (layers, heads, query, key) with each query row scaled to
    sum to 1 (a row of zeros stays zeros)."""
    norms = np.asarray(norms, dtype=np.float64)
    total = norms.sum(axis=-1, keepdims=True)
    return np.divide(norms, total, out=np.zeros_like(norms), where=total > 0)


def norms_payload(tokens, trained_norms: np.ndarray, untrained_norms: np.ndarray) -> dict:
    """Both models' norm-based attention (``ModelRun.norm_attention``), rows scaled to
    sum to 1, in the weights blob's format (:func:`attention_payload`)."""
    return attention_payload(tokens, row_normalised(trained_norms), row_normalised(untrained_norms))


def measured(weights_html: str, norms_html: str) -> str:
    """Two versions of a figure, on attention weights and on norms: the page's script
    puts a weights / norms switch above them and shows one (lib/views.js); without it,
    the weights' (gallery.css)."""
    return f'<div class="gallery-measured" data-measure="weights">{weights_html}{norms_html}</div>'


def norms_file(source_id: str, norms: dict) -> str:
    """Where a page finds the norms blob, from the site's root:
    ``<gallery>/norms/<id>.js?v=<its hash>`` (a changed sentence gets a new address,
    so no browser shows an old one). The build writes it (:func:`norms_script`)."""
    digest = hashlib.sha256(blob_text(norms).encode("utf-8")).hexdigest()[:12]
    return f"{config.GALLERY_DIR.name}/{config.NORMS}/{source_id}.js?v={digest}"


def sidecar_file(source_id: str, data: dict, folder: str) -> str:
    """Where a page finds a sidecar of its blob, from the site's root:
    ``<gallery>/<folder>/<id>.js?v=<its hash>`` (a changed sentence gets a new address,
    so no browser shows an old one)."""
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest()[:12]
    return f"{config.GALLERY_DIR.name}/{folder}/{source_id}.js?v={digest}"


# --------------------------------------------------------------------------- training steps
# The fine-tuned adapter at each checkpoint of its run (explain/forward.py checkpoint_run):
# one blob per step in the weights blob's format, the checkpoint's attention in the
# trained half and zeros in the untrained half (which deflate to a few bytes: the page
# has the untrained model's already), so only its "trained" kind is drawn.

STEP_INFIX = "-step-"  # a step's blob id: its weights blob's id + this + the step (lib/blob.js stepSource)


def step_source_id(source_id: str, step: int) -> str:
    return f"{source_id}{STEP_INFIX}{int(step)}"


def steps_payload(tokens, steps, attentions) -> dict:
    """The fine-tuned model's attention at each of ``steps`` (``attentions``: one
    (layers, heads, n, n) array per step): ``{"steps": [...], "blobs": {step: payload}}``."""
    blobs = {}
    for step, a in zip(steps, attentions):
        a = np.asarray(a, dtype=np.float64)
        blobs[str(int(step))] = attention_payload(tokens, a, np.zeros_like(a))
    return {"steps": [int(s) for s in steps], "blobs": blobs}


def step_attention(steps: dict, step: int) -> np.ndarray:
    """The attention a steps payload holds for ``step``, as the page draws it."""
    return attention_weights(steps["blobs"][str(int(step))])[0]


def steps_script(source_id: str, steps: dict) -> str:
    """The steps' blobs as one classic script: ``self.galleryBlobs[<step id>]`` for each
    step (lib/backend.js)."""
    lines = ["self.galleryBlobs = self.galleryBlobs || {};"]
    for step in steps["steps"]:
        lines.append(f"self.galleryBlobs[{json.dumps(step_source_id(source_id, step))}] = "
                     f"{json.dumps(blob_text(steps['blobs'][str(step)]))};")
    return "\n".join(lines) + "\n"


def norms_script(source_id: str, norms: dict) -> str:
    """The norms blob as a classic script (so a page opened from disk loads it too):
    it puts the blob's text in ``self.galleryBlobs[<norms id>]`` (lib/backend.js)."""
    key = json.dumps(norms_source_id(source_id))
    return f"(self.galleryBlobs = self.galleryBlobs || {{}})[{key}] = {json.dumps(blob_text(norms))};\n"


def attention_blob(source_id: str, tokens, trained: np.ndarray, untrained: np.ndarray) -> str:
    """One inert JSON script element holding both models' attention for the page
    (:func:`attention_payload`)."""
    return blob_element(source_id, attention_payload(tokens, trained, untrained))


def attention_weights(payload: dict) -> tuple[np.ndarray, np.ndarray]:
    """The (trained, untrained) attention a payload holds, (layers, heads, n, n) each,
    as the page draws it (rounded to 1/:data:`SCALE`)."""
    if payload.get("encoding") != ENCODING:
        raise ValueError(f"unknown attention encoding {payload.get('encoding')!r} (expected {ENCODING!r})")
    layers, heads, n = payload["layers"], payload["heads"], len(payload["tokens"])
    raw = zlib.decompress(base64.b64decode(payload["weights"]))
    both = np.frombuffer(raw, dtype=np.uint8).astype(np.float64) / payload["scale"]
    both = both.reshape(2, layers, heads, n, n)
    return both[0], both[1]


def _attention_data(nb) -> dict | None:
    """The :data:`ATTENTION_MIME` data an executed notebook stores (its sentence card's
    output), or None: a notebook run in Jupyter mode stores none."""
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            data = out.get("data", {}).get(ATTENTION_MIME)
            if data is not None:
                return data
    return None


def attention_output(nb) -> tuple[str, dict] | None:
    """(element id, payload) of the attention an executed notebook stores, or None."""
    data = _attention_data(nb)
    return None if data is None else (data["id"], dict(data["blob"]))


def norms_output(nb) -> tuple[str, dict] | None:
    """(weights blob's id, norms payload) an executed notebook stores beside its
    attention (:data:`ATTENTION_MIME`'s ``"norms"``), or None."""
    data = _attention_data(nb)
    return None if data is None or data.get("norms") is None else (data["id"], dict(data["norms"]))


def steps_output(nb) -> tuple[str, dict] | None:
    """(weights blob's id, steps payload) an executed notebook stores beside its
    attention (:data:`ATTENTION_MIME`'s ``"steps"``), or None: a pair without checkpoints."""
    data = _attention_data(nb)
    return None if data is None or data.get("steps") is None else (data["id"], dict(data["steps"]))


def view_data(view: str, attentions, layer: int | None = None, heads: list[int] | None = None) -> dict:
    """What a view output draws, as data (:data:`VIEW_MIME`): a bertviz ``view``
    (``model_view`` or ``head_view``) of each of ``attentions``, a head view opened on
    ``layer`` and ``heads``."""
    data = {"view": view, "attentions": list(attentions)}
    if layer is not None:
        data.update(layer=int(layer), heads=[int(h) for h in heads])
    return data


def view_outputs(nb):
    """(cell, output index, view data) of every view output of an executed notebook."""
    for cell in nb.get("cells", []):
        for i, out in enumerate(cell.get("outputs", [])):
            data = out.get("data", {}).get(VIEW_MIME)
            if data is not None:
                yield cell, i, dict(data)


# The views' palette, titles and labels: one file for this module (captions, the
# downloads' bertviz views) and the site's JavaScript (the theme writes it into pages)
VIEW_SETTINGS = json.loads((config.PACKAGE_DIR / "views.json").read_text(encoding="utf-8"))
VIEW_TITLES: dict[str, str] = dict(VIEW_SETTINGS["titles"])
PALETTE: tuple[str, ...] = tuple(VIEW_SETTINGS["palette"])  # one colour per head or layer, in turn
if VIEW_TITLES["untrained"] != config.UNTRAINED_SHORT:
    raise ImportError("views.json: titles.untrained must be config.UNTRAINED_SHORT "
                      f"({config.UNTRAINED_SHORT!r}), the name every page uses")


def bertviz_view(source_id: str, view: str, attention: str, view_id: str,
                 layer: int | None = None, heads: list[int] | None = None, fit: bool = False) -> str:
    """A placeholder that the site's view script turns into a bertviz-style view
    (``fit``: a head view that scales with its column, for small pictures)."""
    if view not in ("model_view", "head_view"):
        raise ValueError(f"view must be model_view or head_view, not {view!r}")
    if attention not in VIEW_TITLES:
        raise ValueError(f"attention must be one of {sorted(VIEW_TITLES)}, not {attention!r}")
    attrs = {
        "class": "gallery-bertviz",
        "id": view_id,
        "data-source": source_id,
        "data-view": view,
        "data-attention": attention,
    }
    if layer is not None:
        attrs["data-layer"] = str(int(layer))
    if heads is not None:
        attrs["data-heads"] = json.dumps([int(h) for h in heads])
    if fit:
        attrs["data-fit"] = ""
    attr_text = " ".join(f'{k}="{esc(v)}"' for k, v in attrs.items())
    label = f"bertviz {view.replace('_', ' ')} of the {VIEW_TITLES[attention]}"
    caption = f"{view.replace('_', ' ').capitalize()}: {VIEW_TITLES[attention]}"
    return (f'<p class="gallery-caption gallery-view-caption">{esc(caption)}</p>'
            f'<div class="gallery-view-frame" role="figure" tabindex="0" aria-label="{esc(label)}">'
            f'<div {attr_text}><noscript>{esc(label)}: needs JavaScript.</noscript></div></div>')


def side_by_side(parts: list[str]) -> str:
    """Views in one row (one column on a narrow screen), so they compare at a glance."""
    cells = "".join(f'<div class="gallery-side-cell">{p}</div>' for p in parts)
    return f'<div class="gallery-side-by-side">{cells}</div>'


COMPARE_ID = "compare"  # the side-by-side block of a sentence page (one per page)
COMPARE_ATTENTIONS = ("trained", "untrained", "gained", "lost")


def compare_block(source_id: str, layer: int, head: int) -> str:
    """A placeholder that the site's view script turns into the side-by-side block: the
    head view of one layer for each of :data:`COMPARE_ATTENTIONS`, in one row, with
    one set of controls (layer, head) driving all of them. ``data-layer`` and
    ``data-head`` say what it shows (the script keeps them current); the page
    address ``#head-L-H`` opens it on layer L, head H."""
    attrs = {"class": "gallery-compare", "id": COMPARE_ID, "data-source": source_id,
             "data-layer": str(int(layer)), "data-head": str(int(head)),
             "data-attentions": " ".join(COMPARE_ATTENTIONS)}
    attr_text = " ".join(f'{k}="{esc(v)}"' for k, v in attrs.items())
    label = ("side by side, one layer and head: " + ", ".join(VIEW_TITLES[a] for a in COMPARE_ATTENTIONS))
    return (f'<div {attr_text} role="group" aria-label="{esc(label)}">'
            f"<noscript>{esc(label)}: needs JavaScript.</noscript></div>")


def sentence_card(text: str, tokens, gold: str, note: str = "") -> str:
    chips = "".join(f'<span class="gallery-token">{esc(t)}</span>' for t in tokens)
    note_html = f'<p class="gallery-note">{esc(note)}</p>' if note else ""
    return (
        '<div class="gallery-sentence">'
        f'<p class="gallery-text" dir="auto">{esc(text)}</p>'
        f'<p>Gold label: <strong class="gallery-label gallery-{esc(gold)}">{esc(gold)}</strong> · '
        f"{len(tokens)} tokens</p>{note_html}"
        f'<div class="gallery-tokens" dir="ltr">{chips}</div></div>'
    )


MODEL_NAMES = {"trained": f"{config.TRAINED_SHORT} model", "untrained": config.UNTRAINED_SHORT}


def model_name(which: str) -> str:
    """How a page names a model: the untrained one is the pretrained encoder with
    an untrained head, never just "untrained"."""
    return MODEL_NAMES.get(which, which)


def chance_mark(logits) -> str:
    """What the untrained head's verdict is: chance, with its margin in logits."""
    margin = abs(float(logits[0]) - float(logits[-1]))
    return f"≈ chance (margin {margin:.3f} logit)"


def predictions_table(labels, rows: dict, gold: str) -> str:
    """Logits, probabilities and prediction of each model, side by side.

    ``rows`` maps a model name to an object with ``logits``, ``probs``, ``predicted``.
    The untrained head's prediction is chance, never marked right or wrong.
    """
    head = "".join(f"<th>logit {esc(l)}</th>" for l in labels) + "".join(
        f"<th>p({esc(l)})</th>" for l in labels)
    body = []
    for name, run in rows.items():
        pred = labels[run.predicted]
        right = pred == gold
        cells = "".join(f"<td>{signed(x)}</td>" for x in run.logits) + "".join(
            f"<td>{p:.3f}</td>" for p in run.probs)
        if name == "untrained":
            verdict = f'<td class="gallery-chance">{esc(chance_mark(run.logits))}</td>'
        else:
            verdict = (f'<td class="gallery-{"right" if right else "wrong"}">'
                       f'{"✓ right" if right else "✗ wrong"}</td>')
        body.append(
            f"<tr><th>{esc(model_name(name))}</th>{cells}<td><strong>{esc(pred)}</strong></td>"
            f"{verdict}</tr>"
        )
    return scroll_frame('<table class="gallery-table"><thead><tr><th>model</th>' + head +
                        "<th>prediction</th><th>vs gold</th></tr></thead><tbody>" + "".join(body) +
                        "</tbody></table>", "predictions of both models")


MAX_ALPHA = 0.85  # the strongest colour a cell or a token takes (text stays readable on it)


def _alpha(value: float, vmax: float) -> float:
    return 0.0 if vmax <= 0 else round(min(1.0, abs(value) / vmax) * MAX_ALPHA, 3)


UNSIGNED_RGB = "124, 77, 255"  # one hue for unsigned scores (attention, rollout)


def full_share() -> float:
    """The share of a method's total |score| that is full colour (``rules.json``,
    ``colour.full_share``; the live page reads the same number)."""
    return float(rules.section("colour")["full_share"])


@dataclass(frozen=True)
class Scale:
    """The colour scale of one method over the rows that share it (both models).

    A token's strength is its share of ``total`` (the larger row's total |score|
    over the tokens not muted), full at :func:`full_share`: ``full`` is the |score|
    at full colour, ``largest`` the largest |score| of a token in any row."""

    total: float
    largest: float
    share: float

    @property
    def full(self) -> float:
        return self.share * self.total

    def strength(self, value: float) -> float:
        """The colour strength (0..MAX_ALPHA) of a token scoring ``value``."""
        return _alpha(value, self.full)


def _masks(rows, muted) -> list:
    """One mask per row: ``muted`` is one mask for every row, or one per row."""
    if len(rows) and len(muted) and np.ndim(muted[0]) == 1:
        return [np.asarray(m, bool) for m in muted]
    return [np.asarray(muted, bool)] * len(rows)


def colour_scale(rows, muted) -> Scale:
    """The colour scale of one method: the larger total |score| over the tokens
    not ``muted`` of ``rows`` (the same tokens' scores in both models, or two
    sentences' rows with a mask each), so a row of tiny scores stays pale in
    either row and nearly uniform scores look nearly uniform."""
    values = [np.abs(np.asarray(r, dtype=float))[~m] for r, m in zip(rows, _masks(rows, muted))]
    values = [v for v in values if v.size]
    total = float(max(v.sum() for v in values)) if values else 0.0
    largest = float(max(v.max() for v in values)) if values else 0.0
    return Scale(total=total, largest=largest, share=full_share())


def shared_scale(rows, muted) -> float:
    """The |score| at full colour of one method over ``rows``: see :func:`colour_scale`."""
    return colour_scale(rows, muted).full


def token_scores(tokens, scores, caption: str, muted=None, vmax: float | None = None,
                 signed_scores: bool = True) -> str:
    """The sentence with each token coloured by its score.

    Signed scores are by class: ``scores`` point toward the last label (positive)
    when > 0, coloured with the site's positive colour, and toward the first
    (negative) when < 0, in the negative colour. Unsigned scores use one hue.
    Strength = |score| / ``vmax``, the |score| at full colour (default: this row's
    own :func:`shared_scale`; special tokens such as [CLS] are shown uncoloured)."""
    scores = np.asarray(scores, dtype=float)
    muted = np.zeros(len(scores), bool) if muted is None else np.asarray(muted, bool)
    if vmax is None:
        vmax = shared_scale([scores], muted)
    spans = []
    for tok, s, mute in zip(display_tokens(tokens), scores, muted):
        if mute:
            spans.append(f'<span class="gallery-attr gallery-attr-muted" title="{signed(s)}">{esc(tok)}</span>')
            continue
        if signed_scores:
            kind = "pos" if s >= 0 else "neg"
            style = f"--a:{_alpha(s, vmax)}"
        else:
            kind = "unsigned"
            style = f"--a:{_alpha(s, vmax)};background:rgba({UNSIGNED_RGB},var(--a))"
        spans.append(
            f'<span class="gallery-attr gallery-attr-{kind}" style="{style}" '
            f'title="{signed(s)}">{esc(tok)}</span>'
        )
    return (f'<div class="gallery-attribution"><span class="gallery-attr-caption">{esc(caption)}</span>'
            f'<span class="gallery-attr-tokens" dir="ltr">{"".join(spans)}</span></div>')


def scale_item(title: str, scale: Scale, unit: str, is_signed: bool) -> str:
    """What one method's colours span, in numbers: the score at full colour, the
    share of the total it is, and the largest token's share (so a reader sees how
    far the strongest colour of the rows is from full)."""
    sign = "±" if is_signed else ""
    if scale.total <= 0:
        return f"{title}: every score is 0 (no colour)"
    return (f"{title}: full colour = {pct(scale.share)} of the total |score| "
            f"({sign}{scale.full:.3g} {unit}); the largest token has {pct(scale.largest / scale.total)} "
            f"({sign}{scale.largest:.3g} {unit})")


def attribution_legend(labels=("negative", "positive"), scales: dict | None = None,
                       signed_titles=None) -> str:
    """What the colours mean; ``scales`` maps a method title to (:class:`Scale`,
    unit, signed): one scale per method, shared by the rows it colours."""
    neg, pos = labels[0], labels[-1]
    share = pct(full_share())
    if signed_titles is None:  # the methods whose scores are signed, as the scales say
        signed_titles = [t for t, (_, _, is_signed) in (scales or {}).items() if is_signed]
    signed_titles = ", ".join(signed_titles) or "none here"  # as the live page says it
    head = (f'<p class="gallery-legend"><span class="gallery-attr gallery-attr-pos" style="--a:0.8">'
            f'toward {esc(pos)}</span> <span class="gallery-attr gallery-attr-neg" '
            f'style="--a:0.8">toward {esc(neg)}</span> <span class="gallery-attr gallery-attr-unsigned" '
            f'style="--a:0.8;background:rgba({UNSIGNED_RGB},var(--a))">weight (unsigned)</span> · '
            "a token's colour is its share of the method's total |score| over the words "
            "([CLS] and [SEP], greyed, are left out), one scale per method shared by the rows "
            f"(the total is the larger row's): full colour at {share} of the total, paler in proportion "
            "below it, so scores spread evenly over the words look evenly pale and a row of tiny scores "
            "stays pale. Signed scores "
            f"({esc(signed_titles)}) are coloured by the class they push toward, whichever class the "
            "model predicts; hover a token for its value (signed: + toward "
            f"{esc(pos)}).</p>")
    if not scales:
        return head
    items = "".join(f"<li>{esc(scale_item(title, scale, unit, is_signed))}</li>"
                    for title, (scale, unit, is_signed) in scales.items())
    return head + f'<ul class="gallery-caption">{items}</ul>'


def heatmap(values: np.ndarray, caption: str, row_label: str = "layer", col_label: str = "head",
            highlight=(), href=None) -> str:
    """A layers x heads table coloured by value (0 = no colour, max = full).
    ``href(layer, head)``, when given, makes each cell a link (e.g. ``#head-L-H``)."""
    values = np.asarray(values, dtype=float)
    vmax = float(values.max()) if values.size else 0.0
    marked = {(int(l), int(h)) for l, h in highlight}
    head = "".join(f"<th>{h}</th>" for h in range(values.shape[1]))
    rows = []
    for l, row in enumerate(values):
        cells = []
        for h, v in enumerate(row):
            text = f"{v:.2f}"
            if href is not None:  # the name starts with the cell's text (WCAG 2.5.3)
                text = (f'<a href="{esc(href(l, h))}" data-layer="{l}" data-head="{h}" '
                        f'aria-label="{text}: layer {l}, head {h} ({v:.3f})">{text}</a>')
            cells.append(f'<td class="{"gallery-top" if (l, h) in marked else ""}" '
                         f'style="--a:{_alpha(v, vmax)}" title="layer {l}, head {h}: {v:.3f}">{text}</td>')
        rows.append(f"<tr><th>{l}</th>{''.join(cells)}</tr>")
    return scroll_frame(f'<table class="gallery-heatmap" aria-label="{esc(caption)}">'
                        f"<caption>{esc(caption)}</caption>"
                        f"<thead><tr><th>{esc(row_label)} \\ {esc(col_label)}</th>{head}</tr></thead>"
                        f"<tbody>{''.join(rows)}</tbody></table>", caption)


def scroll_frame(inner: str, label: str) -> str:
    """A wide table in a frame that scrolls sideways on its own; the frame can take
    the keyboard's focus (so it scrolls without a mouse) and is named by ``label``."""
    return (f'<div class="gallery-scroll" tabindex="0" role="region" aria-label="{esc(label)}">'
            f"{inner}</div>")


def simple_table(header, rows, label: str = "table", raw: bool = False) -> str:
    """A table of text cells (escaped; ``raw``: the cells are markup already escaped)."""
    h = "".join(f"<th>{esc(c)}</th>" for c in header)
    cell = (lambda c: str(c)) if raw else esc
    b = "".join("<tr>" + "".join(f"<td>{cell(c)}</td>" for c in r) + "</tr>" for r in rows)
    return scroll_frame(f'<table class="gallery-table"><thead><tr>{h}</tr></thead><tbody>{b}</tbody></table>', label)
