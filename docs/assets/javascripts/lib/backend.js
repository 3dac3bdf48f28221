/* Where the views' core runs: one raster worker per core but one, at most two (a
 * model view's layers are shared between them; each inflates the page's blob
 * itself), so a core stays free for the page's main thread, which a busy worker
 * would otherwise slow down. Without Workers the core runs on the main thread, each
 * step of a job a task of its own. A core runs on the main thread in any case, for
 * hover pictures and the model view's detail panel (backend.local). */

import { NORMS_SUFFIX, peek, stepOf } from "./blob.js";
import { createCore } from "./core.js";
import { taskQueue } from "./tasks.js";

/* global RASTER_WORKER */

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

/* the core on the main thread: for hover pictures, and for everything where
   Workers are missing (then each step of a job is a task of its own) */
var local = createCore(function (msg) {
  setTimeout(function () { receive(msg); }, 0);
}, taskQueue());

function workers() {
  if (pool) return pool;
  pool = [];
  if (typeof Worker === "undefined") return pool;
  var count = Math.max(1, Math.min(2, (navigator.hardwareConcurrency || 1) - 1));
  try {
    /* bundled (scripts/bundle_js.mjs defines RASTER_WORKER, the worker bundled as one
       classic script): a worker made from that text, so the page needs no second
       file and works from file:// too; as modules: the module worker next to lib/ */
    var bundled = typeof RASTER_WORKER === "string", url = bundled
      ? URL.createObjectURL(new Blob([RASTER_WORKER], { type: "text/javascript" }))
      : new URL("../raster-worker.js", import.meta.url);
    for (var k = 0; k < count; k++) {
      var w = bundled ? new Worker(url) : new Worker(url, { type: "module" });
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

function listen(fn) {
  var req = nextReq++;
  listeners[req] = fn;
  return req;
}

/* A blob not on the page: the norms blob (lib/blob.js sourceFor), whose file its
   weights blob names (data-norms, from the site's root; explain/views.py norms_file),
   or a training step's (lib/blob.js stepSource; data-steps, one file for every step).
   It is a classic script, so a page opened from disk loads it too: it sets
   self.galleryBlobs[id] to the blob's text. */
function fileOf(id) {
  var step = stepOf(id);
  if (step) {
    var blob = document.getElementById(step[0]);
    return blob ? blob.getAttribute("data-steps") : null;
  }
  if (!id.endsWith(NORMS_SUFFIX)) return null;
  var owner = document.getElementById(id.slice(0, -NORMS_SUFFIX.length));
  return owner ? owner.getAttribute("data-norms") : null;
}

function siteRoot() {
  var node = document.getElementById("__config"), base = ".";
  try { base = (node && JSON.parse(node.textContent).base) || "."; } catch (err) { base = "."; }
  return base.replace(/\/$/, "") + "/";
}

var loading = {};
function load(id) {
  if (!loading[id]) {
    loading[id] = new Promise(function (resolve, reject) {
      var have = self.galleryBlobs && self.galleryBlobs[id];
      if (have) { resolve(have); return; }
      var script = document.createElement("script");
      script.src = new URL(siteRoot() + fileOf(id), document.baseURI).href;
      script.onload = function () {
        var text = self.galleryBlobs && self.galleryBlobs[id];
        if (text) resolve(text); else reject(new Error("gallery: " + script.src + " holds no " + id));
      };
      script.onerror = function () {
        delete loading[id];
        reject(new Error("gallery: could not load " + script.src));
      };
      document.head.appendChild(script);
    });
  }
  return loading[id];
}

/* whether the blob ``id`` can be drawn: on the page, or in a file it names */
export function available(id) {
  return !!(document.getElementById(id) || fileOf(id));
}

export const backend = {
  /* the page's blob (its meta: tokens, layers, heads, scale, once parsed) */
  source: function (id) {
    if (!metas[id]) {
      var node = document.getElementById(id), entry = {};
      entry.promise = new Promise(function (resolve, reject) {
        entry.resolve = resolve;
        entry.reject = reject;
      });
      metas[id] = entry;
      /* every worker is sent the blob's text, and answers with its meta (the first counts) */
      if (node) {
        var text = node.textContent;
        entry.peek = peek(text);
        send({ type: "blob", id: id, text: text }, -1);
      } else if (fileOf(id)) {
        load(id).then(function (loaded) {
          entry.peek = peek(loaded);
          send({ type: "blob", id: id, text: loaded }, -1);
        }, function (err) { delete metas[id]; entry.reject(err); });
      } else {
        entry.reject(new Error("gallery: no attention data with id " + id));
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
