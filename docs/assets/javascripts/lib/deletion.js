/* Leave-one-out and ERASER's deletion test (attention_gallery/explain/removal.py,
 * methods.LeaveOneOut, faithfulness.deletion_test) over any source of probabilities:
 * the live page's ONNX runs, or in the tests the probabilities Python computed for
 * the same variants (tests/golden/live.json).
 *
 * ``probs(variants, onDone)`` -> Promise of one probability row per id sequence
 * (onDone(k): k more were computed). ``D``: the deletion test's settings
 * ({ks, bins, exact_limit, draws}, #live-config "deletion"). */

import { comb, combinations, mulberry32, tauB } from "./maths.js";

export var FIGURES = ["comprehensiveness", "sufficiency", "aopc_comprehensiveness", "aopc_sufficiency"];

/* the ids without the tokens at ``positions`` (removal.remove: ERASER's deletion) */
export function remove(ids, positions) {
  var drop = new Set(positions);
  return ids.filter(function (_, i) { return !drop.has(i); });
}

/* only the word tokens at ``positions`` kept (removal.keep_only) */
export function keepOnly(ids, words, positions) {
  var keep = new Set(positions);
  return remove(ids, words.filter(function (i) { return !keep.has(i); }));
}

/* the word positions, highest score first (ties: position), as faithfulness.rank_tokens */
export function rankTokens(scores, words) {
  return words.slice().sort(function (a, b) { return scores[b] - scores[a] || a - b; });
}

/* the distinct min(k, nWords), ascending (faithfulness.capped_ks) */
export function topKs(nWords, D) {
  return Array.from(new Set(D.ks.map(function (k) { return Math.min(k, nWords); }))).sort(function (a, b) { return a - b; });
}

/* the k of each AOPC bin, rounded half up, at least 1 (faithfulness.bin_ks) */
export function binKs(nWords, D) {
  return D.bins.map(function (f) { return Math.max(1, Math.min(nWords, Math.floor(f * nWords + 0.5))); });
}

/* each figure as weights over k (faithfulness._weights) */
export function deletionWeights(nWords, D) {
  var top = topKs(nWords, D), wTop = {}, wBin = {};
  top.forEach(function (k) { wTop[k] = 1 / top.length; });
  binKs(nWords, D).forEach(function (k, i, bins) { wBin[k] = (wBin[k] || 0) + 1 / bins.length; });
  return { comprehensiveness: wTop, sufficiency: wTop, aopc_comprehensiveness: wBin, aopc_sufficiency: wBin };
}

export function needed(weights) {
  var ks = new Set();
  FIGURES.forEach(function (f) { Object.keys(weights[f]).forEach(function (k) { ks.add(+k); }); });
  return Array.from(ks).sort(function (a, b) { return a - b; });
}

/* the log-odds of a probability (claims decide on them where p does not move); the
   browser has probabilities only, so p is kept off 0 and 1 */
export function logOdds(p) {
  var q = Math.min(Math.max(p, 1e-12), 1 - 1e-12);
  return Math.log(q) - Math.log(1 - q);
}

function mapValues(o, f) {
  var out = {};
  Object.keys(o).forEach(function (k) { out[k] = f(o[k]); });
  return out;
}

/* the four figures on p and on log-odds (removed/kept: {k: p}), and p of each top-k
   variant, as faithfulness._all_figures; lo: {removed, kept} of mean log-odds where
   they are not the log-odds of the mean (the random baseline) */
export function figures(p0, removed, kept, weights, top, lo) {
  var out = {}, lo0 = logOdds(p0);
  lo = lo || { removed: mapValues(removed, logOdds), kept: mapValues(kept, logOdds) };
  FIGURES.forEach(function (name) {
    var comp = /comprehensiveness$/.test(name), side = comp ? removed : kept, sideLo = comp ? lo.removed : lo.kept;
    var w = weights[name], v = 0, l = 0;
    Object.keys(w).forEach(function (k) { v += w[k] * (p0 - side[k]); l += w[k] * (lo0 - sideLo[k]); });
    out[name] = v;
    out[name + "_logodds"] = l;
  });
  out.removed_p = top.map(function (k) { return removed[k]; });
  out.kept_p = top.map(function (k) { return kept[k]; });
  return out;
}

/* Leave-one-out scores (methods.LeaveOneOut): p0[target] - p(target | the word
   removed) for each word, 0 for special tokens. */
export function leaveOneOut(ids, words, p0, target, probs, onDone) {
  return probs(words.map(function (i) { return remove(ids, [i]); }), onDone).then(function (got) {
    var scores = new Array(ids.length).fill(0);
    words.forEach(function (i, k) { scores[i] = p0[target] - got[k][target]; });
    return scores;
  });
}

/* ``draws`` random orders of the words (a seeded shuffle: the browser's own draws) */
export function randomOrders(words, draws, seed) {
  var random = mulberry32(seed), orders = [];
  for (var d = 0; d < draws; d++) {
    var order = words.slice();
    for (var i = order.length - 1; i > 0; i--) {
      var j = Math.floor(random() * (i + 1)), tmp = order[i];
      order[i] = order[j]; order[j] = tmp;
    }
    orders.push(order);
  }
  return orders;
}

/* The deletion test of one model (faithfulness.deletion_test, without Integrated
   Gradients). a: {ids, words, target, p0 (p(target) of the sentence), scores:
   {method: one score per token}, loo (leave-one-out's scores), D, probs, onDone,
   onPlan(n) (how many variants it asks for, at most), onRanked(table) (the
   methods' rows, before the random baseline), stale() (true:
   stop; resolves null), orders (random orders: default D.draws seeded draws)}.
   Resolves {figures: {method: {...figures, tau_loo}, random: {...}}, random_mode,
   random_se}. */
