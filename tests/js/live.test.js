/* The live page's numbers (lib/maths.js, lib/deletion.js, lib/blob.js levels) are
 * attention_gallery.explain's for the same model outputs (tests/golden/live.json,
 * written by scripts/js_golden.py from the real default pair): every score within
 * the file's tolerance (float32), quantised levels exactly. */
import test from "node:test";
import assert from "node:assert";
import { levels } from "../../docs/assets/javascripts/lib/blob.js";
import { deletionTest, leaveOneOut } from "../../docs/assets/javascripts/lib/deletion.js";
import { argmax, clsAttention, headChange, normAttention, normScores, rollout, softmax, topHeads } from "../../docs/assets/javascripts/lib/maths.js";
import { bytes, float32, golden, near } from "./helpers.js";

const g = golden("live.json");
const TOL = g.tolerance;

/* Python's probabilities of every variant the model ran, as the worker pool would give them */
function provider(variants) {
  let asked = 0;
  const probs = (list, onDone) => {
    asked += list.length;
    const out = list.map((ids) => {
      const row = variants[ids.join(",")];
      if (!row) throw new Error("no probabilities for variant " + ids.join(","));
      return row;
    });
    if (onDone) onDone(list.length);
    return Promise.resolve(out);
  };
  probs.asked = () => asked;
  return probs;
}

for (const c of g.cases) {
  const n = c.tokens.length, L = c.layers, H = c.heads;
  const att = { trained: float32(c.trained.attention_f32), untrained: float32(c.untrained.attention_f32) };
  const name = "“" + c.text + "”";

  test("live " + name + ": quantised levels are exactly Python's", () => {
    for (const which of ["trained", "untrained"]) {
      assert.strictEqual(att[which].length, L * H * n * n);
      assert.deepStrictEqual(levels(att[which], g.scale), bytes(c[which].levels), which);
    }
  });

  test("live " + name + ": head change and its top heads", () => {
    const change = headChange(att.trained, att.untrained, L, H, n);
    near(change, c.head_change, TOL, "head change");
    const top = topHeads(change, 3);
    assert.deepStrictEqual(top.map((t) => t.slice(0, 2)), c.top_heads.map((t) => t.slice(0, 2)));
    near(top.map((t) => t[2]), c.top_heads.map((t) => t[2]), TOL, "top values");
  });

  test("live " + name + ": attention rollout and raw attention of both models", () => {
    for (const which of ["trained", "untrained"]) {
      near(rollout(att[which], L, H, n, c.rollout_residual), c[which].rollout, TOL, which + " rollout");
      near(clsAttention(att[which], L, H, n), c[which].attention, TOL, which + " raw attention");
    }
  });

  test("live " + name + ": norm-based attention from the value vectors' norms", () => {
    const norms = { trained: float32(c.trained.value_norms_f32), untrained: float32(c.untrained.value_norms_f32) };
    const shown = {};
    for (const which of ["trained", "untrained"]) {
      assert.strictEqual(norms[which].length, L * H * n);
      shown[which] = normAttention(att[which], norms[which], L, H, n);
      assert.deepStrictEqual(levels(shown[which], g.scale), bytes(c[which].norm_levels), which + " norm levels");
      near(normScores(att[which], norms[which], L, H, n), c[which].norms, TOL, which + " norms scores");
    }
    near(headChange(shown.trained, shown.untrained, L, H, n), c.head_change_norms, TOL, "head change on norms");
    /* another picture than the weights */
    assert.notDeepStrictEqual(bytes(c.trained.norm_levels), bytes(c.trained.levels));
  });

  test("live " + name + ": leave-one-out of both models", async () => {
    for (const which of ["trained", "untrained"]) {
      const p0 = c[which].probs;
      assert.strictEqual(argmax(p0), c[which].predicted);
      const got = await leaveOneOut(c.ids, c.words, p0, c[which].predicted, provider(c.variants[which]));
      near(got, c[which].loo, TOL, which + " loo");
    }
  });

  test("live " + name + ": the deletion test's figures, tau-LOO and random baseline", async () => {
    const d = c.deletion, scores = {};
    for (const m of ["rollout", "attention", "loo"]) scores[m] = c.trained[m];
    let ranked = null;
    const got = await deletionTest({
      ids: c.ids, words: c.words, target: d.target, p0: d.p0, scores, loo: c.trained.loo,
      D: { ks: d.ks, bins: d.bins, exact_limit: d.exact_limit, draws: d.draws }, probs: provider(c.variants.trained),
      orders: d.orders.length ? d.orders : undefined, onRanked: (table) => { ranked = Object.keys(table); },
    });
    assert.deepStrictEqual(ranked, ["rollout", "attention", "loo"]);
    assert.strictEqual(got.random_mode, d.random_mode);
    assert.deepStrictEqual(Object.keys(got.figures), Object.keys(d.figures));
    for (const [method, want] of Object.entries(d.figures)) {
      assert.deepStrictEqual(Object.keys(got.figures[method]).sort(), Object.keys(want).sort(), method);
      for (const [key, value] of Object.entries(want)) {
        /* a log-odds figure of a saturated p (1 - 4e-6) is ill-conditioned: summed in another order it
           moves by 2e-5 at 12.4, so it is held to TOL relative to its size */
        const tol = key.includes("logodds") ? TOL * Math.max(1, Math.abs(value)) : TOL;
        near(got.figures[method][key], value, tol, method + "." + key);
      }
    }
    for (const [key, value] of Object.entries(d.random_se)) near(got.random_se[key], value, TOL, "se " + key);
  });
}

test("live: the cases cover an exact and a sampled random baseline", () => {
  assert.deepStrictEqual(g.cases.map((c) => c.deletion.random_mode.split(":")[0]).sort(), ["exact", "sampled"]);
});

test("live: softmax of the logits the models give", () => {
  near(softmax([2, 0]), [1 / (1 + Math.exp(-2)), 1 / (1 + Math.exp(2))], 1e-15);
  near(softmax([1000, 1000]), [0.5, 0.5], 1e-15);
  assert.strictEqual(argmax([0.1, 0.7, 0.7]), 1);
});
