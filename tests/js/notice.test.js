/* "What to notice" on the live page (lib/notice.js) says what a gallery page's
 * explain/notice.py says from the same numbers: tests/golden/notice.json, written by
 * scripts/js_golden.py. */
import test from "node:test";
import assert from "node:assert";
import * as N from "../../docs/assets/javascripts/lib/notice.js";
import { headChange, topHeads } from "../../docs/assets/javascripts/lib/maths.js";
import { float32, golden } from "./helpers.js";

const G = golden("notice.json"), R = G.rules;
const point = (c) => ({ kind: c.kind, rule: c.rule, outcome: c.outcome, text: c.text, ...(c.head ? { head: c.head } : {}) });

test("notice: the head rule's four stories, word for word", () => {
  for (const c of G.head) {
    const got = N.headClaim(c.tokens, c.at[0], c.at[1], c.change, c.n_heads, c.numbers, R);
    assert.deepStrictEqual(point(got), point(c));
  }
  assert.deepStrictEqual(G.head.map((c) => c.outcome), ["to-cls-fell", "to-cls-rose", "cls-row-gained", "largest-change"]);
});

test("notice: the faithfulness verdict in words, on every case of the rule", () => {
  assert.ok(G.faithfulness.length >= 8);
  for (const c of G.faithfulness) {
    const got = N.faithfulnessClaim(c.title, c.method, c.random, c.se, c.p0, c.label, c.other, c.top, R);
    assert.strictEqual(got.outcome, c.outcome, c.text);
    assert.strictEqual(got.text, c.text);
  }
  assert.deepStrictEqual([...new Set(G.faithfulness.map((c) => c.outcome))].sort(), [...R.faithfulness.outcomes].sort());
});

test("notice: a method's top tokens, and why none is named where no word raises the class", () => {
  assert.strictEqual(G.tokens.length, 4);
  for (const c of G.tokens) {
    const got = N.tokensClaim(c.name, c.title, c.tokens, c.words, c.scores, c.labels, c.target, c.method, c.random,
                              c.se, c.p0, R);
    assert.deepStrictEqual(point(got), point(c));
  }
  assert.ok(G.tokens[0].text.startsWith("No token pushes the fine-tuned model toward positive by Integrated Gradients: " +
                                        R.tokens.no_positive["Integrated Gradients"]));
  assert.ok(G.tokens[2].text.includes(R.tokens.no_positive["*"]));
  assert.ok(G.tokens[1].text.startsWith("Integrated Gradients ranks"));
});

test("notice: norms against weights, the untrained margin and the verdict, in words", () => {
  for (const c of G.norms) assert.deepStrictEqual(point(N.normsClaim(c.weights, c.norms, c.special, R)), point(c));
  for (const c of G.untrained) {
    assert.deepStrictEqual(point(N.untrainedClaim(G.untrained_name, c.last, c.p_last, c.margin, R)), point(c));
  }
  for (const c of G.verdict) assert.deepStrictEqual(point(N.verdictClaim(c.predicted, c.p, c.gold)), point(c));
  assert.deepStrictEqual(G.norms.map((c) => c.outcome), ["less-on-specials", "more-on-specials", "agree"]);
});

test("notice: the live page's points on the live golden sentences, from the page's own numbers", () => {
  const live = golden("live.json");
  assert.strictEqual(G.sentences.length, live.cases.length);
  live.cases.forEach((c, k) => {
    const L = c.layers, H = c.heads, n = c.tokens.length, t = c.trained, u = c.untrained, d = c.deletion;
    const att = { trained: float32(t.attention_f32), untrained: float32(u.attention_f32) };
    /* what live.js has: its head change and top head (lib/maths.js), its scores, its deletion test */
    const top = topHeads(headChange(att.trained, att.untrained, L, H, n), 3)[0];
    assert.deepStrictEqual(top.slice(0, 2), c.top_heads[0].slice(0, 2));
    const round4 = (x) => Math.round(x * 1e4) / 1e4;
    const points = [
      N.verdictClaim(c.labels[t.predicted], t.probs[t.predicted], null),
      N.headClaim(c.tokens, top[0], top[1], top[2], L * H,
                  N.headNumbers(att.trained, att.untrained, L, H, n, c.words, top[0], top[1]), R),
      N.tokensClaim("Leave-one-out", "Leave-one-out", c.tokens, c.words, t.loo, c.labels, d.target, d.figures.loo,
                    d.figures.random, d.random_se, round4(d.p0), R),
      N.normsClaim(t.attention.map(round4), t.norms.map(round4), c.special, R),
      N.untrainedClaim(G.untrained_name, c.labels[c.labels.length - 1], u.probs[u.probs.length - 1],
                       Math.abs(u.logits[0] - u.logits[u.logits.length - 1]), R),
    ];
    assert.deepStrictEqual(points.map(point), G.sentences[k].points, c.text);
    assert.strictEqual(N.noticeHtml(points), G.sentences[k].html);
  });
});
