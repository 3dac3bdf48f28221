/* How the live page colours token scores: the same maths as explain/views.py
 * (colour_scale, Scale.strength, scale_item), from the same constant (rules.json,
 * colour.full_share, which live.js reads from #live-config).
 *
 * A token's strength is its share of the method's total |score| over the word
 * tokens ([CLS] and [SEP] left out); the total is the larger of the rows that share
 * the scale (both models), and a share of full_share or more is full colour. So
 * nearly uniform scores look nearly uniform and a row of tiny scores stays pale.
 *
 * Imported by the live page (live.js) and by `node --test tests/js/`; tests/golden/colour.json holds the numbers
 * both sides must give. */
export var MAX_ALPHA = 0.85;  /* views.MAX_ALPHA */

function round3(x) { return Math.round(x * 1000) / 1000; }

/* views._alpha: the strength of a token scoring `value` when `full` is full colour */
export function alpha(value, full) { return full <= 0 ? 0 : round3(Math.min(1, Math.abs(value) / full) * MAX_ALPHA); }

/* views.colour_scale: rows of scores and, for each row, which tokens are left out */
export function scale(rows, muted, share) {
  var total = 0, largest = 0;
  rows.forEach(function (row, r) {
    var sum = 0;
    row.forEach(function (v, i) {
      if (muted[r][i]) return;
      sum += Math.abs(v);
      largest = Math.max(largest, Math.abs(v));
    });
    total = Math.max(total, sum);
  });
  return { total: total, largest: largest, share: share, full: share * total };
}

/* Python's f"{x:.3g}" for the numbers a legend shows (no exponent between 1e-4 and 1e3) */
function g3(x) { return String(Number(x.toPrecision(3))); }

/* Python's f"{100 * x:.0f}%" (halves to even, as Python rounds) */
export function pct(x) {
  var v = 100 * x, r = Math.round(v);
  if (v - Math.floor(v) === 0.5 && r % 2) r -= 1;
  return r + "%";
}

/* views.scale_item: what one method's colours span, in numbers */
export function item(title, s, unit, isSigned) {
  var sign = isSigned ? "±" : "";
  if (s.total <= 0) return title + ": every score is 0 (no colour)";
  return title + ": full colour = " + pct(s.share) + " of the total |score| (" + sign + g3(s.full) + " " + unit +
    "); the largest token has " + pct(s.largest / s.total) + " (" + sign + g3(s.largest) + " " + unit + ")";
}
