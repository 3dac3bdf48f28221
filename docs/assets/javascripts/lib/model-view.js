/* bertviz's model view: a row of thumbnails per layer, one per head; click one for
 * its detail (its lines larger, hover a token for its own), drawn by the raster
 * workers a layer at a time, nearest the viewport first. */

import { backend } from "./backend.js";
import { rgb } from "./colour.js";
import { canvas, dpr, nearestFirst, place, show, svg, text, unreserve } from "./dom.js";
import { colourOf, settings } from "./settings.js";

/* ------------------------------------------------------------ model view */

export var MODEL = { W: 970, PAD: 5, DETAIL_W: 300, DETAIL_ATTN_W: 140, BOX_W: 80, BOX_H: 18,
              DETAIL_PAD: 15, HEADING_H: 25, HEADING_TEXT: 15, HEADING_PAD: 5, TEXT: 13, TEXT_PAD: 5 };
var LABEL_PX = 12;  /* the smallest text a model view shows on screen, however narrow it is drawn */
export var MIN_WIDTH = 300;  /* the narrowest a model view is drawn (gallery.css .gv-stage): a phone shows all its heads */

/* The model view's layout for a view drawn ``width`` px wide: text (and what holds
   text) scaled up so that it stays at least LABEL_PX on screen. */
export function modelLayout(width) {
  var k = LABEL_PX / (MODEL.TEXT * Math.min(1, Math.max(MIN_WIDTH, width || MODEL.W) / MODEL.W)), m = {};
  for (var key in MODEL) {
    m[key] = key === "W" || key === "PAD" || k <= 1 ? MODEL[key] : MODEL[key] * k;
  }
  return m;
}

/* A model view's height in view units (its width is M.W), for the layout M. */
export function modelHeight(n, L, H, M) {
  var axis = M.HEADING_TEXT + M.HEADING_PAD + M.TEXT + M.TEXT_PAD;
  return Math.max(L * (n * 7 * (12 / H) + 2 * M.PAD) + axis, n * M.BOX_H + 2 * M.DETAIL_PAD + M.HEADING_H);
}

