/* The side-by-side block of a sentence page: one head view per attention (fine-tuned,
 * untrained, gained, lost) of one layer and one head, 2 x 2 from a 768 px viewport
 * and one at a time below it (a row that scrolls sideways, and a switch), with one set of
 * controls (a layer menu and a button per head, in the head's colour) that drives
 * all of them; hovering a token shows its lines in all four.
 *
 *   <div class="gallery-compare" id="compare" data-source="attention-SLUG"
 *        data-layer="L" data-head="H" data-attentions="trained untrained gained lost">
 *
 * data-layer and data-head always say what the block shows. The page address
 * #head-L-H (0-based) opens it on layer L, head H (on load, and when the address
 * changes, e.g. a click on a heatmap cell); the controls keep the address current
 * (history.replaceState). Each view is a placeholder, drawn when it nears the
 * viewport.
 *
 * Where the page's blob names a file of training steps (data-steps, data-step-list:
 * the fine-tuned adapter at each checkpoint of its run), a step control adds a view
 * of the same head at the chosen step beside the others (data-step says which; ""
 * for none), and #head-L-H-step-S opens it there. The steps' file is fetched only
 * when a step is first chosen. */

import { ink } from "./colour.js";
import { element as el } from "./dom.js";
import { exportButtons, headPicture, paintTitle, palette, savePNG, sentence, slugOf, textWidth, titleBlock } from "./export.js";
import { HEAD, naturalWidth } from "./head-view.js";
import { opacity } from "./raster.js";
import { colourOf, panelTitle, settings } from "./settings.js";
import { attention, drawPlaceholder, hasNorms, measureSwitch, observe, redraw } from "./views.js";
import { sourceFor, stepSource } from "./blob.js";

var GAP = 12;          /* px between the block's views (gallery.css: .gc-grid gap) */
/* the phone's switch: one word a view */
var SHORT = { trained: "Fine-tuned", untrained: "Untrained", gained: "Gained", lost: "Lost" };
var MAX_SCALE = 1.25;  /* a view grows to at most this times its natural size */

function meta(source) {
  var node = document.getElementById(source);
  return node ? JSON.parse(node.textContent) : null;
}

/* A head view narrower than bertviz's: token columns as wide as the longest token. */
export function compactLayout(tokens) {
  var widest = tokens.reduce(function (w, t) { return Math.max(w, textWidth(t, HEAD.TEXT)); }, 0);
  return Object.assign({}, HEAD, { BOX_W: Math.ceil(Math.max(40, widest + 0.5 * HEAD.TEXT + 4)),
                                     MATRIX_W: 90, TOP: 6 });
}


/* The weight-to-opacity mapping the views draw with (views.json opacity, lib/raster.js),
   stated under the block: a bar per weight in the chosen head's colour, and in words. */
export var LEGEND_WEIGHTS = [0.05, 0.1, 0.2, 0.33, 0.5, 1];

export function rampText(ramp) {
  var k = ramp.knee, a = ramp.at_knee;
  return "Line opacity = " + (a / k).toFixed(2) + " × weight up to a weight of " + k + " (opacity " + a +
    ": at least 3:1 against the background, in every head's colour), then rising straight to 1 at weight 1. " +
    "bertviz draws opacity = weight.";
}

export function rampLegend(parent) {
  var ramp = settings().opacity;
  var box = el("p", { "class": "gc-legend" }, parent);
  var steps = el("span", { "class": "gc-ramp", "aria-hidden": "true" }, box);
  var bars = LEGEND_WEIGHTS.map(function (w) {
    var step = el("span", { "class": "gc-ramp-step" }, steps);
    var bar = el("span", { "class": "gc-ramp-bar", style: "opacity:" + opacity(w, ramp).toFixed(3) }, step);
    el("span", { "class": "gc-ramp-label" }, step, String(w));
    return bar;
  });
  el("span", { "class": "gc-ramp-text" }, box, rampText(ramp));
  return function colour(c) { bars.forEach(function (bar) { bar.style.background = c; }); };
}


function clampInt(value, lo, hi) {
  value = parseInt(value, 10);
  return isNaN(value) ? lo : Math.min(hi, Math.max(lo, value));
}


/* ------------------------------------------------------------ side by side */

export function parseHash(hash) {
  var m = /^#head-(\d+)-(\d+)(?:-step-(\d+))?$/.exec(hash === undefined ? location.hash : hash);
  return m ? { layer: +m[1], head: +m[2], step: m[3] === undefined ? null : +m[3] } : null;
}

/* The address of a head (and a step, where one is shown) */
export function hashOf(layer, head, step) {
  return "#head-" + layer + "-" + head + (step === null || step === undefined ? "" : "-step-" + step);
}

