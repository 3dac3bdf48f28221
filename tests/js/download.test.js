/* A download's bertviz view unpacks its attention (attention_gallery/build/download_params.js)
 * to exactly the params Python packed (tests/golden/download.json). */
import test from "node:test";
import assert from "node:assert";
import fs from "node:fs";
import path from "node:path";
import { ROOT, golden } from "./helpers.js";

const source = fs.readFileSync(path.join(ROOT, "attention_gallery", "build", "download_params.js"), "utf8");
const gvParams = new Function(`${source}; return __gvParams;`)();

test("download: the packed params unpack to bertviz's params, number for number", async () => {
  const g = golden("download.json");
  const got = await gvParams(structuredClone(g.packed));
  assert.deepStrictEqual(got, g.params);
  assert.strictEqual(got.attention[0].attn[0][0][0][1], 1);
  assert.strictEqual(got.attention[0].attn[0][0][0][2], 0.001);
});

test("download: a corrupt pack is an error, not a wrong view", async () => {
  const g = structuredClone(golden("download.json").packed);
  g.attention[0].attn.deflated = g.attention[0].attn.deflated.slice(0, 12);
  await assert.rejects(gvParams(g));
});
