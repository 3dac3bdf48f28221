/* A sentence page's markup, as attention_gallery/explain/views.py writes it, for the
 * pages the browser writes (the live page): the same elements, classes and
 * accessibility attributes (tabindex, role, aria-label), the same escaping, the same
 * numbers as text. tests/golden/markup.json holds what views.py writes for a few
 * inputs; tests/js/markup.test.js checks these functions write exactly that.
 *
 * Everything a sentence contributes (its text, its tokens) is escaped here. */

import { alpha } from "./colour-scale.js";

export var UNSIGNED_RGB = "124, 77, 255";  /* views.UNSIGNED_RGB */

/* html.escape(value, quote=True) */
export function esc(value) {
  return String(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#x27;");
}

/* Python's f"{x:.{digits}f}", but never -0.000: the exact value rounded, halves to
   even (toFixed rounds exact halves away from zero) */
export function fixed(value, digits) {
  var x = Number(value), s = x.toFixed(digits);
  var exact = Math.abs(x).toFixed(Math.min(100, digits + 30)), point = exact.indexOf(".");
  if (/^50*$/.test(exact.slice(point + 1 + digits))) {
    var kept = exact.slice(0, digits ? point + 1 + digits : point);
    if (+kept.charAt(kept.length - 1) % 2 === 0) s = (x < 0 ? "-" : "") + kept;
  }
  return Number(s) === 0 ? (0).toFixed(digits) : s;
}

/* views.signed: the sign and ``digits`` decimals; never -0.000 */
export function signed(value, digits) {
  var s = fixed(value, digits === undefined ? 3 : digits);
  return (s.charAt(0) === "-" ? "" : "+") + s;
}

/* Python's str() of a float (0.0, not 0) */
export function pyFloat(x) {
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

/* bertviz's format_special_chars */
export function shown(tokens) {
  return tokens.map(function (t) { return t.replace(/Ġ/g, " ").replace(/▁/g, " ").replace(/<\/w>/g, ""); });
}

function attrText(attrs) {
  return Object.keys(attrs).map(function (k) { return k + '="' + esc(attrs[k]) + '"'; }).join(" ");
}

/* views.scroll_frame: a wide table in a frame that scrolls sideways on its own, that
   takes the keyboard's focus and is named by ``label`` */
export function scrollFrame(inner, label) {
  return '<div class="gallery-scroll" tabindex="0" role="region" aria-label="' + esc(label) + '">' + inner + "</div>";
}

/* views.bertviz_view: a placeholder lib/views.js draws. titles: views.json "titles" */
export function view(titles, source, kind, attention, id, layer, heads) {
  if (kind !== "model_view" && kind !== "head_view") throw new Error("view must be model_view or head_view, not " + kind);
  if (!(attention in titles)) throw new Error("attention must be one of " + Object.keys(titles).join(", ") + ", not " + attention);
  var attrs = { "class": "gallery-bertviz", id: id, "data-source": source, "data-view": kind, "data-attention": attention };
  if (layer !== undefined && layer !== null) attrs["data-layer"] = String(layer);
  if (heads !== undefined && heads !== null) attrs["data-heads"] = "[" + heads.join(", ") + "]";
  var name = kind.replace("_", " "), label = "bertviz " + name + " of the " + titles[attention];
  var caption = name.charAt(0).toUpperCase() + name.slice(1) + ": " + titles[attention];
  return '<p class="gallery-caption gallery-view-caption">' + esc(caption) + "</p>" +
    '<div class="gallery-view-frame" role="figure" tabindex="0" aria-label="' + esc(label) + '">' +
    "<div " + attrText(attrs) + "><noscript>" + esc(label) + ": needs JavaScript.</noscript></div></div>";
}

/* views.sentence_card; gold: the gold label (a gallery page), or null: ``line`` says
   what the page is instead (the live page) */
export function sentenceCard(text, tokens, gold, note, line) {
  var chips = tokens.map(function (t) { return '<span class="gallery-token">' + esc(t) + "</span>"; }).join("");
  var noteHtml = note ? '<p class="gallery-note">' + esc(note) + "</p>" : "";
  var about = gold === null || gold === undefined ? esc(line)
    : 'Gold label: <strong class="gallery-label gallery-' + esc(gold) + '">' + esc(gold) + "</strong> · " + tokens.length + " tokens";
  return '<div class="gallery-sentence"><p class="gallery-text" dir="auto">' + esc(text) + "</p>" +
    "<p>" + about + "</p>" + noteHtml + '<div class="gallery-tokens" dir="ltr">' + chips + "</div></div>";
}

/* views.chance_mark */
export function chanceMark(logits) {
  return "≈ chance (margin " + fixed(Math.abs(logits[0] - logits[logits.length - 1]), 3) + " logit)";
}

/* views.predictions_table. rows: [[name shown, which ("trained" | "untrained"), {logits,
   probs, predicted}]]; gold: the gold label (the last column says right or wrong), or
   null (the live page: it reads the fine-tuned model's confidence) */
export function predictionsTable(labels, rows, gold) {
  var head = labels.map(function (l) { return "<th>logit " + esc(l) + "</th>"; }).join("") +
    labels.map(function (l) { return "<th>p(" + esc(l) + ")</th>"; }).join("");
  var body = rows.map(function (row) {
    var name = row[0], which = row[1], run = row[2], pred = labels[run.predicted], verdict;
    var cells = run.logits.map(function (x) { return "<td>" + signed(x) + "</td>"; }).join("") +
      run.probs.map(function (p) { return "<td>" + fixed(p, 3) + "</td>"; }).join("");
    if (which === "untrained") verdict = '<td class="gallery-chance">' + esc(chanceMark(run.logits)) + "</td>";
    else if (gold === null || gold === undefined) verdict = '<td class="gallery-conf">p = ' + fixed(run.probs[run.predicted], 2) + "</td>";
    else verdict = '<td class="gallery-' + (pred === gold ? "right" : "wrong") + '">' + (pred === gold ? "✓ right" : "✗ wrong") + "</td>";
    return "<tr><th>" + esc(name) + "</th>" + cells + "<td><strong>" + esc(pred) + "</strong></td>" + verdict + "</tr>";
  }).join("");
  var last = gold === null || gold === undefined ? "reading" : "vs gold";
  return scrollFrame('<table class="gallery-table"><thead><tr><th>model</th>' + head + "<th>prediction</th><th>" + last +
                     "</th></tr></thead><tbody>" + body + "</tbody></table>", "predictions of both models");
}

/* views.heatmap: a layers x heads table coloured by value; href(layer, head), when
   given, makes each cell a link */
export function heatmap(values, caption, highlight, href, rowLabel, colLabel) {
  var vmax = 0, marked = {};
  values.forEach(function (row) { row.forEach(function (v) { vmax = Math.max(vmax, v); }); });
  (highlight || []).forEach(function (t) { marked[t[0] + "," + t[1]] = true; });
  var H = values.length ? values[0].length : 0, head = "";
  for (var h = 0; h < H; h++) head += "<th>" + h + "</th>";
  var rows = values.map(function (row, l) {
    return "<tr><th>" + l + "</th>" + row.map(function (v, h) {
      var text = fixed(v, 2);
      if (href) {
        text = '<a href="' + esc(href(l, h)) + '" data-layer="' + l + '" data-head="' + h + '" aria-label="' + text +
          ": layer " + l + ", head " + h + " (" + fixed(v, 3) + ')">' + text + "</a>";
      }
      return '<td class="' + (marked[l + "," + h] ? "gallery-top" : "") + '" style="--a:' + pyFloat(alpha(v, vmax)) +
        '" title="layer ' + l + ", head " + h + ": " + fixed(v, 3) + '">' + text + "</td>";
    }).join("") + "</tr>";
  }).join("");
  return scrollFrame('<table class="gallery-heatmap" aria-label="' + esc(caption) + '"><caption>' + esc(caption) + "</caption>" +
                     "<thead><tr><th>" + esc(rowLabel || "layer") + " \\ " + esc(colLabel || "head") + "</th>" + head +
                     "</tr></thead><tbody>" + rows + "</tbody></table>", caption);
}

/* views.measured: two versions of a figure, on attention weights and on norms (the
   page's weights / norms switch shows one) */
export function measured(weightsHtml, normsHtml) {
  return '<div class="gallery-measured" data-measure="weights">' + weightsHtml + normsHtml + "</div>";
}

/* views.token_scores: the sentence with each token coloured by its score (``full``:
   the |score| at full colour); muted tokens ([CLS], [SEP]) uncoloured */
export function tokenScores(tokens, scores, caption, muted, full, isSigned) {
  var spans = shown(tokens).map(function (tok, i) {
    var s = scores[i];
    if (muted[i]) return '<span class="gallery-attr gallery-attr-muted" title="' + signed(s) + '">' + esc(tok) + "</span>";
    var a = pyFloat(alpha(s, full));
    var style = isSigned ? "--a:" + a : "--a:" + a + ";background:rgba(" + UNSIGNED_RGB + ",var(--a))";
    var kind = isSigned ? (s >= 0 ? "pos" : "neg") : "unsigned";
    return '<span class="gallery-attr gallery-attr-' + kind + '" style="' + style + '" title="' + signed(s) + '">' + esc(tok) + "</span>";
  }).join("");
  return '<div class="gallery-attribution"><span class="gallery-attr-caption">' + esc(caption) +
    '</span><span class="gallery-attr-tokens" dir="ltr">' + spans + "</span></div>";
}

/* views.attribution_legend. share: the full share as text ("50%"); signedNames: the
   signed methods the page shows ("IG, leave-one-out"); items: the legend's lines
   (colour-scale.js item()) */
export function legend(labels, share, signedNames, items) {
  var neg = labels[0], pos = labels[labels.length - 1];
  var head = '<p class="gallery-legend"><span class="gallery-attr gallery-attr-pos" style="--a:0.8">toward ' + esc(pos) +
    '</span> <span class="gallery-attr gallery-attr-neg" style="--a:0.8">toward ' + esc(neg) +
    '</span> <span class="gallery-attr gallery-attr-unsigned" style="--a:0.8;background:rgba(' + UNSIGNED_RGB +
    ',var(--a))">weight (unsigned)</span> · a token\'s colour is its share of the method\'s total |score| over the words ' +
    "([CLS] and [SEP], greyed, are left out), one scale per method shared by the rows (the total is the larger row's): " +
    "full colour at " + share + " of the total, paler in proportion below it, so scores spread evenly over the words look " +
    "evenly pale and a row of tiny scores stays pale. Signed scores (" + signedNames + ") are coloured by the class they push " +
    "toward, whichever class the model predicts; hover a token for its value (signed: + toward " + esc(pos) + ").</p>";
  if (!items || !items.length) return head;
  return head + '<ul class="gallery-caption">' + items.map(function (i) { return "<li>" + esc(i) + "</li>"; }).join("") + "</ul>";
}

/* views.simple_table: a table of text cells (escaped; raw: markup already escaped) */
export function simpleTable(header, rows, label, raw) {
  var cell = raw ? String : esc;
  return scrollFrame('<table class="gallery-table"><thead><tr>' +
    header.map(function (c) { return "<th>" + esc(c) + "</th>"; }).join("") + "</tr></thead><tbody>" +
    rows.map(function (r) { return "<tr>" + r.map(function (c) { return "<td>" + cell(c) + "</td>"; }).join("") + "</tr>"; }).join("") +
    "</tbody></table>", label || "table");
}
