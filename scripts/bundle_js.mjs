/* The site's JavaScript as the pages load it: each page entry of
 * docs/assets/javascripts/ (ES modules, lib/) bundled by esbuild into one classic
 * script, so a page works served or opened from disk (file://, where Chromium loads no
 * module script and no worker file). The raster worker (raster-worker.js) is bundled
 * first and handed to the pages' bundles as text (RASTER_WORKER: lib/backend.js makes
 * its workers from it). Run by the gallery's MkDocs plugin at every build
 * (attention_gallery/web/plugin.py bundle_scripts); deterministic: the same
 * sources give the same bytes.
 *
 *   node scripts/bundle_js.mjs [--src DIR]            prints {"gallery.js": text, "live.js": text} (JSON)
 *   node scripts/bundle_js.mjs [--src DIR] --out DIR  writes them into DIR
 *
 * --src: the folder of the entries (default docs/assets/javascripts; a build passes
 * its staged copy). Paths in the bundles' comments are relative to it.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const ENTRIES = ["gallery.js", "live.js"];  /* one per page kind */
const COMMON = {
  bundle: true, format: "iife", write: false, charset: "ascii", legalComments: "none",
  logLevel: "warning",
  /* lib/backend.js reads import.meta.url only where RASTER_WORKER is not defined */
  logOverride: { "empty-import-meta": "silent" },
};

export async function bundle(src = path.join(ROOT, "docs", "assets", "javascripts")) {
  const options = { ...COMMON, absWorkingDir: path.resolve(src) };
  const worker = await esbuild.build({ ...options, entryPoints: ["raster-worker.js"], outfile: "raster-worker.js" });
  const define = { RASTER_WORKER: JSON.stringify(worker.outputFiles[0].text) };
  const out = {};
  for (const name of ENTRIES) {
    const built = await esbuild.build({ ...options, entryPoints: [name], outfile: name, define });
    out[name] = built.outputFiles[0].text;
  }
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (flag) => { const at = process.argv.indexOf(flag); return at > 0 ? process.argv[at + 1] : undefined; };
  const out = await bundle(arg("--src"));
  const at = process.argv.indexOf("--out");
  if (at > 0) {
    fs.mkdirSync(process.argv[at + 1], { recursive: true });
    for (const [name, text] of Object.entries(out)) fs.writeFileSync(path.join(process.argv[at + 1], name), text);
  } else {
    process.stdout.write(JSON.stringify(out));
  }
}
