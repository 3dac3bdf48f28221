/* The views' core: everything that touches the weights. A page's attention blobs
 * (decoded here), the kinds of attention, and the jobs that rasterise views' layers
 * and pictures, one step a task. The raster worker runs one (raster-worker.js); the
 * page runs one too, for hover pictures and where Workers are missing.
 *
 * createCore(post, defer): ``post(message, transfer, isImage)`` sends results;
 * ``defer(fn)`` runs fn in a later task. Messages in (handle):
 *   {type: "blob", id, text}  a page's blob -> {type: "meta", id, meta}
 *   {type: "data", id, meta, weights}  weights given by a page (kind "given")
 *   {type: "weights", req, id, kind}  -> {type: "weights", req, weights}
 *   {type: "model", req, id, kind, g, order, colors}  -> an image per layer, then done
 *   {type: "head", req, id, kind, g, layer, active, colors, version, urgent}  -> image, done
 *   {type: "cancel", req}, {type: "drop", id}
 * Errors: {type: "error", req, message}. */

import { kindOf, parse } from "./blob.js";
import { detailPicture, headPicture, modelLayer } from "./raster.js";

export function createCore(post, defer) {
  var sources = {};

  /* A page's blob (its JSON text): trained then untrained weights, one byte each. */
  function addBlob(id, text) {
    var parsed = parse(text);
    sources[id] = { meta: parsed.meta, packed: parsed.packed, kinds: {} };
    return parsed.meta;
  }

  /* Weights given by a page (drawView): one kind, "given". */
  function addData(id, meta, weights) {
    sources[id] = { meta: meta, kinds: { given: Promise.resolve(weights) } };
  }

  function weightsOf(id, kind) {
    var src = sources[id];
    if (!src) return Promise.reject(new Error("gallery: no attention data with id " + id));
    if (!src.kinds[kind]) {
      if (!src.packed) return Promise.reject(new Error("gallery: no attention " + kind + " in " + id));
      src.kinds[kind] = src.packed.then(function (both) { return kindOf(both, kind); });
    }
    return src.kinds[kind];
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
