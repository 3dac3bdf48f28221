/* Draws the gallery's bertviz views from one shared, compact attention blob per page.
 *
 * A sentence page carries its attention weights once, in
 *   <script type="application/json" class="gallery-attention-data" id="...">
 * (both models, one byte per weight, base64), and one empty placeholder per view:
 *   <div class="gallery-bertviz" data-source="ID" data-view="model_view|head_view"
 *        data-attention="trained|untrained|gained|lost" [data-layer] [data-heads]>
 * This script decodes the blob, derives the difference (gained = max(trained -
 * untrained, 0), lost = max(untrained - trained, 0)) and calls bertviz's own view
 * code (assets/vendor/bertviz-*.js, from the bertviz package) on each placeholder.
 * d3 and jQuery are loaded by require.js from the site's own assets/vendor/.
 * Views follow the light/dark palette and re-draw when it changes, and re-draw
 * after Material's instant navigation (document$) when that is enabled.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var vendor = script ? script.src.replace(/javascripts\/[^\/]*$/, "vendor/") : "assets/vendor/";
  require.config({ paths: { d3: vendor + "d3.min", jquery: vendor + "jquery.min" } });

  var blobs = {};

  function range(n) {
    var out = [];
    for (var i = 0; i < n; i++) out.push(i);
    return out;
  }

  function nest(L, H, T, scale, map) {
    var out = [], k = 0;
    for (var l = 0; l < L; l++) {
      var layer = [];
      for (var h = 0; h < H; h++) {
        var head = [];
        for (var i = 0; i < T; i++) {
          var row = [];
          for (var j = 0; j < T; j++, k++) row.push(map(k) / scale);
          head.push(row);
        }
        layer.push(head);
      }
      out.push(layer);
    }
    return out;
  }

  /* base64 -> one byte (0..scale) per attention weight */
  function bytes(text) {
    var raw = atob(text), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function blob(id) {
    if (blobs[id]) return blobs[id];
    var node = document.getElementById(id);
    if (!node) throw new Error("gallery: no attention data with id " + id);
    var d = JSON.parse(node.textContent);
    var L = d.layers, H = d.heads, T = d.tokens.length, s = d.scale;
    var t = bytes(d.trained), u = bytes(d.untrained);
    var views = {
      trained: function (k) { return t[k]; },
      untrained: function (k) { return u[k]; },
      gained: function (k) { return Math.max(t[k] - u[k], 0); },
      lost: function (k) { return Math.max(u[k] - t[k], 0); }
    };
    var memo = {};
    blobs[id] = {
      data: d,
      attention: function (kind) {
        if (!views[kind]) throw new Error("gallery: unknown attention " + kind);
        if (!memo[kind]) memo[kind] = nest(L, H, T, s, views[kind]);
        return memo[kind];
      }
    };
    return blobs[id];
  }

  function scheme() {
    return document.body.getAttribute("data-md-color-scheme") === "slate" ? "dark" : "light";
  }

  function render(el) {
    var source = blob(el.getAttribute("data-source"));
    var d = source.data;
    var view = el.getAttribute("data-view");
    var rootId = el.id + "-root";
    var controls = view === "head_view" ? 'Layer: <select id="layer"></select>' : "";
    el.innerHTML = '<div id="' + rootId + '" class="bertviz-root">' +
      '<span style="user-select:none">' + controls + "</span><div id='vis'></div></div>";
    var params = {
      attention: [{
        name: null,
        attn: source.attention(el.getAttribute("data-attention")),
        left_text: d.tokens,
        right_text: d.tokens
      }],
      default_filter: "0",
      root_div_id: rootId,
      include_layers: range(d.layers)
    };
    if (view === "model_view") {
      params.display_mode = scheme();
      params.include_heads = range(d.heads);
      params.total_heads = d.heads;
    } else {
      var layer = el.getAttribute("data-layer");
      var heads = el.getAttribute("data-heads");
      params.layer = layer === null ? 0 : parseInt(layer, 10);
      params.heads = heads ? JSON.parse(heads) : null;
    }
    el.setAttribute("data-drawn", scheme());
    if (view === "model_view") fitWhenDrawn(el);
    window.bertvizViews[view](params);
  }

  /* bertviz draws the model view 970 px wide; the page column is narrower. Give the
     SVG a viewBox so the whole 6 x 12 grid scales into the column (nothing clipped);
     below 600 px it stops shrinking and its frame scrolls sideways instead. */
  function fit(svg) {
    var w = svg.getAttribute("width"), h = svg.getAttribute("height");
    if (!w || !h || w.indexOf("%") >= 0) return;
    svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.style.width = "100%";
    svg.style.maxWidth = w + "px";
    svg.style.minWidth = "600px";
    svg.style.height = "auto";
  }

  function fitWhenDrawn(el) {
    var observer = new MutationObserver(function () {
      var svg = el.querySelector("svg");
      if (svg && svg.getAttribute("width")) fit(svg);
    });
    observer.observe(el, { childList: true, subtree: true });
  }

  function renderAll(selector) {
    var els = document.querySelectorAll(selector || ".gallery-bertviz");
    for (var i = 0; i < els.length; i++) {
      try { render(els[i]); } catch (err) { console.error(err); }
    }
  }

  /* Links that open a head view on one head: <a class="gallery-head-link"
     data-targets="ID ID" data-layer="L" data-head="H">: each listed view opens on the
     head. */
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest(".gallery-head-link") : null;
    if (!link) return;
    var targets = (link.getAttribute("data-targets") || "").split(" ");
    for (var i = 0; i < targets.length; i++) {
      var el = document.getElementById(targets[i]);
      if (!el) continue;
      el.setAttribute("data-layer", link.getAttribute("data-layer"));
      el.setAttribute("data-heads", "[" + link.getAttribute("data-head") + "]");
      render(el);
    }
  });

  function start() {
    blobs = {};
    renderAll();
  }

  new MutationObserver(function () { renderAll('.gallery-bertviz[data-view="model_view"]'); })
    .observe(document.body, { attributes: true, attributeFilter: ["data-md-color-scheme"] });

  if (window.document$ && window.document$.subscribe) {
    window.document$.subscribe(start);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
