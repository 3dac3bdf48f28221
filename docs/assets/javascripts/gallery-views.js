/* The gallery's attention views: bertviz's model view and head view, drawn fast at
 * any sentence length.
 *
 * They look and behave like bertviz's (same layout, d3.schemeCategory10 colours,
 * hover and click), but
 *   - attention lines are drawn on <canvas>, skipping weights that round to zero
 *     (bertviz makes one SVG <line> per query/key pair per head: 72 n^2 elements
 *     for a model view); the model view's thumbnails are rasterised by hand (see
 *     thumbnail()); text and controls stay SVG/HTML;
 *   - a view is drawn only when it nears the viewport (IntersectionObserver), in
 *     slices of a few milliseconds that yield to the main thread in between;
 *   - the light/dark palette is CSS variables (gallery.css): a palette switch
 *     redraws nothing.
 *
 * Entry point (also for other pages):
 *   GalleryViews.drawView(element, data, options) -> Promise (resolves once drawn)
 *     data:    {tokens: [...], layers: L, heads: H, scale: 255,
 *               weights: Uint8Array(L*H*n*n), weight / scale = attention}
 *     options: {view: "model_view" | "head_view", layer: 0, heads: [h] | null}
 *   GalleryViews.attention(source, kind) -> Promise of such data, from a page's blob
 *   GalleryViews.drawAll() -> Promise: draw every placeholder now (tests, benchmarks)
 *   GalleryViews.observe(el[, draw]) -> draw a placeholder added later (or call draw(el))
 *     when it nears the viewport (a placeholder's el.gvOptions are added to drawView's options)
 *   GalleryViews.onPage(fn) -> run fn on every page
 *   A head view drawn with options {controls: false, layout: {...}, fit: true,
 *   onHover(side, index), onDrawn(layer, heads)} is driven from outside through
 *   el.gvHead: show(layer, heads) -> Promise, hover(side, index | null), state()
 *   (gallery-compare.js: the side-by-side block and exports).
 *
 * A sentence page carries its attention once, in
 *   <script type="application/json" class="gallery-attention-data" id="...">
 * (both models, one byte per weight, zlib-deflated then base64), and one
 * placeholder per view:
 *   <div class="gallery-bertviz" data-source="ID" data-view="model_view|head_view"
 *        data-attention="trained|untrained|gained|lost" [data-layer] [data-heads]>
 * gained = max(trained - untrained, 0), lost = max(untrained - trained, 0).
 * A drawn placeholder gets data-drawn="light|dark" (the palette it shows).
 */
