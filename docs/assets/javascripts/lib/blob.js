/* The attention blob: how a page carries both models' attention. The one definition
 * on this side (attention_gallery/explain/views.py attention_blob writes it on the
 * other; tests/golden/blob.json holds one of each for both to read).
 *
 * JSON: {tokens, layers, heads, encoding, scale, ...} with, by encoding,
 *   "uint8-deflate-base64": weights = base64(zlib(trained levels ++ untrained levels))
 *   "uint8-base64":         trained, untrained = base64(levels) each (the live page)
 * A level is one byte per weight, round(clip(w, 0, 1) * scale) with halves to even
 * (numpy's rint), in layer, head, query, key order. tokens, layers and heads come
 * before the weights, so a page can read the sizes without parsing them (peek). */

export const ENCODINGS = ["uint8-deflate-base64", "uint8-base64"];

export function fromBase64(text) {
  const raw = atob(text), out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

export function toBase64(bytes) {
  const parts = [];
  for (let i = 0; i < bytes.length; i += 0x8000) parts.push(String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000)));
  return btoa(parts.join(""));
}

export function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Response(stream).arrayBuffer().then((buffer) => new Uint8Array(buffer));
}

/* Attention weights as levels (views.levels): round half to even, like numpy's rint. */
export function levels(att, scale) {
  const out = new Uint8Array(att.length);
  for (let i = 0; i < att.length; i++) {
    const x = Math.min(1, Math.max(0, att[i])) * scale;
    let r = Math.round(x);
    if (Math.abs(x - Math.trunc(x)) === 0.5 && r % 2) r -= 1;
    out[i] = r;
  }
  return out;
}

/* {meta: {tokens, layers, heads, scale}, packed: Promise of both models' levels
   (trained then untrained)} of a blob's JSON text */
export function parse(text) {
  const d = JSON.parse(text);
  if (ENCODINGS.indexOf(d.encoding) < 0) throw new Error("gallery: unknown attention encoding " + d.encoding);
  const packed = d.encoding === "uint8-deflate-base64" ? inflate(fromBase64(d.weights))
    : Promise.resolve().then(() => {
      const t = fromBase64(d.trained), u = fromBase64(d.untrained), both = new Uint8Array(t.length * 2);
      both.set(t);
      both.set(u, t.length);
      return both;
    });
  return { meta: { tokens: d.tokens, layers: d.layers, heads: d.heads, scale: d.scale }, packed };
}

/* tokens, layers and heads from the start of a blob's JSON (they come before its
   weights), without parsing the weights: {n, layers, heads} or null */
export function peek(text) {
  try {
    const cut = text.indexOf(',"encoding"'), d = JSON.parse(cut > 0 ? text.slice(0, cut) + "}" : text);
    return d.tokens && d.layers && d.heads ? { n: d.tokens.length, layers: d.layers, heads: d.heads } : null;
  } catch (err) {
    return null;
  }
}

export const KINDS = ["trained", "untrained", "gained", "lost"];

/* One kind of attention from both models' levels: trained, untrained, gained =
   max(trained - untrained, 0), lost = max(untrained - trained, 0). */
export function kindOf(both, kind) {
  const size = both.length / 2, t = both.subarray(0, size), u = both.subarray(size);
  if (kind === "trained") return t;
  if (kind === "untrained") return u;
  if (kind !== "gained" && kind !== "lost") throw new Error("gallery: unknown attention " + kind);
  const a = kind === "gained" ? t : u, b = kind === "gained" ? u : t, w = new Uint8Array(size);
  for (let k = 0; k < size; k++) w[k] = a[k] > b[k] ? a[k] - b[k] : 0;
  return w;
}

/* The live page's blob (its JSON text): two models' float attention, "uint8-base64". */
export function encode(tokens, layers, heads, scale, trained, untrained) {
  return JSON.stringify({ tokens, layers, heads, encoding: "uint8-base64", scale,
                          trained: toBase64(levels(trained, scale)), untrained: toBase64(levels(untrained, scale)) });
}

/* What a view's attention is measured by: "weights" (the page's blob) or "norms"
   (Kobayashi et al. 2020, ‖α_ij f_h(x_j)‖ with each query row scaled to sum to 1:
   the blob beside it, id + NORMS_SUFFIX, in the same format; explain/views.py). */
export const MEASURES = ["weights", "norms"];
export const NORMS_SUFFIX = "-norms";

/* The blob id a view draws from: its data-source for weights, the norms blob's id for norms. */
export function sourceFor(id, measure) {
  if (!measure || measure === "weights") return id;
  if (measure === "norms") return id + NORMS_SUFFIX;
  throw new Error("gallery: unknown attention measure " + measure);
}

/* The fine-tuned model's attention at a training checkpoint: the blob id + STEP_INFIX +
   the step, in a sidecar file its weights blob names (data-steps; the steps it holds in
   data-step-list). The checkpoint's attention is the blob's trained half (its untrained
   half is zeros): draw its "trained" kind only (explain/views.py steps_payload). */
export const STEP_INFIX = "-step-";

export function stepSource(id, step) {
  return id + STEP_INFIX + parseInt(step, 10);
}

/* [id, step] of a step blob's id, or null */
export function stepOf(id) {
  const m = /^(.*)-step-(\d+)$/.exec(id);
  return m ? [m[1], +m[2]] : null;
}