/* The steps a page's blob has a file for (data-step-list), [] where none */
export function stepsOf(blob) {
  var list = blob && blob.getAttribute("data-steps") ? (blob.getAttribute("data-step-list") || "").trim() : "";
  return list ? list.split(/\s+/).map(Number) : [];
}

export function setupCompare(block) {
  if (block.gvCompare) return block.gvCompare;
  var source = block.getAttribute("data-source"), d = meta(source);
  if (!d) return null;
  var L = d.layers, H = d.heads, uid = block.id || "compare";
  var kinds = (block.getAttribute("data-attentions") || "trained untrained gained lost").split(/\s+/);
  var layout = compactLayout(d.tokens), natural = naturalWidth(layout);
  var state = { layer: clampInt(block.getAttribute("data-layer"), 0, L - 1),
                head: clampInt(block.getAttribute("data-head"), 0, H - 1), step: null };
  var steps = stepsOf(document.getElementById(source));
  block.innerHTML = "";

  var controls = el("div", { "class": "gc-controls" }, block);
  var layerBox = el("span", { "class": "gc-layer" }, controls);
  el("label", { "for": uid + "-layer" }, layerBox, "Layer");
  var select = el("select", { id: uid + "-layer" }, layerBox);
  for (var l = 0; l < L; l++) el("option", { value: l }, select, String(l));
  var headBox = el("span", { "class": "gc-heads-box" }, controls);
  el("span", { id: uid + "-heads-label", "class": "gc-heads-label" }, headBox, "Head");
  var group = el("span", { role: "group", "aria-labelledby": uid + "-heads-label", "class": "gc-heads" }, headBox);
  var buttons = [];
  for (var h = 0; h < H; h++) {
    var color = colourOf(h);
    var b = el("button", { type: "button", "class": "gc-head", "data-head": h, "aria-label": "Head " + h,
                           style: "--gc-head:" + color + ";--gc-ink:" + ink(color) }, group, String(h));
    buttons.push(b);
  }
  var stepSelect = null;
  if (steps.length) {
    var stepBox = el("span", { "class": "gc-step" }, controls);
    el("label", { "for": uid + "-step" }, stepBox, "Training step");
    stepSelect = el("select", { id: uid + "-step" }, stepBox);
    el("option", { value: "" }, stepSelect, "none");
    steps.forEach(function (s) { el("option", { value: s }, stepSelect, String(s)); });
  }
  /* "[CLS] row only": every view shows only the lines from [CLS] (the row the classifier reads) */
  var clsBox = el("label", { "class": "gc-cls" }, controls);
  var clsOnly = el("input", { type: "checkbox", id: uid + "-cls" }, clsBox);
  clsBox.appendChild(document.createTextNode(" [CLS] row only"));
  function pinAll() {
    var at = clsOnly.checked ? 0 : null;
    views.concat(stepView ? [stepView] : []).forEach(function (v) { if (v.gvHead) v.gvHead.pin(0, at); });
    block.setAttribute("data-cls-only", String(clsOnly.checked));
  }
  clsOnly.addEventListener("change", pinAll);
  var allBox = el("span", { "class": "gc-all" }, controls);
  /* weights or norms (lib/blob.js sourceFor): every view of the block draws from that blob */
  var measure = "weights";
  function from() { return sourceFor(source, measure); }
  if (hasNorms(source)) {
    controls.insertBefore(measureSwitch(measure, function (m) {
      measure = m;
      views.forEach(function (view) { view.setAttribute("data-measure", m); redraw(view); });
    }), allBox);
  }

  var legendColour = rampLegend(block);
  var grid = el("div", { "class": "gc-grid" }, block);
  var views = kinds.map(function (kind) {
    var figure = el("figure", { "class": "gc-panel", "data-attention": kind }, grid);
    var caption = el("figcaption", {}, figure);
    el("span", { "class": "gc-title" }, caption, panelTitle(kind));
    var view = el("div", { "class": "gallery-bertviz gc-view", id: uid + "-" + kind, "data-source": source,
                           "data-view": "head_view", "data-attention": kind, "data-near": "early" }, figure);
    view.gvOptions = { controls: false, fit: MAX_SCALE, layout: layout,
                       onHover: function (side, i) {
                         views.forEach(function (other) { if (other !== view && other.gvHead) other.gvHead.hover(side, i); });
                       },
                       onDrawn: function (layer, heads) {
                         view.setAttribute("data-shown", layer + "-" + heads.join(","));
                         if (clsOnly.checked && view.gvHead) view.gvHead.pin(0, 0);
                       } };
    exportButtons(caption, "head view of the " + panelTitle(kind), function () {
      return attention(from(), kind).then(function (data) {
        var s = view.gvHead ? view.gvHead.state() : { layer: state.layer, heads: [state.head], layout: layout };
        return { data: data, state: s, name: slugOf(source) + "-" + kind + "-layer" + s.layer + "-head" + s.heads.join("+"),
                 titles: [panelTitle(kind) + " · layer " + s.layer + ", head " + s.heads.join(", "), sentence()] };
      });
    }, true);
    return view;
  });
  /* the head at a training step: fine-tuned model's attention weights at that checkpoint */
  var stepFigure = null, stepView = null, stepTitle = null;
  if (steps.length) {
    stepFigure = el("figure", { "class": "gc-panel gc-step-panel", "data-attention": "trained", hidden: "" }, block);
    var stepCaption = el("figcaption", {}, stepFigure);
    stepTitle = el("span", { "class": "gc-title" }, stepCaption, "");
  }
  /* made when a step is first chosen (a placeholder every crawl of the page would draw otherwise) */
  function makeStepView(wanted) {
    stepView = el("div", { "class": "gallery-bertviz gc-step-view", id: uid + "-step-view", "data-view": "head_view",
                           "data-attention": "trained", "data-near": "early", "data-source": wanted,
                           "data-layer": state.layer, "data-heads": "[" + state.head + "]" }, stepFigure);
    stepView.gvOptions = { controls: false, fit: MAX_SCALE, layout: layout,
                           onDrawn: function (layer, heads) {
                             stepView.setAttribute("data-shown", layer + "-" + heads.join(","));
                             if (clsOnly.checked && stepView.gvHead) stepView.gvHead.pin(0, 0);
                           } };
    observe(stepView);
  }
  var presentButton = el("button", { type: "button", "class": "gallery-export-button gc-present-button", "aria-pressed": "false",
                                     title: "Enlarge the block to fill the screen, for a projector (key: v; Escape leaves)" },
                          allBox, "Present (v)");
  function present(on) {
    on = on === undefined ? !block.classList.contains("gc-present") : !!on;
    block.classList.toggle("gc-present", on);
    document.documentElement.classList.toggle("gc-presenting", on);
    presentButton.setAttribute("aria-pressed", String(on));
    presentButton.textContent = on ? "Leave (Esc)" : "Present (v)";
    if (on) presentButton.focus();
  }
  presentButton.addEventListener("click", function () { present(); });
  el("button", { type: "button", "class": "gallery-export-button", title: "Save the four views in one picture (for slides)" },
     allBox, "PNG of all four").addEventListener("click", function () {
    Promise.all(kinds.map(function (kind) { return attention(from(), kind); })).then(function (datas) {
      var s = { layer: state.layer, heads: [state.head], layout: layout };
      var pictures = datas.map(function (data, i) { return headPicture(data, s, [panelTitle(kinds[i])]); });
      var width = pictures.reduce(function (w, p) { return w + p.width; }, 0);
      var title = titleBlock(["Layer " + state.layer + ", head " + state.head + ": " + sentence()], width - 20);
      var titleH = title.height + 10;
      var row = {
        width: width,
        height: titleH + Math.max.apply(null, pictures.map(function (p) { return p.height; })),
        paint: function (ctx, colors) {
          ctx.fillStyle = colors.bg;
          ctx.fillRect(0, 0, row.width, row.height);
          ctx.fillStyle = colors.text;
          paintTitle(ctx, title, 10, 10);
          var x = 0;
          pictures.forEach(function (p) {
            ctx.save();
            ctx.translate(x, titleH);
            p.paint(ctx, colors);
            ctx.restore();
            x += p.width;
          });
        }
      };
      return savePNG(row, palette(block), slugOf(source) + "-side-by-side-layer" + state.layer + "-head" + state.head + ".png");
    }).catch(function (err) { console.error(err); });
  });

  /* 2 x 2 from 768 px of viewport (gallery.css); below it one view at a time, side by
     side in a row that scrolls sideways, with a switch that brings each into view */
  grid.style.setProperty("--gc-max", MAX_SCALE * natural + "px");
  var switcher = el("div", { "class": "gc-switch", role: "group", "aria-label": "Which view" });
  grid.parentNode.insertBefore(switcher, grid);
  var picks = kinds.map(function (kind, k) {
    var b = el("button", { type: "button", "class": "gc-pick", "data-attention": kind, "aria-pressed": String(k === 0) },
               switcher, SHORT[kind] || kind);
    b.addEventListener("click", function () {
      var panel = views[k].parentNode;
      grid.scrollTo({ left: panel.offsetLeft - grid.offsetLeft, behavior: "smooth" });
      pressed(k);
    });
    return b;
  });
  function pressed(k) {
    picks.forEach(function (b, i) { b.setAttribute("aria-pressed", String(i === k)); });
    grid.setAttribute("data-showing", kinds[k]);
  }
  grid.addEventListener("scroll", function () {
    if (!grid.clientWidth) return;
    pressed(Math.max(0, Math.min(kinds.length - 1, Math.round(grid.scrollLeft / (grid.clientWidth + GAP)))));
  }, { passive: true });
  grid.setAttribute("data-showing", kinds[0]);

  function showStep(step) {
    state.step = step !== null && step !== undefined && steps.indexOf(+step) >= 0 ? +step : null;
    block.setAttribute("data-step", state.step === null ? "" : state.step);
    if (!stepFigure) return;
    stepSelect.value = state.step === null ? "" : String(state.step);
    stepFigure.hidden = state.step === null;
    if (state.step === null) return;
    stepTitle.textContent = panelTitle("trained") + " at training step " + state.step + " (weights)";
    var wanted = stepSource(source, state.step);
    if (!stepView) { makeStepView(wanted); return; }
    stepView.setAttribute("data-layer", state.layer);
    stepView.setAttribute("data-heads", "[" + state.head + "]");
    if (stepView.getAttribute("data-source") !== wanted) {
      stepView.setAttribute("data-source", wanted);
      redraw(stepView);
    } else if (stepView.gvHead) {
      stepView.gvHead.show(state.layer, [state.head]);
    }
  }

  function show(layer, head, why, step) {
    state.layer = clampInt(layer, 0, L - 1);
    state.head = clampInt(head, 0, H - 1);
    block.setAttribute("data-layer", state.layer);
    block.setAttribute("data-head", state.head);
    showStep(step === undefined ? state.step : step);
    select.value = state.layer;
    buttons.forEach(function (b, i) { b.setAttribute("aria-pressed", String(i === state.head)); });
    legendColour(colourOf(state.head));
    views.forEach(function (view) {
      view.setAttribute("data-layer", state.layer);
      view.setAttribute("data-heads", "[" + state.head + "]");
      if (view.gvHead) view.gvHead.show(state.layer, [state.head]);
    });
    if (why === "controls") {
      history.replaceState(history.state, "", hashOf(state.layer, state.head, state.step));
    }
  }

  select.addEventListener("change", function () { show(select.value, state.head, "controls"); });
  if (stepSelect) {
    stepSelect.addEventListener("change", function () {
      show(state.layer, state.head, "controls", stepSelect.value === "" ? null : +stepSelect.value);
    });
  }
  buttons.forEach(function (b, i) {
    b.addEventListener("click", function () { show(state.layer, i, "controls"); });
  });
  show(state.layer, state.head);
  views.forEach(function (view) { observe(view); });
  /* on a phone the views lie side by side in a row that scrolls sideways, out of the
     viewport's sight: when the row nears it, every view of the row is drawn */
  observe(grid, function () { views.forEach(function (view) { drawPlaceholder(view, view.getBoundingClientRect()); }); });
  block.gvCompare = { show: show, state: state, present: present };
  return block.gvCompare;
}

