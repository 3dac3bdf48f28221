/* The live page's faithfulness rule (lib/claims.js) decides the cases of
 * tests/golden/claims.json as attention_gallery/claims.py does (tests/test_claims.py).
 * Run: node --test tests/js/ */
import test from "node:test";
import assert from "node:assert";
import { faithfulnessOutcome } from "../../docs/assets/javascripts/lib/claims.js";
import { golden, rules } from "./helpers.js";

const data = golden("claims.json");
const faithfulness = rules().claims.faithfulness;

for (const c of data.cases) {
  test("faithfulness rule: " + c.title, () => {
    const got = faithfulnessOutcome(c.method, c.random, c.se, c.p0, faithfulness);
    assert.strictEqual(got.outcome, c.outcome);
    assert.strictEqual(got.scale, c.scale);
  });
}
