/* The entry of the gallery's pages (every page but the live page; the theme loads it,
 * bundled by esbuild into one classic script: scripts/bundle_js.mjs). lib/page.js
 * does the work: attention views drawn from the page's own numbers, the side-by-side
 * block, PNG/SVG exports and the reading page's figures.
 *
 * Its one global, window.GalleryViews, is for the tests and the benchmarks:
 * drawView(element, data, options), attention(source, kind), drawAll(),
 * observe(element, draw), compare.open(hash, scroll), compare.refresh(),
 * compare.figures(). */

import { startGallery } from "./lib/page.js";

window.GalleryViews = startGallery();
