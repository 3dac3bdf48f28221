/* "What to notice" for the live page: the points a gallery page states
 * (attention_gallery/explain/notice.py) in the same words (attention_gallery/claims.py),
 * made from the numbers the live page computes, by the same rules (rules.json
 * "claims", which live.js reads from #live-config). Each function here ports one
 * Python function of the same name (snake_case there); tests/golden/notice.json holds
 * what both must say, for the live golden sentences and for cases that reach every
 * outcome (tests/js/notice.test.js, tests/test_js.py).
 *
 * A point is {kind, rule, outcome, text, numbers, head}; noticeHtml() writes the list
 * as notice.notice_html does (a point about a head links to #head-L-H). */

import { faithfulnessOutcome } from "./claims.js";
import { pct } from "./colour-scale.js";
import { esc, fixed } from "./markup.js";

var ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"];
var TOP_TOKENS = 3;

function round4(x) { return Math.round(x * 1e4) / 1e4; }

function claim(kind, rule, outcome, text, numbers, head) {
  return { kind: kind, rule: rule, outcome: outcome, text: text, numbers: numbers || {}, head: head || null };
}

/* notice.p_text */
export function pText(p) {
  return p >= 0.995 && p < 1 ? "p > 0.99" : "p = " + fixed(p, 2);
}

/* notice.token_name: a token quoted, with its ordinal where the sentence has it more than once */
export function tokenName(tokens, i) {
  var same = [];
  tokens.forEach(function (t, j) { if (t === tokens[i]) same.push(j); });
  var quoted = "\u201c" + tokens[i] + "\u201d";
  if (same.length === 1) return quoted;
  var n = same.indexOf(i);
  return "the " + (n < ORDINALS.length ? ORDINALS[n] : (n + 1) + "th") + " " + quoted;
}

/* claims.join */
export function join(items) {
  if (!items.length) return "";
  return items.length === 1 ? items[0] : items.slice(0, -1).join(", ") + " and " + items[items.length - 1];
}

/* claims.plain, claims.moves, claims.possessive, claims.points */
function plain(x, digits) { return fixed(x, digits === undefined ? 3 : digits); }
function moves(drop, what) {
  return Number(fixed(drop, 3)) >= 0 ? "lowers " + what + " by " + plain(drop) : "raises " + what + " by " + plain(-drop);
}
function possessive(name) { return /s$/.test(name) ? name + "\u2019" : name + "\u2019s"; }
function points(x) { return fixed(100 * x, 0) + " percentage points"; }

/* notice.verdict_claim (gold: null on the live page) */
export function verdictClaim(predicted, p, gold) {
  var lead = "The fine-tuned model reads this sentence as " + predicted + " (" + pText(p) + ")";
  var numbers = { predicted: predicted, p: round4(p), gold: gold };
  if (gold === null || gold === undefined) {
    return claim("verdict", "prediction", "no-gold", lead + "; a typed sentence has no gold label to check it against.", numbers);
  }
  var right = predicted === gold;
  return claim("verdict", "prediction", right ? "right" : "wrong", lead + ": " + (right ? "right, the sentence is " + gold + "."
    : "wrong, the sentence is " + gold + ". Look below for what it attends to instead."), numbers);
}

/* headchange.sink_facts and notice.head_numbers for one head: att (both models, L*H*n*n,
   query-major), words: the word positions */
export function headNumbers(trained, untrained, L, H, n, words, layer, head) {
  var base = (layer * H + head) * n * n, toT = 0, toU = 0, best = -1, gain = -Infinity;
  words.forEach(function (w) {
    toT += trained[base + w * n]; toU += untrained[base + w * n];
    var g = trained[base + w] - untrained[base + w];
    if (g > gain) { gain = g; best = w; }
  });
  var q = 0, k = 0, largest = -1;
  for (var i = 0; i < n; i++) {
    for (var j = 0; j < n; j++) {
      var d = Math.abs(trained[base + i * n + j] - untrained[base + i * n + j]);
      if (d > largest) { largest = d; q = i; k = j; }
    }
  }
  var m = words.length || 1;
  if (!words.length) { best = 0; gain = 0; }
  return { to_cls_trained: round4(toT / m), to_cls_untrained: round4(toU / m), cls_gain: round4(gain),
           cls_gain_token: best, cls_gain_trained: round4(trained[base + best]), cls_gain_untrained: round4(untrained[base + best]),
           largest: [q, k, round4(trained[base + q * n + k]), round4(untrained[base + q * n + k])] };
}

