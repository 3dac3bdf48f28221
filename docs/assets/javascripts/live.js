/* The entry of the live page ("Try your own sentence"): both models of the pair run
 * in the reader's browser. The theme loads it (bundled by esbuild into one classic
 * script, scripts/bundle_js.mjs) instead of gallery.js; it starts what every gallery
 * page runs (lib/page.js) and the page's own work.
 *
 * Nothing loads until the reader runs a sentence (or opens the page with ?text=).
 * Then: the runtime (onnxruntime-web, single-threaded WebAssembly) and the pair's
 * graph are fetched from this site with a progress bar, and run in a worker
 * (live-worker.js); the tokenizer (@huggingface/tokenizers) reads the model's own
 * tokenizer.json. One graph serves both models: input "trained" 1 is the fine-tuned
 * model, 0 the pretrained encoder with its untrained head.
 *
 * What a gallery page shows is computed by the modules the tests hold to Python's
 * figures (tests/golden/live.json): probabilities, head change, rollout and raw
 * attention (lib/maths.js), leave-one-out and ERASER's deletion test with its random
 * baseline (lib/deletion.js), the faithfulness verdict (lib/claims.js), the token
 * colours (lib/colour-scale.js); the markup is explain/views.py's (lib/markup.js,
 * tests/golden/markup.json); the views are the gallery's own, drawn from an attention
 * blob in its format (lib/blob.js).
 *
 * The result lands in <output id="live-result" data-result='{...}' data-stage="...">:
 * stage "predictions" once the predictions and views are there, "complete" once
 * leave-one-out and the deletion test are too. Its one global, window.LiveGallery:
 * run(text), timings, last (the last sentence's state), views (lib/page.js's API). */

import { encode, sourceFor } from "./lib/blob.js";
import { faithfulnessOutcome } from "./lib/claims.js";
import { item, pct, scale } from "./lib/colour-scale.js";
import { deletionTest, FIGURES, leaveOneOut } from "./lib/deletion.js";
import { esc, fixed, heatmap, legend, measured, predictionsTable, sentenceCard, shown, signed, simpleTable, tokenScores,
         view } from "./lib/markup.js";
import { argmax, clsAttention, headChange, normAttention, normScores, rollout, softmax, topHeads } from "./lib/maths.js";
import * as Notice from "./lib/notice.js";
import { startGallery } from "./lib/page.js";
import { settings } from "./lib/settings.js";
import { textChecker } from "./lib/text-rules.js";

const views = startGallery();
const configNode = document.getElementById("live-config");
if (configNode) live(JSON.parse(configNode.textContent));

