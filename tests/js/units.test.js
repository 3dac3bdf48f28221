/* Unit tests of the small pure pieces: removal and ranking, the deletion test's
 * weights, tau-b, the seeded shuffle, subsets, colours, settings and text rules. */
import test from "node:test";
import assert from "node:assert";
import { ink, lighten, luminance, rgb } from "../../docs/assets/javascripts/lib/colour.js";
import * as Del from "../../docs/assets/javascripts/lib/deletion.js";
import { comb, combinations, jsDistance, mulberry32, tauB } from "../../docs/assets/javascripts/lib/maths.js";
import { colourOf, panelTitle, settings, title, useSettings } from "../../docs/assets/javascripts/lib/settings.js";
import { textChecker } from "../../docs/assets/javascripts/lib/text-rules.js";
import { KINDS } from "../../docs/assets/javascripts/lib/blob.js";
import { rules, viewSettings } from "./helpers.js";

const D = { ks: [1, 2, 3], bins: [0.01, 0.05, 0.1, 0.2, 0.5], exact_limit: 256, draws: 10 };

test("removal: a removed token leaves the others in order; keep-only keeps the special tokens", () => {
  const ids = [101, 7, 8, 9, 102], words = [1, 2, 3];
  assert.deepStrictEqual(Del.remove(ids, [2]), [101, 7, 9, 102]);
  assert.deepStrictEqual(Del.remove(ids, []), ids);
  assert.deepStrictEqual(Del.keepOnly(ids, words, [3]), [101, 9, 102]);
});

test("ranking: highest score first, ties by position, special tokens never ranked", () => {
  assert.deepStrictEqual(Del.rankTokens([9, 0.5, 0.7, 0.5, 9], [1, 2, 3]), [2, 1, 3]);
});

test("deletion weights: the top 1-3 and ERASER's bins, each figure's weights summing to 1", () => {
  assert.deepStrictEqual(Del.topKs(2, D), [1, 2]);
  assert.deepStrictEqual(Del.binKs(12, D), [1, 1, 1, 2, 6]);
  const w = Del.deletionWeights(12, D);
  for (const f of Del.FIGURES) assert.ok(Math.abs(Object.values(w[f]).reduce((a, b) => a + b, 0) - 1) < 1e-12, f);
  assert.deepStrictEqual(Del.needed(w), [1, 2, 3, 6]);
});

test("log-odds: symmetric, finite at 0 and 1", () => {
  assert.ok(Math.abs(Del.logOdds(0.5)) < 1e-15);
  assert.ok(Math.abs(Del.logOdds(0.9) + Del.logOdds(0.1)) < 1e-12);
  assert.ok(Number.isFinite(Del.logOdds(0)) && Number.isFinite(Del.logOdds(1)));
});

test("tau-b: Kendall's tau with ties (scipy's kendalltau)", () => {
  assert.strictEqual(tauB([1, 2, 3], [1, 2, 3]), 1);
  assert.strictEqual(tauB([1, 2, 3], [3, 2, 1]), -1);
  assert.ok(Math.abs(tauB([1, 1, 2, 3], [1, 2, 2, 3]) - 0.8) < 1e-12);  /* scipy: 0.8 */
  assert.strictEqual(tauB([1, 1, 1], [1, 2, 3]), 0);
  assert.strictEqual(tauB([5], [1]), 1);
});

test("random orders: seeded, a permutation of the words each", () => {
  const a = Del.randomOrders([1, 2, 3, 4, 5], 4, 0), b = Del.randomOrders([1, 2, 3, 4, 5], 4, 0);
  assert.deepStrictEqual(a, b);
  for (const o of a) assert.deepStrictEqual(o.slice().sort(), [1, 2, 3, 4, 5]);
  const r = mulberry32(1);
  for (let i = 0; i < 100; i++) { const x = r(); assert.ok(x >= 0 && x < 1); }
});

test("subsets: every k-subset once, in order", () => {
  assert.strictEqual(comb(10, 5), 252);
  const all = combinations([1, 2, 3, 4, 5, 6], 3);
  assert.strictEqual(all.length, comb(6, 3));
  assert.strictEqual(new Set(all.map(String)).size, all.length);
  assert.deepStrictEqual(all[0], [1, 2, 3]);
});

