/* The numbers a gallery page shows, as attention_gallery/explain computes them, for
 * the live page (tests/golden/live.json: Python's figures for the same model
 * outputs, compared by tests/js/maths.test.js). Attention tensors are flat,
 * (layer, head, query, key) order. */

export function softmax(logits) {
  var max = Math.max.apply(null, logits), e = logits.map(function (x) { return Math.exp(x - max); });
  var sum = e.reduce(function (a, b) { return a + b; }, 0);
  return e.map(function (x) { return x / sum; });
}
export function argmax(values) {
  var best = 0;
  for (var i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/* Jensen-Shannon distance (base 2) of two rows, as headchange.js_distance */
export function jsDistance(a, b, offset, n) {
  var d = 0;
  for (var k = 0; k < n; k++) {
    var p = a[offset + k], q = b[offset + k], m = 0.5 * (p + q);
    if (p > 0) d += 0.5 * p * Math.log2(p / m);
    if (q > 0) d += 0.5 * q * Math.log2(q / m);
  }
  return Math.sqrt(Math.min(1, Math.max(0, d)));
}
export function headChange(t, u, L, H, n) {
  var out = [];
  for (var l = 0; l < L; l++) {
    var row = [];
    for (var h = 0; h < H; h++) {
      var sum = 0, base = (l * H + h) * n * n;
      for (var i = 0; i < n; i++) sum += jsDistance(t, u, base + i * n, n);
      row.push(sum / n);
    }
    out.push(row);
  }
  return out;
}
export function topHeads(change, k) {
  var cells = [];
  change.forEach(function (row, l) { row.forEach(function (v, h) { cells.push([l, h, v]); }); });
  cells.sort(function (a, b) { return b[2] - a[2] || a[0] - b[0] || a[1] - b[1]; });
  return cells.slice(0, k);
}
/* attention rollout of [CLS], as methods.rollout_matrix(...)[0] */
export function rollout(att, L, H, n, residual) {
  var R = new Float64Array(n * n);
  for (var i = 0; i < n; i++) R[i * n + i] = 1;
  for (var l = 0; l < L; l++) {
    var A = new Float64Array(n * n);
    for (var h = 0; h < H; h++) {
      var base = (l * H + h) * n * n;
      for (var k = 0; k < n * n; k++) A[k] += att[base + k] / H;
    }
    for (i = 0; i < n; i++) {
      var sum = 0;
      for (var j = 0; j < n; j++) {
        A[i * n + j] = (1 - residual) * A[i * n + j] + (i === j ? residual : 0);
        sum += A[i * n + j];
      }
      for (j = 0; j < n; j++) A[i * n + j] /= sum;
    }
    var next = new Float64Array(n * n);
    for (i = 0; i < n; i++) for (k = 0; k < n; k++) {
      var a = A[i * n + k];
      if (!a) continue;
      for (j = 0; j < n; j++) next[i * n + j] += a * R[k * n + j];
    }
    R = next;
  }
  return Array.from(R.subarray(0, n));
}
/* Norm-based attention (Kobayashi et al. 2020) as the views draw it:
   views.row_normalised(attention * value_norms[:, :, None, :]), each query row of
   ||α_ij f_h(x_j)|| scaled to sum to 1; att (L, H, n, n), norms (L, H, n), flat.
   The products are float32, as ModelRun.norm_attention's; sums in float64, as numpy's. */
export function normAttention(att, norms, L, H, n) {
  var out = new Float64Array(L * H * n * n);
  for (var lh = 0; lh < L * H; lh++) {
    for (var i = 0; i < n; i++) {
      var base = (lh * n + i) * n, sum = 0, j;
      for (j = 0; j < n; j++) { out[base + j] = Math.fround(att[base + j] * norms[lh * n + j]); sum += out[base + j]; }
      if (sum > 0) for (j = 0; j < n; j++) out[base + j] /= sum;
    }
  }
  return out;
}
/* the norms method's token scores (methods.NormAttention): the last layer's [CLS]
   row of ||α f(x)||, summed over heads */
export function normScores(att, norms, L, H, n) {
  var out = [];
  for (var j = 0; j < n; j++) {
    var sum = 0;
    for (var h = 0; h < H; h++) {
      var lh = (L - 1) * H + h;
      sum += Math.fround(att[lh * n * n + j] * norms[lh * n + j]);
    }
    out.push(sum);
  }
  return out;
}
/* last-layer attention of [CLS], heads averaged (methods.cls_attention) */
export function clsAttention(att, L, H, n) {
  var out = new Array(n).fill(0);
  for (var h = 0; h < H; h++) {
    var base = ((L - 1) * H + h) * n * n;
    for (var j = 0; j < n; j++) out[j] += att[base + j] / H;
  }
  return out;
}
export function tauB(x, y) {
  var n = x.length, c = 0, d = 0, tx = 0, ty = 0;
  if (n < 2) return 1;
  for (var i = 0; i < n; i++) for (var j = i + 1; j < n; j++) {
    var a = Math.sign(x[i] - x[j]), b = Math.sign(y[i] - y[j]);
    if (a && b) { if (a === b) c++; else d++; } else if (a) ty++; else if (b) tx++;
  }
  var den = Math.sqrt((c + d + tx) * (c + d + ty));
  return den ? (c - d) / den : 0;
}
export function mulberry32(seed) {
  return function () {
    seed |= 0; seed = seed + 0x6D2B79F5 | 0;
    var t = Math.imul(seed ^ seed >>> 15, 1 | seed);
    t = t + Math.imul(t ^ t >>> 7, 61 | t) ^ t;
    return ((t ^ t >>> 14) >>> 0) / 4294967296;
  };
}
export function comb(n, k) {
  var r = 1;
  for (var i = 1; i <= k; i++) r = r * (n - k + i) / i;
  return Math.round(r);
}
export function combinations(items, k) {
  var out = [], idx = [];
  for (var i = 0; i < k; i++) idx.push(i);
  while (true) {
    out.push(idx.map(function (j) { return items[j]; }));
    var p = k - 1;
    while (p >= 0 && idx[p] === items.length - k + p) p--;
    if (p < 0) return out;
    idx[p]++;
    for (var q = p + 1; q < k; q++) idx[q] = idx[q - 1] + 1;
  }
}