/* claims.head_story: [outcome, text] */
export function headStory(n, tokens, rules) {
  var sink = n.to_cls_trained - n.to_cls_untrained, floor = rules.head.min_change;
  if (Math.abs(sink) >= floor && Math.abs(sink) >= n.cls_gain) {
    var verb = sink < 0 ? "fell" : "rose";
    return ["to-cls-" + verb, "In that head, the words' attention to [CLS] " + verb + " from " + pct(n.to_cls_untrained) + " to " +
            pct(n.to_cls_trained) + " (mean over the words; before \u2192 after fine-tuning)."];
  }
  if (n.cls_gain >= floor) {
    return ["cls-row-gained", "In that head, [CLS] (the position the classifier reads) now sends " + pct(n.cls_gain_trained) +
            " of its attention to " + tokenName(tokens, n.cls_gain_token) + " (before fine-tuning: " + pct(n.cls_gain_untrained) + ")."];
  }
  var l = n.largest;
  return ["largest-change", "Neither the words' attention to [CLS] nor [CLS]'s attention to any word moved by " + points(floor) +
          "; the largest change is from " + tokenName(tokens, l[0]) + " to " + tokenName(tokens, l[1]) + ": " + pct(l[2]) +
          " of its attention now, " + pct(l[3]) + " before fine-tuning."];
}

/* notice.head_numbers_claim */
export function headClaim(tokens, layer, head, change, nHeads, n, rules) {
  var story = headStory(n, tokens, rules);
  var numbers = Object.assign({}, n, { change: round4(change) });
  return claim("head", "head", story[0], "Fine-tuning changed layer " + layer + ", head " + head + " most (change " + fixed(change, 3) +
               ", the largest of " + nHeads + " heads). " + story[1], numbers, [layer, head]);
}

/* claims.faithfulness_claim */
export function faithfulnessClaim(title, method, random, se, p0, label, other, topTokens, rules) {
  var F = rules.faithfulness, o = faithfulnessOutcome(method, random, se, p0, F), outcome = o.outcome;
  var logodds = o.scale === "logodds", unit = logodds ? " logit" : "";
  var suffix = logodds ? "_logodds" : "";
  var mc = method["comprehensiveness" + suffix], ms = method["sufficiency" + suffix];
  var rc = plain(random["comprehensiveness" + suffix]), rs = plain(random["sufficiency" + suffix]);
  var what = logodds ? "its log-odds" : "p(" + label + ")";
  var ks = (method.removed_p || []).length || 3;
  var top = ks === 1 ? "its top token" : "its top 1 to " + ks + " tokens";
  var removing = "removing " + top + " " + moves(mc, what) + unit + " on average (random tokens: " + rc + unit + ")";
  var keeping = "keeping only them " + moves(ms, "it") + unit + " (random tokens: " + rs + unit + "; lower is better)";
  var why = logodds ? " The model is so sure here (p = " + fixed(p0, 3) + ") that no variant moves p(" + label + ") by " +
    fixed(F.min_move_p, 2) + ", so the test is read in log-odds." : "";
  var keptP = method.kept_p || [], alone = "";
  if (keptP.length && keptP[keptP.length - 1] < 0.5) {
    alone = ": " + (topTokens.length ? join(topTokens) : "its top tokens") + " on their own read as " + other +
      " (p(" + label + ") = " + fixed(keptP[keptP.length - 1], 2) + ")";
  }
  var t = possessive(title), O = F.outcomes, text;
  if (outcome === O[0]) text = t + " ranking is faithful here: " + removing + ", and " + keeping + ".";
  else if (outcome === O[1]) {
    text = t + " ranking is partly faithful: its top tokens remove the prediction but do not carry it alone" + alone +
      ". In numbers, " + removing + ", but " + keeping + ", no better than random.";
  } else if (outcome === O[2]) {
    text = t + " ranking is partly faithful: its top tokens carry the prediction alone, but removing them hurts no more " +
      "than removing random ones. In numbers, " + keeping + ", but " + removing + ".";
  } else if (outcome === O[3]) {
    text = t + " ranking is not faithful here: it beats random tokens neither when removed nor when kept alone (" + removing +
      "; " + keeping + ").";
  } else {
    text = "The deletion test cannot tell whether " + t + " ranking is faithful here: removing or keeping its top tokens " +
      "moves the prediction no more than random tokens do, by less than " + fixed(F.logodds_margin, 1) + " logit either way.";
  }
  return claim("faithfulness", "faithfulness", outcome, text + why, o);
}

