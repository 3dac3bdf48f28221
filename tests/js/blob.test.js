/* The attention blob (lib/blob.js) reads what explain/views.py writes
 * (tests/golden/blob.json): the same levels, byte for byte. */
import test from "node:test";
import assert from "node:assert";
import * as Blob from "../../docs/assets/javascripts/lib/blob.js";
import { bytes, golden } from "./helpers.js";

const g = golden("blob.json");
const want = bytes(g.levels);

test("blob: a page's blob inflates to Python's levels, trained then untrained", async () => {
  const parsed = Blob.parse(g.text);
  assert.deepStrictEqual(parsed.meta, { tokens: g.tokens, layers: g.layers, heads: g.heads, scale: g.scale });
  assert.deepStrictEqual(await parsed.packed, want);
});

test("blob: levels of the same weights are Python's (halves to even)", () => {
  const got = new Uint8Array([...Blob.levels(g.trained, g.scale), ...Blob.levels(g.untrained, g.scale)]);
  assert.deepStrictEqual(got, want);
  assert.deepStrictEqual(Array.from(Blob.levels([0.5 / 255, 1.5 / 255, 2.5 / 255, -1, 2], 255)), [0, 2, 2, 0, 255]);
});

test("blob: peek reads the sizes without the weights", () => {
  assert.deepStrictEqual(Blob.peek(g.text), { n: g.tokens.length, layers: g.layers, heads: g.heads });
  assert.strictEqual(Blob.peek("{not json"), null);
});

test("blob: gained and lost are the positive parts of the difference", async () => {
  const both = await Blob.parse(g.text).packed, size = both.length / 2;
  const gained = Blob.kindOf(both, "gained"), lost = Blob.kindOf(both, "lost");
  for (let k = 0; k < size; k++) {
    const d = both[k] - both[size + k];
    assert.strictEqual(gained[k], Math.max(d, 0));
    assert.strictEqual(lost[k], Math.max(-d, 0));
  }
  assert.deepStrictEqual(Blob.kindOf(both, "trained"), both.subarray(0, size));
  assert.throws(() => Blob.kindOf(both, "other"), /unknown attention/);
});

test("blob: the live page's encoding reads back as the pages' one does", async () => {
  const text = Blob.encode(g.tokens, g.layers, g.heads, g.scale, g.trained, g.untrained);
  assert.deepStrictEqual(await Blob.parse(text).packed, want);
  assert.deepStrictEqual(Blob.peek(text), Blob.peek(g.text));
});

test("blob: an unknown encoding is refused", () => {
  assert.throws(() => Blob.parse(JSON.stringify({ tokens: [], layers: 1, heads: 1, encoding: "float", scale: 255 })), /unknown attention encoding/);
});

test("blob: base64 round trip of every byte", () => {
  const all = new Uint8Array(256 * 300).map((_, i) => i % 256);
  assert.deepStrictEqual(Blob.fromBase64(Blob.toBase64(all)), all);
});

test("blob: a view draws from the weights blob or the norms blob beside it", () => {
  assert.deepStrictEqual(Blob.MEASURES, ["weights", "norms"]);
  assert.strictEqual(Blob.sourceFor(g.id, "weights"), g.id);
  assert.strictEqual(Blob.sourceFor(g.id, null), g.id);  /* a view without data-measure */
  assert.strictEqual(Blob.sourceFor(g.id, "norms"), g.id + "-norms");
  assert.strictEqual(Blob.NORMS_SUFFIX, "-norms");
  assert.throws(() => Blob.sourceFor(g.id, "rollout"), /unknown attention measure/);
});

test("blob: a training-steps sidecar holds each step's attention as Python wrote it", async () => {
  const vm = await import("node:vm");
  const context = { self: {} };
  vm.runInNewContext(g.steps.script, context);
  for (const step of g.steps.steps) {
    const id = Blob.stepSource("attention-golden", step);
    assert.deepStrictEqual(Blob.stepOf(id), ["attention-golden", step]);
    const parsed = Blob.parse(context.self.galleryBlobs[id]);
    assert.deepStrictEqual(parsed.meta, { tokens: g.tokens, layers: g.layers, heads: g.heads, scale: g.scale });
    const both = await parsed.packed;
    assert.deepStrictEqual(Blob.kindOf(both, "trained"), bytes(g.steps.levels[String(step)]));
    assert.ok(Blob.kindOf(both, "untrained").every((v) => v === 0), "a step blob's untrained half is zeros");
  }
  assert.strictEqual(Blob.stepOf("attention-golden-norms"), null);
});
