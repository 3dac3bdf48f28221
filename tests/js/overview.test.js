/* The overview's explorer: its state in the address, search, filters, sort and pages
 * (lib/overview.js; the rows' values are the build's, web/overview.py). */
import test from "node:test";
import assert from "node:assert";
import { matches, order, pageList, parseState, readRow, stateQuery, view } from "../../docs/assets/javascripts/lib/overview.js";

const ROWS = [
  { i: "0", gold: "positive", predicted: "positive", right: "1", confidence: "0.91", length: "9", change: "0.2", head: "3-9", margin: "0.01", group: "negation", search: "not bad at all" },
  { i: "1", gold: "negative", predicted: "positive", right: "0", confidence: "0.62", length: "14", change: "0.5", head: "0-1", margin: "0.03", group: "", search: "it's not good, i don't think" },
  { i: "2", gold: "negative", predicted: "negative", right: "1", confidence: "0.99", length: "5", change: "0.5", head: "3-9", margin: "0.02", group: "negation", search: "bad" },
  { i: "3", gold: "positive", predicted: "negative", right: "0", confidence: "0.55", length: "30", change: "0.1", head: "5-11", margin: "0.001", group: "", search: "a long sentence about a good film" },
].map(readRow);
const base = parseState("");

test("a row's values are numbers where they are numbers", () => {
  assert.strictEqual(ROWS[0].confidence, 0.91);
  assert.strictEqual(ROWS[0].head, "3-9");
  assert.strictEqual(ROWS[1].right, 0);
});

test("the state comes from the address, unknown values fall back, and goes back the same", () => {
  assert.deepStrictEqual(base, { q: "", sort: "set", dir: "", right: "", predicted: "", group: "", head: "", page: 1 });
  const s = parseState("?q=not+bad&sort=change&head=3-9&page=2&junk=1");
  assert.deepStrictEqual([s.q, s.sort, s.head, s.page], ["not bad", "change", "3-9", 2]);
  assert.strictEqual(stateQuery(s), "?q=not+bad&sort=change&head=3-9&page=2");
  assert.strictEqual(parseState("?sort=nonsense&dir=up&page=-3").sort, "set");
  assert.strictEqual(parseState("?dir=up").dir, "");
  assert.strictEqual(parseState("?page=-3").page, 1);
  assert.strictEqual(stateQuery(base), "");
});

test("search needs every word of the query, anywhere, in any case", () => {
  const found = (q) => ROWS.filter((r) => matches(r, { ...base, q })).map((r) => r.i);
  assert.deepStrictEqual(found("not"), [0, 1]);
  assert.deepStrictEqual(found("NOT  Bad"), [0]);
  assert.deepStrictEqual(found("don't"), [1]);
  assert.deepStrictEqual(found(""), [0, 1, 2, 3]);
  assert.deepStrictEqual(found("zebra"), []);
});

test("filters: right or wrong, predicted class, group, most-changed head; they combine", () => {
  const found = (f) => ROWS.filter((r) => matches(r, { ...base, ...f })).map((r) => r.i);
  assert.deepStrictEqual(found({ right: "0" }), [1, 3]);
  assert.deepStrictEqual(found({ predicted: "negative" }), [2, 3]);
  assert.deepStrictEqual(found({ group: "negation" }), [0, 2]);
  assert.deepStrictEqual(found({ head: "3-9" }), [0, 2]);
  assert.deepStrictEqual(found({ head: "3-9", right: "1", q: "bad" }), [0, 2]);
  assert.deepStrictEqual(found({ head: "3-9", predicted: "positive" }), [0]);
});

test("sort: each key in its default direction, ties in the set's order; a direction reverses it", () => {
  const sorted = (sort, dir = "") => order(ROWS, { ...base, sort, dir }).map((r) => r.i);
  assert.deepStrictEqual(sorted("set"), [0, 1, 2, 3]);
  assert.deepStrictEqual(sorted("confidence"), [2, 0, 1, 3]);
  assert.deepStrictEqual(sorted("confidence", "asc"), [3, 1, 0, 2]);
  assert.deepStrictEqual(sorted("correct"), [1, 3, 0, 2]);  // wrong first
  assert.deepStrictEqual(sorted("length"), [3, 1, 0, 2]);
  assert.deepStrictEqual(sorted("change"), [1, 2, 0, 3]);  // a tie (0.5) keeps the set's order
  assert.deepStrictEqual(sorted("margin"), [1, 2, 0, 3]);
  assert.deepStrictEqual(sorted("set", "desc"), [3, 2, 1, 0]);
});

test("pages: the page is clamped, each holds at most its rows, and the list elides the middle", () => {
  const many = Array.from({ length: 872 }, (_, i) => ({ ...ROWS[i % 4], i }));
  const v = view(many, { ...base, page: 3 }, 50);
  assert.deepStrictEqual([v.found, v.pages, v.page, v.rows.length, v.rows[0].i], [872, 18, 3, 50, 100]);
  const last = view(many, { ...base, page: 99 }, 50);
  assert.deepStrictEqual([last.page, last.rows.length, last.rows.at(-1).i], [18, 22, 871]);
  const none = view(many, { ...base, q: "zebra" }, 50);
  assert.deepStrictEqual([none.found, none.pages, none.page, none.rows.length], [0, 1, 1, 0]);
  assert.deepStrictEqual(pageList(1, 18), [1, 2, 3, "…", 18]);
  assert.deepStrictEqual(pageList(9, 18), [1, "…", 7, 8, 9, 10, 11, "…", 18]);
  assert.deepStrictEqual(pageList(1, 1), [1]);
});
