/* The gallery's pages (every page of the site loads it, from the theme): attention
 * views drawn from the page's own numbers, the side-by-side block, PNG/SVG exports
 * and the reading page's figures. Modules in lib/; this entry wires them to the page.
 *
 * Its one global, window.GalleryViews, is for other scripts, the tests and the
 * benchmarks: drawView(element, data, options), attention(source, kind), drawAll(),
 * observe(element, draw), compare.open(hash, scroll), compare.refresh(),
 * compare.figures(). */

import { installCompare, openFromHash, parseHash, setupCompare } from "./lib/compare.js";
import { addViewExports } from "./lib/export.js";
import { drawFigure, drawFigures } from "./lib/figures.js";
import { attention, drawAll, drawView, install, observe, onPage } from "./lib/views.js";

function refresh() {
  document.querySelectorAll(".gallery-compare").forEach(setupCompare);
  addViewExports();
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

window.GalleryViews = { drawView, attention, drawAll, observe,
                        compare: { open: openFromHash, refresh, figures: drawFigures } };

install();
installCompare();
onPage(start);