export function deletionTest(a) {
  var ids = a.ids, words = a.words, target = a.target, p0 = a.p0, D = a.D, stale = a.stale || function () { return false; };
  var weights = deletionWeights(words.length, D), need = needed(weights), top = topKs(words.length, D);
  var methods = Object.keys(a.scores), table = {}, batch = [];
  methods.forEach(function (name) {
    var order = rankTokens(a.scores[name], words);
    need.forEach(function (k) { batch.push(remove(ids, order.slice(0, k))); });
    need.forEach(function (k) { batch.push(keepOnly(ids, words, order.slice(0, k))); });
  });
  var exact = need.filter(function (k) { return comb(words.length, k) <= D.exact_limit; });
  var sampled = need.filter(function (k) { return exact.indexOf(k) < 0; });
  var subsets = {}, exactBatch = [];
  exact.forEach(function (k) {
    subsets[k] = combinations(words, k);
    subsets[k].forEach(function (sub) { exactBatch.push(remove(ids, sub)); });
    subsets[k].forEach(function (sub) { exactBatch.push(keepOnly(ids, words, sub)); });
  });
  var orders = sampled.length ? a.orders || randomOrders(words, D.draws, 0) : [];
  var randomBatch = [];
  orders.forEach(function (order) {
    sampled.forEach(function (k) { randomBatch.push(remove(ids, order.slice(0, k))); });
    sampled.forEach(function (k) { randomBatch.push(keepOnly(ids, words, order.slice(0, k))); });
  });
  var loo = words.map(function (i) { return a.loo[i]; });
  if (a.onPlan) a.onPlan(batch.length + exactBatch.length + randomBatch.length);
  return a.probs(batch, a.onDone).then(function (p) {
    if (stale()) return null;
    var n = need.length;
    methods.forEach(function (name, m) {
      var removed = {}, kept = {};
      need.forEach(function (k, i) { removed[k] = p[2 * n * m + i][target]; kept[k] = p[2 * n * m + n + i][target]; });
      table[name] = figures(p0, removed, kept, weights, top);
      table[name].tau_loo = tauB(words.map(function (i) { return a.scores[name][i]; }), loo);
    });
    if (a.onRanked) a.onRanked(table);
    return Promise.all([a.probs(exactBatch, a.onDone), a.probs(randomBatch, a.onDone)]);
  }).then(function (got) {
    if (!got || stale()) return null;
    var rnd = randomFigures(got[0], got[1], exact, sampled, subsets, orders, target, p0, weights);
    table.random = Object.assign(figures(p0, rnd.removed, rnd.kept, weights, top, rnd.lo), { tau_loo: 0 });
    return { figures: table, random_mode: sampled.length ? "sampled:" + orders.length : "exact", random_se: rnd.se };
  });
}

/* The random ranking's expected p per k (faithfulness.random_expectation): the mean
   over every subset where exact, over the orders' top k where sampled, with the
   standard error of each figure (0 where exact). */
function randomFigures(exactP, sampledP, exact, sampled, subsets, orders, target, p0, weights) {
  var removed = {}, kept = {}, se = {}, at = 0, lo = { removed: {}, kept: {} }, lo0 = logOdds(p0);
  exact.forEach(function (k) {
    var m = subsets[k].length, r = 0, q = 0, rl = 0, ql = 0;
    for (var i = 0; i < m; i++) { r += exactP[at + i][target]; rl += logOdds(exactP[at + i][target]); }
    for (i = 0; i < m; i++) { q += exactP[at + m + i][target]; ql += logOdds(exactP[at + m + i][target]); }
    removed[k] = r / m; kept[k] = q / m; lo.removed[k] = rl / m; lo.kept[k] = ql / m; at += 2 * m;
  });
  FIGURES.forEach(function (f) { se[f] = 0; se[f + "_logodds"] = 0; });
  if (sampled.length) {
    var S = sampled.length, p = sampledP;
    sampled.forEach(function (k, j) {
      var r = 0, q = 0, rl = 0, ql = 0;
      orders.forEach(function (_, o) {
        var x = p[o * 2 * S + j][target], y = p[o * 2 * S + S + j][target];
        r += x; q += y; rl += logOdds(x); ql += logOdds(y);
      });
      removed[k] = r / orders.length; kept[k] = q / orders.length;
      lo.removed[k] = rl / orders.length; lo.kept[k] = ql / orders.length;
    });
    [["", p0, function (x) { return x; }], ["_logodds", lo0, logOdds]].forEach(function (scale) {
      FIGURES.forEach(function (f) {
        var w = weights[f], side = /comprehensiveness$/.test(f) ? 0 : 1, values = orders.map(function (_, o) {
          var v = 0;
          sampled.forEach(function (k, j) { v += (w[k] || 0) * (scale[1] - scale[2](p[o * 2 * S + side * S + j][target])); });
          return v;
        });
        var mean = values.reduce(function (x, y) { return x + y; }, 0) / values.length;
        var variance = values.reduce(function (x, y) { return x + (y - mean) * (y - mean); }, 0) / (values.length - 1);
        se[f + scale[0]] = Math.sqrt(variance / values.length);
      });
    });
  }
  return { removed: removed, kept: kept, lo: lo, se: se };
}