(function () {
  "use strict";

  var COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  var SVGNS = "http://www.w3.org/2000/svg";
  var SLICE_MS = 12;          // main-thread work per slice before yielding
  var NEAR = "100% 0px";      // draw a view when it is within a viewport of being seen

  /* ------------------------------------------------------------ scheduling */

  var tasks = [], pumping = false;
  /* a new task right away (a chain of setTimeout(0) waits 4 ms between slices) */
  var channel = new MessageChannel();
  channel.port1.onmessage = function () { pump(); };
  function later() { channel.port2.postMessage(0); }

  /* Run a generator's steps in time slices; resolves when it is done. */
  function run(steps) {
    return new Promise(function (resolve, reject) {
      tasks.push({ steps: steps, resolve: resolve, reject: reject });
      if (!pumping) { pumping = true; later(); }
    });
  }

  function pump() {
    var end = performance.now() + SLICE_MS;
    while (tasks.length && performance.now() < end) {
      var task = tasks[0], step;
      try { step = task.steps.next(); } catch (err) { tasks.shift(); task.reject(err); continue; }
      if (step.done) { tasks.shift(); task.resolve(); }
    }
    if (tasks.length) later(); else pumping = false;
  }

  /* ------------------------------------------------------------ helpers */

  function svg(tag, attrs, parent) {
    var el = document.createElementNS(SVGNS, tag);
    for (var k in attrs) el.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(el);
    return el;
  }

  function text(parent, value, attrs) {
    var el = svg("text", attrs, parent);
    el.textContent = value;
    return el;
  }

  function canvas(parent, width, height, cls) {
    var c = document.createElement("canvas");
    var ratio = Math.min(window.devicePixelRatio || 1, 2);
    c.width = Math.ceil(width * ratio);
    c.height = Math.ceil(height * ratio);
    c.className = cls || "";
    parent.appendChild(c);
    /* a CPU canvas: its drawing is done when a slice ends (flush), not later in one
       long paint; lines are cheap to draw there */
    var ctx = c.getContext("2d", { willReadFrequently: true });
    ctx.scale(ratio, ratio);
    ctx.ratio = ratio;
    ctx.clear = function () { ctx.clearRect(0, 0, width, height); };
    ctx.flush = function () { ctx.getImageData(0, 0, 1, 1); };
    return ctx;
  }

  /* Place a box given in view units (of a W x H view that scales) in percent. */
  function place(el, x, y, w, h, W, H) {
    el.style.left = (100 * x / W) + "%";
    el.style.top = (100 * y / H) + "%";
    el.style.width = (100 * w / W) + "%";
    el.style.height = (100 * h / H) + "%";
  }

  /* One stroke per line from (x1, y1 + (i + .5) step) to (x2, y1 + (j + .5) step),
     opacity weight(i, j); weights that round to zero are skipped. */
  function lines(ctx, w, offset, n, scale, x1, y1, x2, y2, step, alpha, rows, cols) {
    for (var ii = 0; ii < rows.length; ii++) {
      var i = rows[ii], ya = y1 + (i + 0.5) * step;
      for (var jj = 0; jj < cols.length; jj++) {
        var j = cols[jj], a = w[offset + i * n + j];
        if (!a) continue;
        ctx.globalAlpha = alpha * a / scale;
        ctx.beginPath();
        ctx.moveTo(x1, ya);
        ctx.lineTo(x2, y2 + (j + 0.5) * step);
        ctx.stroke();
      }
    }
  }

  /* The lines of one model-view thumbnail (or its detail; ``only``: one query's
     lines), rasterised here into an ImageData: a
     canvas stroke costs 10-30 us a line in software rendering, this about 1. Each
     line is 2.2 units wide (bertviz's stroke) from (x1, y1 + (i + .5) step) to
     (x2, y1 + (j + .5) step); per pixel column it covers the strip of its vertical
     thickness, and overlapping lines compose as SVG's strokes of one colour do:
     alpha = 1 - prod(1 - weight * coverage). */
  function thumbnail(ctx, w, offset, n, scale, x1, x2, y1, step, rgb, only) {
    var r = ctx.ratio, X1 = x1 * r, X2 = x2 * r, c0 = Math.floor(X1), cols = Math.ceil(X2) - c0;
    var height = ctx.canvas.height, T = new Float32Array(cols * height).fill(1);
    var span = X2 - X1, half = 1.1 * r, cover = new Float32Array(cols), dist = new Float32Array(cols), c;
    for (c = 0; c < cols; c++) {
      cover[c] = Math.max(0, Math.min(c0 + c + 1, X2) - Math.max(c0 + c, X1));
      dist[c] = Math.min(Math.max(c0 + c + 0.5, X1), X2) - X1;
    }
    for (var i = only === undefined ? 0 : only; i < (only === undefined ? n : only + 1); i++) {
      var ya = (y1 + (i + 0.5) * step) * r, base = offset + i * n;
      for (var j = 0; j < n; j++) {
        var a = w[base + j];
        if (!a) continue;
        a /= scale;
        var slope = ((y1 + (j + 0.5) * step) * r - ya) / span, hw = half * Math.sqrt(1 + slope * slope);
        for (c = 0; c < cols; c++) {
          var y = ya + slope * dist[c], top = y - hw, bottom = y + hw, ac = a * cover[c];
          var row = top < 0 ? 0 : top | 0, last = bottom >= height ? height - 1 : bottom | 0;
          for (; row <= last; row++) {
            T[row * cols + c] *= 1 - ac * ((bottom < row + 1 ? bottom : row + 1) - (top > row ? top : row));
          }
        }
      }
    }
    var img = ctx.createImageData(cols, height), d = img.data;
    for (var k = 0, p = 0; k < T.length; k++, p += 4) {
      if (T[k] >= 1) continue;
      d[p] = rgb[0]; d[p + 1] = rgb[1]; d[p + 2] = rgb[2]; d[p + 3] = (1 - T[k]) * 255 + 0.5;
    }
    ctx.putImageData(img, c0, 0);
  }

  function rgb(hex) {
    return [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)];
  }

  function range(n) {
    var out = [];
    for (var i = 0; i < n; i++) out.push(i);
    return out;
  }

  function lighten(hex) {  /* d3's hsl lightening in bertviz's head view */
    var r = parseInt(hex.slice(1, 3), 16) / 255, g = parseInt(hex.slice(3, 5), 16) / 255,
        b = parseInt(hex.slice(5, 7), 16) / 255;
    var max = Math.max(r, g, b), min = Math.min(r, g, b), l = (max + min) / 2, s = 0, h = 0, d = max - min;
    if (d) {
      s = l < 0.5 ? d / (max + min) : d / (2 - max - min);
      h = max === r ? (g - b) / d + (g < b ? 6 : 0) : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
      h *= 60;
    }
    var inc = (1 - l) * 0.6;
    l += inc; s = Math.max(0, s - inc);
    return "hsl(" + h + "," + (100 * s) + "%," + (100 * l) + "%)";
  }

  /* ------------------------------------------------------------ model view */

  var MODEL = { W: 970, PAD: 5, DETAIL_W: 300, DETAIL_ATTN_W: 140, BOX_W: 80, BOX_H: 18,
                DETAIL_PAD: 15, HEADING_H: 25, HEADING_TEXT: 15, HEADING_PAD: 5, TEXT: 13, TEXT_PAD: 5 };
  var LABEL_PX = 12;  /* the smallest text a model view shows on screen, however narrow it is drawn */

  /* The model view's layout for a view drawn ``width`` px wide: text (and what holds
     text) scaled up so that it stays at least LABEL_PX on screen. */
  function modelLayout(width) {
    var k = LABEL_PX / (MODEL.TEXT * Math.min(1, Math.max(600, width || MODEL.W) / MODEL.W)), m = {};
    for (var key in MODEL) {
      m[key] = key === "W" || key === "PAD" || k <= 1 ? MODEL[key] : MODEL[key] * k;
    }
    return m;
  }

  function modelView(el, data) {
    var M = modelLayout(el.clientWidth);
    var n = data.tokens.length, L = data.layers, H = data.heads, w = data.weights, s = data.scale;
    var axis = M.HEADING_TEXT + M.HEADING_PAD + M.TEXT + M.TEXT_PAD;
    var boxH = 7 * (12 / H);
    var thumbH = n * boxH + 2 * M.PAD, thumbW = (M.W - axis) / H;
    var detailH = n * M.BOX_H + 2 * M.DETAIL_PAD + M.HEADING_H;
    var height = Math.max(L * thumbH + axis, detailH);
    var all = range(n);

    el.innerHTML = "";
    el.gvModel = { layout: M, axis: axis, thumbW: thumbW, thumbH: thumbH };  /* for annotations */
    var root = document.createElement("div");
    root.className = "gv gv-model";
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
    for (var l = 0; l < L; l++) {
      var ctx = canvas(stage, M.W, thumbH, "gv-layer gv-thumbs");
      place(ctx.canvas, 0, axis + l * thumbH, M.W, thumbH, M.W, height);
      ctx.lineWidth = 2.2;
      ctx.strokeStyle = COLORS[l % 10];
      rows.push(ctx);
    }
    var over = svg("svg", box, stage);
    over.classList.add("gv-over");
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
    for (l = 0; l < L; l++) {
      text(labels, l, { "font-size": M.TEXT + "px", x: M.HEADING_TEXT + M.HEADING_PAD + M.TEXT,
                        "text-anchor": "end", y: axis + (l + 0.5) * thumbH, dy: M.TEXT / 2 });
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
      var color = COLORS[layer % 10], offset = (layer * H + head) * n * n;
      selected.setAttribute("x", axis + head * thumbW);
      selected.setAttribute("y", axis + layer * thumbH);
      selected.setAttribute("stroke", color);
      selected.setAttribute("visibility", "visible");
      /* bertviz's placement (its detail uses a 36-unit axis) */
      var left = M.TEXT + M.HEADING_PAD + M.TEXT + M.TEXT_PAD + head * thumbW;
      var x = left + M.PAD + 0.8 * thumbW;
      if (x + M.DETAIL_W > M.W) x = left + M.PAD - M.DETAIL_W + 8;
      var y = layer * thumbH + M.PAD + 20;
      if (y < 0) y = 0; else if (y + detailH > height - 3) y = height - 3 - detailH;
      detail = svg("g", { "class": "gv-detail" }, over);
      svg("rect", { x: x, y: y, width: M.DETAIL_W, height: detailH, stroke: color, "stroke-width": 1.5,
                    "stroke-opacity": 0.7, "class": "gv-frame" }, detail);
      text(detail, "Layer " + layer + ", Head " + head, {
        "font-size": M.TEXT + "px", "font-weight": "bold", x: x + M.DETAIL_W / 2, "text-anchor": "middle",
        y: y + M.DETAIL_PAD, dy: M.HEADING_TEXT });
      var top = y + M.DETAIL_PAD + M.HEADING_H;
      var leftText = svg("g", { "class": "gv-tokens" }, detail);
      var rightText = svg("g", { "class": "gv-tokens" }, detail);
      for (var i = 0; i < n; i++) {
        text(leftText, data.tokens[i], { "font-size": M.TEXT + "px", x: x, dx: M.BOX_W - 2,
                                         "text-anchor": "end", y: top + i * M.BOX_H, dy: M.TEXT });
        text(rightText, data.tokens[i], { "font-size": M.TEXT + "px", x: x + M.BOX_W + M.DETAIL_ATTN_W,
                                          y: top + i * M.BOX_H, dy: M.TEXT });
      }
      var hover = svg("rect", { x: x, y: top, width: M.BOX_W, height: n * M.BOX_H, "class": "gv-hit" }, detail);
      var holder = document.createElement("div");
      holder.className = "gv-layer gv-detail-lines";
      place(holder, x + M.BOX_W, top, M.DETAIL_ATTN_W, n * M.BOX_H, M.W, height);
      stage.appendChild(holder);
      var dctx = canvas(holder, M.DETAIL_ATTN_W, n * M.BOX_H);
      function drawDetail(only) {
        dctx.clear();
        thumbnail(dctx, w, offset, n, s, 0, M.DETAIL_ATTN_W, 0, M.BOX_H, rgb(color), only === null ? undefined : only);
      }
      drawDetail(null);
      hover.addEventListener("mousemove", function (event) {
        var r = hover.getBoundingClientRect();
        var i = Math.min(n - 1, Math.max(0, Math.floor((event.clientY - r.top) / r.height * n)));
        if (i !== hover.current) { hover.current = i; drawDetail(i); }
      });
      hover.addEventListener("mouseleave", function () { hover.current = null; drawDetail(null); });
      var remove = detail.remove.bind(detail);
      detail.remove = function () { remove(); holder.remove(); };
    }

    over.addEventListener("click", function (event) {
      if (event.target.closest && event.target.closest(".gv-detail")) return;
      var r = over.getBoundingClientRect();
      var x = (event.clientX - r.left) * M.W / r.width, y = (event.clientY - r.top) * height / r.height;
      var head = Math.floor((x - axis) / thumbW), layer = Math.floor((y - axis) / thumbH);
      if (head >= 0 && head < H && layer >= 0 && layer < L) showDetail(layer, head);
    });
    over.addEventListener("mousemove", function (event) {
      var r = over.getBoundingClientRect();
      var x = (event.clientX - r.left) * M.W / r.width, y = (event.clientY - r.top) * height / r.height;
      over.style.cursor = x >= axis && y >= axis && y < axis + L * thumbH ? "pointer" : "";
    });
    el.appendChild(root);

    return run((function* () {
      for (var l = 0; l < L; l++) {
        for (var h = 0; h < H; h++) {
          var x1 = axis + h * thumbW + M.PAD;
          thumbnail(rows[l], w, (l * H + h) * n * n, n, s, x1, x1 + thumbW - 14, M.PAD, boxH, rgb(COLORS[l % 10]));
          yield;
        }
      }
    })());
  }

  /* ------------------------------------------------------------ head view */

  var HEAD = { TEXT: 15, BOX_W: 110, BOX_H: 22.5, MATRIX_W: 115, CHECK: 20, TOP: 30 };

  function headView(el, data, options) {
    var V = Object.assign({}, HEAD, options.layout);  /* gallery-compare: a compact layout */
    var n = data.tokens.length, L = data.layers, H = data.heads, w = data.weights, s = data.scale;
    var height = n * V.BOX_H + V.TOP, width = 2 * V.BOX_W + V.MATRIX_W;
    var all = range(n), chunk = Math.max(1, Math.floor(400 / n));  /* rows of lines per slice step */
    var layer = Math.min(L - 1, Math.max(0, options.layer || 0));
    var active = [];
    for (var h = 0; h < H; h++) active.push(!options.heads || options.heads.indexOf(h) >= 0);
    if (active.indexOf(true) < 0) active = active.map(function () { return true; });

    el.innerHTML = "";
    var root = document.createElement("div");
    root.className = "gv gv-head";
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
    var ctx = canvas(stage, width, height, "gv-layer");
    ctx.canvas.style.width = width + "px";
    ctx.canvas.style.height = height + "px";
    ctx.lineWidth = 2;
    var over = svg("svg", { width: "100%", height: height, "class": "gv-layer gv-over" }, stage);
    if (options.fit) {  /* gallery-compare: scale with the frame's width (text too) */
      stage.style.height = "";
      stage.style.aspectRatio = width + " / " + height;
      stage.style.maxWidth = (options.fit === true ? 1.5 : options.fit) * width + "px";
      ctx.canvas.style.width = ctx.canvas.style.height = "100%";
      over.setAttribute("viewBox", "0 0 " + width + " " + height);
      over.setAttribute("height", "100%");
    }
    var checks = [];
    for (h = 0; options.controls !== false && h < H; h++) {
      checks.push(svg("rect", { x: h * V.CHECK, y: 0, width: V.CHECK, height: V.CHECK, "class": "gv-check" }, over));
    }
    var sides = [0, V.BOX_W + V.MATRIX_W].map(function (x, side) {
      var g = svg("g", { "class": "gv-text" }, over);
      var bg = svg("rect", { x: x, width: V.BOX_W, height: V.BOX_H, "class": "gv-token-bg", visibility: "hidden" }, g);
      for (var i = 0; i < n; i++) {
        text(g, data.tokens[i], side === 0
          ? { "font-size": V.TEXT + "px", x: x, dx: V.BOX_W - 0.5 * V.TEXT, dy: V.TEXT, "text-anchor": "end", y: V.TOP + i * V.BOX_H }
          : { "font-size": V.TEXT + "px", x: x, dx: 0.5 * V.TEXT, dy: V.TEXT, y: V.TOP + i * V.BOX_H });
      }
      var hit = svg("rect", { x: x, y: V.TOP, width: V.BOX_W, height: n * V.BOX_H, "class": "gv-hit" }, g);
      return { x: x, bg: bg, hit: hit };
    });

    function count() { return active.filter(Boolean).length; }
    var version = 0, hovered = null;

    function paintChecks() {
      for (var h = 0; h < checks.length; h++) checks[h].setAttribute("fill", active[h] ? COLORS[h % 10] : lighten(COLORS[h % 10]));
    }

    /* Every line of the active heads (sliced when it is long), or only the hovered
       token's lines and the boxes on the other side. */
    function draw() {
      var mine = ++version, k = count(), off = layer * H * n * n;
      ctx.clear();
      if (hovered) {
        var left = hovered.side === 0, i = hovered.index, other = sides[left ? 1 : 0].x, slot = 0;
        for (var h = 0; h < H; h++) {
          if (!active[h]) continue;
          var o = off + h * n * n;
          ctx.strokeStyle = ctx.fillStyle = COLORS[h % 10];
          lines(ctx, w, o, n, s, V.BOX_W, V.TOP, V.BOX_W + V.MATRIX_W, V.TOP, V.BOX_H, 1 / k,
                left ? [i] : all, left ? all : [i]);
          for (var j = 0; j < n; j++) {
            var a = left ? w[o + i * n + j] : w[o + j * n + i];
            if (!a) continue;
            ctx.globalAlpha = a / s;
            ctx.fillRect(other + slot * V.BOX_W / k, V.TOP + j * V.BOX_H, V.BOX_W / k, V.BOX_H);
          }
          slot++;
        }
        return Promise.resolve();
      }
      return run((function* () {
        for (var h = 0; h < H; h++) {
          if (!active[h]) continue;
          for (var r = 0; r < n; r += chunk) {
            if (mine !== version) return;
            ctx.strokeStyle = COLORS[h % 10];
            lines(ctx, w, off + h * n * n, n, s, V.BOX_W, V.TOP, V.BOX_W + V.MATRIX_W, V.TOP, V.BOX_H, 1 / k,
                  all.slice(r, r + chunk), all);
            ctx.flush();
            yield;
          }
        }
        if (options.onDrawn) options.onDrawn(layer, shown());
      })());
    }

    function shown() { return range(H).filter(function (h) { return active[h]; }); }

    /* Only token i's lines (side 0: as a query, 1: as a key); i === null: every line.
       False when nothing changed. */
    function hover(index, i) {
      if (i === null ? !hovered : hovered && hovered.side === index && hovered.index === i) return false;
      hovered = i === null ? null : { side: index, index: i };
      sides[1 - index].bg.setAttribute("visibility", "hidden");
      sides[index].bg.setAttribute("y", V.TOP + (i || 0) * V.BOX_H);
      sides[index].bg.setAttribute("visibility", i === null ? "hidden" : "visible");
      draw();
      return true;
    }

    sides.forEach(function (side, index) {
      side.hit.addEventListener("mousemove", function (event) {
        var r = side.hit.getBoundingClientRect();
        var i = Math.min(n - 1, Math.max(0, Math.floor((event.clientY - r.top) / r.height * n)));
        if (hover(index, i) && options.onHover) options.onHover(index, i);
      });
      side.hit.addEventListener("mouseleave", function () {
        if (hover(index, null) && options.onHover) options.onHover(index, null);
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
        for (var g = 0; g < H; g++) active[g] = solo || g === h;
        paintChecks();
        draw();
      });
    });
    select.addEventListener("change", function () {
      layer = +select.value;
      draw();
    });
    paintChecks();
    el.appendChild(root);
    el.gvHead = {  /* gallery-compare drives a view drawn without its own controls */
      show: function (l, heads) {
        layer = Math.min(L - 1, Math.max(0, l));
        select.value = layer;
        for (var h = 0; h < H; h++) active[h] = heads.indexOf(h) >= 0;
        if (active.indexOf(true) < 0) active = active.map(function () { return true; });
        paintChecks();
        return draw();
      },
      hover: hover,
      state: function () { return { layer: layer, heads: shown(), layout: V }; }
    };
    return draw();
  }

  /* ------------------------------------------------------------ data */

  var blobs = {};

  function bytes(base64) {
    var raw = atob(base64), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function inflate(data) {
    var stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).arrayBuffer().then(function (buffer) { return new Uint8Array(buffer); });
  }

  /* {tokens, layers, heads, scale, weights} of one kind of attention of a page's blob. */
  function attention(source, kind) {
    if (!blobs[source]) {
      var node = document.getElementById(source);
      if (!node) return Promise.reject(new Error("gallery: no attention data with id " + source));
      var d = JSON.parse(node.textContent);
      /* trained then untrained weights, one byte each */
      var packed = d.encoding === "uint8-deflate-base64" ? inflate(bytes(d.weights))
        : Promise.resolve().then(function () {  /* "uint8-base64": the two models apart */
          var t = bytes(d.trained), u = bytes(d.untrained), both = new Uint8Array(t.length * 2);
          both.set(t); both.set(u, t.length);
          return both;
        });
      blobs[source] = { meta: d, packed: packed, kinds: {} };
    }
    var blob = blobs[source];
    if (!blob.kinds[kind]) {
      blob.kinds[kind] = blob.packed.then(function (both) {
        var size = both.length / 2, t = both.subarray(0, size), u = both.subarray(size), w;
        if (kind === "trained") w = t;
        else if (kind === "untrained") w = u;
        else if (kind === "gained" || kind === "lost") {
          var a = kind === "gained" ? t : u, b = kind === "gained" ? u : t;
          w = new Uint8Array(size);
          for (var k = 0; k < size; k++) w[k] = a[k] > b[k] ? a[k] - b[k] : 0;
        } else throw new Error("gallery: unknown attention " + kind);
        var d = blob.meta;
        return { tokens: d.tokens, layers: d.layers, heads: d.heads, scale: d.scale, weights: w };
      });
    }
    return blob.kinds[kind];
  }

  /* ------------------------------------------------------------ pages */

  function drawView(el, data, options) {
    options = options || {};
    return options.view === "head_view" ? headView(el, data, options) : modelView(el, data, options);
  }

  function scheme() {
    return document.body.getAttribute("data-md-color-scheme") === "slate" ? "dark" : "light";
  }

  /* Draw one placeholder (once; again when its head link asks for another head). */
  function drawPlaceholder(el) {
    if (el._gvDrawing) return el._gvDrawing;
    el._gvDrawing = attention(el.getAttribute("data-source"), el.getAttribute("data-attention"))
      .then(function (data) {
        var heads = el.getAttribute("data-heads"), layer = el.getAttribute("data-layer");
        return drawView(el, data, Object.assign({ view: el.getAttribute("data-view"),
                                                  layer: layer === null ? 0 : parseInt(layer, 10),
                                                  heads: heads ? JSON.parse(heads) : null }, el.gvOptions));
      })
      .then(function () { el.setAttribute("data-drawn", scheme()); })
      .catch(function (err) { console.error(err); });
    return el._gvDrawing;
  }

  var observer = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (!entry.isIntersecting) return;
      observer.unobserve(entry.target);
      (entry.target.gvDraw || drawPlaceholder)(entry.target);
    });
  }, { rootMargin: NEAR }) : null;

  function placeholders() {
    return Array.prototype.slice.call(document.querySelectorAll(".gallery-bertviz"));
  }

  function drawAll() {
    return Promise.all(placeholders().map(function (el) {
      if (observer) observer.unobserve(el);
      return drawPlaceholder(el);
    }));
  }

  /* draw ``el`` when it nears the viewport: a placeholder, or anything with ``draw(el)`` */
  function observe(el, draw) {
    if (draw) el.gvDraw = draw;
    if (observer) observer.observe(el); else (draw || drawPlaceholder)(el);
  }

  function start() {
    blobs = {};
    placeholders().forEach(function (el) { observe(el); });
  }

  /* Links that open a head view on one head: <a class="gallery-head-link"
     data-targets="ID ID" data-layer="L" data-head="H">. */
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest(".gallery-head-link") : null;
    if (!link) return;
    (link.getAttribute("data-targets") || "").split(" ").forEach(function (id) {
      var el = document.getElementById(id);
      if (!el) return;
      el.setAttribute("data-layer", link.getAttribute("data-layer"));
      el.setAttribute("data-heads", "[" + link.getAttribute("data-head") + "]");
      if (observer) observer.unobserve(el);
      var before = el._gvDrawing || Promise.resolve();
      before.then(function () { el._gvDrawing = null; drawPlaceholder(el); });
    });
  });

  /* The palette is CSS: a switch only updates what each view says it shows. */
  new MutationObserver(function () {
    placeholders().forEach(function (el) {
      if (el.hasAttribute("data-drawn")) el.setAttribute("data-drawn", scheme());
    });
  }).observe(document.body, { attributes: true, attributeFilter: ["data-md-color-scheme"] });

  window.GalleryViews = { drawView: drawView, attention: attention, drawAll: drawAll, observe: observe,
                          /* for exports (gallery-compare.js): drawn as the views are */
                          parts: { COLORS: COLORS, HEAD: HEAD, MODEL: MODEL, thumbnail: thumbnail, rgb: rgb } };

  /* run ``fn`` on every page (Material's document$, else once the page is parsed) */
  function onPage(fn) {
    if (window.document$ && window.document$.subscribe) {
      window.document$.subscribe(fn);
    } else if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", fn);
    } else {
      fn();
    }
  }
  window.GalleryViews.onPage = onPage;

  onPage(start);
})();
