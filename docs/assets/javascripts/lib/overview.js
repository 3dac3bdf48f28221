/* The overview's explorer (web/overview.py): search, sort, filter and page the set's
 * rows. Every value it compares was written by the build into the row's data-
 * attributes; this module only orders, selects and pages (pure functions, tested in
 * tests/js/overview.test.js), then moves rows between the table and the inert
 * <template> that keeps the others out of the document.
 *
 * State lives in the address: ?q=&sort=&dir=&right=&predicted=&group=&head=&page=
 * (history.replaceState, so the back button is not filled with keystrokes). */

export const SORTS = { set: "asc", confidence: "desc", correct: "asc", length: "desc", change: "desc", margin: "desc" };
export const FILTERS = ["right", "predicted", "group", "head"];
const NUMERIC = ["i", "right", "confidence", "length", "change", "margin"];
const KEYS = ["q", "sort", "dir", ...FILTERS, "page"];

/* a row's values from its data- attributes (strings to numbers where they are numbers) */
export function readRow(dataset) {
  const row = {};
  for (const [key, value] of Object.entries(dataset)) row[key] = NUMERIC.includes(key) ? Number(value) : value;
  return row;
}

/* the explorer's state from a query string; what is unknown falls back to the default */
export function parseState(search) {
  const params = new URLSearchParams(search || "");
  const state = {};
  for (const key of KEYS) state[key] = params.get(key) || "";
  if (!(state.sort in SORTS)) state.sort = "set";
  if (!["", "asc", "desc"].includes(state.dir)) state.dir = "";
  const page = Number.parseInt(state.page, 10);
  state.page = Number.isFinite(page) && page > 0 ? page : 1;
  return state;
}

/* the query string of a state: only what differs from the default, in a fixed order */
export function stateQuery(state) {
  const params = new URLSearchParams();
  for (const key of KEYS) {
    const value = state[key];
    if (key === "sort" && value === "set") continue;
    if (key === "page" && Number(value) <= 1) continue;
    if (value !== "" && value !== undefined && value !== null) params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/* does a row pass the state's search (every word of the query, anywhere) and filters */
export function matches(row, state) {
  for (const key of FILTERS) {
    if (state[key] !== "" && String(row[key]) !== String(state[key])) return false;
  }
  const words = String(state.q || "").toLowerCase().split(/\s+/).filter(Boolean);
  return words.every((word) => row.search.includes(word));
}

/* rows in the state's order: by the sort key in its direction, then the set's order */
export function order(rows, state) {
  const key = state.sort === "correct" ? "right" : state.sort === "set" ? "i" : state.sort;
  const sign = (state.dir || SORTS[state.sort]) === "desc" ? -1 : 1;
  return [...rows].sort((a, b) => (a[key] === b[key] ? a.i - b.i : (a[key] < b[key] ? -sign : sign)));
}

/* what the table shows: the matching rows in order, the page (clamped) and its rows */
export function view(rows, state, pageRows) {
  const found = order(rows.filter((row) => matches(row, state)), state);
  const pages = Math.max(1, Math.ceil(found.length / pageRows));
  const page = Math.min(Math.max(1, state.page), pages);
  return { found: found.length, pages, page, rows: found.slice((page - 1) * pageRows, page * pageRows) };
}

function pageButton(label, page, current, pages, text) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = text || String(page);
  button.setAttribute("aria-label", label);
  button.dataset.page = String(page);
  if (page === current) button.setAttribute("aria-current", "page");
  button.disabled = page < 1 || page > pages || (page === current && !text);
  return button;
}

/* the page numbers to offer: the first, the last and two either side of the current */
export function pageList(current, pages) {
  const out = [];
  for (let p = 1; p <= pages; p++) {
    if (p === 1 || p === pages || Math.abs(p - current) <= 2) out.push(p);
    else if (out[out.length - 1] !== "…") out.push("…");
  }
  return out;
}

export function setupExplorer(root) {
  if (root.gvExplore) return;
  root.gvExplore = true;
  const tbody = root.querySelector("tbody"), template = root.querySelector("template");
  const count = root.querySelector(".gallery-explore-count"), nav = root.querySelector(".gallery-explore-pages");
  const pageRows = Number(root.dataset.pageRows) || 50;
  const elements = [...tbody.rows, ...(template ? [...template.content.querySelectorAll("tr")] : [])];
  const rows = elements.map((tr) => Object.assign(readRow(tr.dataset), { tr }));
  const fields = [...root.querySelectorAll("[data-explore]")];
  let state = parseState(location.search);
  for (const field of fields) {
    const value = String(state[field.dataset.explore] ?? "");
    if (field.tagName === "SELECT" && ![...field.options].some((o) => o.value === value)) continue;
    field.value = value;
  }

  function render(scroll) {
    const shown = view(rows, state, pageRows);
    state.page = shown.page;
    tbody.replaceChildren(...shown.rows.map((row) => row.tr));
    count.textContent = shown.found === rows.length
      ? `${shown.rows.length} of ${rows.length} sentences shown (page ${shown.page} of ${shown.pages}).`
      : `${shown.found} of ${rows.length} sentences match; ${shown.rows.length} shown (page ${shown.page} of ${shown.pages}).`;
    nav.replaceChildren();
    if (shown.pages > 1) {
      nav.append(pageButton("previous page", shown.page - 1, shown.page, shown.pages, "‹ previous"));
      for (const p of pageList(shown.page, shown.pages)) {
        if (p === "…") nav.append(Object.assign(document.createElement("span"), { textContent: "…" }));
        else nav.append(pageButton(`page ${p}`, p, shown.page, shown.pages));
      }
      nav.append(pageButton("next page", shown.page + 1, shown.page, shown.pages, "next ›"));
    }
    const query = stateQuery(state);
    if (query !== location.search && !(query === "" && location.search === "")) {
      history.replaceState(history.state, "", location.pathname + query + location.hash);
    }
    if (scroll) root.scrollIntoView({ block: "start" });
  }

  function changed(event) {
    const field = event.target.closest("[data-explore]");
    if (!field) return;
    state[field.dataset.explore] = field.value;
    state.page = 1;
    render(false);
  }
  root.querySelector("form").addEventListener("submit", (event) => event.preventDefault());
  root.addEventListener("input", changed);
  root.addEventListener("change", changed);
  nav.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-page]");
    if (!button || button.disabled) return;
    state.page = Number(button.dataset.page);
    render(true);
  });
  render(false);
}

export function setupExplorers() {
  document.querySelectorAll(".gallery-explore").forEach(setupExplorer);
}
