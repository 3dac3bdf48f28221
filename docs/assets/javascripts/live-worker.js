/* The live page's inference worker: one onnxruntime-web session of the pair's graph
 * (single-threaded WebAssembly), off the page's main thread.
 *
 * Messages in:
 *   {type: "init", ort: URL of ort.wasm.min.js, mjs: URL of ort-wasm-simd-threaded.mjs,
 *    wasm: ArrayBuffer of the .wasm, model: ArrayBuffer of the graph}
 *   {type: "run", id, ids: Int32Array (batch * length), batch, length, trained: 0 | 1,
 *    attention: bool}
 * Messages out:
 *   {type: "ready", seconds} | {type: "result", id, logits: Float32Array (batch * labels),
 *    attention: [Float32Array (batch * heads * length * length) per layer] | null, ms}
 *   | {type: "error", id, message}
 */
"use strict";

var session = null, layers = 0;

function fail(id, err) {
  self.postMessage({ type: "error", id: id, message: String(err && err.message || err) });
}

self.onmessage = function (event) {
  var msg = event.data;
  if (msg.type === "init") {
    var start = performance.now();
    try {
      importScripts(msg.ort);
    } catch (err) {
      fail(null, err);
      return;
    }
    /* GitHub Pages sends no COOP/COEP headers: no SharedArrayBuffer, one thread */
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.wasm.wasmBinary = msg.wasm;        /* fetched by the page, with its progress */
    ort.env.wasm.wasmPaths = { mjs: msg.mjs };  /* an absolute URL on this site */
    ort.InferenceSession.create(new Uint8Array(msg.model), { executionProviders: ["wasm"],
                                                              graphOptimizationLevel: "all" })
      .then(function (s) {
        session = s;
        layers = s.outputNames.filter(function (name) { return name.indexOf("attention_") === 0; }).length;
        self.postMessage({ type: "ready", seconds: (performance.now() - start) / 1000, layers: layers });
      }, function (err) { fail(null, err); });
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
    if (msg.attention) for (var l = 0; l < layers; l++) names.push("attention_" + l);
    session.run(feeds, names).then(function (out) {
      var logits = new Float32Array(out.logits.data), transfer = [logits.buffer], attention = null;
      if (msg.attention) {
        attention = names.slice(1).map(function (name) {
          var a = new Float32Array(out[name].data);
          transfer.push(a.buffer);
          return a;
        });
      }
      self.postMessage({ type: "result", id: msg.id, logits: logits, attention: attention,
                         ms: performance.now() - start }, transfer);
    }, function (err) { fail(msg.id, err); });
  }
};