/* notice.ranked_words: word positions by score, highest first (ties: position) */
export function rankedWords(scores, words) {
  return words.slice().sort(function (a, b) { return scores[b] - scores[a] || a - b; });
}

/* notice.tokens_claim */
export function tokensClaim(name, title, tokens, words, scores, labels, target, method, random, se, p0, rules) {
  var ranked = rankedWords(scores, words), top = ranked.slice(0, TOP_TOKENS);
  var best = top.filter(function (i) { return scores[i] > 0; });
  var predicted = labels[target], other = target === labels.length - 1 ? labels[0] : labels[labels.length - 1];
  var verdict = faithfulnessClaim(title, method, random, se, p0, predicted, other,
                                  top.map(function (i) { return tokenName(tokens, i); }), rules);
  var lead = best.length ? name + " ranks " + join(best.map(function (i) { return tokenName(tokens, i); })) + " highest for " + predicted + "."
    : "No token pushes the fine-tuned model toward " + predicted + " by " + name + ": " +
      (rules.tokens.no_positive[name] || rules.tokens.no_positive["*"]) + ".";
  return claim("tokens", verdict.rule, verdict.outcome, lead + " " + verdict.text,
               Object.assign({}, verdict.numbers, { top: top, positive_top: best }));
}

/* claims.special_share, claims.norms_claim */
function specialShare(scores, special) {
  var total = 0, on = 0;
  scores.forEach(function (x, i) { total += x; if (special[i]) on += x; });
  return total > 0 ? on / total : 0;
}
export function normsClaim(weights, norms, special, rules) {
  var w = specialShare(weights, special), n = specialShare(norms, special), floor = rules.norms.min_difference;
  var said = "In the last layer, " + pct(w) + " of [CLS]'s attention weight lands on [CLS] and [SEP]; weighted by the norm of " +
    "what is moved, " + pct(n);
  var numbers = { weights: round4(w), norms: round4(n) };
  if (n <= w - floor) {
    return claim("norms", "norms", "less-on-specials", said + ": by norms the words matter more than the weights suggest " +
                 "(the special tokens carry small vectors).", numbers);
  }
  if (n >= w + floor) return claim("norms", "norms", "more-on-specials", said + ": by norms the special tokens matter more than the weights suggest.", numbers);
  return claim("norms", "norms", "agree", said + ": on this, norms and weights tell the same story.", numbers);
}

/* notice.untrained_claim; name: views.model_name("untrained") */
export function untrainedClaim(name, last, pLast, margin, rules) {
  var max = rules.untrained.max_margin;
  var first = "The " + name + " gives p(" + last + ") = " + fixed(pLast, 3) + ", a margin of " + fixed(margin, 3) +
    " logit between its two classes";
  if (margin < max) return claim("untrained", "untrained", "chance", first + ": chance, too small to explain, so no tokens are named for it.", { margin: round4(margin) });
  return claim("untrained", "untrained", "leaning", first + ": larger than chance usually gives (" + max + " logit), but its head was " +
               "never trained, so the lean is the random head's, not a judgement.", { margin: round4(margin) });
}

/* notice.notice_html */
export function noticeHtml(points) {
  return '<ul class="gallery-notice">' + points.map(function (p) {
    var text = esc(p.text);
    if (p.head) {
      var name = "layer " + p.head[0] + ", head " + p.head[1];
      text = text.replace(name, '<a href="#head-' + p.head[0] + "-" + p.head[1] + '" class="gallery-head-link" data-layer="' +
                          p.head[0] + '" data-head="' + p.head[1] + '">' + name + "</a>");
    }
    return '<li data-claim="' + esc(p.kind) + '" data-rule="' + esc(p.rule) + '" data-outcome="' + esc(p.outcome) +
      '" data-notice="' + esc(p.kind) + '">' + text + "</li>";
  }).join("") + "</ul>";
}