/* #head-L-H: open the block on that head and bring it into view */
export function openFromHash(hash, scroll) {
  var wanted = parseHash(hash), block = document.querySelector(".gallery-compare");
  if (!wanted || !block) return false;
  var c = setupCompare(block);
  if (!c) return false;
  c.show(wanted.layer, wanted.head, "address", wanted.step);
  if (scroll !== false) block.scrollIntoView({ block: "start" });
  return true;
}

/* #head-L-H in the address (hashchange), and a link to the head already there */
/* v: present mode on and off (a key none of Material's shortcuts uses: f, s, /, n, p, ",", "."); Escape leaves it */
export function presentKey(event) {
  var t = event.target, tag = t && t.tagName ? t.tagName.toLowerCase() : "";
  if (event.ctrlKey || event.metaKey || event.altKey || tag === "input" || tag === "select" || tag === "textarea" ||
      (t && t.isContentEditable)) return;
  var block = document.querySelector(".gallery-compare");
  var c = block && block.gvCompare;
  if (!c) return;
  if (event.key === "v") { c.present(); event.preventDefault(); }
  else if (event.key === "Escape" && block.classList.contains("gc-present")) { c.present(false); }
}

export function installCompare() {
  window.addEventListener("hashchange", function () { openFromHash(); });
  document.addEventListener("keydown", presentKey);
  /* a link to the head already in the address changes nothing: open it all the same */
  document.addEventListener("click", function (event) {
    var a = event.target.closest ? event.target.closest('a[href^="#head-"]') : null;
    if (a && a.getAttribute("href") === location.hash) openFromHash(location.hash);
  });
}
