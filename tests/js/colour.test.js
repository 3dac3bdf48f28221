/* The live page's token colours (lib/colour-scale.js) give the numbers of
 * tests/golden/colour.json, which explain/views.py gives too (tests/test_colour.py).
 * Run: node --test tests/js/ */
import test from "node:test";
import assert from "node:assert";
import * as Colour from "../../docs/assets/javascripts/lib/colour-scale.js";
import { golden, rules } from "./helpers.js";

const data = golden("colour.json");

test("the golden file was made with the rules file's constant", () => {
  assert.strictEqual(data.full_share, rules().colour.full_share);
});

for (const c of data.cases) {
  test("colour scale: " + c.title, () => {
    const s = Colour.scale(c.rows, c.muted, c.share);
    const e = c.expected;
    for (const key of ["total", "largest", "full"]) {
      assert.ok(Math.abs(s[key] - e[key]) <= 1e-12 * Math.max(1, Math.abs(e[key])), key + ": " + s[key] + " vs " + e[key]);
    }
    c.rows.forEach((row, r) => row.forEach((v, i) => {
      const a = Colour.alpha(v, s.full);
      assert.ok(Math.abs(a - e.alphas[r][i]) <= 1e-9, "row " + r + " token " + i + ": " + a + " vs " + e.alphas[r][i]);
    }));
    assert.strictEqual(Colour.item(c.title, s, c.unit, c.signed), e.item);
  });
}

test("percentages round halves to even, as Python does", () => {
  assert.strictEqual(Colour.pct(0.125), "12%");
  assert.strictEqual(Colour.pct(0.135), "14%");
  assert.strictEqual(Colour.pct(0.5), "50%");
});
