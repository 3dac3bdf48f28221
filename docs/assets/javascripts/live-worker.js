/* The live page's inference worker: one onnxruntime-web session of the pair's graph
 * (single-threaded WebAssembly), off the page's main thread. It fetches its own files
 * (from the Cache Storage when the reader ran a sentence before), so 60 MB never
 * pass through the page.
 *
 * Messages in:
 *   {type: "init", ort: URL of ort.wasm.min.js, mjs: URL of ort-wasm-simd-threaded.mjs,
 *    urls: {wasm, model, weights} (absolute), cache: Cache Storage name or null,
 *    layout: {regions: [[offset, bytes], ...], bytes}}  (attention_gallery/live/export.py)
 *   {type: "run", id, ids: Int32Array (batch * length), batch, length, trained: 0 | 1,
 *    attention: bool}
 * Messages out:
 *   {type: "progress", bytes} (bytes read since the last one)
 *   | {type: "ready", timings: {download_s, runtime_s, session_s, from_cache}, layers}
 *   | {type: "result", id, logits: Float32Array (batch * labels),
 *      attention: [Float32Array (batch * heads * length * length) per layer] | null, ms}
 *   | {type: "error", id, message}
 */
"use strict";

var session = null, layers = 0;

/* A one-node model (Identity, opset 17): a session of it starts the runtime (compiles
   the WebAssembly, registers the kernels) while the pair's files are still arriving. */
var WARM_UP = "CAgSEWF0dGVudGlvbi1nYWxsZXJ5Oj0KEAoBeBIBeSIISWRlbnRpdHkSB3dhcm0tdXBaDwoBeBIKCggIARIECgIIAWIPCgF5EgoKCAgBEgQKAggBQgQKABAR";

function fail(id, err) {
  self.postMessage({ type: "error", id: id, message: String(err && err.message || err) });
}

var pending = 0, flushAt = 0;
function progress(n) {  /* at most one message per 50 ms */
  pending += n;
  var now = performance.now();
  if (now - flushAt > 50) { self.postMessage({ type: "progress", bytes: pending }); pending = 0; flushAt = now; }
}

/* [response, from the Cache Storage?] */
function cachedFetch(url, name) {
  if (!name || !self.caches) return fetch(url).then(function (r) { return [r, false]; });
  return caches.open(name).then(function (cache) {
    return cache.match(url).then(function (hit) {
      if (hit) return [hit, true];
      return fetch(url).then(function (response) {
        if (response.ok) cache.put(url, response.clone()).catch(function (err) { console.warn("live: not cached", err); });
        return [response, false];
      });
    });
  }, function () { return fetch(url).then(function (r) { return [r, false]; }); });
}

function fetchBytes(url, name, facts) {
  return cachedFetch(url, name).then(function (got) {
    var response = got[0];
    if (!response.ok) throw new Error(url + ": HTTP " + response.status);
    if (got[1]) {  /* from the disk: in one piece (no progress to show) */
      facts.from_cache++;
      return response.arrayBuffer().then(function (b) { progress(b.byteLength); return new Uint8Array(b); });
    }
    var reader = response.body.getReader(), chunks = [], size = 0;
    function pump() {
      return reader.read().then(function (step) {
        if (step.done) {
          var out = new Uint8Array(size), at = 0;
          chunks.forEach(function (c) { out.set(c, at); at += c.length; });
          return out;
        }
        chunks.push(step.value);
        size += step.value.length;
        progress(step.value.length);
        return pump();
      });
    }
    return pump();
  });
}

/* float16 -> float32 of every bit pattern */
var WIDE = null;
function wideTable() {
  if (WIDE) return WIDE;
  WIDE = new Float32Array(65536);
  var bits = new Uint32Array(WIDE.buffer);
  for (var h = 0; h < 65536; h++) {
    var sign = (h & 0x8000) << 16, exp = (h >> 10) & 31, frac = h & 1023;
    if (exp === 0) WIDE[h] = (sign ? -1 : 1) * frac * 5.960464477539063e-8;  /* zero and subnormals: frac * 2^-24 */
    else if (exp === 31) bits[h] = (sign | 0x7f800000 | (frac << 13)) >>> 0;
    else bits[h] = (sign | ((exp + 112) << 23) | (frac << 13)) >>> 0;
  }
  return WIDE;
}

/* The float32 model: the skeleton's bytes, with each region filled by its weights
   widened to float32 (export.assemble does the same in Python). */
