/* The live page's faithfulness rule (docs/assets/javascripts/claims.js) decides the
 * cases of tests/golden/claims.json as attention_gallery/claims.py does
 * (tests/test_claims.py). Run: node --test tests/js/ */
"use strict";
const test = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..", "..");
const Claims = require(path.join(root, "docs", "assets", "javascripts", "claims.js"));
const golden = JSON.parse(fs.readFileSync(path.join(root, "tests", "golden", "claims.json"), "utf8"));
const rules = JSON.parse(fs.readFileSync(path.join(root, "attention_gallery", "rules.json"), "utf8")).claims.faithfulness;

for (const c of golden.cases) {
  test("faithfulness rule: " + c.title, () => {
    const got = Claims.faithfulnessOutcome(c.method, c.random, c.se, c.p0, rules);
    assert.strictEqual(got.outcome, c.outcome);
    assert.strictEqual(got.scale, c.scale);
  });
}