export function modelView(el, meta, source, kind, at) {
  at = at || el.getBoundingClientRect();
  var M = modelLayout(at.width);
  var n = meta.tokens.length, L = meta.layers, H = meta.heads, s = meta.scale;
  var axis = M.HEADING_TEXT + M.HEADING_PAD + M.TEXT + M.TEXT_PAD;
  var boxH = 7 * (12 / H);
  var thumbH = n * boxH + 2 * M.PAD, thumbW = (M.W - axis) / H;
  var detailH = n * M.BOX_H + 2 * M.DETAIL_PAD + M.HEADING_H;
  var height = modelHeight(n, L, H, M);

  /* drawn at the resolution shown (the stage scales with the column, between its
     min-width and M.W), its layers nearest the viewport first */
  var shown = Math.max(MIN_WIDTH, Math.min(M.W, at.width || M.W));
  var r = Math.max(0.5, shown / M.W) * dpr();
  var order = nearestFirst(at.top, shown / M.W, L, axis, thumbH);

  unreserve(el);
  el.innerHTML = "";
  el.gvModel = { layout: M, axis: axis, thumbW: thumbW, thumbH: thumbH };  /* for annotations */
  var root = document.createElement("div");
  root.className = "gv gv-model";
  root.style.containIntrinsicSize = "auto " + Math.ceil(shown * height / M.W) + "px";  /* its size when skipped */
  var stage = document.createElement("div");
  stage.className = "gv-stage";
  stage.style.aspectRatio = M.W + " / " + height;
  stage.style.maxWidth = M.W + "px";
  root.appendChild(stage);
  var box = { viewBox: "0 0 " + M.W + " " + height, "class": "gv-layer" };
  var under = svg("svg", box, stage);
  var selected = svg("rect", { "class": "gv-selected", width: thumbW, height: thumbH,
                               "stroke-width": 2, "stroke-opacity": 0.8, visibility: "hidden" }, under);
  var rows = [];
  var over = svg("svg", box, stage);
  over.classList.add("gv-over", "gv-model-over");
  var labels = svg("g", { "class": "gv-text" }, over);
  text(labels, "Heads", { "font-weight": "bold", "font-size": M.HEADING_TEXT + "px", x: axis + thumbW * H / 2,
                          "text-anchor": "middle", y: 0, dy: M.HEADING_TEXT });
  for (var h = 0; h < H; h++) {
    text(labels, h, { "font-size": M.TEXT + "px", x: axis + (h + 0.5) * thumbW, "text-anchor": "middle",
                      y: M.HEADING_TEXT + M.HEADING_PAD, dy: M.TEXT });
  }
  var ly = axis + thumbH * L / 2;
  text(labels, "Layers", { "font-weight": "bold", transform: "rotate(270, 0, " + ly + ")",
                           "font-size": M.HEADING_TEXT + "px", x: 0, "text-anchor": "middle", y: ly,
                           dy: M.HEADING_TEXT });
  for (var l = 0; l < L; l++) {
    text(labels, l, { "font-size": M.TEXT + "px", x: M.HEADING_TEXT + M.HEADING_PAD + M.TEXT,
                      "text-anchor": "end", y: axis + (l + 0.5) * thumbH, dy: M.TEXT / 2 });
  }
  el.appendChild(root);

  var geometry = { width: Math.ceil(M.W * r), height: Math.ceil(thumbH * r), r: r, axis: axis,
                   thumbW: thumbW, pad: M.PAD, boxH: boxH, n: n, H: H, scale: s, ramp: settings().opacity };
  for (l = 0; l < L; l++) {
    var c = canvas(stage, geometry.width, geometry.height, "gv-layer gv-thumbs");
    place(c, 0, axis + l * thumbH, M.W, thumbH, M.W, height);
    stage.insertBefore(c, over);
    rows.push(c);
  }

  var detail = null, detailAt = null;

  function showDetail(layer, head) {
    if (detail) { detail.remove(); detail = null; }
    if (detailAt && detailAt[0] === layer && detailAt[1] === head) {
      detailAt = null;
      selected.setAttribute("visibility", "hidden");
      return;
    }
    detailAt = [layer, head];
    var color = colourOf(layer), offset = (layer * H + head) * n * n;
    selected.setAttribute("x", axis + head * thumbW);
    selected.setAttribute("y", axis + layer * thumbH);
    selected.setAttribute("stroke", color);
    selected.setAttribute("visibility", "visible");
    /* bertviz's placement (its detail uses a 36-unit axis) */
    var left = M.TEXT + M.HEADING_PAD + M.TEXT + M.TEXT_PAD + head * thumbW;
    var x = left + M.PAD + 0.8 * thumbW;
    if (x + M.DETAIL_W > M.W) x = left + M.PAD - M.DETAIL_W + 8;
    x = Math.max(0, Math.min(x, M.W - M.DETAIL_W));  /* a narrow view's detail (larger text) stays inside it */
    var y = layer * thumbH + M.PAD + 20;
    if (y < 0) y = 0; else if (y + detailH > height - 3) y = height - 3 - detailH;
    var mine = detail = svg("g", { "class": "gv-detail" }, over);
    svg("rect", { x: x, y: y, width: M.DETAIL_W, height: detailH, stroke: color, "stroke-width": 1.5,
                  "stroke-opacity": 0.7, "class": "gv-frame" }, detail);
    text(detail, "Layer " + layer + ", Head " + head, {
      "font-size": M.TEXT + "px", "font-weight": "bold", x: x + M.DETAIL_W / 2, "text-anchor": "middle",
      y: y + M.DETAIL_PAD, dy: M.HEADING_TEXT });
    var top = y + M.DETAIL_PAD + M.HEADING_H;
    var leftText = svg("g", { "class": "gv-tokens" }, detail);
    var rightText = svg("g", { "class": "gv-tokens" }, detail);
    for (var i = 0; i < n; i++) {
      text(leftText, meta.tokens[i], { "font-size": M.TEXT + "px", x: x, dx: M.BOX_W - 2,
                                       "text-anchor": "end", y: top + i * M.BOX_H, dy: M.TEXT });
      text(rightText, meta.tokens[i], { "font-size": M.TEXT + "px", x: x + M.BOX_W + M.DETAIL_ATTN_W,
                                        y: top + i * M.BOX_H, dy: M.TEXT });
    }
    var hover = svg("rect", { x: x, y: top, width: M.BOX_W, height: n * M.BOX_H, "class": "gv-hit" }, detail);
    var holder = document.createElement("div");
    holder.className = "gv-layer gv-detail-lines";
    place(holder, x + M.BOX_W, top, M.DETAIL_ATTN_W, n * M.BOX_H, M.W, height);
    stage.appendChild(holder);  /* over the detail's frame */
    var dr = r;
    var dg = { width: Math.ceil(M.DETAIL_ATTN_W * dr), height: Math.ceil(n * M.BOX_H * dr), r: dr,
               step: M.BOX_H, n: n, scale: s, ramp: settings().opacity };
    var dc = canvas(holder, dg.width, dg.height), dctx = dc.getContext("2d");
    var weights = null;
    function drawDetail(only) {
      if (!weights) return;
      var img = backend.local.detailPicture(weights, dg, offset, rgb(color), only);
      dctx.putImageData(new ImageData(img, dg.width, dg.height), 0, 0);
    }
    backend.weights(source, kind).then(function (w) {
      weights = w;
      if (detail === mine) drawDetail(hover.current === undefined || hover.current === null ? null : hover.current);
    });
    hover.addEventListener("mousemove", function (event) {
      var rect = hover.getBoundingClientRect();
      var i = Math.min(n - 1, Math.max(0, Math.floor((event.clientY - rect.top) / rect.height * n)));
      if (i !== hover.current) { hover.current = i; drawDetail(i); }
    });
    hover.addEventListener("mouseleave", function () { hover.current = null; drawDetail(null); });
    /* the keyboard as the mouse: focus the detail's tokens, the arrow keys choose one */
    var at = 0;
    hover.setAttribute("tabindex", "0");
    hover.setAttribute("role", "slider");
    hover.setAttribute("aria-label", "Layer " + layer + ", head " + head + ": attention from a token; arrow keys choose the token");
    hover.setAttribute("aria-valuemin", "0");
    hover.setAttribute("aria-valuemax", String(n - 1));
    function choose(i) {
      at = Math.min(n - 1, Math.max(0, i));
      hover.setAttribute("aria-valuenow", String(at));
      hover.setAttribute("aria-valuetext", "lines from token " + at + ", " + meta.tokens[at]);
      hover.current = at;
      drawDetail(at);
    }
    hover.addEventListener("focus", function () { choose(at); });
    hover.addEventListener("blur", function () { hover.current = null; drawDetail(null); });
    hover.addEventListener("keydown", function (event) {
      var step = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1, PageDown: 5, PageUp: -5 }[event.key];
      if (event.key === "Escape") { event.preventDefault(); over.focus(); showDetail(layer, head); return; }
      if (step === undefined && event.key !== "Home" && event.key !== "End") return;
      event.preventDefault();
      event.stopPropagation();
      choose(event.key === "Home" ? 0 : event.key === "End" ? n - 1 : at + step);
    });
    var remove = detail.remove.bind(detail);
    detail.remove = function () { remove(); holder.remove(); };
  }

  over.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest(".gv-detail")) return;
    var rect = over.getBoundingClientRect();
    var x = (event.clientX - rect.left) * M.W / rect.width, y = (event.clientY - rect.top) * height / rect.height;
    var head = Math.floor((x - axis) / thumbW), layer = Math.floor((y - axis) / thumbH);
    if (head >= 0 && head < H && layer >= 0 && layer < L) { cursor = [layer, head]; showDetail(layer, head); }
  });
  /* the keyboard as the mouse: focus the view, the arrow keys choose a layer and head
     and open its detail (Enter or Space closes and opens it again; Tab reaches its tokens) */
  var cursor = [0, 0];
  over.setAttribute("tabindex", "0");
  over.setAttribute("role", "group");
  over.setAttribute("aria-label", "Model view, " + L + " layers of " + H + " heads: arrow keys choose a head and open it");
  over.addEventListener("keydown", function (event) {
    if (event.target !== over) return;
    var move = { ArrowDown: [1, 0], ArrowUp: [-1, 0], ArrowRight: [0, 1], ArrowLeft: [0, -1] }[event.key];
    if (move) {
      event.preventDefault();
      cursor = [Math.min(L - 1, Math.max(0, cursor[0] + move[0])), Math.min(H - 1, Math.max(0, cursor[1] + move[1]))];
      if (!detailAt || detailAt[0] !== cursor[0] || detailAt[1] !== cursor[1]) showDetail(cursor[0], cursor[1]);
    } else if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      showDetail(cursor[0], cursor[1]);
    } else if (event.key === "Escape" && detailAt) {
      showDetail(detailAt[0], detailAt[1]);
    }
  });
  over.addEventListener("mousemove", function (event) {
    var rect = over.getBoundingClientRect();
    var x = (event.clientX - rect.left) * M.W / rect.width, y = (event.clientY - rect.top) * height / rect.height;
    over.style.cursor = x >= axis && y >= axis && y < axis + L * thumbH ? "pointer" : "";
  });

  return backend.model({ type: "model", id: source, kind: kind, g: geometry, order: order,
                         colors: settings().palette.map(rgb) }, function (msg) { show(rows[msg.part], msg); });
}