function assemble(skeleton, half, layout) {
  var table = wideTable(), out = new Uint8Array(layout.bytes), largest = 0;
  layout.regions.forEach(function (r) { largest = Math.max(largest, r[1]); });
  var wide = new Float32Array(largest / 4), wideBytes = new Uint8Array(wide.buffer);
  var halves = new Uint16Array(half.buffer, half.byteOffset, half.byteLength / 2);
  var s = 0, w = 0, end = 0;
  layout.regions.forEach(function (r) {
    var gap = r[0] - end, n = r[1] / 4;
    out.set(skeleton.subarray(s, s + gap), end);
    for (var i = 0; i < n; i++) wide[i] = table[halves[w + i]];
    out.set(wideBytes.subarray(0, r[1]), r[0]);
    s += gap; w += n; end = r[0] + r[1];
  });
  out.set(skeleton.subarray(s), end);
  if (end + skeleton.length - s !== layout.bytes || w !== halves.length) throw new Error("the model's files do not fit together");
  return out;
}

function init(msg) {
  var start = performance.now(), facts = { from_cache: 0 }, timings = {};
  importScripts(msg.ort);
  /* GitHub Pages sends no COOP/COEP headers: no SharedArrayBuffer, one thread */
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmPaths = { mjs: msg.mjs };  /* an absolute URL on this site */
  /* all three at once: the runtime starts as soon as the WebAssembly is in, while the
     rest is read */
  var wasm = fetchBytes(msg.urls.wasm, msg.cache, facts);
  var files = Promise.all(["model", "weights"].map(function (k) { return fetchBytes(msg.urls[k], msg.cache, facts); }));
  var runtime = wasm.then(function (wasm) {
    ort.env.wasm.wasmBinary = wasm;
    var t = performance.now();
    return ort.InferenceSession.create(Uint8Array.from(atob(WARM_UP), function (c) { return c.charCodeAt(0); }),
                                       { executionProviders: ["wasm"] })
      .then(function (warm) { timings.runtime_s = (performance.now() - t) / 1000; return warm.release(); });
  });
  return files.then(function (got) {
    timings.download_s = (performance.now() - start) / 1000;
    var model = assemble(got[0], got[1], msg.layout);
    return runtime.then(function () {
      var t = performance.now();
      /* optimised when the site was built (export.optimise): the optimiser stays off here */
      return ort.InferenceSession.create(model, { executionProviders: ["wasm"], graphOptimizationLevel: "disabled" })
        .then(function (s) { timings.session_s = (performance.now() - t) / 1000; return s; });
    });
  }).then(function (s) {
    session = s;
    layers = s.outputNames.filter(function (name) { return name.indexOf("attention_") === 0; }).length;
    if (pending) self.postMessage({ type: "progress", bytes: pending });
    timings.from_cache = facts.from_cache;
    timings.start_s = (performance.now() - start) / 1000;
    self.postMessage({ type: "ready", timings: timings, layers: layers });
  });
}

self.onmessage = function (event) {
  var msg = event.data;
  if (msg.type === "init") {
    try {
      init(msg).catch(function (err) { fail(null, err); });
    } catch (err) {
      fail(null, err);
    }
    return;
  }
  if (msg.type === "run") {
    var start = performance.now();
    var ids = new BigInt64Array(msg.ids.length);
    for (var i = 0; i < ids.length; i++) ids[i] = BigInt(msg.ids[i]);
    var feeds = {
      input_ids: new ort.Tensor("int64", ids, [msg.batch, msg.length]),
      trained: new ort.Tensor("float32", new Float32Array([msg.trained]), [1]),
    };
    var names = ["logits"];
    if (msg.attention) {
      for (var l = 0; l < layers; l++) names.push("attention_" + l);
      for (l = 0; l < layers; l++) names.push("norms_" + l);  /* ||f_h(x_j)|| (live/export.py) */
    }
    session.run(feeds, names).then(function (out) {
      var logits = new Float32Array(out.logits.data), transfer = [logits.buffer], attention = null, norms = null;
      function take(name) {
        var a = new Float32Array(out[name].data);
        transfer.push(a.buffer);
        return a;
      }
      if (msg.attention) {
        attention = names.slice(1, 1 + layers).map(take);
        norms = names.slice(1 + layers).map(take);
      }
      self.postMessage({ type: "result", id: msg.id, logits: logits, attention: attention, norms: norms,
                         ms: performance.now() - start }, transfer);
    }, function (err) { fail(msg.id, err); });
  }
};
