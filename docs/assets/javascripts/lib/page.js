/* What every page of the site runs (its entry, gallery.js or live.js, starts it once):
 * attention views drawn from the page's own numbers, the side-by-side block, PNG/SVG
 * exports, the reading page's figures and the lesson's predict-then-reveal questions.
 *
 * startGallery() -> the page's views API: drawView(element, data, options),
 * attention(source, kind), drawAll(), observe(element, draw), compare.open(hash,
 * scroll), compare.refresh(), compare.figures(). */

import { installCompare, openFromHash, parseHash, setupCompare } from "./compare.js";
import { addViewExports } from "./export.js";
import { drawFigure, drawFigures } from "./figures.js";
import { setupExplorers } from "./overview.js";
import { setupPredicts } from "./predict.js";
import { addSwitches, attention, drawAll, drawView, install, observe, onPage } from "./views.js";

/* the blocks, weights / norms switches and export buttons of what the page holds now (again after a page adds
   views of its own: the live page) */
function refresh() {
  document.querySelectorAll(".gallery-compare").forEach(setupCompare);
  addSwitches();
  addViewExports();
  setupPredicts();
  setupExplorers();
}

function start() {
  refresh();
  document.querySelectorAll(".gallery-figure[data-source]").forEach((figure) => observe(figure, drawFigure));
  if (parseHash()) {
    openFromHash(location.hash);
    /* again once the page has its final height (fonts, images above the block) */
    window.addEventListener("load", () => { openFromHash(location.hash); }, { once: true });
  }
}

let api = null;

export function startGallery() {
  if (api) return api;
  api = { drawView, attention, drawAll, observe, compare: { open: openFromHash, refresh, figures: drawFigures } };
  install();
  installCompare();
  onPage(start);
  /* a page printed as a handout: every view drawn, the ones not yet near the viewport too */
  window.addEventListener("beforeprint", () => { drawAll(); });
  return api;
}
