/* The views' rasteriser (lib/raster.js) and core (lib/core.js), without a browser:
 * lines land where they should, at the opacity they should; the core decodes a blob
 * and answers the page's messages. */
import test from "node:test";
import assert from "node:assert";
import { createCore } from "../../docs/assets/javascripts/lib/core.js";
import { luminance } from "../../docs/assets/javascripts/lib/colour.js";
import { headLines, headPicture, lineBundle, modelLayer, opacity, opacityLevels, paint, toImage } from "../../docs/assets/javascripts/lib/raster.js";
import { bytes, golden, viewSettings } from "./helpers.js";

const RAMP = viewSettings().opacity, LINEAR = { knee: 0.5, at_knee: 0.5 };

test("raster: a horizontal line of full opacity covers its rows and nothing else", () => {
  const lines = new Float64Array([5, 5, 1]), b = lineBundle(lines, 1, 0, 10, 12, 1);
  assert.strictEqual(b.cols, 10);
  for (let c = 0; c < b.cols; c++) {
    for (let row = 0; row < 12; row++) {
      const t = b.T[c * b.rows + row];
      if (row === 4 || row === 5) assert.ok(t < 1e-6, "covered " + c + "," + row + ": " + t);
      else assert.strictEqual(t, 1, "clear " + c + "," + row);
    }
  }
});

test("raster: two lines of one colour compose as SVG strokes do (1 - (1 - a)^2)", () => {
  const one = lineBundle(new Float64Array([5, 5, 0.5]), 1, 0, 4, 12, 1).T.slice();
  const two = lineBundle(new Float64Array([5, 5, 0.5, 5, 5, 0.5]), 2, 0, 4, 12, 1).T;
  for (let k = 0; k < one.length; k++) assert.ok(Math.abs(two[k] - one[k] * one[k]) < 1e-6, k);
});

test("raster: transmission stays within [0, 1] for steep, faint and strong lines", () => {
  const lines = new Float64Array([0, 40, 1, 40, 0, 0.01, 10, 11, 0.7, 2, 2, 0.000001]);
  const b = lineBundle(lines, 4, 0.3, 30.7, 44, 1.3);
  for (const t of b.T) assert.ok(t >= 0 && t <= 1 + 1e-12, t);
});

test("raster: a head's lines are its non-zero weights, query to key", () => {
  const w = new Uint8Array([0, 255, 128, 0]), L = headLines(w, 0, 2, opacityLevels(255, LINEAR), 0, 10, 1, null, null);
  assert.strictEqual(L.m, 2);
  assert.deepStrictEqual(Array.from(L.lines.subarray(0, 6)), [5, 15, 1, 15, 5, 128 / 255]);
  const ramped = headLines(w, 0, 2, opacityLevels(255, RAMP), 0, 10, 0.5, null, null);
  assert.strictEqual(ramped.lines[5], 0.5 * opacity(128 / 255, RAMP));
  const only = headLines(w, 0, 2, opacityLevels(255, RAMP), 0, 10, 1, [1], null);
  assert.strictEqual(only.m, 1);
});

test("raster: paint writes the colour with coverage as alpha; over + toImage un-premultiplies", () => {
  const b = lineBundle(new Float64Array([2, 2, 1]), 1, 0, 3, 4, 1), img = new Uint8ClampedArray(3 * 4 * 4);
  paint(img, 3, b, [10, 20, 30], false);
  assert.deepStrictEqual(Array.from(img.subarray(4 * 3 * 1, 4 * 3 * 1 + 4)), [10, 20, 30, 255]);
  const acc = new Float32Array(3 * 4 * 4);
  paint(acc, 3, b, [10, 20, 30], true);
  const out = toImage(acc, new Uint8ClampedArray(acc.length));
  assert.deepStrictEqual(Array.from(out.subarray(4 * 3 * 1, 4 * 3 * 1 + 4)), [10, 20, 30, 255]);
});

test("opacity: the stated mapping, through (0, 0), (knee, at_knee) and (1, 1), straight between", () => {
  const { knee, at_knee: atKnee } = RAMP;
  assert.strictEqual(opacity(0, RAMP), 0);
  assert.strictEqual(opacity(knee, RAMP), atKnee);
  assert.strictEqual(opacity(1, RAMP), 1);
  assert.ok(Math.abs(opacity(knee / 2, RAMP) - atKnee / 2) < 1e-12);
  assert.ok(Math.abs(opacity((1 + knee) / 2, RAMP) - (1 + atKnee) / 2) < 1e-12);
  const t = opacityLevels(255, RAMP);
  for (let i = 1; i <= 255; i++) assert.ok(t[i] > t[i - 1], "rises at level " + i);
  assert.strictEqual(opacity(0.3, LINEAR), 0.3);  /* knee on the diagonal: bertviz's own, opacity = weight */
});

