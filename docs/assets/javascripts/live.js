/* The live page: both models of the pair run in the reader's browser.
 *
 * Nothing loads until the reader runs a sentence (or opens the page with ?text=).
 * Then: the runtime (onnxruntime-web, single-threaded WebAssembly) and the pair's
 * graph are fetched from this site with a progress bar, and run in a worker
 * (live-worker.js); the tokenizer (@huggingface/tokenizers) reads the model's own
 * tokenizer.json. One graph serves both models: input "trained" 1 is the fine-tuned
 * model, 0 the pretrained encoder with its untrained head.
 *
 * What a gallery page shows is computed as the build computes it
 * (attention_gallery/explain): probabilities, head change (Jensen-Shannon distance),
 * attention rollout, raw attention, leave-one-out (tokens deleted), ERASER's
 * deletion test with its random baseline; the attention views are drawn by the
 * site's own gallery-views.js from an attention blob in its format, so they look
 * and behave as on every gallery page. Markup mirrors explain/views.py's.
 *
 * The result lands in <output id="live-result" data-result='{...}' data-stage="...">:
 * stage "predictions" once the predictions and views are there, "complete" once
 * leave-one-out and the deletion test are too.
 */
(function () {
  "use strict";

  var configNode = document.getElementById("live-config");
  if (!configNode) return;
  var C = JSON.parse(configNode.textContent);
  var Colour = window.GalleryColour;  /* colour-scale.js, loaded before this script */
  var $ = function (id) { return document.getElementById(id); };
  var box = $("live-text"), button = $("live-run"), statusLine = $("live-status"),
      bar = $("live-progress"), output = $("live-output"), result = $("live-result");
  var MODELS = ["trained", "untrained"];
  /* What a text may contain: data shared with the build (attention_gallery/rules.json,
     "text", passed in #live-config; gallery/sentences.py check_text applies the same). */
  var TEXT = C.text_rules;
  function codeClass(ranges) {  /* a regular expression matching one code point of [first, last] hex ranges */
    return new RegExp("[" + ranges.map(function (r) { return "\\u{" + r[0] + "}-\\u{" + r[1] + "}"; }).join("") + "]", "u");
  }
  function singles(codes) { return codes.map(function (c) { return [c, c]; }); }
  function fromHex(codes) { return codes.map(function (c) { return String.fromCodePoint(parseInt(c, 16)); }); }
  var LINE_BREAKS = {};
  Object.keys(TEXT.line_breaks.chars).forEach(function (c) { LINE_BREAKS[fromHex([c])[0]] = TEXT.line_breaks.chars[c]; });
  var CONTROL = new RegExp("\\p{" + TEXT.controls.category + "}", "u"), CONTROL_ALLOWED = fromHex(TEXT.controls.allowed);
  var BIDI = codeClass(singles(TEXT.bidi_controls.chars));
  var NONCHARACTER = codeClass(TEXT.noncharacters.ranges), SURROGATE = codeClass(TEXT.surrogates.ranges);
  var READABLE = new RegExp("[" + TEXT.readable.categories.map(function (c) { return "\\p{" + c + "}"; }).join("") + "]", "u");
  var INVISIBLE = fromHex(TEXT.readable.invisible);
  /* one worker call: at most this many tokens / sequences (a new sentence waits for the
     call in flight, a second or so at most) */
  var BATCH_TOKENS = 1024, BATCH_MAX = 32;
  var VIEWS_FIRST_MS = 3000;  /* how long leave-one-out waits, at most, for the views to be drawn */

  function url(key) { return new URL(C.urls[key], location.href).href; }
  function say(message, isError) {
    statusLine.textContent = message;
    statusLine.classList.toggle("live-error", !!isError);
  }

  /* ------------------------------------------------------------ markup (explain/views.py) */

  function esc(value) {
    return String(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#x27;");
  }
  function signed(value, digits) {
    digits = digits === undefined ? 3 : digits;
    var r = Math.round(value * Math.pow(10, digits)) / Math.pow(10, digits);
    if (r === 0) r = 0;  /* never -0.000 */
    return (r >= 0 ? "+" : "") + r.toFixed(digits);
  }
  function shown(tokens) {  /* bertviz's format_special_chars */
    return tokens.map(function (t) { return t.replace(/Ġ/g, " ").replace(/▁/g, " ").replace(/<\/w>/g, ""); });
  }
  function alpha(value, vmax) { return vmax <= 0 ? 0 : Math.round(Math.min(1, Math.abs(value) / vmax) * 0.85 * 1000) / 1000; }
  function modelName(which) { return C.names[which] || which; }
  var UNSIGNED_RGB = "124, 77, 255";

  function sentenceCard(text, tokens) {
    var chips = tokens.map(function (t) { return '<span class="gallery-token">' + esc(t) + "</span>"; }).join("");
    return '<div class="gallery-sentence"><p class="gallery-text" dir="auto">' + esc(text) + "</p>" +
      "<p>" + tokens.length + " tokens · computed live in your browser</p>" +
      '<div class="gallery-tokens" dir="ltr">' + chips + "</div></div>";
  }

  function predictionsTable(runs) {
    var labels = C.labels;
    var head = labels.map(function (l) { return "<th>logit " + esc(l) + "</th>"; }).join("") +
      labels.map(function (l) { return "<th>p(" + esc(l) + ")</th>"; }).join("");
    var body = MODELS.map(function (which) {
      var run = runs[which], pred = labels[run.predicted];
      var cells = run.logits.map(function (x) { return "<td>" + signed(x) + "</td>"; }).join("") +
        run.probs.map(function (p) { return "<td>" + p.toFixed(3) + "</td>"; }).join("");
      var verdict = which === "untrained"
        ? '<td class="gallery-chance">≈ chance (margin ' + Math.abs(run.logits[0] - run.logits[run.logits.length - 1]).toFixed(3) + " logit)</td>"
        : '<td class="gallery-conf">p = ' + run.probs[run.predicted].toFixed(2) + "</td>";
      return "<tr><th>" + esc(modelName(which)) + "</th>" + cells + "<td><strong>" + esc(pred) + "</strong></td>" + verdict + "</tr>";
    }).join("");
    return '<div class="gallery-scroll"><table class="gallery-table"><thead><tr><th>model</th>' + head +
      "<th>prediction</th><th>reading</th></tr></thead><tbody>" + body + "</tbody></table></div>";
  }

  function view(source, kind, attention, id, layer, heads) {
    var title = C.view_titles[attention], name = kind.replace("_", " ");
    var attrs = 'class="gallery-bertviz" id="' + esc(id) + '" data-source="' + esc(source) + '" data-view="' + kind +
      '" data-attention="' + attention + '"' + (layer === undefined ? "" : ' data-layer="' + layer + '" data-heads="[' + heads + ']"');
    var label = "bertviz " + name + " of the " + title;
    return '<p class="gallery-caption gallery-view-caption">' + esc(name.charAt(0).toUpperCase() + name.slice(1) + ": " + title) +
      '</p><div class="gallery-view-frame" role="figure" aria-label="' + esc(label) + '"><div ' + attrs +
      "><noscript>" + esc(label) + ": needs JavaScript.</noscript></div></div>";
  }

  function heatmap(change, caption, top) {
    var vmax = 0, L = change.length, H = change[0].length;
    change.forEach(function (row) { row.forEach(function (v) { vmax = Math.max(vmax, v); }); });
    var marked = {};
    top.forEach(function (t) { marked[t[0] + "," + t[1]] = true; });
    var head = "";
    for (var h = 0; h < H; h++) head += "<th>" + h + "</th>";
    var rows = change.map(function (row, l) {
      return "<tr><th>" + l + "</th>" + row.map(function (v, h) {
        /* a link that opens the side-by-side block on that head, as on a gallery page */
        var text = '<a href="#head-' + l + "-" + h + '" data-layer="' + l + '" data-head="' + h + '" aria-label="' +
          v.toFixed(2) + ": layer " + l + ", head " + h + " (" + v.toFixed(3) + ')">' + v.toFixed(2) + "</a>";
        return '<td class="' + (marked[l + "," + h] ? "gallery-top" : "") + '" style="--a:' + alpha(v, vmax) +
          '" title="layer ' + l + ", head " + h + ": " + v.toFixed(3) + '">' + text + "</td>";
      }).join("") + "</tr>";
    }).join("");
    return '<div class="gallery-scroll"><table class="gallery-heatmap" aria-label="' + esc(caption) + '"><caption>' + esc(caption) +
      "</caption><thead><tr><th>layer \\ head</th>" + head + "</tr></thead><tbody>" + rows + "</tbody></table></div>";
  }

  function tokenScores(tokens, scores, caption, muted, vmax, isSigned) {
    var spans = shown(tokens).map(function (tok, i) {
      var s = scores[i];
      if (muted[i]) return '<span class="gallery-attr gallery-attr-muted" title="' + signed(s) + '">' + esc(tok) + "</span>";
      var style = isSigned ? "--a:" + alpha(s, vmax) : "--a:" + alpha(s, vmax) + ";background:rgba(" + UNSIGNED_RGB + ",var(--a))";
      var kind = isSigned ? (s >= 0 ? "pos" : "neg") : "unsigned";
      return '<span class="gallery-attr gallery-attr-' + kind + '" style="' + style + '" title="' + signed(s) + '">' + esc(tok) + "</span>";
    }).join("");
    return '<div class="gallery-attribution"><span class="gallery-attr-caption">' + esc(caption) +
      '</span><span class="gallery-attr-tokens" dir="ltr">' + spans + "</span></div>";
  }

  function legend(scales) {  /* views.attribution_legend; scales: {method: GalleryColour.scale(...)} */
    var neg = C.labels[0], pos = C.labels[C.labels.length - 1];
    var head = '<p class="gallery-legend"><span class="gallery-attr gallery-attr-pos" style="--a:0.8">toward ' + esc(pos) +
      '</span> <span class="gallery-attr gallery-attr-neg" style="--a:0.8">toward ' + esc(neg) +
      '</span> <span class="gallery-attr gallery-attr-unsigned" style="--a:0.8;background:rgba(' + UNSIGNED_RGB +
      ',var(--a))">weight (unsigned)</span> · a token\'s colour is its share of the method\'s total |score| over the words ' +
      "([CLS] and [SEP], greyed, are left out), one scale per method shared by the rows (the total is the larger row's): " +
      "full colour at " + Colour.pct(C.colour.full_share) + " of the total, paler in proportion below it, so scores spread " +
      "evenly over the words look evenly pale and a row of tiny scores stays pale. Signed scores (leave-one-out) " +
      "are coloured by the class they push toward, whichever class the model predicts; hover a token for its value " +
      "(signed: + toward " + esc(pos) + ").</p>";
    var items = Object.keys(scales).map(function (name) {
      var m = C.methods[name];
      return "<li>" + esc(Colour.item(m.title, scales[name], m.unit, m.signed)) + "</li>";
    }).join("");
    return head + '<ul class="gallery-caption">' + items + "</ul>";
  }

  function simpleTable(header, rows) {
    return '<div class="gallery-scroll"><table class="gallery-table"><thead><tr>' +
      header.map(function (c) { return "<th>" + esc(c) + "</th>"; }).join("") + "</tr></thead><tbody>" +
      rows.map(function (r) { return "<tr>" + r.map(function (c) { return "<td>" + esc(c) + "</td>"; }).join("") + "</tr>"; }).join("") +
      "</tbody></table></div>";
  }

  /* ------------------------------------------------------------ numbers (explain/*.py) */

  function softmax(logits) {
    var max = Math.max.apply(null, logits), e = logits.map(function (x) { return Math.exp(x - max); });
    var sum = e.reduce(function (a, b) { return a + b; }, 0);
    return e.map(function (x) { return x / sum; });
  }
  function argmax(values) {
    var best = 0;
    for (var i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
    return best;
  }

  /* Jensen-Shannon distance (base 2) of two rows, as headchange.js_distance */
  function jsDistance(a, b, offset, n) {
    var d = 0;
    for (var k = 0; k < n; k++) {
      var p = a[offset + k], q = b[offset + k], m = 0.5 * (p + q);
      if (p > 0) d += 0.5 * p * Math.log2(p / m);
      if (q > 0) d += 0.5 * q * Math.log2(q / m);
    }
    return Math.sqrt(Math.min(1, Math.max(0, d)));
  }
  function headChange(t, u, L, H, n) {
    var out = [];
    for (var l = 0; l < L; l++) {
      var row = [];
      for (var h = 0; h < H; h++) {
        var sum = 0, base = (l * H + h) * n * n;
        for (var i = 0; i < n; i++) sum += jsDistance(t, u, base + i * n, n);
        row.push(sum / n);
      }
      out.push(row);
    }
    return out;
  }
  function topHeads(change, k) {
    var cells = [];
    change.forEach(function (row, l) { row.forEach(function (v, h) { cells.push([l, h, v]); }); });
    cells.sort(function (a, b) { return b[2] - a[2] || a[0] - b[0] || a[1] - b[1]; });
    return cells.slice(0, k);
  }
  /* attention rollout of [CLS], as methods.rollout_matrix(...)[0] */
  function rollout(att, L, H, n, residual) {
    var R = new Float64Array(n * n);
    for (var i = 0; i < n; i++) R[i * n + i] = 1;
    for (var l = 0; l < L; l++) {
      var A = new Float64Array(n * n);
      for (var h = 0; h < H; h++) {
        var base = (l * H + h) * n * n;
        for (var k = 0; k < n * n; k++) A[k] += att[base + k] / H;
      }
      for (i = 0; i < n; i++) {
        var sum = 0;
        for (var j = 0; j < n; j++) {
          A[i * n + j] = (1 - residual) * A[i * n + j] + (i === j ? residual : 0);
          sum += A[i * n + j];
        }
        for (j = 0; j < n; j++) A[i * n + j] /= sum;
      }
      var next = new Float64Array(n * n);
      for (i = 0; i < n; i++) for (k = 0; k < n; k++) {
        var a = A[i * n + k];
        if (!a) continue;
        for (j = 0; j < n; j++) next[i * n + j] += a * R[k * n + j];
      }
      R = next;
    }
    return Array.from(R.subarray(0, n));
  }
  /* last-layer attention of [CLS], heads averaged (methods.cls_attention) */
  function clsAttention(att, L, H, n) {
    var out = new Array(n).fill(0);
    for (var h = 0; h < H; h++) {
      var base = ((L - 1) * H + h) * n * n;
      for (var j = 0; j < n; j++) out[j] += att[base + j] / H;
    }
    return out;
  }
  function levels(att) {  /* views.levels: round half to even, like numpy's rint */
    var out = new Uint8Array(att.length);
    for (var i = 0; i < att.length; i++) {
      var x = Math.min(1, Math.max(0, att[i])) * C.scale, r = Math.round(x);
      if (Math.abs(x - Math.trunc(x)) === 0.5 && r % 2) r -= 1;
      out[i] = r;
    }
    return out;
  }
  function base64(bytes) {
    var parts = [];
    for (var i = 0; i < bytes.length; i += 0x8000) parts.push(String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000)));
    return btoa(parts.join(""));
  }
  /* Kendall's tau-b over the word tokens (faithfulness.tau_loo) */
  function tauB(x, y) {
    var n = x.length, c = 0, d = 0, tx = 0, ty = 0;
    if (n < 2) return 1;
    for (var i = 0; i < n; i++) for (var j = i + 1; j < n; j++) {
      var a = Math.sign(x[i] - x[j]), b = Math.sign(y[i] - y[j]);
      if (a && b) { if (a === b) c++; else d++; } else if (a) ty++; else if (b) tx++;
    }
    var den = Math.sqrt((c + d + tx) * (c + d + ty));
    return den ? (c - d) / den : 0;
  }
  function mulberry32(seed) {
    return function () {
      seed |= 0; seed = seed + 0x6D2B79F5 | 0;
      var t = Math.imul(seed ^ seed >>> 15, 1 | seed);
      t = t + Math.imul(t ^ t >>> 7, 61 | t) ^ t;
      return ((t ^ t >>> 14) >>> 0) / 4294967296;
    };
  }
  function comb(n, k) {
    var r = 1;
    for (var i = 1; i <= k; i++) r = r * (n - k + i) / i;
    return Math.round(r);
  }
  function combinations(items, k) {
    var out = [], idx = [];
    for (var i = 0; i < k; i++) idx.push(i);
    while (true) {
      out.push(idx.map(function (j) { return items[j]; }));
      var p = k - 1;
      while (p >= 0 && idx[p] === items.length - k + p) p--;
      if (p < 0) return out;
      idx[p]++;
      for (var q = p + 1; q < k; q++) idx[q] = idx[q - 1] + 1;
    }
  }

  /* ------------------------------------------------------------ the workers */

  function Pool() { this.workers = []; this.queue = []; }
  /* a worker of its own files (live-worker.js); onBytes(n): n more bytes read */
  Pool.prototype.add = function (onBytes) {
    var pool = this;
    return new Promise(function (resolve, reject) {
      var worker = new Worker(url("worker")), entry = { worker: worker, busy: null };
      worker.onmessage = function (event) {
        var msg = event.data;
        if (msg.type === "progress") {
          if (onBytes) onBytes(msg.bytes);
        } else if (msg.type === "ready") {
          pool.workers.push(entry);
          resolve(msg);
          pool.pump();
        } else if (msg.type === "error" && msg.id === null) {
          reject(new Error(msg.message));
        } else if (entry.busy) {
          var job = entry.busy;
          entry.busy = null;
          if (msg.type === "error") job.reject(new Error(msg.message)); else job.resolve(msg);
          pool.pump();
        }
      };
      worker.onerror = function (event) { reject(new Error(event.message || "the worker failed to start")); };
      worker.postMessage({ type: "init", ort: url("ort"), mjs: url("mjs"), cache: window.caches ? CACHE : null,
                           urls: { wasm: url("wasm"), model: url("model"), weights: url("weights") }, layout: C.model });
    });
  };
  Pool.prototype.run = function (job) {
    var pool = this;
    return new Promise(function (resolve, reject) {
      job.resolve = resolve;
      job.reject = reject;
      if (job.attention) pool.queue.unshift(job); else pool.queue.push(job);  /* a new sentence first */
      pool.pump();
    });
  };
  Pool.prototype.pump = function () {
    for (var i = 0; i < this.workers.length && this.queue.length; i++) {
      var entry = this.workers[i];
      if (entry.busy) continue;
      var job = this.queue.shift();
      entry.busy = job;
      entry.worker.postMessage({ type: "run", id: job.id || 0, ids: job.ids, batch: job.batch, length: job.length,
                                 trained: job.trained, attention: !!job.attention });
    }
  };
  Pool.prototype.cancel = function (generation) {  /* drop what an older sentence queued */
    this.queue = this.queue.filter(function (job) {
      if (job.generation === generation) return true;
      job.reject(new Cancelled());
      return false;
    });
  };
  function Cancelled() { this.message = "cancelled"; }

  /* ------------------------------------------------------------ loading */

  var loading = null, timings = {};

  /* The large files are kept in the Cache Storage (HTTP caches may refuse an entry of
     tens of MB); their names hold their content's hash, so an entry never goes stale,
     and entries of older builds are dropped once this build's are in. The worker reads
     the model, its weights and the WebAssembly itself (live-worker.js); the page reads
     the tokenizer. */
  var CACHE = "attention-gallery-live";
  var CACHED = ["model", "weights", "wasm", "tokenizer", "tokenizer_config"];
  function cachedFetch(key) {
    if (!window.caches || CACHED.indexOf(key) < 0) return fetch(url(key));
    return caches.open(CACHE).then(function (cache) {
      return cache.match(url(key)).then(function (hit) {
        if (hit) return hit;
        return fetch(url(key)).then(function (response) {
          if (response.ok) cache.put(url(key), response.clone()).catch(function (err) { console.warn("live: not cached", err); });
          return response;
        });
      });
    }, function () { return fetch(url(key)); });
  }
  function pruneCache() {
    if (!window.caches) return;
    var keep = CACHED.map(url);
    caches.open(CACHE).then(function (cache) {
      return cache.keys().then(function (requests) {
        requests.forEach(function (r) { if (keep.indexOf(r.url) < 0) cache.delete(r); });
      });
    }).catch(function () {});
  }

  function fetchBytes(key, onBytes) {  /* the tokenizer's files (0.5 MB): in one piece */
    return cachedFetch(key).then(function (response) {
      if (!response.ok) throw new Error(C.urls[key] + ": HTTP " + response.status);
      return response.arrayBuffer().then(function (b) { onBytes(b.byteLength); return b; });
    });
  }

  function mb(bytes) { return (bytes / 1e6).toFixed(1) + " MB"; }

  function load() {
    if (loading) return loading;
    var start = performance.now(), total = 0, done = 0;
    C.download.forEach(function (k) { total += C.sizes[k] || 0; });
    bar.max = total;
    bar.value = 0;
    bar.hidden = false;
    var started = false;  /* the bytes are in: the runtime is starting */
    function onBytes(n) {
      done += n;
      bar.value = done;
      if (!started) say("Loading the models and the runtime: " + mb(done) + " of " + mb(total) +
                        " (downloaded from this site once: your browser keeps them).");
    }
    var text = function (key) { return fetchBytes(key, onBytes).then(function (b) { return JSON.parse(new TextDecoder().decode(b)); }); };
    var pool = new Pool();
    var worker = 0, workerTotal = (C.sizes.model || 0) + (C.sizes.weights || 0) + (C.sizes.wasm || 0);
    loading = Promise.all([pool.add(function (n) {
                             onBytes(n);
                             worker += n;
                             if (worker >= workerTotal && !started) {
                               started = true;
                               bar.hidden = true;
                               say("Starting the runtime (a second or two)…");
                             }
                           }),
                           text("tokenizer"), text("tokenizer_config"), import(url("tokenizers"))])
      .then(function (got) {
        Object.assign(timings, got[0].timings);
        timings.load_s = (performance.now() - start) / 1000;
        pruneCache();
        bar.hidden = true;
        var tokenizer = new got[3].Tokenizer(got[1], got[2]);
        /* a second worker for leave-one-out and the deletion test, where there is a second
           core and the memory for a second session (about 300 MB); started once the first
           sentence's predictions and views are out, so it does not slow them */
        var cores = navigator.hardwareConcurrency || 1, memory = navigator.deviceMemory || 8, second = null;
        function more() {
          if (second === null && cores >= 2 && memory >= 4) {
            second = pool.add(null).catch(function (err) { console.warn("live: second worker", err); });
          }
        }
        return { tokenizer: tokenizer, pool: pool, more: more };
      })
      .catch(function (err) {
        loading = null;
        bar.hidden = true;
        throw err;
      });
    return loading;
  }

  /* ------------------------------------------------------------ one sentence */

  var generation = 0;

  function codepoint(ch) { return "U+" + ch.codePointAt(0).toString(16).toUpperCase().padStart(4, "0"); }
  /* {at (1-based, in code points, as the build counts), ch, more} of the first character ``bad`` says, or null */
  function firstBad(chars, bad) {
    var hits = 0, found = null;
    chars.forEach(function (ch, i) { if (bad(ch)) { hits++; if (!found) found = { at: i + 1, ch: ch }; } });
    if (found) found.more = hits > 1 ? " (and " + (hits - 1) + " more)" : "";
    return found;
  }
  /* The first problem of a text (null: accepted), as the build words it; for the box and ?text= alike. */
  function problems(text) {
    if (text === "") return "text is empty";
    if (!text.trim()) return "text is blank (only whitespace)";
    var chars = Array.from(text), f;
    if (!chars.some(function (ch) { return READABLE.test(ch) && INVISIBLE.indexOf(ch) < 0; })) {
      return "text has no visible characters; a sentence needs at least one letter, number, symbol or punctuation mark";
    }
    if (chars.length > TEXT.max_chars) {
      return "text is too long: " + chars.length + " characters; at most " + TEXT.max_chars +
        " are accepted (overlong sentences are refused, not truncated)";
    }
    if ((f = firstBad(chars, function (ch) { return ch in LINE_BREAKS; }))) {
      return "text must be a single line, but it has a line break (" + LINE_BREAKS[f.ch] + ") at character " + f.at +
        "; write the sentence on one line";
    }
    if ((f = firstBad(chars, function (ch) { return CONTROL.test(ch) && CONTROL_ALLOWED.indexOf(ch) < 0 && !(ch in LINE_BREAKS); }))) {
      return "text contains a control character, " + codepoint(f.ch) + " at character " + f.at + f.more +
        "; only printable characters, spaces and tabs are allowed";
    }
    if ((f = firstBad(chars, function (ch) { return BIDI.test(ch); }))) {
      return "text contains a bidirectional control character, " + codepoint(f.ch) + " at character " + f.at + f.more +
        "; it makes the page show the text in another order than the model reads it";
    }
    if ((f = firstBad(chars, function (ch) { return SURROGATE.test(ch); }))) {
      return "text contains a lone surrogate (" + codepoint(f.ch) + ") at character " + f.at + ", which is not a valid character";
    }
    if ((f = firstBad(chars, function (ch) { return NONCHARACTER.test(ch); }))) {
      return "text contains a noncharacter, " + codepoint(f.ch) + " at character " + f.at + f.more +
        "; noncharacters are not text (an exported SVG could not carry it): remove it";
    }
    return null;
  }

  /* Probabilities of many id sequences with one model, each distinct sequence run once
     (explain/removal.Removals): grouped by length, no padding. */
  function Removals(pool, trained, gen) {
    this.pool = pool; this.trained = trained; this.gen = gen; this.known = new Map();
  }
  Removals.prototype.probs = function (variants, onDone) {
    var self = this, todo = new Map();
    variants.forEach(function (ids) {
      var key = ids.join(",");
      if (!self.known.has(key) && !todo.has(key)) todo.set(key, ids);
    });
    var byLength = new Map();
    todo.forEach(function (ids, key) {
      if (!byLength.has(ids.length)) byLength.set(ids.length, []);
      byLength.get(ids.length).push(key);
    });
    var jobs = [];
    byLength.forEach(function (keys, length) {
      var per = Math.max(1, Math.min(BATCH_MAX, Math.floor(BATCH_TOKENS / length)));
      for (var s = 0; s < keys.length; s += per) {
        var chunk = keys.slice(s, s + per), ids = new Int32Array(chunk.length * length);
        chunk.forEach(function (key, r) { ids.set(todo.get(key), r * length); });
        jobs.push(self.pool.run({ ids: ids, batch: chunk.length, length: length, trained: self.trained ? 1 : 0,
                                  generation: self.gen })
          .then((function (chunk) {
            return function (msg) {
              var labels = msg.logits.length / chunk.length;
              chunk.forEach(function (key, r) {
                self.known.set(key, softmax(Array.from(msg.logits.subarray(r * labels, (r + 1) * labels))));
              });
              if (onDone) onDone(chunk.length);
            };
          })(chunk)));
      }
    });
    return Promise.all(jobs).then(function () {
      return variants.map(function (ids) { return self.known.get(ids.join(",")); });
    });
  };

  function remove(ids, positions) {
    var drop = new Set(positions);
    return ids.filter(function (_, i) { return !drop.has(i); });
  }
  function keepOnly(ids, words, positions) {
    var keep = new Set(positions);
    return remove(ids, words.filter(function (i) { return !keep.has(i); }));
  }
  function rankTokens(scores, words) {
    return words.slice().sort(function (a, b) { return scores[b] - scores[a] || a - b; });
  }
  function deletionWeights(nWords) {
    var D = C.deletion, top = Array.from(new Set(D.ks.map(function (k) { return Math.min(k, nWords); }))).sort(function (a, b) { return a - b; });
    var bins = D.bins.map(function (f) { return Math.max(1, Math.min(nWords, Math.floor(f * nWords + 0.5))); });
    var wTop = {}, wBin = {};
    top.forEach(function (k) { wTop[k] = 1 / top.length; });
    bins.forEach(function (k) { wBin[k] = (wBin[k] || 0) + 1 / bins.length; });
    return { comprehensiveness: wTop, sufficiency: wTop, aopc_comprehensiveness: wBin, aopc_sufficiency: wBin };
  }
  var FIGURES = ["comprehensiveness", "sufficiency", "aopc_comprehensiveness", "aopc_sufficiency"];
  /* the log-odds of a probability (claims decide on them where p does not move); the
     browser has probabilities only, so p is kept off 0 and 1 */
  function logOdds(p) {
    var q = Math.min(Math.max(p, 1e-12), 1 - 1e-12);
    return Math.log(q) - Math.log(1 - q);
  }
  /* the four figures on p and on log-odds (removed/kept: {k: p}), and p of each top-k
     variant, as explain/faithfulness._all_figures; lo: {removed, kept} of mean
     log-odds where they are not the log-odds of the mean (the random baseline) */
  function figures(p0, removed, kept, weights, top, lo) {
    var out = {}, lo0 = logOdds(p0);
    lo = lo || { removed: mapValues(removed, logOdds), kept: mapValues(kept, logOdds) };
    FIGURES.forEach(function (name) {
      var comp = /comprehensiveness$/.test(name), side = comp ? removed : kept, sideLo = comp ? lo.removed : lo.kept;
      var w = weights[name], v = 0, l = 0;
      Object.keys(w).forEach(function (k) { v += w[k] * (p0 - side[k]); l += w[k] * (lo0 - sideLo[k]); });
      out[name] = v;
      out[name + "_logodds"] = l;
    });
    out.removed_p = top.map(function (k) { return removed[k]; });
    out.kept_p = top.map(function (k) { return kept[k]; });
    return out;
  }
  function mapValues(o, f) {
    var out = {};
    Object.keys(o).forEach(function (k) { out[k] = f(o[k]); });
    return out;
  }
  function topKs(nWords) {
    return Array.from(new Set(C.deletion.ks.map(function (k) { return Math.min(k, nWords); }))).sort(function (a, b) { return a - b; });
  }
  function needed(weights) {
    var ks = new Set();
    FIGURES.forEach(function (f) { Object.keys(weights[f]).forEach(function (k) { ks.add(+k); }); });
    return Array.from(ks).sort(function (a, b) { return a - b; });
  }

  function run() {
    var text = box.value, gen = ++generation;
    var problem = problems(text);
    if (problem) { say(problem, true); return Promise.resolve(); }
    button.disabled = true;
    var pressed = performance.now();
    return load().then(function (loaded) {
      if (gen !== generation) return;
      loaded.pool.cancel(gen);
      var encoded = loaded.tokenizer.encode(text);
      var ids = Array.from(encoded.ids, Number), tokens = encoded.tokens, n = ids.length;
      if (n > C.max_tokens) {
        throw new UserError("text is too long: sentence has " + n + " tokens; the gallery accepts at most " + C.max_tokens +
          " (attention views of longer inputs are unreadable); overlong sentences are refused, not truncated");
      }
      var special = ids.map(function (id) { return C.special_ids.indexOf(id) >= 0; });
      var words = [];
      special.forEach(function (s, i) { if (!s) words.push(i); });
      if (!words.length) throw new UserError("text gives no token but " + tokens.join(" ") + ": the model would read no word of it");
      var params = new URLSearchParams(location.search);  /* a shareable address: ?text=... */
      params.set("text", text);
      /* a shared address's #head-L-H holds for its own sentence, not for the next one */
      history.replaceState(null, "", "?" + params.toString() + (gen > 1 ? "" : location.hash));
      say("Running both models on " + n + " tokens…");
      var all = new Int32Array(ids);
      return Promise.all(MODELS.map(function (which) {
        return loaded.pool.run({ ids: all, batch: 1, length: n, trained: which === "trained" ? 1 : 0, attention: true, generation: gen });
      })).then(function (outs) {
        if (gen !== generation) return;
        var s = { text: text, ids: ids, tokens: tokens, n: n, special: special, words: words, gen: gen, runs: {}, pressed: pressed };
        MODELS.forEach(function (which, m) {
          var logits = Array.from(outs[m].logits), att = new Float32Array(C.layers * C.heads * n * n);
          outs[m].attention.forEach(function (a, l) { att.set(a, l * C.heads * n * n); });
          var probs = softmax(logits);
          s.runs[which] = { logits: logits, probs: probs, predicted: argmax(logits), attention: att };
        });
        s.change = headChange(s.runs.trained.attention, s.runs.untrained.attention, C.layers, C.heads, n);
        s.top = topHeads(s.change, 3);
        timings.predict_ms = performance.now() - pressed;
        var drawn = showFirst(s);
        timings.shown_ms = performance.now() - pressed;
        button.disabled = false;  /* another sentence may start now: it cancels what follows */
        /* the views first (the cores are few), then leave-one-out and the deletion test */
        return Promise.race([drawn.catch(function () {}), new Promise(function (r) { setTimeout(r, VIEWS_FIRST_MS); })])
          .then(function () {
            if (gen !== generation) return;
            timings.views_ms = performance.now() - pressed;
            loaded.more();
            return followUp(s, loaded.pool);
          });
      });
    }).catch(function (err) {
      if (err instanceof Cancelled) return;
      if (err instanceof UserError) { say(err.message, true); return; }
      console.error(err);
      say("The models could not run: " + (err && err.message || err) + ". Reload the page to try again.", true);
    }).then(function () {
      if (gen === generation) button.disabled = false;
    });
  }
  function UserError(message) { this.message = message; }

  function section(id, title, intro, body) {
    return '<section id="' + id + '"><h2>' + esc(title) + "</h2>" + (intro ? "<p>" + intro + "</p>" : "") +
      '<div class="live-body">' + body + "</div></section>";
  }

  function setResult(s, stage, extra) {
    var data = { text: s.text, tokens: s.tokens, top_head: s.top[0].slice(0, 2),
                 top_heads: s.top.map(function (t) { return [t[0], t[1], Math.round(t[2] * 1e4) / 1e4]; }),
                 timings: timings };
    MODELS.forEach(function (which) {
      var r = s.runs[which];
      data[which] = { probs: r.probs, logits: r.logits, predicted: C.labels[r.predicted] };
    });
    Object.assign(data, extra || {});
    result.setAttribute("data-result", JSON.stringify(data));
    result.setAttribute("data-stage", stage);
    result.textContent = stage;
    window.LiveGallery.last = s;
  }

  function showFirst(s) {
    var n = s.n, source = "live-attention-" + s.gen, prefix = "live-" + s.gen + "-";
    var top = s.top[0], t = s.runs.trained, u = s.runs.untrained;
    var id = function (v, a) { return prefix + v.replace("_", "-") + "-" + a; };
    var links = s.top.map(function (c) {
      return '<a href="#head-' + c[0] + "-" + c[1] + '" class="gallery-head-link" data-layer="' + c[0] + '" data-head="' + c[1] +
        '">layer ' + c[0] + ", head " + c[1] + "</a> (" + c[2].toFixed(3) + ")";
    }).join(", ");
    output.innerHTML =
      section("live-sentence", "The sentence and its tokens",
              "The models see these tokens ([CLS] starts every input, [SEP] ends it; ## marks a piece of a longer word).",
              sentenceCard(s.text, s.tokens)) +
      section("live-predictions", "What each model predicts",
              "Computed live, in your browser. The untrained head is random (seeded): its two logits are almost equal, " +
              "so its prediction is chance, not a judgement.",
              predictionsTable(s.runs) + '<p class="gallery-caption">' + esc(modelName("trained")) + ": " +
              esc(C.display.trained) + "; " + esc(C.untrained_name) + ": " + esc(C.display.untrained) +
              " with a head drawn at random (seed " + C.head_seed + "). " + esc(C.notes.untrained) + "</p>") +
      section("live-compare", "Side by side: one head, both models",
              "One layer's <strong>head view</strong> for the fine-tuned model, the " + esc(C.untrained_name.replace(/^the /, "")) +
              ", and the attention fine-tuning <strong>gained</strong> and <strong>lost</strong>. Lines go from a token on the " +
              "left (the query) to the tokens on the right it attends to; darker lines carry more weight. One set of " +
              "controls drives all four; hover a token (or focus a column and use the arrow keys) to see only its lines. " +
              "It opens on the head fine-tuning changed most (layer " + top[0] + ", head " + top[1] + ").", C.compare_block) +
      section("live-trained", "Attention of the fine-tuned model",
              "Every head of every layer: a row per layer, a column per head; lines go from a token on the left to the " +
              "tokens it attends to. Click a thumbnail to enlarge it.", view(source, "model_view", "trained", id("model_view", "trained"))) +
      section("live-untrained", "Attention of the " + C.untrained_name.replace(/^the /, ""),
              "The same encoder before fine-tuning (its head does not affect attention).",
              view(source, "model_view", "untrained", id("model_view", "untrained"))) +
      section("live-changed", "What fine-tuning changed",
              "The attention <strong>gained</strong> in fine-tuning (where trained &gt; untrained) and the attention " +
              "<strong>lost</strong> (where untrained &gt; trained, drawn as positive weights).",
              view(source, "model_view", "gained", id("model_view", "gained")) + view(source, "model_view", "lost", id("model_view", "lost"))) +
      section("live-heads", "Which heads changed most", "",
              heatmap(s.change, "Change of attention per head (trained vs untrained)", s.top) +
              '<p class="gallery-caption">' + esc(C.head_measure) + " Most changed: " + links + ". Click one, or any cell of the map, to open the side-by-side block on it.</p>") +
      section("live-tokens", "Which tokens drove the prediction",
              "Attention shows where information flows, not why the model decided. Each row scores every token with one method.",
              '<div id="live-attributions"></div>') +
      section("live-faithfulness", "How faithful is each explanation?",
              "Remove the top-ranked tokens and the prediction should weaken (comprehensiveness, higher is better); keep only " +
              "them and it should hold (sufficiency, lower is better). A random ranking is the baseline to beat.",
              '<div id="live-deletion"><p class="live-pending">Computed after leave-one-out…</p></div>');
    /* the attention blob, in the format gallery-views.js reads ("uint8-base64": the two models apart) */
    var blob = document.createElement("script");
    blob.type = "application/json";
    blob.className = "gallery-attention-data";
    blob.id = source;
    blob.textContent = JSON.stringify({ tokens: shown(s.tokens), layers: C.layers, heads: C.heads, encoding: "uint8-base64",
                                        scale: C.scale, trained: base64(levels(t.attention)), untrained: base64(levels(u.attention)) });
    output.insertBefore(blob, output.firstChild);
    s.scores = { trained: {}, untrained: {} };
    MODELS.forEach(function (which) {
      var att = s.runs[which].attention;
      s.scores[which].rollout = rollout(att, C.layers, C.heads, n, C.rollout_residual);
      s.scores[which].attention = clsAttention(att, C.layers, C.heads, n);
    });
    showAttributions(s);
    var block = output.querySelector(".gallery-compare");
    block.setAttribute("data-source", source);
    block.setAttribute("data-layer", top[0]);
    block.setAttribute("data-head", top[1]);
    /* the block's controls and every view's PNG/SVG buttons (gallery-compare.js); a
       shared address's #head-L-H opens the block on that head; then the views */
    if (window.GalleryViews && window.GalleryViews.compare) {
      window.GalleryViews.compare.refresh();
      window.GalleryViews.compare.open(location.hash, false);
    }
    var drawn = window.GalleryViews ? window.GalleryViews.drawAll() : Promise.resolve();
    say("Computed live in your browser: predictions and attention of both models. Leave-one-out and the deletion test follow…");
    setResult(s, "predictions");
    return drawn;
  }

  function classScores(which, s, name) {  /* signed scores pointing toward the last label */
    var scores = s.scores[which][name], run = s.runs[which];
    if (!C.methods[name].signed || run.predicted === C.labels.length - 1) return scores;
    return scores.map(function (v) { return -v; });
  }

  function showAttributions(s) {
    var names = Object.keys(C.methods).filter(function (m) { return s.scores.trained[m]; });
    var scales = {};  /* one scale per method over both models (colour-scale.js, as explain/views.py) */
    names.forEach(function (name) {
      scales[name] = Colour.scale(MODELS.map(function (which) { return classScores(which, s, name); }),
                                  MODELS.map(function () { return s.special; }), C.colour.full_share);
    });
    var parts = [legend(scales)];
    MODELS.forEach(function (which) {
      var run = s.runs[which];
      parts.push("<h4>" + esc(modelName(which)) + " — explaining “" + esc(C.labels[run.predicted]) + "” (p = " +
                 run.probs[run.predicted].toFixed(2) + ")</h4>");
      Object.keys(C.methods).forEach(function (name) {
        var m = C.methods[name];
        if (!s.scores[which][name]) {
          parts.push('<div class="gallery-attribution"><span class="gallery-attr-caption">' + esc(m.title) +
                     '</span><span class="live-pending">computing…</span></div>');
          return;
        }
        var scores = m.signed ? classScores(which, s, name) : s.scores[which][name];
        parts.push(tokenScores(s.tokens, scores, m.title, s.special, scales[name].full, m.signed));
      });
    });
    parts.push('<p class="gallery-caption">' + esc(C.notes.ig) + "</p>");
    parts.push('<ul class="gallery-caption">' + Object.keys(C.methods).map(function (name) {
      return "<li>" + esc(C.methods[name].title + ": " + C.methods[name].description) + "</li>";
    }).join("") + "</ul>");
    var el = $("live-attributions");
    if (el) el.innerHTML = parts.join("");
  }

  function followUp(s, pool) {
    var removals = { trained: new Removals(pool, true, s.gen), untrained: new Removals(pool, false, s.gen) };
    var start = performance.now(), total = 2 * s.words.length, done = 0;
    function progress(k) {
      done += k;
      if (s.gen === generation) say("Computed live: predictions and attention. Leave-one-out: " + done + " of " + total + " forward passes…");
    }
    return Promise.all(MODELS.map(function (which) {
      var run = s.runs[which], target = run.predicted, variants = s.words.map(function (i) { return remove(s.ids, [i]); });
      return removals[which].probs(variants, progress).then(function (probs) {
        var scores = new Array(s.n).fill(0);
        s.words.forEach(function (i, k) { scores[i] = run.probs[target] - probs[k][target]; });
        s.scores[which].loo = scores;
      });
    })).then(function () {
      if (s.gen !== generation) return;
      timings.loo_ms = performance.now() - start;
      showAttributions(s);
      return deletion(s, removals.trained);
    }).then(function (table) {
      if (s.gen !== generation || !table) return;
      timings.deletion_ms = performance.now() - start - timings.loo_ms;
      timings.complete_ms = performance.now() - s.pressed;
      say("Computed live in your browser: predictions, attention and leave-one-out of both models; " +
          "the deletion test of the " + modelName("trained") + ".");
      setResult(s, "complete", { loo: { trained: s.scores.trained.loo, untrained: s.scores.untrained.loo },
                                 deletion: table });
    });
  }

  /* ERASER's deletion test of the fine-tuned model (explain/faithfulness.deletion_test),
     without Integrated Gradients; the methods' rows first, then the random baseline. */
  function deletion(s, removals) {
    var run = s.runs.trained, target = run.predicted, p0 = run.probs[target], words = s.words;
    var weights = deletionWeights(words.length), need = needed(weights);
    var methods = Object.keys(C.methods), table = {}, el = $("live-deletion");
    var batch = [];
    methods.forEach(function (name) {
      var order = rankTokens(s.scores.trained[name], words);
      need.forEach(function (k) { batch.push(remove(s.ids, order.slice(0, k))); });
      need.forEach(function (k) { batch.push(keepOnly(s.ids, words, order.slice(0, k))); });
    });
    var D = C.deletion, exact = need.filter(function (k) { return comb(words.length, k) <= D.exact_limit; });
    var sampled = need.filter(function (k) { return exact.indexOf(k) < 0; });
    var subsets = {};
    exact.forEach(function (k) { subsets[k] = combinations(words, k); });
    var exactBatch = [];
    exact.forEach(function (k) {
      subsets[k].forEach(function (sub) { exactBatch.push(remove(s.ids, sub)); });
      subsets[k].forEach(function (sub) { exactBatch.push(keepOnly(s.ids, words, sub)); });
    });
    var random = mulberry32(0), orders = [];
    if (sampled.length) {
      for (var d = 0; d < D.draws; d++) {
        var order = words.slice();
        for (var i = order.length - 1; i > 0; i--) {
          var j = Math.floor(random() * (i + 1)), tmp = order[i];
          order[i] = order[j]; order[j] = tmp;
        }
        orders.push(order);
      }
    }
    var randomBatch = [];
    orders.forEach(function (order) {
      sampled.forEach(function (k) { randomBatch.push(remove(s.ids, order.slice(0, k))); });
      sampled.forEach(function (k) { randomBatch.push(keepOnly(s.ids, words, order.slice(0, k))); });
    });
    var total = batch.length + exactBatch.length + randomBatch.length, done = 0;
    function progress(k) {
      done += k;
      if (s.gen === generation) say("Computed live: predictions, attention and leave-one-out. Deletion test: up to " + done + " of " + total + " variants…");
    }
    function render(rnd) {
      var titles = {};
      methods.forEach(function (m) { titles[m] = C.methods[m].title; });
      titles.random = D.random_title;
      var rows = Object.keys(table).map(function (name) {
        var f = table[name], cells = FIGURES.map(function (k) { return signed(f[k]); });
        if (name === "random" && rnd.mode !== "exact") cells = cells.map(function (c, i) { return c + " ± " + rnd.se[FIGURES[i]].toFixed(3); });
        var tau = name === "random" || name === "loo" ? "—" : signed(f.tau_loo, 2);
        /* the verdict: the gallery's rule (claims.js) on these numbers, once random is known */
        var verdict = name === "random" ? "—" : !rnd ? "…" :
          C.claims.labels[GalleryClaims.faithfulnessOutcome(f, table.random, rnd.se, p0, C.claims).outcome];
        return [titles[name]].concat(cells, [tau, verdict]);
      });
      if (!rnd) rows.push([D.random_title, "computing…", "", "", "", "", ""]);
      var note = !rnd ? "" : rnd.mode === "exact" ? "The random baseline is exact (every subset enumerated)."
        : "The random baseline is estimated from " + D.draws + " random orders drawn in your browser (± one standard error; the gallery pages draw 200).";
      var u = s.runs.untrained, looMax = 0;
      s.scores.untrained.loo.forEach(function (v) { looMax = Math.max(looMax, Math.abs(v)); });
      var skipped = "Only the fine-tuned model is tested: the " + modelName("untrained") + " gives p(" + C.labels[C.labels.length - 1] + ") " +
        u.probs[u.probs.length - 1].toFixed(3) + " here, and removing any one word moves its probability by at most " +
        looMax.toFixed(4) + " (leave-one-out above), so its figures would measure noise.";
      el.innerHTML = simpleTable(["method (fine-tuned model)", "compre\u00adhensiveness ↑ (top 1-3)", "sufficiency ↓ (top 1-3)",
                                  "AOPC compre\u00adhensiveness ↑", "AOPC sufficiency ↓", "tau-LOO", "verdict"], rows) +
        '<p class="gallery-caption">' + esc(D.reading + " " + D.removal + " " + note + " " + skipped) + "</p>";
    }
    var loo = s.scores.trained.loo, lw = words.map(function (i) { return loo[i]; });
    return removals.probs(batch, progress).then(function (p) {
      if (s.gen !== generation) return null;
      var n = need.length;
      methods.forEach(function (name, m) {
        var removed = {}, kept = {};
        need.forEach(function (k, i) { removed[k] = p[2 * n * m + i][target]; kept[k] = p[2 * n * m + n + i][target]; });
        table[name] = figures(p0, removed, kept, weights, topKs(words.length));
        table[name].tau_loo = tauB(words.map(function (i) { return s.scores.trained[name][i]; }), lw);
      });
      render(null);
      return Promise.all([removals.probs(exactBatch, progress), removals.probs(randomBatch, progress)]);
    }).then(function (got) {
      if (!got || s.gen !== generation) return null;
      var removed = {}, kept = {}, se = {}, at = 0, lo = { removed: {}, kept: {} }, lo0 = logOdds(p0);
      exact.forEach(function (k) {
        var m = subsets[k].length, r = 0, q = 0, rl = 0, ql = 0;
        for (var i = 0; i < m; i++) { r += got[0][at + i][target]; rl += logOdds(got[0][at + i][target]); }
        for (i = 0; i < m; i++) { q += got[0][at + m + i][target]; ql += logOdds(got[0][at + m + i][target]); }
        removed[k] = r / m; kept[k] = q / m; lo.removed[k] = rl / m; lo.kept[k] = ql / m; at += 2 * m;
      });
      FIGURES.forEach(function (f) { se[f] = 0; se[f + "_logodds"] = 0; });
      if (sampled.length) {
        var S = sampled.length, p = got[1];
        sampled.forEach(function (k, j) {
          var r = 0, q = 0, rl = 0, ql = 0;
          orders.forEach(function (_, o) {
            var a = p[o * 2 * S + j][target], b = p[o * 2 * S + S + j][target];
            r += a; q += b; rl += logOdds(a); ql += logOdds(b);
          });
          removed[k] = r / orders.length; kept[k] = q / orders.length;
          lo.removed[k] = rl / orders.length; lo.kept[k] = ql / orders.length;
        });
        [["", p0, function (x) { return x; }], ["_logodds", lo0, logOdds]].forEach(function (scale) {
          FIGURES.forEach(function (f) {
            var w = weights[f], side = /comprehensiveness$/.test(f) ? 0 : 1, values = orders.map(function (_, o) {
              var v = 0;
              sampled.forEach(function (k, j) { v += (w[k] || 0) * (scale[1] - scale[2](p[o * 2 * S + side * S + j][target])); });
              return v;
            });
            var mean = values.reduce(function (a, b) { return a + b; }, 0) / values.length;
            var variance = values.reduce(function (a, b) { return a + (b - mean) * (b - mean); }, 0) / (values.length - 1);
            se[f + scale[0]] = Math.sqrt(variance / values.length);
          });
        });
      }
      var rnd = { mode: sampled.length ? "sampled:" + D.draws : "exact", se: se };
      table.random = Object.assign(figures(p0, removed, kept, weights, topKs(words.length), lo), { tau_loo: 0 });
      render(rnd);
      return { figures: table, random_mode: rnd.mode, random_se: se };
    });
  }

  /* ------------------------------------------------------------ the page */

  window.LiveGallery = { run: function (text) { box.value = text; return run(); }, timings: timings, last: null };
  button.addEventListener("click", function () { run(); });
  box.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); if (!button.disabled) run(); }
  });
  /* A reader who ran a sentence before has the files in the Cache Storage: start the
     runtime as the page opens (no download), so it is ready, or nearly, when they press
     run. A reader who never ran one downloads nothing before they press it. */
  var shared = new URLSearchParams(location.search).get("text");
  if (!shared && window.caches) {
    caches.open(CACHE).then(function (cache) { return cache.match(url("weights")); }).then(function (hit) {
      if (hit && !loading) load().then(function () { if (!generation) say("The models are ready (from your browser's cache)."); },
                                       function () { say(""); });
    }).catch(function () {});
  }
  if (shared) { box.value = shared; run(); }
})();
