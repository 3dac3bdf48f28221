/* The figures of *How to read the views*: <div class="gallery-figure"
 * data-figure="line|layer|gained" data-source=ID data-layer data-head> placeholders,
 * fed one gallery sentence's attention at build (attention_gallery's figures.py),
 * drawn with the site's views and annotated, with a caption saying what is marked. */

import { compactLayout } from "./compare.js";
import { attention, drawView } from "./views.js";

/* marks (SVG markup in the view's own units) over a drawn view */
function annotate(view, marks) {
  var stage = view.querySelector(".gv-head-stage, .gv-stage"), box = stage && stage.querySelector("svg.gv-over");
  if (!box) return;
  var over = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  var viewBox = box.getAttribute("viewBox");
  if (!viewBox && view.gvHead) {  /* a head view drawn at its natural size */
    var V = view.gvHead.state().layout;
    viewBox = "0 0 " + (2 * V.BOX_W + V.MATRIX_W) + " " + box.getAttribute("height");
  }
  if (!viewBox) return;
  over.setAttribute("viewBox", viewBox);
  over.setAttribute("class", "gv-layer gallery-annotations");
  over.setAttribute("aria-hidden", "true");
  over.innerHTML = marks.join("");
  stage.appendChild(over);
}

function rect(cls, x, y, w, h) {
  return '<rect class="' + cls + '" x="' + x + '" y="' + y + '" width="' + w + '" height="' + h + '"/>';
}

function pct(a, scale) { return Math.round(100 * a / scale) + "%"; }

/* One figure of the reading page: "line" (a line of the fine-tuned model's most
   changed head), "layer" (a head and a layer in the model view), "gained" (a line
   fine-tuning gained), each annotated, with a caption saying what is marked. */
export function drawFigure(figure) {
  if (figure.gvFigure) return figure.gvFigure;
  var source = figure.getAttribute("data-source"), kind = figure.getAttribute("data-figure");
  var layer = +figure.getAttribute("data-layer"), head = +figure.getAttribute("data-head");
  var view = figure.querySelector(".gallery-figure-view"), note = figure.querySelector(".gallery-figure-note");
  var where = "layer " + layer + ", head " + head;
  var kinds = kind === "gained" ? ["gained", "trained", "untrained"] : ["trained"];
  figure.gvFigure = Promise.all(kinds.map(function (k) { return attention(source, k); })).then(function (got) {
    var data = got[0], n = data.tokens.length, off = (layer * data.heads + head) * n * n, w = data.weights;
    var best = 1;  /* the strongest line from [CLS] (the position the classifier reads) to a word */
    for (var j = 1; j < n - 1; j++) if (w[off + j] > w[off + best]) best = j;
    var to = "“" + data.tokens[best] + "”";
    if (kind === "layer") {
      return drawView(view, data, { view: "model_view" }).then(function () {
        var g = view.gvModel, W = g.layout.W, thumbH = g.thumbH, thumbW = g.thumbW;
        var y = g.axis + layer * thumbH, x = g.axis + head * thumbW;
        annotate(view, [rect("ga-layer", g.axis - 4, y - 2, W - g.axis + 2, thumbH + 4),
                        rect("ga-head", x + 1, y + 3, thumbW - 8, thumbH - 6)]);
        if (note) note.textContent = "Marked in orange: a layer (the dashed row: layer " + layer + ", its " +
          data.heads + " heads, each a thumbnail of its lines) and a head (the box: " + where +
          ", the head fine-tuning changed most in this sentence). The fine-tuned model.";
        figure.setAttribute("data-drawn", "");
      });
    }
    var layout = compactLayout(data.tokens);
    return drawView(view, data, { view: "head_view", layer: layer, heads: [head], controls: false,
                                     fit: 1.6, layout: layout }).then(function () {
      var V = view.gvHead.state().layout, x2 = V.BOX_W + V.MATRIX_W;
      var y1 = V.TOP + 0.5 * V.BOX_H, y2 = V.TOP + (best + 0.5) * V.BOX_H;
      view.gvHead.hover(0, 0);  /* only [CLS]'s lines */
      annotate(view, ['<line class="ga-line" x1="' + V.BOX_W + '" y1="' + y1 + '" x2="' + x2 + '" y2="' + y2 + '"/>',
                      rect("ga-token", 1, V.TOP + 1, V.BOX_W - 2, V.BOX_H - 2),
                      rect("ga-token", x2 + 1, V.TOP + best * V.BOX_H + 1, V.BOX_W - 2, V.BOX_H - 2)]);
      if (note) note.textContent = kind === "gained"
        ? "Attention gained by fine-tuning, " + where + ", the lines from [CLS]. Marked in orange: a gained line, " +
          "[CLS] → " + to + ": the fine-tuned model sends " + pct(got[1].weights[off + best], data.scale) +
          " of [CLS]'s attention there, the pretrained encoder " + pct(got[2].weights[off + best], data.scale) +
          "; the line's weight is the gain, " + Math.round(100 * w[off + best] / data.scale) + " points."
        : "The fine-tuned model, " + where + ", the lines from [CLS] (hover a token for its own). Marked in orange: " +
          "one line, [CLS] → " + to + ", the strongest: " + pct(w[off + best], data.scale) +
          " of [CLS]'s attention, so the darkest.";
      figure.setAttribute("data-drawn", "");
    });
  }).catch(function (err) { console.error(err); });
  return figure.gvFigure;
}
export function drawFigures() {
  return Promise.all(Array.prototype.map.call(document.querySelectorAll(".gallery-figure[data-source]"), drawFigure));
}