test("opacity: every head colour at a weight of 0.33 has 3:1 contrast on the views' backgrounds", () => {
  const a = opacity(0.33, RAMP);
  for (const hex of viewSettings().palette) {
    const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    /* white; black (the model view, dark palette); Material's slate (the head views, dark palette) */
    for (const bg of [[255, 255, 255], [0, 0, 0], [30, 33, 41]]) {
      const hexOf = (v) => "#" + v.map((x) => Math.round(x).toString(16).padStart(2, "0")).join("");
      const lb = luminance(hexOf(bg)), ls = luminance(hexOf(c.map((x, i) => a * x + (1 - a) * bg[i])));
      const ratio = (Math.max(lb, ls) + 0.05) / (Math.min(lb, ls) + 0.05);
      assert.ok(ratio >= 3, hex + " on " + bg + ": " + ratio.toFixed(2));
    }
  }
});

test("raster: a model view's layer and a head view's picture have the size asked for", () => {
  const n = 3, H = 2, w = new Uint8Array(2 * H * n * n).fill(100);
  const g = { width: 200, height: 40, r: 1, axis: 20, thumbW: 90, pad: 5, boxH: 7, n, H, scale: 255, ramp: RAMP };
  const img = modelLayer(w, g, 1, [255, 0, 0]);
  assert.strictEqual(img.length, 200 * 40 * 4);
  assert.ok(img.some((v, i) => i % 4 === 3 && v > 0));
  const hg = { sx: 100, sw: 120, height: 80, r: 1, x1: 100, x2: 215, top: 10, step: 20, n, H, scale: 255, ramp: RAMP };
  const pic = headPicture(w, hg, 0, [true, false], [[0, 0, 255], [255, 0, 0]], null);
  assert.strictEqual(pic.length, 120 * 80 * 4);
  for (let p = 0; p < pic.length; p += 4) if (pic[p + 3]) assert.strictEqual(pic[p + 2], 255);
});

function collect() {
  const got = [], later = [];
  const core = createCore((msg) => got.push(msg), (fn) => later.push(fn));
  return { core, got, run() { while (later.length) later.shift()(); } };
}

test("core: a blob's meta at once, its weights by kind", async () => {
  const g = golden("blob.json"), { core, got } = collect();
  core.handle({ type: "blob", id: "b", text: g.text });
  assert.deepStrictEqual(got[0], { type: "meta", id: "b", meta: { tokens: g.tokens, layers: g.layers, heads: g.heads, scale: g.scale } });
  const all = bytes(g.levels), size = all.length / 2;
  assert.deepStrictEqual(await core.weightsOf("b", "untrained"), all.subarray(size));
  core.handle({ type: "weights", id: "b", kind: "trained", req: 7 });
  await new Promise((r) => setTimeout(r, 10));
  const answer = got.find((m) => m.type === "weights");
  assert.strictEqual(answer.req, 7);
  assert.deepStrictEqual(answer.weights, all.subarray(0, size));
  await assert.rejects(core.weightsOf("nope", "trained"), /no attention data/);
});

test("core: a model view's job sends one picture per layer, in the order asked, then done", async () => {
  const g = golden("blob.json"), c = collect();
  c.core.handle({ type: "blob", id: "b", text: g.text });
  const geometry = { width: 120, height: 30, r: 1, axis: 10, thumbW: 30, pad: 2, boxH: 4, n: g.tokens.length, H: g.heads, scale: g.scale, ramp: RAMP };
  c.core.handle({ type: "model", req: 3, id: "b", kind: "gained", g: geometry, order: [1, 0], colors: [[1, 2, 3], [4, 5, 6]] });
  for (let i = 0; i < 20; i++) { c.run(); await new Promise((r) => setTimeout(r, 1)); }
  const mine = c.got.filter((m) => m.req === 3);
  assert.deepStrictEqual(mine.map((m) => m.type + (m.part === undefined ? "" : m.part)), ["image1", "image0", "done"]);
  assert.strictEqual(mine[0].data.length, 120 * 30 * 4);
});

test("core: a newer head picture cancels the one not yet drawn", async () => {
  const g = golden("blob.json"), c = collect();
  c.core.handle({ type: "blob", id: "b", text: g.text });
  const hg = { sx: 50, sw: 60, height: 60, r: 1, x1: 50, x2: 110, top: 5, step: 9, n: g.tokens.length, H: g.heads, scale: g.scale, ramp: RAMP };
  const msg = (version) => ({ type: "head", req: 1, id: "b", kind: "trained", g: hg, layer: 0, active: [true, true, false],
                              colors: [[1, 1, 1], [2, 2, 2], [3, 3, 3]], version, urgent: false });
  c.core.handle(msg(1));
  c.core.handle(msg(2));
  for (let i = 0; i < 20; i++) { c.run(); await new Promise((r) => setTimeout(r, 1)); }
  assert.deepStrictEqual(c.got.filter((m) => m.req === 1).map((m) => m.type + m.part), ["image2", "done2"]);
});
