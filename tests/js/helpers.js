/* Shared by the JS tests: the repository's paths, golden files, and comparisons. */
import assert from "node:assert";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export function json(...parts) {
  return JSON.parse(fs.readFileSync(path.join(ROOT, ...parts), "utf8"));
}

export function golden(name) {
  return json("tests", "golden", name);
}

export function rules() {
  return json("attention_gallery", "rules.json");
}

export function viewSettings() {
  return json("attention_gallery", "views.json");
}

export function bytes(base64) {
  return new Uint8Array(Buffer.from(base64, "base64"));
}

export function float32(base64) {
  const b = Buffer.from(base64, "base64");
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/* every number of ``got`` within ``tol`` of ``want`` (arrays, nested arrays or numbers) */
export function near(got, want, tol, what) {
  if (typeof want === "number") {
    assert.ok(Math.abs(got - want) <= tol, (what || "value") + ": " + got + " vs " + want);
    return;
  }
  assert.strictEqual(got.length, want.length, (what || "array") + ": length");
  for (let i = 0; i < want.length; i++) near(got[i], want[i], tol, (what || "array") + "[" + i + "]");
}