function live(C) {
  const $ = (id) => document.getElementById(id);
  const box = $("live-text"), button = $("live-run"), statusLine = $("live-status"),
        bar = $("live-progress"), output = $("live-output"), result = $("live-result");
  const MODELS = ["trained", "untrained"];
  /* What a text may contain: data shared with the build (rules.json "text", passed in
     #live-config; build/sentences.py check_text applies the same). */
  const problems = textChecker(C.text_rules);
  /* one worker call: at most this many tokens / sequences (a new sentence waits for the
     call in flight, a second or so at most) */
  const BATCH_TOKENS = 1024, BATCH_MAX = 32;
  const VIEWS_FIRST_MS = 3000;  /* how long leave-one-out waits, at most, for the views to be drawn */

  function url(key) { return new URL(C.urls[key], location.href).href; }
  function say(message, isError) {
    statusLine.textContent = message;
    statusLine.classList.toggle("live-error", !!isError);
  }
  function modelName(which) { return C.names[which] || which; }

  /* ------------------------------------------------------------ the workers */

  class Cancelled { constructor() { this.message = "cancelled"; } }
  class UserError { constructor(message) { this.message = message; } }

  class Pool {
    constructor() { this.workers = []; this.queue = []; }
    /* a worker of its own files (live-worker.js); onBytes(n): n more bytes read */
    add(onBytes) {
      return new Promise((resolve, reject) => {
        const worker = new Worker(url("worker")), entry = { worker, busy: null };
        worker.onmessage = (event) => {
          const msg = event.data;
          if (msg.type === "progress") {
            if (onBytes) onBytes(msg.bytes);
          } else if (msg.type === "ready") {
            this.workers.push(entry);
            resolve(msg);
            this.pump();
          } else if (msg.type === "error" && msg.id === null) {
            reject(new Error(msg.message));
          } else if (entry.busy) {
            const job = entry.busy;
            entry.busy = null;
            if (msg.type === "error") job.reject(new Error(msg.message)); else job.resolve(msg);
            this.pump();
          }
        };
        worker.onerror = (event) => { reject(new Error(event.message || "the worker failed to start")); };
        worker.postMessage({ type: "init", ort: url("ort"), mjs: url("mjs"), cache: window.caches ? CACHE : null,
                             urls: { wasm: url("wasm"), model: url("model"), weights: url("weights") }, layout: C.model });
      });
    }
    run(job) {
      return new Promise((resolve, reject) => {
        job.resolve = resolve;
        job.reject = reject;
        if (job.attention) this.queue.unshift(job); else this.queue.push(job);  /* a new sentence first */
        this.pump();
      });
    }
    pump() {
      for (let i = 0; i < this.workers.length && this.queue.length; i++) {
        const entry = this.workers[i];
        if (entry.busy) continue;
        const job = this.queue.shift();
        entry.busy = job;
        entry.worker.postMessage({ type: "run", id: job.id || 0, ids: job.ids, batch: job.batch, length: job.length,
                                   trained: job.trained, attention: !!job.attention });
      }
    }
    cancel(generation) {  /* drop what an older sentence queued */
      this.queue = this.queue.filter((job) => {
        if (job.generation === generation) return true;
        job.reject(new Cancelled());
        return false;
      });
    }
  }

  /* Probabilities of many id sequences with one model, each distinct sequence run once
     (explain/removal.Removals): grouped by length, no padding. */
  class Removals {
    constructor(pool, trained, gen) { this.pool = pool; this.trained = trained; this.gen = gen; this.known = new Map(); }
    probs(variants, onDone) {
      const todo = new Map(), byLength = new Map(), jobs = [];
      variants.forEach((ids) => {
        const key = ids.join(",");
        if (!this.known.has(key) && !todo.has(key)) todo.set(key, ids);
      });
      todo.forEach((ids, key) => {
        if (!byLength.has(ids.length)) byLength.set(ids.length, []);
        byLength.get(ids.length).push(key);
      });
      byLength.forEach((keys, length) => {
        const per = Math.max(1, Math.min(BATCH_MAX, Math.floor(BATCH_TOKENS / length)));
        for (let s = 0; s < keys.length; s += per) {
          const chunk = keys.slice(s, s + per), ids = new Int32Array(chunk.length * length);
          chunk.forEach((key, r) => { ids.set(todo.get(key), r * length); });
          jobs.push(this.pool.run({ ids, batch: chunk.length, length, trained: this.trained ? 1 : 0, generation: this.gen })
            .then((msg) => {
              const labels = msg.logits.length / chunk.length;
              chunk.forEach((key, r) => {
                this.known.set(key, softmax(Array.from(msg.logits.subarray(r * labels, (r + 1) * labels))));
              });
              if (onDone) onDone(chunk.length);
            }));
        }
      });
      return Promise.all(jobs).then(() => variants.map((ids) => this.known.get(ids.join(","))));
    }
  }

  /* ------------------------------------------------------------ loading */

  let loading = null, generation = 0;
  const timings = {};

  /* The large files are kept in the Cache Storage (HTTP caches may refuse an entry of
     tens of MB); their names hold their content's hash, so an entry never goes stale,
     and entries of older builds are dropped once this build's are in. The worker reads
     the model, its weights and the WebAssembly itself (live-worker.js); the page reads
     the tokenizer. */
  const CACHE = "attention-gallery-live";
  const CACHED = ["model", "weights", "wasm", "tokenizer", "tokenizer_config"];
  function cachedFetch(key) {
    if (!window.caches || CACHED.indexOf(key) < 0) return fetch(url(key));
    return caches.open(CACHE).then((cache) => cache.match(url(key)).then((hit) => {
      if (hit) return hit;
      return fetch(url(key)).then((response) => {
        if (response.ok) cache.put(url(key), response.clone()).catch((err) => { console.warn("live: not cached", err); });
        return response;
      });
    }), () => fetch(url(key)));
  }
  function pruneCache() {
    if (!window.caches) return;
    const keep = CACHED.map(url);
    caches.open(CACHE).then((cache) => cache.keys().then((requests) => {
      requests.forEach((r) => { if (keep.indexOf(r.url) < 0) cache.delete(r); });
    })).catch(() => {});
  }

  function fetchBytes(key, onBytes) {  /* the tokenizer's files (0.5 MB): in one piece */
    return cachedFetch(key).then((response) => {
      if (!response.ok) throw new Error(C.urls[key] + ": HTTP " + response.status);
      return response.arrayBuffer().then((b) => { onBytes(b.byteLength); return b; });
    });
  }

  function mb(bytes) { return (bytes / 1e6).toFixed(1) + " MB"; }

  function load() {
    if (loading) return loading;
    const start = performance.now();
    let total = 0, done = 0;
    C.download.forEach((k) => { total += C.sizes[k] || 0; });
    bar.max = total;
    bar.value = 0;
    bar.hidden = false;
    let started = false;  /* the bytes are in: the runtime is starting */
    function onBytes(n) {
      done += n;
      bar.value = done;
      if (!started) say("Loading the models and the runtime: " + mb(done) + " of " + mb(total) +
                        " (downloaded from this site once: your browser keeps them).");
    }
    const text = (key) => fetchBytes(key, onBytes).then((b) => JSON.parse(new TextDecoder().decode(b)));
    const pool = new Pool();
    const workerTotal = (C.sizes.model || 0) + (C.sizes.weights || 0) + (C.sizes.wasm || 0);
    let worker = 0;
    loading = Promise.all([pool.add((n) => {
                             onBytes(n);
                             worker += n;
                             if (worker >= workerTotal && !started) {
                               started = true;
                               bar.hidden = true;
                               say("Starting the runtime (a second or two)…");
                             }
                           }),
                           text("tokenizer"), text("tokenizer_config"), import(url("tokenizers"))])
      .then((got) => {
        Object.assign(timings, got[0].timings);
        timings.load_s = (performance.now() - start) / 1000;
        pruneCache();
        bar.hidden = true;
        const tokenizer = new got[3].Tokenizer(got[1], got[2]);
        /* a second worker for leave-one-out and the deletion test, where there is a second
           core and the memory for a second session (about 300 MB); started once the first
           sentence's predictions and views are out, so it does not slow them */
        const cores = navigator.hardwareConcurrency || 1, memory = navigator.deviceMemory || 8;
        let second = null;
        function more() {
          if (second === null && cores >= 2 && memory >= 4) {
            second = pool.add(null).catch((err) => { console.warn("live: second worker", err); });
          }
        }
        return { tokenizer, pool, more };
      })
      .catch((err) => {
        loading = null;
        bar.hidden = true;
        throw err;
      });
    return loading;
  }

  /* ------------------------------------------------------------ one sentence */

  function run() {
    const text = box.value, gen = ++generation;
    const problem = problems(text);
    if (problem) { say(problem, true); return Promise.resolve(); }
    button.disabled = true;
    const pressed = performance.now();
    return load().then((loaded) => {
      if (gen !== generation) return undefined;
      loaded.pool.cancel(gen);
      const encoded = loaded.tokenizer.encode(text);
      const ids = Array.from(encoded.ids, Number), tokens = encoded.tokens, n = ids.length;
      if (n > C.max_tokens) {
        throw new UserError("text is too long: sentence has " + n + " tokens; the gallery accepts at most " + C.max_tokens +
          " (attention views of longer inputs are unreadable); overlong sentences are refused, not truncated");
      }
      const special = ids.map((id) => C.special_ids.indexOf(id) >= 0);
      const words = [];
      special.forEach((s, i) => { if (!s) words.push(i); });
      if (!words.length) throw new UserError("text gives no token but " + tokens.join(" ") + ": the model would read no word of it");
      const params = new URLSearchParams(location.search);  /* a shareable address: ?text=... */
      params.set("text", text);
      /* a shared address's #head-L-H holds for its own sentence, not for the next one */
      history.replaceState(null, "", "?" + params.toString() + (gen > 1 ? "" : location.hash));
      say("Running both models on " + n + " tokens…");
      const all = new Int32Array(ids);
      return Promise.all(MODELS.map((which) => loaded.pool.run({
        ids: all, batch: 1, length: n, trained: which === "trained" ? 1 : 0, attention: true, generation: gen })))
        .then((outs) => {
          if (gen !== generation) return undefined;
          const s = { text, ids, tokens, n, special, words, gen, runs: {}, pressed };
          MODELS.forEach((which, m) => {
            const logits = Array.from(outs[m].logits), att = new Float32Array(C.layers * C.heads * n * n);
            const norms = new Float32Array(C.layers * C.heads * n);
            outs[m].attention.forEach((a, l) => { att.set(a, l * C.heads * n * n); });
            outs[m].norms.forEach((v, l) => { norms.set(v, l * C.heads * n); });
            s.runs[which] = { logits, probs: softmax(logits), predicted: argmax(logits), attention: att, norms,
                              shownNorms: normAttention(att, norms, C.layers, C.heads, n) };
          });
          s.change = headChange(s.runs.trained.attention, s.runs.untrained.attention, C.layers, C.heads, n);
          s.top = topHeads(s.change, 3);
          s.changeNorms = headChange(s.runs.trained.shownNorms, s.runs.untrained.shownNorms, C.layers, C.heads, n);
          timings.predict_ms = performance.now() - pressed;
          const drawn = showFirst(s);
          timings.shown_ms = performance.now() - pressed;
          button.disabled = false;  /* another sentence may start now: it cancels what follows */
          /* the views first (the cores are few), then leave-one-out and the deletion test */
          return Promise.race([drawn.catch(() => {}), new Promise((r) => { setTimeout(r, VIEWS_FIRST_MS); })])
            .then(() => {
              if (gen !== generation) return undefined;
              timings.views_ms = performance.now() - pressed;
              loaded.more();
              return followUp(s, loaded.pool);
            });
        });
    }).catch((err) => {
      if (err instanceof Cancelled) return;
      if (err instanceof UserError) { say(err.message, true); return; }
      console.error(err);
      say("The models could not run: " + (err && err.message || err) + ". Reload the page to try again.", true);
    }).then(() => {
      if (gen === generation) button.disabled = false;
    });
  }

  function section(id, title, intro, body) {
    return '<section id="' + id + '"><h2>' + esc(title) + "</h2>" + (intro ? "<p>" + intro + "</p>" : "") +
      '<div class="live-body">' + body + "</div></section>";
  }

  function setResult(s, stage, extra) {
    const data = { text: s.text, tokens: s.tokens, top_head: s.top[0].slice(0, 2),
                   top_heads: s.top.map((t) => [t[0], t[1], Math.round(t[2] * 1e4) / 1e4]), timings };
    MODELS.forEach((which) => {
      const r = s.runs[which];
      data[which] = { probs: r.probs, logits: r.logits, predicted: C.labels[r.predicted] };
    });
    Object.assign(data, extra || {});
    result.setAttribute("data-result", JSON.stringify(data));
    result.setAttribute("data-stage", stage);
    result.textContent = stage;
    window.LiveGallery.last = s;
  }

  /* the methods computed from one forward pass of each model (leave-one-out follows),
     as attention_gallery.explain.methods computes them (lib/maths.js) */
  const AT_ONCE = {
    rollout: (r, n) => rollout(r.attention, C.layers, C.heads, n, C.rollout_residual),
    attention: (r, n) => clsAttention(r.attention, C.layers, C.heads, n),
    norms: (r, n) => normScores(r.attention, r.norms, C.layers, C.heads, n),
  };

  function showFirst(s) {
    const n = s.n, source = "live-attention-" + s.gen, prefix = "live-" + s.gen + "-";
    const top = s.top[0], t = s.runs.trained, u = s.runs.untrained, titles = settings().titles;
    const id = (v, a) => prefix + v.replace("_", "-") + "-" + a;
    const placeholder = (kind) => view(titles, source, "model_view", kind, id("model_view", kind));
    const links = (top3) => top3.map((c) => '<a href="#head-' + c[0] + "-" + c[1] + '" class="gallery-head-link" data-layer="' + c[0] +
      '" data-head="' + c[1] + '">layer ' + c[0] + ", head " + c[1] + "</a> (" + fixed(c[2], 3) + ")").join(", ");
    /* the head-change map on weights and on norms, as a gallery page's (page.show_head_change) */
    const changeMap = (change, measure, what) => {
      const top3 = topHeads(change, 3);
      return '<div class="gm-' + measure + '">' +
        heatmap(change, "Change of " + what + " per head (trained vs untrained)", top3, (l, h) => "#head-" + l + "-" + h) +
        '<p class="gallery-caption">' + esc(C.head_measure) + " Most changed: " + links(top3) +
        ". Click one, or any cell of the map, to open the side-by-side block on it.</p></div>";
    };
    const rows = MODELS.map((which) => [modelName(which), which, s.runs[which]]);
    output.innerHTML =
      section("live-sentence", "The sentence and its tokens",
              "The models see these tokens ([CLS] starts every input, [SEP] ends it; ## marks a piece of a longer word).",
              sentenceCard(s.text, s.tokens, null, null, s.tokens.length + " tokens · computed live in your browser")) +
      section("live-predictions", "What each model predicts",
              "Computed live, in your browser. The untrained head is random (seeded): its two logits are almost equal, " +
              "so its prediction is chance, not a judgement.",
              predictionsTable(C.labels, rows, null) + '<p class="gallery-caption">' + esc(modelName("trained")) + ": " +
              esc(C.display.trained) + "; " + esc(C.untrained_name) + ": " + esc(C.display.untrained) +
              " with a head drawn at random (seed " + C.head_seed + "). " + esc(C.notes.untrained) + "</p>") +
      section("live-notice", "What to notice", "The points a gallery page makes, by the same rules, on this sentence's " +
              "numbers (there is no gold label, and the tokens are ranked by leave-one-out: the browser computes no gradients).",
              '<div id="live-notice-points"></div>') +
      section("live-compare", "Side by side: one head, both models",
              "One layer's <strong>head view</strong> for the fine-tuned model, the " + esc(C.untrained_name.replace(/^the /, "")) +
              ", and the attention fine-tuning <strong>gained</strong> and <strong>lost</strong>. Lines go from a token on the " +
              "left (the query) to the tokens on the right it attends to; darker lines carry more weight. One set of " +
              "controls drives all four; hover a token (or focus a column and use the arrow keys) to see only its lines. " +
              "It opens on the head fine-tuning changed most (layer " + top[0] + ", head " + top[1] + ").", C.compare_block) +
      section("live-trained", "Attention of the fine-tuned model",
              "Every head of every layer: a row per layer, a column per head; lines go from a token on the left to the " +
              "tokens it attends to. Click a thumbnail to enlarge it.", placeholder("trained")) +
      section("live-untrained", "Attention of the " + C.untrained_name.replace(/^the /, ""),
              "The same encoder before fine-tuning (its head does not affect attention).", placeholder("untrained")) +
      section("live-changed", "What fine-tuning changed",
              "The attention <strong>gained</strong> in fine-tuning (where trained &gt; untrained) and the attention " +
              "<strong>lost</strong> (where untrained &gt; trained, drawn as positive weights).",
              placeholder("gained") + placeholder("lost")) +
      section("live-heads", "Which heads changed most", "",
              /* each cell a link that opens the side-by-side block on that head, as on a gallery page */
              measured(changeMap(s.change, "weights", "attention"), changeMap(s.changeNorms, "norms", "norm-based attention"))) +
      section("live-tokens", "Which tokens drove the prediction",
              "Attention shows where information flows, not why the model decided. Each row scores every token with one method.",
              '<div id="live-attributions"></div>') +
      section("live-faithfulness", "How faithful is each explanation?",
              "Remove the top-ranked tokens and the prediction should weaken (comprehensiveness, higher is better); keep only " +
              "them and it should hold (sufficiency, lower is better). A random ranking is the baseline to beat.",
              '<div id="live-deletion"><p class="live-pending">Computed after leave-one-out…</p></div>');
    /* the attention blob, in the gallery pages' format (lib/blob.js: "uint8-base64", the two models apart) */
    const blob = document.createElement("script");
    blob.type = "application/json";
    blob.className = "gallery-attention-data";
    blob.id = source;
    blob.textContent = encode(shown(s.tokens), C.layers, C.heads, C.scale, t.attention, u.attention);
    /* and the same views on norm-based attention (the views' weights / norms switch) */
    const normBlob = blob.cloneNode(false);
    normBlob.id = sourceFor(source, "norms");
    normBlob.textContent = encode(shown(s.tokens), C.layers, C.heads, C.scale,
                                  t.shownNorms, u.shownNorms);
    output.insertBefore(normBlob, output.firstChild);
    output.insertBefore(blob, output.firstChild);
    s.scores = { trained: {}, untrained: {} };
    MODELS.forEach((which) => {
      Object.keys(C.methods).forEach((name) => {
        if (AT_ONCE[name]) s.scores[which][name] = AT_ONCE[name](s.runs[which], n);
      });
    });
    showAttributions(s);
    showNotice(s, null);
    const block = output.querySelector(".gallery-compare");
    block.setAttribute("data-source", source);
    block.setAttribute("data-layer", top[0]);
    block.setAttribute("data-head", top[1]);
    /* the block's controls and every view's PNG/SVG buttons; a shared address's
       #head-L-H opens the block on that head; then the views */
    views.compare.refresh();
    views.compare.open(location.hash, false);
    const drawn = views.drawAll();
    say("Computed live in your browser: predictions and attention of both models. Leave-one-out and the deletion test follow…");
    setResult(s, "predictions");
    return drawn;
  }

  /* "What to notice" (lib/notice.js, as explain/notice.py): the verdict, the most changed
     head, leave-one-out's top tokens with their deletion verdict (once the test is done:
     ``got``), norms against weights, the untrained margin */
  function showNotice(s, got) {
    const el = $("live-notice-points"), R = C.notice_rules, t = s.runs.trained, u = s.runs.untrained, top = s.top[0];
    if (!el) return;
    const round4 = (x) => Math.round(x * 1e4) / 1e4;
    const points = [
      Notice.verdictClaim(C.labels[t.predicted], t.probs[t.predicted], null),
      Notice.headClaim(s.tokens, top[0], top[1], top[2], C.layers * C.heads,
                       Notice.headNumbers(t.attention, u.attention, C.layers, C.heads, s.n, s.words, top[0], top[1]), R),
    ];
    if (got) {
      points.push(Notice.tokensClaim("Leave-one-out", "Leave-one-out", s.tokens, s.words, s.scores.trained.loo, C.labels,
                                     t.predicted, got.figures.loo, got.figures.random, got.random_se, round4(t.probs[t.predicted]), R));
    }
    if (s.scores.trained.attention && s.scores.trained.norms) {
      points.push(Notice.normsClaim(s.scores.trained.attention.map(round4), s.scores.trained.norms.map(round4), s.special, R));
    }
    points.push(Notice.untrainedClaim(C.names.untrained, C.labels[C.labels.length - 1], u.probs[u.probs.length - 1],
                                      Math.abs(u.logits[0] - u.logits[u.logits.length - 1]), R));
    el.innerHTML = Notice.noticeHtml(points) + (got ? "" :
      '<p class="live-pending">Leave-one-out\u2019s top tokens and their deletion verdict follow\u2026</p>');
  }

  function classScores(which, s, name) {  /* signed scores pointing toward the last label */
    const scores = s.scores[which][name], r = s.runs[which];
    if (!C.methods[name].signed || r.predicted === C.labels.length - 1) return scores;
    return scores.map((v) => -v);
  }

  function showAttributions(s) {
    const names = Object.keys(C.methods).filter((m) => s.scores.trained[m]);
    const scales = {};  /* one scale per method over both models (lib/colour-scale.js, as explain/views.py) */
    names.forEach((name) => {
      scales[name] = scale(MODELS.map((which) => classScores(which, s, name)), MODELS.map(() => s.special), C.colour.full_share);
    });
    /* as views.attribution_legend: the signed methods the rows show */
    const signedNames = names.filter((m) => C.methods[m].signed).map((m) => C.methods[m].title).join(", ") || "none here";
    const parts = [legend(C.labels, pct(C.colour.full_share), esc(signedNames),
                          names.map((name) => item(C.methods[name].title, scales[name], C.methods[name].unit, C.methods[name].signed)))];
    MODELS.forEach((which) => {
      const r = s.runs[which];
      parts.push("<h4>" + esc(modelName(which)) + " — explaining “" + esc(C.labels[r.predicted]) + "” (p = " +
                 fixed(r.probs[r.predicted], 2) + ")</h4>");
      Object.keys(C.methods).forEach((name) => {
        const m = C.methods[name];
        if (!s.scores[which][name]) {
          parts.push('<div class="gallery-attribution"><span class="gallery-attr-caption">' + esc(m.title) +
                     '</span><span class="live-pending">computing…</span></div>');
          return;
        }
        const scores = m.signed ? classScores(which, s, name) : s.scores[which][name];
        parts.push(tokenScores(s.tokens, scores, m.title, s.special, scales[name].full, m.signed));
      });
    });
    parts.push('<p class="gallery-caption">' + esc(C.notes.ig) + "</p>");
    parts.push('<ul class="gallery-caption">' + Object.keys(C.methods).map((name) =>
      "<li>" + esc(C.methods[name].title + ": " + C.methods[name].description) + "</li>").join("") + "</ul>");
    const el = $("live-attributions");
    if (el) el.innerHTML = parts.join("");
  }

  function followUp(s, pool) {
    const removals = { trained: new Removals(pool, true, s.gen), untrained: new Removals(pool, false, s.gen) };
    const start = performance.now(), total = 2 * s.words.length;
    let done = 0;
    function progress(k) {
      done += k;
      if (s.gen === generation) say("Computed live: predictions and attention. Leave-one-out: " + done + " of " + total + " forward passes…");
    }
    return Promise.all(MODELS.map((which) => {
      const r = s.runs[which], probs = (variants, onDone) => removals[which].probs(variants, onDone);
      return leaveOneOut(s.ids, s.words, r.probs, r.predicted, probs, progress).then((scores) => { s.scores[which].loo = scores; });
    })).then(() => {
      if (s.gen !== generation) return null;
      timings.loo_ms = performance.now() - start;
      showAttributions(s);
      return deletion(s, removals.trained);
    }).then((table) => {
      if (s.gen !== generation || !table) return;
      timings.deletion_ms = performance.now() - start - timings.loo_ms;
      timings.complete_ms = performance.now() - s.pressed;
      showNotice(s, table);
      say("Computed live in your browser: predictions, attention and leave-one-out of both models; " +
          "the deletion test of the " + modelName("trained") + ".");
      setResult(s, "complete", { loo: { trained: s.scores.trained.loo, untrained: s.scores.untrained.loo },
                                 deletion: table });
    });
  }

  /* ERASER's deletion test of the fine-tuned model (lib/deletion.js, as
     explain/faithfulness.deletion_test without Integrated Gradients): the methods'
     rows first, then the random baseline. */
  function deletion(s, removals) {
    const r = s.runs.trained, target = r.predicted, p0 = r.probs[target], D = C.deletion, el = $("live-deletion");
    const scores = {};
    Object.keys(C.methods).forEach((name) => { scores[name] = s.scores.trained[name]; });
    let total = 0, done = 0;
    function progress(k) {
      done += k;
      if (s.gen === generation) say("Computed live: predictions, attention and leave-one-out. Deletion test: up to " + done + " of " + total + " variants…");
    }
    function render(table, rnd) {
      const titles = {};
      Object.keys(C.methods).forEach((m) => { titles[m] = C.methods[m].title; });
      titles.random = D.random_title;
      const rows = Object.keys(table).map((name) => {
        const f = table[name];
        let cells = FIGURES.map((k) => signed(f[k]));
        /* ± only where the figure was estimated from draws (a figure over exact subsets only has none) */
        if (name === "random" && rnd.mode !== "exact") {
          cells = cells.map((c, i) => (rnd.se[FIGURES[i]] > 0 ? c + " ± " + fixed(rnd.se[FIGURES[i]], 3) : c));
        }
        const tau = name === "random" || name === "loo" ? "—" : signed(f.tau_loo, 2);
        /* the verdict: the gallery's rule (lib/claims.js) on these numbers, once random is known */
        const verdict = name === "random" ? "—" : !rnd ? "…" :
          C.claims.labels[faithfulnessOutcome(f, table.random, rnd.se, p0, C.claims).outcome];
        return [titles[name]].concat(cells, [tau, verdict]);
      });
      if (!rnd) rows.push([D.random_title, "computing…", "", "", "", "", ""]);
      const note = !rnd ? "" : rnd.mode === "exact" ? "The random baseline is exact (every subset enumerated)."
        : "The random baseline is estimated from " + D.draws + " random orders drawn in your browser where a size k has " +
          "too many subsets to enumerate (± one standard error of those draws; a figure without ± is exact; the gallery " +
          "pages draw 200).";
      const u = s.runs.untrained;
      let looMax = 0;
      s.scores.untrained.loo.forEach((v) => { looMax = Math.max(looMax, Math.abs(v)); });
      const skipped = "Only the fine-tuned model is tested: the " + modelName("untrained") + " gives p(" + C.labels[C.labels.length - 1] + ") " +
        fixed(u.probs[u.probs.length - 1], 3) + " here, and removing any one word moves its probability by at most " +
        fixed(looMax, 4) + " (leave-one-out above), so its figures would measure noise.";
      el.innerHTML = simpleTable(["method (fine-tuned model)", "compre\u00adhensiveness ↑ (top 1-3)", "sufficiency ↓ (top 1-3)",
                                  "AOPC compre\u00adhensiveness ↑", "AOPC sufficiency ↓", "tau-LOO", "verdict"], rows,
                                 "deletion test of each explanation") +
        '<p class="gallery-caption">' + esc(D.reading + " " + D.removal + " " + note + " " + skipped) + "</p>";
    }
    return deletionTest({
      ids: s.ids, words: s.words, target, p0, scores, loo: s.scores.trained.loo, D,
      probs: (variants, onDone) => removals.probs(variants, onDone), onDone: progress,
      onPlan: (n) => { total = n; }, onRanked: (table) => { render(table, null); },
      stale: () => s.gen !== generation,
    }).then((got) => {
      if (!got) return null;
      render(got.figures, { mode: got.random_mode, se: got.random_se });
      return got;
    });
  }

  /* ------------------------------------------------------------ the page */

  window.LiveGallery = { run: (text) => { box.value = text; return run(); }, timings, last: null, views };
  button.addEventListener("click", () => { run(); });
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); if (!button.disabled) run(); }
  });
  /* A reader who ran a sentence before has the files in the Cache Storage: start the
     runtime as the page opens (no download), so it is ready, or nearly, when they press
     run. A reader who never ran one downloads nothing before they press it. */
  const shared = new URLSearchParams(location.search).get("text");
  if (!shared && window.caches) {
    caches.open(CACHE).then((cache) => cache.match(url("weights"))).then((hit) => {
      if (hit && !loading) load().then(() => { if (!generation) say("The models are ready (from your browser's cache)."); },
                                       () => { say(""); });
    }).catch(() => {});
  }
  if (shared) { box.value = shared; run(); }
}
