/* The views of a page: placeholders drawn when they near the viewport, views a page
 * draws itself, and the blobs' workers warmed as the page opens.
 *
 * A sentence page carries its attention once, in
 *   <script type="application/json" class="gallery-attention-data" id="...">
 * (lib/blob.js: both models, one byte per weight), and one placeholder per view:
 *   <div class="gallery-bertviz" data-source="ID" data-view="model_view|head_view"
 *        data-attention="trained|untrained|gained|lost" [data-layer] [data-heads]>
 * A drawn placeholder gets data-drawn="light|dark" (the palette it shows).
 *
 *   drawView(element, data, options) -> Promise (resolves once drawn)
 *     data:    {tokens: [...], layers: L, heads: H, scale: 255,
 *               weights: Uint8Array(L*H*n*n), weight / scale = attention}
 *     options: {view: "model_view" | "head_view", layer: 0, heads: [h] | null, ...}
 *   attention(source, kind) -> Promise of such data, from a page's blob
 *   drawAll() -> Promise: draw every placeholder now (tests, benchmarks)
 *   observe(element, draw?): draw it (or call draw(element)) when it nears the viewport
 *   install(): warm the blobs, watch the placeholders, head links and the palette */

import { available, backend } from "./backend.js";
import { sourceFor } from "./blob.js";
import { HEAD, headView } from "./head-view.js";
import { modelHeight, modelLayout, modelView } from "./model-view.js";
import { taskQueue } from "./tasks.js";

var NEAR = "100% 0px";      /* draw a view when it is within a viewport of being seen */
var NEAR_EARLY = "300% 0px";  /* ... or within three, for views marked data-near="early" */

/* Views are built one a task (a few views coming into sight together do not make
   one long task), from a place measured before (the IntersectionObserver's, or one
   measurement of all of them): building never waits for a layout. */
var later = taskQueue();
function inTask(fn) {
  return new Promise(function (resolve) { later(function () { resolve(fn()); }); });
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

export function drawView(el, data, options) {
  options = options || {};
  if (el._gvGiven) backend.drop(el._gvGiven);
  el._gvGiven = backend.data(data);
  return drawFrom(el, el._gvGiven, "given", options);
}

/* {tokens, layers, heads, scale, weights} of one kind of attention of a page's blob. */
export function attention(source, kind) {
  return backend.source(source).then(function (meta) {
    return backend.weights(source, kind).then(function (w) {
      return { tokens: meta.tokens, layers: meta.layers, heads: meta.heads, scale: meta.scale, weights: w };
    });
  });
}

export function scheme() {
  return document.body.getAttribute("data-md-color-scheme") === "slate" ? "dark" : "light";
}

/* Draw one placeholder (once; again when its head link asks for another head). */
export function drawPlaceholder(el, rect) {
  if (el._gvDrawing) return el._gvDrawing;
  var heads = el.getAttribute("data-heads"), layer = el.getAttribute("data-layer");
  el._gvDrawing = drawFrom(el, sourceFor(el.getAttribute("data-source"), el.getAttribute("data-measure")),
                           el.getAttribute("data-attention"), Object.assign({
    view: el.getAttribute("data-view"), layer: layer === null ? 0 : parseInt(layer, 10),
    heads: heads ? JSON.parse(heads) : null,
    /* data-fit: a small head view that scales with its column (the lesson's pictures) */
    fit: el.hasAttribute("data-fit") || undefined }, el.gvOptions), rect)
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
var observer = null, earlyObserver = null;

function unobserve(el) {
  if (observer) observer.unobserve(el);
  if (earlyObserver) earlyObserver.unobserve(el);
}

export function placeholders() {
  return Array.prototype.slice.call(document.querySelectorAll(".gallery-bertviz"));
}

export function drawAll() {
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
export function observe(el, draw) {
  if (draw) el.gvDraw = draw;
  var watch = el.getAttribute("data-near") === "early" ? earlyObserver : observer;
  if (watch) watch.observe(el); else (draw || drawPlaceholder)(el);
}

/* The "weights / norms" switch: one before each view whose page carries a norms blob
   (lib/blob.js sourceFor). It sets data-measure on the view and redraws it from the
   other blob; the norms blob is fetched and parsed only when first asked for. */
var MEASURE_TITLE = "weights: attention weights α_ij. norms: ‖α_ij f_h(x_j)‖ (Kobayashi et al. 2020), " +
  "each row scaled to sum to 1";

export function redraw(el) {
  unobserve(el);
  var before = el._gvDrawing || Promise.resolve();
  return before.then(function () { el._gvDrawing = null; return drawPlaceholder(el); });
}

function addSwitch(el) {
  var id = el.getAttribute("data-source");
  if (el._gvSwitch || !id || el.classList.contains("gc-view") || !hasNorms(id)) return;
  el._gvSwitch = measureSwitch(el.getAttribute("data-measure"), function (measure) {
    el.setAttribute("data-measure", measure);
    redraw(el);
  });
  el.parentNode.insertBefore(el._gvSwitch, el);
}

/* whether the blob ``id`` has a norms blob beside it (on the page or in its file) */
export function hasNorms(id) {
  return available(sourceFor(id, "norms"));
}

/* A <label class="gallery-measure"> with a weights / norms <select>; onChange(measure). */
export function measureSwitch(measure, onChange) {
  var label = document.createElement("label");
  label.className = "gallery-measure";
  label.title = MEASURE_TITLE;
  label.appendChild(document.createTextNode("Attention as "));
  var select = document.createElement("select");
  [["weights", "weights α"], ["norms", "norms ‖α f(x)‖"]].forEach(function (o) {
    var opt = document.createElement("option");
    opt.value = o[0];
    opt.textContent = o[1];
    select.appendChild(opt);
  });
  select.value = measure || "weights";
  select.addEventListener("change", function () { onChange(select.value); });
  label.appendChild(select);
  return label;
}

/* A figure given on both measures (explain/views.py measured: the head-change map):
   the switch shows one of the two. */
function addFigureSwitch(group) {
  if (group._gvSwitch) return;
  group._gvSwitch = measureSwitch(group.getAttribute("data-measure"), function (measure) {
    group.setAttribute("data-measure", measure);
  });
  group.insertBefore(group._gvSwitch, group.firstChild);
}

/* a weights / norms switch before every view and figure that has both, once (again
   after a page adds views of its own: lib/page.js refresh) */
export function addSwitches() {
  placeholders().forEach(addSwitch);
  Array.prototype.forEach.call(document.querySelectorAll(".gallery-measured"), addFigureSwitch);
}

function start() {
  warm();
  placeholders().forEach(function (el) { observe(el); });
}

/* run ``fn`` on every page (Material's document$, else once the page is parsed) */
export function onPage(fn) {
  if (window.document$ && window.document$.subscribe) {
    window.document$.subscribe(fn);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", fn);
  } else {
    fn();
  }
}

var installed = false;

export function install() {
  if (installed) return;
  installed = true;
  observer = nearObserver(NEAR);
  /* views a page marks data-near="early" (the side-by-side block, a page's first
     view): drawn from further away, so they are there when the reader arrives */
  earlyObserver = nearObserver(NEAR_EARLY, true);

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

  warm();
  onPage(start);
}