test("Jensen-Shannon distance: 0 for the same row, 1 for disjoint rows", () => {
  assert.strictEqual(jsDistance([0.5, 0.5], [0.5, 0.5], 0, 2), 0);
  assert.ok(Math.abs(jsDistance([1, 0], [0, 1], 0, 2) - 1) < 1e-12);
});

test("colours: hex, bertviz's lightening, ink that reads", () => {
  assert.deepStrictEqual(rgb("#1f77b4"), [31, 119, 180]);
  assert.match(lighten("#1f77b4"), /^hsl\(/);
  assert.strictEqual(ink("#ffffff"), "#000");
  assert.strictEqual(ink("#000000"), "#fff");
  assert.ok(luminance("#ffffff") > 0.99);
});

test("settings: the palette is taken in turn, titles for every kind of attention", () => {
  useSettings(viewSettings());
  const s = settings();
  assert.strictEqual(colourOf(0), s.palette[0]);
  assert.strictEqual(colourOf(s.palette.length + 3), s.palette[3]);
  assert.strictEqual(colourOf(-1), s.palette[s.palette.length - 1]);
  for (const kind of KINDS) { assert.ok(title(kind) && panelTitle(kind), kind); }
  assert.deepStrictEqual(s.compare_attentions, KINDS);
  for (const c of s.palette) assert.match(c, /^#[0-9a-f]{6}$/);
});

const problems = textChecker(rules().text);

test("text rules: what the box accepts and refuses, worded as the build words it", () => {
  assert.strictEqual(problems("A good film"), null);
  assert.strictEqual(problems("tab\tok"), null);
  assert.strictEqual(problems(""), "text is empty");
  assert.strictEqual(problems("   "), "text is blank (only whitespace)");
  assert.match(problems("line\nbreak"), /^text must be a single line/);
  assert.match(problems("\u0000 after NUL"), /^text contains a control character, U\+0000 at character 1/);
  assert.match(problems("ok\u202e"), /^text contains a bidirectional control character, U\+202E/);
  assert.match(problems("a\uffff"), /^text contains a noncharacter, U\+FFFF at character 2/);
  assert.match(problems("bad \ud800 half"), /^text contains a lone surrogate/);
  assert.match(problems("ok".repeat(1001)), /^text is too long: 2002 characters/);
  assert.match(problems("\u3164"), /^text has no visible characters/);
});

test("compare: an address names a head and, optionally, a training step", async () => {
  const C = await import("../../docs/assets/javascripts/lib/compare.js");
  assert.deepStrictEqual(C.parseHash("#head-3-9"), { layer: 3, head: 9, step: null });
  assert.deepStrictEqual(C.parseHash("#head-3-9-step-200"), { layer: 3, head: 9, step: 200 });
  assert.strictEqual(C.parseHash("#head-3-9-step-"), null);
  assert.strictEqual(C.parseHash("#head-3"), null);
  assert.strictEqual(C.hashOf(3, 9, null), "#head-3-9");
  assert.strictEqual(C.hashOf(3, 9, 0), "#head-3-9-step-0");
  const blob = (attrs) => ({ getAttribute: (k) => (k in attrs ? attrs[k] : null) });
  assert.deepStrictEqual(C.stepsOf(blob({ "data-steps": "gallery/steps/x.js", "data-step-list": "0 25 5400" })), [0, 25, 5400]);
  assert.deepStrictEqual(C.stepsOf(blob({ "data-step-list": "0 25" })), []);  // no file: no step control
  assert.deepStrictEqual(C.stepsOf(null), []);
});

test("compare: the block's legend states the views' weight-to-opacity mapping in numbers", async () => {
  const C = await import("../../docs/assets/javascripts/lib/compare.js");
  const ramp = viewSettings().opacity, text = C.rampText(ramp);
  assert.match(text, /^Line opacity = 2\.58 × weight up to a weight of 0\.33 \(opacity 0\.85: at least 3:1/);
  assert.match(text, /to 1 at weight 1\. bertviz draws opacity = weight\.$/);
  assert.ok(C.LEGEND_WEIGHTS.includes(ramp.knee));
});
