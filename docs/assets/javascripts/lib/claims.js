/* The faithfulness rule of the claims (attention_gallery/claims.py,
 * faithfulness_outcome), for the live page: the same rule on the same numbers,
 * with its thresholds from the same file (rules.json, claims.faithfulness, which
 * live.js reads from #live-config).
 *
 * faithful = beats the random ranking on both comprehensiveness and sufficiency of
 * the top 1 to 3 tokens; partly = on one of them; not faithful = on neither.
 * Beats = by more than se_multiplier standard errors of random's estimate where it
 * is sampled, by at least exact_margin where it is exact. Where no variant of the
 * method or of random moves p by min_move_p, the log-odds figures decide, with a
 * margin of logodds_margin, and the test cannot tell when both gaps are below it.
 *
 * Imported by the live page (live.js) and by `node --test tests/js/`; tests/golden/claims.json holds the cases
 * both sides must decide alike. */

function maxMove(p0, removed, kept) {
  var m = 0;
  removed.concat(kept).forEach(function (p) { m = Math.max(m, Math.abs(p0 - p)); });
  return m;
}

function beats(gap, se, margin, multiplier) {
  return se > 0 ? { beats: gap > multiplier * se, need: multiplier * se } : { beats: gap >= margin, need: margin };
}

function round4(x) { return Math.round(x * 1e4) / 1e4; }

/* method, random: {comprehensiveness, sufficiency, *_logodds, removed_p, kept_p};
   se: random's standard errors by figure (0 or absent where exact); p0: p(target) */
export function faithfulnessOutcome(method, random, se, p0, rules) {
  var moved = Math.max(maxMove(p0, method.removed_p, method.kept_p), maxMove(p0, random.removed_p, random.kept_p));
  var logodds = moved < rules.min_move_p, suffix = logodds ? "_logodds" : "";
  var margin = logodds ? rules.logodds_margin : rules.exact_margin;
  var c = "comprehensiveness" + suffix, s = "sufficiency" + suffix;
  /* the figures have 4 decimals: so do their gaps (0.30 - 0.28 is 0.02, not 0.0199...) */
  var gapC = round4(method[c] - random[c]), gapS = round4(random[s] - method[s]);
  var bc = beats(gapC, se[c] || 0, margin, rules.se_multiplier), bs = beats(gapS, se[s] || 0, margin, rules.se_multiplier);
  var o = rules.outcomes, outcome;
  if (logodds && Math.abs(gapC) < margin && Math.abs(gapS) < margin) outcome = o[4];
  else if (bc.beats && bs.beats) outcome = o[0];
  else if (bc.beats) outcome = o[1];
  else if (bs.beats) outcome = o[2];
  else outcome = o[3];
  return { outcome: outcome, scale: logodds ? "logodds" : "probability", moved: round4(moved),
           gap_comprehensiveness: round4(gapC), gap_sufficiency: round4(gapS),
           margin_comprehensiveness: round4(bc.need), margin_sufficiency: round4(bs.need) };
}
