/* bertviz's head view: a layer's heads as lines from each token (left, the query)
 * to the tokens it attends to (right), a square per head to switch it (click) or
 * show it alone (double-click), a layer menu; hover a token, or focus a column and
 * use the arrow keys, for its lines alone. The raster worker draws the lines of the
 * active heads; the hovered token's few lines are drawn here at once.
 *
 * el.gvHead (for the side-by-side block and the reading page's figures):
 *   show(layer, heads) -> Promise, hover(side, index | null), pin(side, index | null),
 *   state() -> {layer, heads, layout} */

import { backend } from "./backend.js";
import { lighten, rgb } from "./colour.js";
import { opacityLevels } from "./raster.js";
import { canvas, dpr, place, range, show, svg, text, unreserve } from "./dom.js";
import { colourOf, settings } from "./settings.js";

/* ------------------------------------------------------------ head view */

export var HEAD = { TEXT: 15, BOX_W: 110, BOX_H: 22.5, MATRIX_W: 115, CHECK: 20, TOP: 30 };

/* a head view's width in view units, for its layout */
export function naturalWidth(layout) { return 2 * layout.BOX_W + layout.MATRIX_W; }

export function headView(el, meta, source, kind, options) {
  var V = Object.assign({}, HEAD, options.layout || {});  /* the side-by-side block: a compact layout */
  var palette = settings().palette;
  var n = meta.tokens.length, L = meta.layers, H = meta.heads, s = meta.scale;
  var height = n * V.BOX_H + V.TOP, width = 2 * V.BOX_W + V.MATRIX_W;
  var layer = Math.min(L - 1, Math.max(0, options.layer || 0));
  var active = [];
  for (var h = 0; h < H; h++) active.push(!options.heads || options.heads.indexOf(h) >= 0);
  if (active.indexOf(true) < 0) active = active.map(function () { return true; });

  unreserve(el);
  el.innerHTML = "";
  var root = document.createElement("div");
  root.className = "gv gv-head";
  root.style.containIntrinsicSize = "auto " + (height + 2 * V.TEXT) + "px";  /* its size when skipped */
  var controls = document.createElement("span");
  controls.className = "gv-controls";
  controls.appendChild(document.createTextNode("Layer: "));
  var select = document.createElement("select");
  select.setAttribute("aria-label", "Layer");
  for (var l = 0; l < L; l++) {
    var option = document.createElement("option");
    option.value = option.textContent = l;
    select.appendChild(option);
  }
  select.value = layer;
  controls.appendChild(select);
  if (options.controls !== false) root.appendChild(controls);
  var stage = document.createElement("div");
  stage.className = "gv-head-stage";
  stage.style.height = height + "px";
  root.appendChild(stage);
  var r = dpr(), sx = Math.floor(V.BOX_W * r);
  var g = { sx: sx, sw: Math.ceil((V.BOX_W + V.MATRIX_W) * r) - sx, height: Math.ceil(height * r), r: r,
            x1: V.BOX_W, x2: V.BOX_W + V.MATRIX_W, top: V.TOP, step: V.BOX_H, n: n, H: H, scale: s,
            ramp: settings().opacity };
  /* every line (pictured by the core) on the strip between the tokens; the hovered
     token's lines and boxes on a canvas over the whole view */
  var base = canvas(stage, g.sw, g.height, "gv-layer");
  base.style.left = sx / r + "px";
  base.style.width = g.sw / r + "px";
  base.style.height = g.height / r + "px";
  var hoverCanvas = canvas(stage, Math.ceil(width * r), g.height, "gv-layer");
  hoverCanvas.style.width = width + "px";
  hoverCanvas.style.height = height + "px";
  hoverCanvas.style.visibility = "hidden";
  var hctx = hoverCanvas.getContext("2d");
  var over = svg("svg", { width: "100%", height: height, "class": "gv-layer gv-over" }, stage);
  if (options.fit) {  /* the side-by-side block (lib/compare.js): scale with the frame's width, text too (up to fit x) */
    stage.style.height = "";
    stage.style.aspectRatio = width + " / " + height;
    stage.style.maxWidth = (options.fit === true ? 1 : options.fit) * width + "px";
    place(base, sx / r, 0, g.sw / r, height, width, height);
    place(hoverCanvas, 0, 0, width, height, width, height);
    over.setAttribute("viewBox", "0 0 " + width + " " + height);
    over.setAttribute("height", "100%");
  }
  var checks = [];
  for (h = 0; options.controls !== false && h < H; h++) {
    checks.push(svg("rect", { x: h * V.CHECK, y: 0, width: V.CHECK, height: V.CHECK, "class": "gv-check" }, over));
  }
  var sides = [0, V.BOX_W + V.MATRIX_W].map(function (x, side) {
    var grp = svg("g", { "class": "gv-text" }, over);
    var bg = svg("rect", { x: x, width: V.BOX_W, height: V.BOX_H, "class": "gv-token-bg", visibility: "hidden" }, grp);
    for (var i = 0; i < n; i++) {
      text(grp, meta.tokens[i], side === 0
        ? { "font-size": V.TEXT + "px", x: x, dx: V.BOX_W - 0.5 * V.TEXT, dy: V.TEXT, "text-anchor": "end", y: V.TOP + i * V.BOX_H }
        : { "font-size": V.TEXT + "px", x: x, dx: 0.5 * V.TEXT, dy: V.TEXT, y: V.TOP + i * V.BOX_H });
    }
    var hit = svg("rect", { x: x, y: V.TOP, width: V.BOX_W, height: n * V.BOX_H, "class": "gv-hit" }, grp);
    return { x: x, bg: bg, hit: hit };
  });
  el.appendChild(root);

  function count() { return active.filter(Boolean).length; }
  var version = 0, hovered = null, pinned = null, weights = null, colors = palette.map(rgb), op = opacityLevels(s, g.ramp);
  var shownVersion = -1, waiting = [], channel = null;

  function paintChecks() {
    for (var h = 0; h < checks.length; h++) checks[h].setAttribute("fill", active[h] ? colourOf(h, palette) : lighten(colourOf(h, palette)));
  }

  /* The hovered token's lines and the boxes on the other side (few lines: drawn
     here, at once). */
  function drawHover() {
    if (!weights || !hovered) return;
    var k = count(), left = hovered.side === 0, i = hovered.index, other = sides[left ? 1 : 0].x, slot = 0;
    var headColors = [];
    for (var h = 0; h < H; h++) headColors.push(colors[h % colors.length]);
    var img = backend.local.headPicture(weights, g, layer, active, headColors, hovered);
    hctx.setTransform(1, 0, 0, 1, 0, 0);
    hctx.clearRect(0, 0, hoverCanvas.width, hoverCanvas.height);
    hctx.putImageData(new ImageData(img, g.sw, g.height), sx, 0);
    hctx.setTransform(r, 0, 0, r, 0, 0);
    var off = layer * H * n * n;
    for (h = 0; h < H; h++) {
      if (!active[h]) continue;
      var o = off + h * n * n;
      hctx.fillStyle = colourOf(h, palette);
      for (var j = 0; j < n; j++) {
        var a = left ? weights[o + i * n + j] : weights[o + j * n + i];
        if (!a) continue;
        hctx.globalAlpha = op[a];
        hctx.fillRect(other + slot * V.BOX_W / k, V.TOP + j * V.BOX_H, V.BOX_W / k, V.BOX_H);
      }
      slot++;
    }
    hctx.globalAlpha = 1;
  }

  function shown() { return range(H).filter(function (h) { return active[h]; }); }

  /* draw, then tell the side-by-side block what is shown */
  function draw() {
    var done = paint();
    if (options.onDrawn) done.then(function () { options.onDrawn(layer, shown()); }, function () {});
    return done;
  }

  /* Only token i's lines (side 0: as a query, 1: as a key); i === null: every line.
     False when nothing changed. */
  function hover(index, i) {
    if (i === null && pinned) { index = pinned.side; i = pinned.index; }  /* a pinned token stays shown */
    if (i === null ? !hovered : hovered && hovered.side === index && hovered.index === i) return false;
    hovered = i === null ? null : { side: index, index: i };
    sides[1 - index].bg.setAttribute("visibility", "hidden");
    sides[index].bg.setAttribute("y", V.TOP + (i || 0) * V.BOX_H);
    sides[index].bg.setAttribute("visibility", i === null ? "hidden" : "visible");
    draw();
    return true;
  }

  /* Every line of the active heads (from the core), or the hovered token's. */
  function paint() {
    if (hovered && weights) {
      drawHover();
      hoverCanvas.style.visibility = "visible";
      base.style.visibility = "hidden";
      return Promise.resolve();
    }
    hoverCanvas.style.visibility = "hidden";
    base.style.visibility = "visible";
    var mine = ++version, headColors = [];
    for (var h = 0; h < H; h++) headColors.push(colors[h % colors.length]);
    /* resolves when this picture, or a later one that replaced it, is shown */
    return new Promise(function (resolve, reject) {
      var msg = { type: "head", id: source, kind: kind, g: g, layer: layer, active: active.slice(),
                  colors: headColors, version: mine, urgent: mine > 1 /* the reader's, not the first */ };
      waiting.push({ version: mine, resolve: resolve, reject: reject });
      if (channel === null) {
        channel = backend.head(function (answer) {
          if (answer.type === "image") {
            if (answer.part >= shownVersion) { show(base, answer); shownVersion = answer.part; }
            return;
          }
          waiting = waiting.filter(function (wt) {
            if (answer.type === "error") { wt.reject(new Error(answer.message)); return false; }
            if (answer.type === "done" && wt.version <= answer.part) { wt.resolve(); return false; }
            return true;
          });
        });
      }
      channel.draw(msg);
    });
  }

  backend.weights(source, kind).then(function (w) { weights = w; if (hovered) draw(); });

  sides.forEach(function (side, index) {
    side.hit.addEventListener("mousemove", function (event) {
      var rect = side.hit.getBoundingClientRect();
      var i = Math.min(n - 1, Math.max(0, Math.floor((event.clientY - rect.top) / rect.height * n)));
      if (hover(index, i) && options.onHover) options.onHover(index, i);
    });
    function leave() {
      if (hover(index, null) && options.onHover) options.onHover(index, null);
    }
    side.hit.addEventListener("mouseleave", leave);
    /* the keyboard as the mouse: focus a side, the arrow keys move from token to token */
    var words = index === 0 ? "from" : "to", at = 0;
    side.hit.setAttribute("tabindex", "0");
    side.hit.setAttribute("role", "slider");
    side.hit.setAttribute("aria-label", (index === 0 ? "Attention from a token (left column)"
                                                    : "Attention to a token (right column)") + ": arrow keys choose the token");
    side.hit.setAttribute("aria-valuemin", "0");
    side.hit.setAttribute("aria-valuemax", String(n - 1));
    function describe() {
      side.hit.setAttribute("aria-valuenow", String(at));
      side.hit.setAttribute("aria-valuetext", "lines " + words + " token " + at + ", " + meta.tokens[at]);
    }
    function choose(i) {
      at = Math.min(n - 1, Math.max(0, i));
      describe();
      if (hover(index, at) && options.onHover) options.onHover(index, at);
    }
    describe();
    side.hit.addEventListener("focus", function () { choose(at); });
    side.hit.addEventListener("blur", leave);
    side.hit.addEventListener("keydown", function (event) {
      var step = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1, PageDown: 5, PageUp: -5 }[event.key];
      if (step === undefined && event.key !== "Home" && event.key !== "End") return;
      event.preventDefault();
      choose(event.key === "Home" ? 0 : event.key === "End" ? n - 1 : at + step);
    });
  });
  checks.forEach(function (check, h) {
    check.addEventListener("click", function () {
      if (active[h] && count() === 1) return;
      active[h] = !active[h];
      paintChecks();
      draw();
    });
    check.addEventListener("dblclick", function () {
      var solo = active[h] && count() === 1;
      for (var g2 = 0; g2 < H; g2++) active[g2] = solo || g2 === h;
      paintChecks();
      draw();
    });
  });
  select.addEventListener("change", function () {
    layer = +select.value;
    draw();
  });
  paintChecks();
  el._gvForget = function () { if (channel !== null) channel.forget(); };
  el.gvHead = {  /* the side-by-side block drives a view drawn without its own controls */
    show: function (l, heads) {
      layer = Math.min(L - 1, Math.max(0, l));
      select.value = layer;
      for (var h = 0; h < H; h++) active[h] = heads.indexOf(h) >= 0;
      if (active.indexOf(true) < 0) active = active.map(function () { return true; });
      paintChecks();
      return draw();
    },
    hover: hover,
    /* keep token i of a side shown (the block's "[CLS] row only": side 0, token 0); i === null: none */
    pin: function (index, i) {
      pinned = i === null ? null : { side: index, index: i };
      return hover(index, i);
    },
    state: function () { return { layer: layer, heads: shown(), layout: V }; }
  };
  return draw();
}
