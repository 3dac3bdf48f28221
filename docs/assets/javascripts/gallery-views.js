/* The gallery's attention views: bertviz's model view and head view, drawn fast at
 * any sentence length.
 *
 * They look and behave like bertviz's (same layout, d3.schemeCategory10 colours,
 * hover and click), but
 *   - attention lines are rasterised by hand (lineBundle(): every line that does not
 *     round to zero, anti-aliased, overlapping lines composed as SVG strokes are)
 *     into canvases; text and controls stay SVG/HTML (bertviz makes one SVG <line>
 *     per query/key pair per head: 72 n^2 elements for a model view);
 *   - that work runs in a Web Worker (made from this file, no extra request), which
 *     also inflates the page's attention blob: the page's main thread only builds a
 *     few hundred elements per view and hands the worker's bitmaps to canvases, so
 *     the page scrolls and answers clicks while views draw, at any length; without
 *     Workers the same code runs on the main thread in short slices;
 *   - a view is drawn only when it nears the viewport (IntersectionObserver), at the
 *     resolution it is shown at, its layers nearest the viewport first;
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
  var NEAR = "100% 0px";      // draw a view when it is within a viewport of being seen
  var NEAR_EARLY = "300% 0px";  // ... or within three, for views marked data-near="early"

  /* ================================================================ the core
   * Everything that touches the weights: decoding a page's blob, the kinds of
   * attention, and rasterising lines. Self-contained (it is also the Worker's source:
   * no reference to anything outside this function). ``post(message, transfer)``
   * sends results; ``defer(fn)`` runs fn in a later task. */
  function galleryCore(post, defer) {
    var sources = {};

    /* ---------------------------------------------------------- data */

    function bytes(base64) {
      var raw = atob(base64), out = new Uint8Array(raw.length);
      for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
      return out;
    }

    function inflate(data) {
      var stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("deflate"));
      return new Response(stream).arrayBuffer().then(function (buffer) { return new Uint8Array(buffer); });
    }

    /* A page's blob (its JSON text): trained then untrained weights, one byte each. */
    function addBlob(id, text) {
      var d = JSON.parse(text);
      var packed = d.encoding === "uint8-deflate-base64" ? inflate(bytes(d.weights))
        : Promise.resolve().then(function () {  /* "uint8-base64": the two models apart */
          var t = bytes(d.trained), u = bytes(d.untrained), both = new Uint8Array(t.length * 2);
          both.set(t); both.set(u, t.length);
          return both;
        });
      var meta = { tokens: d.tokens, layers: d.layers, heads: d.heads, scale: d.scale };
      sources[id] = { meta: meta, packed: packed, kinds: {} };
      return meta;
    }

    /* Weights given by a page (GalleryViews.drawView): one kind, "given". */
    function addData(id, meta, weights) {
      sources[id] = { meta: meta, kinds: { given: Promise.resolve(weights) } };
    }

    function weightsOf(id, kind) {
      var src = sources[id];
      if (!src) return Promise.reject(new Error("gallery: no attention data with id " + id));
      if (!src.kinds[kind]) {
        if (!src.packed) return Promise.reject(new Error("gallery: no attention " + kind + " in " + id));
        src.kinds[kind] = src.packed.then(function (both) {
          var size = both.length / 2, t = both.subarray(0, size), u = both.subarray(size);
          if (kind === "trained") return t;
          if (kind === "untrained") return u;
          if (kind !== "gained" && kind !== "lost") throw new Error("gallery: unknown attention " + kind);
          var a = kind === "gained" ? t : u, b = kind === "gained" ? u : t, w = new Uint8Array(size);
          for (var k = 0; k < size; k++) w[k] = a[k] > b[k] ? a[k] - b[k] : 0;
          return w;
        });
      }
      return src.kinds[kind];
    }

    /* ---------------------------------------------------------- lines
     * Device pixels throughout. A line k runs from (X1, ya) to (X2, yb) with opacity
     * a; it is 2 * half wide. Per pixel column it covers the strip of its vertical
     * thickness (half * sqrt(1 + slope^2) each side of its centre); lines of one
     * colour compose as SVG strokes do: alpha = 1 - prod(1 - a * coverage).
     *
     * lineBundle() works one column at a time, O(1) per line and column: the two
     * partly covered end rows multiply the transmission T, and the fully covered rows
     * between add log(1 - a) to a difference array D, summed down the column and
     * exponentiated once per pixel (a line crosses up to tens of rows of a column
     * when it is steep; this touches two). Within one level of 255 of drawing every
     * pixel of every line. */

    var scratch = { P: new Float64Array(0), T: new Float64Array(0), D: new Float64Array(0), out: new Float32Array(0),
                    lines: new Float64Array(0) };
    function grow(name, size, Type) {
      if (scratch[name].length < size) scratch[name] = new Type(size);
      return scratch[name];
    }

    /* Transmission of lines (Float64Array of ya, yb, a triples; m lines) over the
       columns covering [X1, X2]: returns {T: Float32Array(cols * rows), column-major,
       c0: first column, cols}; T is scratch, valid until the next call. */
    function lineBundle(lines, m, X1, X2, rows, half) {
      var c0 = Math.floor(X1), cols = Math.ceil(X2) - c0, span = X2 - X1, c, k;
      if (half < 0.51) half = 0.51;  /* thinner than a pixel: drawn a pixel wide, fainter */
      var maxSlope = 0;
      for (k = 0; k < m; k++) maxSlope = Math.max(maxSlope, Math.abs(lines[3 * k + 1] - lines[3 * k]) / span);
      var PAD = Math.ceil(half * Math.sqrt(1 + maxSlope * maxSlope)) + 2, HP = rows + 2 * PAD + 2;
      var P = grow("P", 5 * m, Float64Array), n5 = 0;
      for (k = 0; k < m; k++) {
        var ya = lines[3 * k], slope = (lines[3 * k + 1] - ya) / span, a = lines[3 * k + 2];
        if (a > 1) a = 1;
        P[n5] = ya + PAD; P[n5 + 1] = slope; P[n5 + 2] = half * Math.sqrt(1 + slope * slope);
        P[n5 + 3] = a; P[n5 + 4] = Math.log(1 - a > 1e-9 ? 1 - a : 1e-9);
        n5 += 5;
      }
      var T = grow("T", HP, Float64Array), D = grow("D", HP, Float64Array);
      var out = grow("out", cols * rows, Float32Array);
      for (c = 0; c < cols; c++) {
        var left = Math.max(c0 + c, X1), right = Math.min(c0 + c + 1, X2);
        var cover = right > left ? right - left : 0, d = Math.min(Math.max(c0 + c + 0.5, X1), X2) - X1;
        var o = c * rows, acc = 0, row;
        if (!cover) { out.fill(1, o, o + rows); continue; }
        for (row = 0; row < HP; row++) { T[row] = 1; D[row] = 0; }
        /* (rb > rt below: lines are over a pixel thick) */
        if (cover < 1) {  /* an end column: partly covered, opacity scaled */
          for (k = 0; k < n5; k += 5) {
            var y = P[k] + P[k + 1] * d, hw = P[k + 2], top = y - hw, bottom = y + hw, ac = P[k + 3] * cover;
            var rt = top | 0, rb = bottom | 0, lf = Math.log(1 - ac > 1e-9 ? 1 - ac : 1e-9);
            T[rt] *= 1 - ac * (rt + 1 - top);
            T[rb] *= 1 - ac * (bottom - rb);
            D[rt + 1] += lf; D[rb] -= lf;
          }
        } else {  /* the hot loop */
          for (k = 0; k < n5; k += 5) {
            var y1 = P[k] + P[k + 1] * d, hw1 = P[k + 2], top1 = y1 - hw1, bottom1 = y1 + hw1, a1 = P[k + 3];
            var rt1 = top1 | 0, rb1 = bottom1 | 0, lf1 = P[k + 4];
            T[rt1] *= 1 - a1 * (rt1 + 1 - top1);
            T[rb1] *= 1 - a1 * (bottom1 - rb1);
            D[rt1 + 1] += lf1; D[rb1] -= lf1;
          }
        }
        for (row = 0; row < PAD; row++) acc += D[row];
        for (row = 0; row < rows; row++) {
          acc += D[row + PAD];
          out[o + row] = acc === 0 ? T[row + PAD] : T[row + PAD] * Math.exp(acc);
        }
      }
      return { T: out, c0: c0, cols: cols, rows: rows };
    }

    /* The lines of head block ``offset`` of w (n x n, query-major), from query
       y0 + (i + .5) step on the left to key y0 + (j + .5) step on the right, opacity
       alpha * w / scale; ``rows``/``cols``: which queries and keys (null: all). */
    function headLines(w, offset, n, scale, y0, step, alpha, rows, cols) {
      var ri = rows || null, cj = cols || null, nr = ri ? ri.length : n, nc = cj ? cj.length : n;
      var lines = grow("lines", 3 * nr * nc, Float64Array), m = 0, f = alpha / scale;
      for (var ii = 0; ii < nr; ii++) {
        var i = ri ? ri[ii] : ii, base = offset + i * n, ya = y0 + (i + 0.5) * step;
        for (var jj = 0; jj < nc; jj++) {
          var j = cj ? cj[jj] : jj, a = w[base + j];
          if (!a) continue;
          lines[3 * m] = ya; lines[3 * m + 1] = y0 + (j + 0.5) * step; lines[3 * m + 2] = a * f;
          m++;
        }
      }
      return { lines: lines, m: m };
    }

    /* One colour's lines (b, from lineBundle) onto an image ``width`` pixels wide:
       straight into RGBA bytes where nothing else overlaps them (model-view
       thumbnails, the detail panel), or, ``over`` set, over premultiplied RGBA floats
       (the head view: head over head, as SVG groups are; toImage() makes bytes). */
    function paint(out, width, b, rgb, over) {
      var T = b.T, rows = b.rows, r = rgb[0], g = rgb[1], bl = rgb[2];
      for (var c = 0; c < b.cols; c++) {
        var x = b.c0 + c;
        if (x < 0 || x >= width) continue;
        for (var row = 0, o = c * rows, p = 4 * x; row < rows; row++, p += 4 * width) {
          var t = T[o + row];
          if (t >= 1) continue;
          var s = 1 - t;
          if (over) {
            out[p] = out[p] * t + r * s; out[p + 1] = out[p + 1] * t + g * s;
            out[p + 2] = out[p + 2] * t + bl * s; out[p + 3] = out[p + 3] * t + s;
          } else {
            out[p] = r; out[p + 1] = g; out[p + 2] = bl; out[p + 3] = s * 255 + 0.5;
          }
        }
      }
    }

    function toImage(acc, img) {
      for (var p = 0; p < acc.length; p += 4) {
        var a = acc[p + 3];
        if (a <= 0) continue;
        img[p] = acc[p] / a + 0.5; img[p + 1] = acc[p + 1] / a + 0.5; img[p + 2] = acc[p + 2] / a + 0.5;
        img[p + 3] = a * 255 + 0.5;
      }
      return img;
    }

    /* ---------------------------------------------------------- views' pictures
     * Geometry comes from the page (view units x r device pixels a unit). */

    /* One layer row of a model view: H thumbnails side by side. g: {width, height
       (device px), r, axis, thumbW, pad, boxH, n, H, scale}. */
    function modelLayer(w, g, layer, rgb) {
      var img = new Uint8ClampedArray(g.width * g.height * 4), n = g.n, r = g.r;
      for (var h = 0; h < g.H; h++) {
        var x1 = g.axis + h * g.thumbW + g.pad;
        var L = headLines(w, (layer * g.H + h) * n * n, n, g.scale, g.pad * r, g.boxH * r, 1, null, null);
        paint(img, g.width, lineBundle(L.lines, L.m, x1 * r, (x1 + g.thumbW - 14) * r, g.height, 1.1 * r), rgb, false);
      }
      return img;
    }

    /* The head view's lines for one layer: every line of the active heads (or only
       those of one token), head over head, on the strip between the two columns of
       tokens. g: {sx: the strip's first device column, sw: its width, height, r, x1,
       x2, top, step, n, H, scale} (x1, x2, top, step in view units); colors: one per
       head; active: booleans; only: {side, index}. */
    function headPicture(w, g, layer, active, colors, only) {
      var n = g.n, r = g.r, k = 0, h;
      for (h = 0; h < g.H; h++) if (active[h]) k++;
      var acc = new Float32Array(g.sw * g.height * 4), single = only ? [only.index] : null;
      for (h = 0; h < g.H; h++) {
        if (!active[h]) continue;
        var L = headLines(w, (layer * g.H + h) * n * n, n, g.scale, g.top * r, g.step * r, 1 / k,
                          only && only.side === 0 ? single : null, only && only.side === 1 ? single : null);
        if (L.m) paint(acc, g.sw, lineBundle(L.lines, L.m, g.x1 * r - g.sx, g.x2 * r - g.sx, g.height, r), colors[h], true);
      }
      return toImage(acc, new Uint8ClampedArray(acc.length));
    }

    /* One head's lines (the model view's detail panel; ``only``: one query's). */
    function detailPicture(w, g, offset, rgb, only) {
      var img = new Uint8ClampedArray(g.width * g.height * 4), r = g.r;
      var L = headLines(w, offset, g.n, g.scale, 0, g.step * r, 1, only === null ? null : [only], null);
      if (L.m) paint(img, g.width, lineBundle(L.lines, L.m, 0, g.width, g.height, 1.1 * r), rgb, false);
      return img;
    }

    /* ---------------------------------------------------------- jobs
     * A job is a generator; each step (a layer, a picture) is one task, so new
     * requests (a view that came into sight, a head toggled) get in between. A step
     * that yields a Promise waits for it while other jobs run. */

    var queue = [], running = false;

    function kick() {
      if (running) return;
      for (var q = 0; q < queue.length; q++) {
        if (!queue[q].waiting) { running = true; defer(pump); return; }
      }
    }

    function pump() {
      running = false;
      var q = 0;
      while (q < queue.length && queue[q].waiting) q++;
      var job = queue[q];
      if (!job) return;
      var step;
      try {
        if (job.cancelled) step = { done: true };
        else if (job.error) step = job.steps.throw(job.error);
        else step = job.steps.next(job.value);
      } catch (err) {
        step = { done: true };
        post({ type: "error", req: job.req, message: String(err && err.stack || err) });
      }
      job.value = job.error = undefined;
      if (step.done) {
        queue.splice(queue.indexOf(job), 1);
      } else if (step.value && typeof step.value.then === "function") {
        job.waiting = true;
        step.value.then(function (v) { job.value = v; job.waiting = false; kick(); },
                        function (err) { job.error = err; job.waiting = false; kick(); });
      }
      kick();
    }

    function schedule(req, urgent, steps) {
      var job = { req: req, steps: steps };
      if (urgent) queue.unshift(job); else queue.push(job);
      kick();
    }

    function cancel(req) {
      for (var q = 0; q < queue.length; q++) if (queue[q].req === req) queue[q].cancelled = true;
    }

    /* The job's steps, once the kind's weights are there. */
    function* withWeights(id, kind, make) {
      var w = yield weightsOf(id, kind);
      yield* make(w);
    }

    function handle(msg) {
      var m = msg;
      if (m.type === "blob") {
        post({ type: "meta", id: m.id, meta: addBlob(m.id, m.text) });
      } else if (m.type === "data") {
        addData(m.id, m.meta, m.weights);
      } else if (m.type === "weights") {
        weightsOf(m.id, m.kind).then(function (w) {
          var copy = w.slice();
          post({ type: "weights", req: m.req, weights: copy }, [copy.buffer]);
        }, function (err) { post({ type: "error", req: m.req, message: String(err) }); });
      } else if (m.type === "model") {
        schedule(m.req, false, withWeights(m.id, m.kind, function* (w) {
          for (var q = 0; q < m.order.length; q++) {
            var layer = m.order[q];
            post({ type: "image", req: m.req, part: layer, width: m.g.width, height: m.g.height,
                   data: modelLayer(w, m.g, layer, m.colors[layer % m.colors.length]) }, null, true);
            yield;
          }
          post({ type: "done", req: m.req });
        }));
      } else if (m.type === "head") {
        cancel(m.req);
        schedule(m.req, m.urgent, withWeights(m.id, m.kind, function* (w) {
          post({ type: "image", req: m.req, part: m.version, width: m.g.sw, height: m.g.height,
                 data: headPicture(w, m.g, m.layer, m.active, m.colors, null) }, null, true);
          yield;
          post({ type: "done", req: m.req, part: m.version });
        }));
      } else if (m.type === "cancel") {
        cancel(m.req);
      } else if (m.type === "drop") {
        delete sources[m.id];
      }
    }

    return { handle: handle, weightsOf: weightsOf, addData: addData, headPicture: headPicture,
             detailPicture: detailPicture };
  }

  /* ================================================================ the workers
   * One worker per core but one, at most two (a model view's layers are shared
   * between them; each inflates the page's blob itself): a core stays free for the
   * page's main thread, which a busy worker would otherwise slow down. Without
   * Workers, the core runs on the main thread. */

  var backend = (function () {
    var listeners = {}, metas = {}, nextReq = 1, pool = null, mainWeights = {};

    function receive(msg) {
      if (msg.type === "meta") {
        if (metas[msg.id] && metas[msg.id].resolve) metas[msg.id].resolve(msg.meta);
        return;
      }
      if (msg.type === "error") console.error("gallery views: " + msg.message);
      var fn = listeners[msg.req];
      if (fn) fn(msg);
    }

    /* posts leave in order: a picture becomes an ImageBitmap (handed over, not
       copied) first */
    var WORKER = "'use strict';\n" + galleryCore.toString() + "\n" +
      "var chain = Promise.resolve();\n" +
      "function out(msg, transfer, image) {\n" +
      "  chain = chain.then(function () {\n" +
      "    if (image && typeof createImageBitmap === 'function') {\n" +
      "      return createImageBitmap(new ImageData(msg.data, msg.width, msg.height)).then(function (bitmap) {\n" +
      "        delete msg.data; msg.bitmap = bitmap; self.postMessage(msg, [bitmap]);\n" +
      "      }, function () { self.postMessage(msg, [msg.data.buffer]); });\n" +
      "    }\n" +
      "    self.postMessage(msg, image ? [msg.data.buffer] : transfer || []);\n" +
      "  });\n" +
      "}\n" +
      "var channel = new MessageChannel(), later = [];\n" +
      "channel.port1.onmessage = function () { var fn = later.shift(); if (fn) fn(); };\n" +
      "var core = galleryCore(out, function (fn) { later.push(fn); channel.port2.postMessage(0); });\n" +
      "self.onmessage = function (event) { core.handle(event.data); };\n";

    /* the core on the main thread: for hover pictures, and for everything where
       Workers are missing (then each step of a job is a task of its own) */
    var channel = new MessageChannel(), tasks = [];
    channel.port1.onmessage = function () { var fn = tasks.shift(); if (fn) fn(); };
    var local = galleryCore(function (msg) {
      setTimeout(function () { receive(msg); }, 0);
    }, function (fn) { tasks.push(fn); channel.port2.postMessage(0); });

    function workers() {
      if (pool) return pool;
      pool = [];
      if (typeof Worker === "undefined" || typeof Blob === "undefined" || !window.URL) return pool;
      var count = Math.max(1, Math.min(2, (navigator.hardwareConcurrency || 1) - 1));
      try {
        var url = URL.createObjectURL(new Blob([WORKER], { type: "text/javascript" }));
        for (var k = 0; k < count; k++) {
          var w = new Worker(url);
          w.onmessage = function (event) { receive(event.data); };
          w.onerror = function (event) { console.error("gallery views worker: " + (event.message || event)); };
          pool.push(w);
        }
      } catch (err) {
        pool = [];
      }
      return pool;
    }

    /* ``msg`` to worker ``k`` (all: -1), or to the main thread's core */
    function send(msg, k, transfer) {
      var ws = workers();
      if (!ws.length) { local.handle(msg); return; }
      if (k >= 0) { ws[k % ws.length].postMessage(msg, transfer || []); return; }
      ws.forEach(function (w) { w.postMessage(msg); });
    }

    /* tokens, layers and heads read from the start of a blob's JSON (they come before
       its weights), without parsing the weights on the main thread */
    function peek(text) {
      try {
        var cut = text.indexOf(',"encoding"'), d = JSON.parse(cut > 0 ? text.slice(0, cut) + "}" : text);
        return d.tokens && d.layers && d.heads ? { n: d.tokens.length, layers: d.layers, heads: d.heads } : null;
      } catch (err) {
        return null;
      }
    }

    function listen(fn) {
      var req = nextReq++;
      listeners[req] = fn;
      return req;
    }

    return {
      /* the page's blob (its meta: tokens, layers, heads, scale, once parsed) */
      source: function (id) {
        if (!metas[id]) {
          var node = document.getElementById(id), entry = {};
          entry.promise = new Promise(function (resolve, reject) {
            entry.resolve = resolve;
            if (!node) reject(new Error("gallery: no attention data with id " + id));
          });
          metas[id] = entry;
          if (node) {
            var text = node.textContent;
            entry.peek = peek(text);
            /* every worker is sent it, and answers with its meta (the first counts) */
            send({ type: "blob", id: id, text: text }, -1);
          }
        }
        return metas[id].promise;
      },
      /* the sizes of a page's blob (tokens, layers, heads) at once, or null */
      peek: function (id) {
        this.source(id).catch(function () {});
        return metas[id].peek || null;
      },
      /* weights a page gives (GalleryViews.drawView): a source of one kind, "given" */
      data: function (data) {
        var id = "given-" + (nextReq++), meta = {
          tokens: data.tokens, layers: data.layers, heads: data.heads, scale: data.scale };
        var ws = workers();
        ws.forEach(function (w) {
          var copy = data.weights.slice();
          w.postMessage({ type: "data", id: id, meta: meta, weights: copy }, [copy.buffer]);
        });
        local.addData(id, meta, data.weights);
        metas[id] = { promise: Promise.resolve(meta) };
        mainWeights[id + " given"] = Promise.resolve(data.weights);
        return id;
      },
      /* forget weights a page gave (a view drawn again from new ones) */
      drop: function (id) {
        send({ type: "drop", id: id }, -1);
        local.handle({ type: "drop", id: id });
        delete metas[id];
        delete mainWeights[id + " given"];
      },
      /* A model view: its layers (in ``msg.order``) shared between the workers;
         onImage(msg) per layer; resolves when every layer came. */
      model: function (msg, onImage) {
        var parts = Math.max(1, Math.min(workers().length, msg.order.length));
        return new Promise(function (resolve, reject) {
          var done = 0, req = listen(function (answer) {
            if (answer.type === "image") onImage(answer);
            else if (answer.type === "done" && ++done === parts) { delete listeners[req]; resolve(); }
            else if (answer.type === "error") { delete listeners[req]; reject(new Error(answer.message)); }
          });
          for (var k = 0; k < parts; k++) {
            var mine = {};
            for (var key in msg) mine[key] = msg[key];
            mine.req = req;
            mine.order = msg.order.filter(function (layer, q) { return q % parts === k; });
            send(mine, k);
          }
        });
      },
      /* A head view's pictures: each request goes to the same worker (a newer one
         replaces one not yet drawn); fn(answer) for each answer. */
      head: function (fn) {
        var req = listen(fn);
        return {
          draw: function (msg) { msg.req = req; send(msg, req); },
          forget: function () { delete listeners[req]; send({ type: "cancel", req: req }, req); }
        };
      },
      /* a kind's weights on the main thread (hover, the detail panel) */
      weights: function (id, kind) {
        var key = id + " " + kind;
        if (!mainWeights[key]) {
          mainWeights[key] = new Promise(function (resolve, reject) {
            var req = listen(function (msg) {
              delete listeners[req];
              if (msg.type === "weights") resolve(msg.weights); else reject(new Error(msg.message));
            });
            send({ type: "weights", id: id, kind: kind, req: req }, 0);
          });
        }
        return mainWeights[key];
      },
      local: local
    };
  })();

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

  function dpr() { return Math.min(window.devicePixelRatio || 1, 2); }

  /* A canvas of width x height device pixels. */
  function canvas(parent, width, height, cls) {
    var c = document.createElement("canvas");
    c.width = width;
    c.height = height;
    c.className = cls || "";
    parent.appendChild(c);
    return c;
  }

  /* Show a picture from the core (an ImageBitmap, or RGBA bytes) on a canvas. */
  function show(c, msg) {
    if (msg.bitmap) {
      var br = c._gvBitmap || (c._gvBitmap = c.getContext("bitmaprenderer"));
      if (br) { br.transferFromImageBitmap(msg.bitmap); return; }
      var ctx2 = c.getContext("2d");
      ctx2.clearRect(0, 0, c.width, c.height);
      ctx2.drawImage(msg.bitmap, 0, 0);
      msg.bitmap.close();
      return;
    }
    var ctx = c.getContext("2d");
    ctx.putImageData(new ImageData(msg.data, msg.width, msg.height), 0, 0);
  }

  /* Place a box given in view units (of a W x H view that scales) in percent. */
  function place(el, x, y, w, h, W, H) {
    el.style.left = (100 * x / W) + "%";
    el.style.top = (100 * y / H) + "%";
    el.style.width = (100 * w / W) + "%";
    el.style.height = (100 * h / H) + "%";
  }

  /* (kept on the main thread for the PNG export of gallery-compare.js) */

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

  function range(n) {
    var out = [];
    for (var i = 0; i < n; i++) out.push(i);
    return out;
  }

  function rgb(hex) {
    return [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)];
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

  /* Rows of a view (``count`` rows of ``each`` view units from ``top``, the view's top
     at ``y`` px on screen, ``scale`` px a unit) in the order a reader sees them: the
     ones in the viewport first, then the nearest. */
  function nearestFirst(y, scale, count, top, each) {
    var vh = window.innerHeight || 800, order = [];
    for (var l = 0; l < count; l++) {
      var y0 = y + (top + l * each) * scale, y1 = y0 + each * scale;
      order.push([y1 < 0 ? -y1 : y0 > vh ? y0 - vh : -1, l]);
    }
    order.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
    return order.map(function (x) { return x[1]; });
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

  /* A model view's height in view units (its width is M.W), for the layout M. */
  function modelHeight(n, L, H, M) {
    var axis = M.HEADING_TEXT + M.HEADING_PAD + M.TEXT + M.TEXT_PAD;
    return Math.max(L * (n * 7 * (12 / H) + 2 * M.PAD) + axis, n * M.BOX_H + 2 * M.DETAIL_PAD + M.HEADING_H);
  }

  function modelView(el, meta, source, kind, at) {
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
    var shown = Math.max(600, Math.min(M.W, at.width || M.W));
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
    for (var l = 0; l < L; l++) {
      text(labels, l, { "font-size": M.TEXT + "px", x: M.HEADING_TEXT + M.HEADING_PAD + M.TEXT,
                        "text-anchor": "end", y: axis + (l + 0.5) * thumbH, dy: M.TEXT / 2 });
    }
    el.appendChild(root);

    var geometry = { width: Math.ceil(M.W * r), height: Math.ceil(thumbH * r), r: r, axis: axis,
                     thumbW: thumbW, pad: M.PAD, boxH: boxH, n: n, H: H, scale: s };
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
                 step: M.BOX_H, n: n, scale: s };
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
      var remove = detail.remove.bind(detail);
      detail.remove = function () { remove(); holder.remove(); };
    }

    over.addEventListener("click", function (event) {
      if (event.target.closest && event.target.closest(".gv-detail")) return;
      var rect = over.getBoundingClientRect();
      var x = (event.clientX - rect.left) * M.W / rect.width, y = (event.clientY - rect.top) * height / rect.height;
      var head = Math.floor((x - axis) / thumbW), layer = Math.floor((y - axis) / thumbH);
      if (head >= 0 && head < H && layer >= 0 && layer < L) showDetail(layer, head);
    });
    over.addEventListener("mousemove", function (event) {
      var rect = over.getBoundingClientRect();
      var x = (event.clientX - rect.left) * M.W / rect.width, y = (event.clientY - rect.top) * height / rect.height;
      over.style.cursor = x >= axis && y >= axis && y < axis + L * thumbH ? "pointer" : "";
    });

    return backend.model({ type: "model", id: source, kind: kind, g: geometry, order: order,
                           colors: COLORS.map(rgb) }, function (msg) { show(rows[msg.part], msg); });
  }

  /* ------------------------------------------------------------ head view */

  var HEAD = { TEXT: 15, BOX_W: 110, BOX_H: 22.5, MATRIX_W: 115, CHECK: 20, TOP: 30 };

  function headView(el, meta, source, kind, options) {
    var V = Object.assign({}, HEAD, options.layout || {});  /* gallery-compare: a compact layout */
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
              x1: V.BOX_W, x2: V.BOX_W + V.MATRIX_W, top: V.TOP, step: V.BOX_H, n: n, H: H, scale: s };
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
    if (options.fit) {  /* gallery-compare: scale with the frame's width, text too (up to fit x) */
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
    var version = 0, hovered = null, weights = null, colors = COLORS.map(rgb);
    var shownVersion = -1, waiting = [], channel = null;

    function paintChecks() {
      for (var h = 0; h < checks.length; h++) checks[h].setAttribute("fill", active[h] ? COLORS[h % 10] : lighten(COLORS[h % 10]));
    }

    /* The hovered token's lines and the boxes on the other side (few lines: drawn
       here, at once). */
    function drawHover() {
      if (!weights || !hovered) return;
      var k = count(), left = hovered.side === 0, i = hovered.index, other = sides[left ? 1 : 0].x, slot = 0;
      var headColors = [];
      for (var h = 0; h < H; h++) headColors.push(colors[h % 10]);
      var img = backend.local.headPicture(weights, g, layer, active, headColors, hovered);
      hctx.setTransform(1, 0, 0, 1, 0, 0);
      hctx.clearRect(0, 0, hoverCanvas.width, hoverCanvas.height);
      hctx.putImageData(new ImageData(img, g.sw, g.height), sx, 0);
      hctx.setTransform(r, 0, 0, r, 0, 0);
      var off = layer * H * n * n;
      for (h = 0; h < H; h++) {
        if (!active[h]) continue;
        var o = off + h * n * n;
        hctx.fillStyle = COLORS[h % 10];
        for (var j = 0; j < n; j++) {
          var a = left ? weights[o + i * n + j] : weights[o + j * n + i];
          if (!a) continue;
          hctx.globalAlpha = a / s;
          hctx.fillRect(other + slot * V.BOX_W / k, V.TOP + j * V.BOX_H, V.BOX_W / k, V.BOX_H);
        }
        slot++;
      }
      hctx.globalAlpha = 1;
    }

    function shown() { return range(H).filter(function (h) { return active[h]; }); }

    /* draw, then tell gallery-compare what is shown */
    function draw() {
      var done = paint();
      if (options.onDrawn) done.then(function () { options.onDrawn(layer, shown()); }, function () {});
      return done;
    }

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
      for (var h = 0; h < H; h++) headColors.push(colors[h % 10]);
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

  /* ------------------------------------------------------------ pages */

  /* Views are built one a task (a few views coming into sight together do not make
     one long task), from a place measured before (the IntersectionObserver's, or one
     measurement of all of them): building never waits for a layout. */
  var building = [], buildChannel = new MessageChannel();
  buildChannel.port1.onmessage = function () {
    var next = building.shift();
    if (building.length) buildChannel.port2.postMessage(0);
    if (next) next();
  };
  function inTask(fn) {
    return new Promise(function (resolve) {
      building.push(function () { resolve(fn()); });
      if (building.length === 1) buildChannel.port2.postMessage(0);
    });
  }

  function drawFrom(el, source, kind, options, rect) {
    return backend.source(source).then(function (meta) {
      return inTask(function () {
        if (el._gvForget) { el._gvForget(); el._gvForget = null; }
        return options.view === "head_view" ? headView(el, meta, source, kind, options)
          : modelView(el, meta, source, kind, rect);
      });
    });
  }

  function drawView(el, data, options) {
    options = options || {};
    if (el._gvGiven) backend.drop(el._gvGiven);
    el._gvGiven = backend.data(data);
    return drawFrom(el, el._gvGiven, "given", options);
  }

  /* {tokens, layers, heads, scale, weights} of one kind of attention of a page's blob. */
  function attention(source, kind) {
    return backend.source(source).then(function (meta) {
      return backend.weights(source, kind).then(function (w) {
        return { tokens: meta.tokens, layers: meta.layers, heads: meta.heads, scale: meta.scale, weights: w };
      });
    });
  }

  function scheme() {
    return document.body.getAttribute("data-md-color-scheme") === "slate" ? "dark" : "light";
  }

  /* Draw one placeholder (once; again when its head link asks for another head). */
  function drawPlaceholder(el, rect) {
    if (el._gvDrawing) return el._gvDrawing;
    var heads = el.getAttribute("data-heads"), layer = el.getAttribute("data-layer");
    el._gvDrawing = drawFrom(el, el.getAttribute("data-source"), el.getAttribute("data-attention"), Object.assign({
      view: el.getAttribute("data-view"), layer: layer === null ? 0 : parseInt(layer, 10),
      heads: heads ? JSON.parse(heads) : null }, el.gvOptions), rect)
      .then(function () { el.setAttribute("data-drawn", scheme()); })
      .catch(function (err) { console.error(err); });
    return el._gvDrawing;
  }

  function nearObserver(margin, early) {
    return "IntersectionObserver" in window ? new IntersectionObserver(function (entries, self) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) return;
        self.unobserve(entry.target);
        var el = entry.target, rect = entry.boundingClientRect;
        function draw() { if (!el._gvDrawing) (el.gvDraw || drawPlaceholder)(el, el.getBoundingClientRect()); }
        /* a view further than a viewport away waits until the page's own start-up is
           over (an idle moment), so it does not lengthen the tasks of the first paint */
        if (early && rect.top > 2 * window.innerHeight && window.requestIdleCallback) {
          window.requestIdleCallback(draw, { timeout: 1000 });
          observer.observe(el);  /* ... unless the reader gets there first */
        } else {
          (el.gvDraw || drawPlaceholder)(el, rect);
        }
      });
    }, { rootMargin: margin }) : null;
  }
  var observer = nearObserver(NEAR);
  /* views a page marks data-near="early" (the side-by-side block, a page's first
     view): drawn from further away, so they are there when the reader arrives */
  var earlyObserver = nearObserver(NEAR_EARLY, true);

  function unobserve(el) {
    if (observer) observer.unobserve(el);
    if (earlyObserver) earlyObserver.unobserve(el);
  }

  function placeholders() {
    return Array.prototype.slice.call(document.querySelectorAll(".gallery-bertviz"));
  }

  function drawAll() {
    var els = placeholders(), rects = els.map(function (el) { return el.getBoundingClientRect(); });
    return Promise.all(els.map(function (el, k) {
      unobserve(el);
      return drawPlaceholder(el, rects[k]);
    }));
  }

  /* A placeholder takes the room its view will take (until it is drawn), so that the
     views below it are not near the viewport before they are. */
  function reserve(el, size) {
    if (el.hasAttribute("data-drawn") || el._gvDrawing) return;
    if (el.getAttribute("data-view") === "head_view") {
      el.style.minHeight = (size.n * HEAD.BOX_H + HEAD.TOP + 2 * HEAD.TEXT) + "px";
    } else {
      var M = modelLayout(el.clientWidth);
      el.style.aspectRatio = M.W + " / " + modelHeight(size.n, size.layers, size.heads, M);
      el.style.maxWidth = M.W + "px";
    }
  }

  function unreserve(el) {
    el.style.minHeight = el.style.aspectRatio = el.style.maxWidth = "";
  }

  /* The workers start inflating the page's blobs at once (this script runs at the
     end of the body, before Material's), before any view is near; the placeholders
     take their views' room. */
  function warm() {
    placeholders().forEach(function (el) {
      var id = el.getAttribute("data-source");
      var size = id && document.getElementById(id) ? backend.peek(id) : null;
      if (size) reserve(el, size);
    });
  }

  /* draw ``el`` when it nears the viewport: a placeholder, or anything with ``draw(el)`` */
  function observe(el, draw) {
    if (draw) el.gvDraw = draw;
    var watch = el.getAttribute("data-near") === "early" ? earlyObserver : observer;
    if (watch) watch.observe(el); else (draw || drawPlaceholder)(el);
  }

  function start() {
    warm();
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
      unobserve(el);
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

  warm();

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
