/* lib/markup.js writes what explain/views.py writes (tests/golden/markup.json): the
 * live page's markup is the gallery pages', attribute for attribute. */
import test from "node:test";
import assert from "node:assert";
import * as Markup from "../../docs/assets/javascripts/lib/markup.js";
import { golden, viewSettings } from "./helpers.js";

const g = golden("markup.json");

function call(c) {
  const a = c.args;
  if (c.fn === "heatmap") return Markup.heatmap(a[0], a[1], a[2], a[3] === "head" ? (l, h) => "#head-" + l + "-" + h : null);
  if (c.fn === "signed") return a[0].map((v) => Markup.signed(v));
  return Markup[c.fn](...a);
}

g.cases.forEach((c, i) => {
  test("markup " + i + ": " + c.fn + " writes what views.py writes", () => {
    assert.deepStrictEqual(call(c), c.html);
  });
});

test("markup: the views' titles are the settings file's", () => {
  const view = g.cases.find((c) => c.fn === "view");
  assert.deepStrictEqual(view.args[0], viewSettings().titles);
});

test("markup: a view placeholder takes the keyboard's focus and has a role and a name", () => {
  const html = Markup.view(viewSettings().titles, "s", "model_view", "trained", "v");
  assert.match(html, /class="gallery-view-frame" role="figure" tabindex="0" aria-label="bertviz model view of the fine-tuned model"/);
  assert.throws(() => Markup.view(viewSettings().titles, "s", "neuron_view", "trained", "v"), /model_view or head_view/);
});

test("markup: text from a sentence is escaped everywhere", () => {
  const html = Markup.sentenceCard("<img src=x onerror=alert(1)>", ["<b>"], null, "", "live");
  assert.ok(!html.includes("<img") && !html.includes("<b>"));
  assert.strictEqual(Markup.esc("a&<>\"'"), "a&amp;&lt;&gt;&quot;&#x27;");
});

test("markup: numbers as Python writes them", () => {
  assert.strictEqual(Markup.signed(-0.0001), "+0.000");
  assert.strictEqual(Markup.signed(0.5, 2), "+0.50");
  assert.strictEqual(Markup.fixed(-0.0004, 3), "0.000");
  assert.strictEqual(Markup.pyFloat(0), "0.0");
  assert.strictEqual(Markup.pyFloat(0.425), "0.425");
});

test("markup: exact halves round to even, as Python's format does", () => {
  assert.strictEqual(Markup.fixed(2.0625, 3), "2.062");
  assert.strictEqual(Markup.fixed(2.0635, 3), (2.0635).toFixed(3));  /* not a tie in binary */
  assert.strictEqual(Markup.fixed(0.125, 2), "0.12");
  assert.strictEqual(Markup.fixed(0.375, 2), "0.38");
  assert.strictEqual(Markup.fixed(-0.125, 2), "-0.12");
  assert.strictEqual(Markup.fixed(2.5, 0), "2");
  assert.strictEqual(Markup.fixed(3.5, 0), "4");
});
