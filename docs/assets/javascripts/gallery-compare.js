/* The side-by-side block of a sentence page, exports for slides, and the reading
 * page's annotated figures: all drawn by gallery-views.js (GalleryViews).
 *
 * Side by side. A sentence page carries one placeholder
 *   <div class="gallery-compare" id="compare" data-source="attention-SLUG"
 *        data-layer="L" data-head="H" data-attentions="trained untrained gained lost">
 * drawn here as one head view per attention, of one layer and one head, in one row
 * (2 x 2 or one column when the row would make their text smaller than ~11 px),
 * with one set of controls (a layer menu and a button per head, in the head's
 * colour) that drives all of them; hovering a token shows its lines in all four.
 * data-layer and data-head always say what the block shows. The page address
 * #head-L-H (0-based) opens it on layer L, head H (on load, and when the address
 * changes, e.g. a click on a heatmap cell); the controls keep the address current
 * (history.replaceState). Each view is a GalleryViews placeholder, drawn when it
 * nears the viewport.
 *
 * Exports. Every view gets a "PNG" button (drawn again from its data at twice its
 * size, with its title) and head views an "SVG" button: a real SVG, one <line> per
 * weight, written from the data.
 *
 * Reading page. <div class="gallery-figure" data-figure="line|layer|gained"
 * data-source=ID data-layer data-head> placeholders, fed one gallery sentence's
 * attention at build (hooks/reading_figures.py), are drawn with annotations.
 */
(function () {
  "use strict";

  var GV = window.GalleryViews;
  if (!GV) return;
  var P = GV.parts, COLORS = P.COLORS;
  var FONT = '"Helvetica Neue", Helvetica, Arial, sans-serif';
  var MIN_TEXT_PX = 11;  /* the smallest token text the block shows (CSS px) */
  var GAP = 12;          /* px between the block's views (gallery.css: .gc-grid gap) */
  var MAX_SCALE = 1.25;  /* a view grows to at most this times its natural size */
  var TITLES = {
    trained: "fine-tuned model",
    untrained: "pretrained encoder + untrained head",
    gained: "gained by fine-tuning (trained − untrained)",
    lost: "lost by fine-tuning (untrained − trained)"
  };

  /* ------------------------------------------------------------ helpers */

  function el(tag, attrs, parent, text) {
    var node = document.createElement(tag);
    for (var k in attrs || {}) node.setAttribute(k, attrs[k]);
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  function meta(source) {
    var node = document.getElementById(source);
    return node ? JSON.parse(node.textContent) : null;
  }

  function luminance(hex) {
    return P.rgb(hex).map(function (c) {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    }).reduce(function (sum, c, i) { return sum + c * [0.2126, 0.7152, 0.0722][i]; }, 0);
  }

  /* black or white, whichever reads better on ``hex`` */
  function ink(hex) {
    var l = luminance(hex);
    return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? "#000" : "#fff";
  }

  var measurer = null;
  function textWidth(value, px, bold) {
    measurer = measurer || document.createElement("canvas").getContext("2d");
    measurer.font = (bold ? "bold " : "") + px + "px " + FONT;
    return measurer.measureText(value).width;
  }

  /* A head view narrower than bertviz's: token columns as wide as the longest token. */
  function compactLayout(tokens) {
    var widest = tokens.reduce(function (w, t) { return Math.max(w, textWidth(t, P.HEAD.TEXT)); }, 0);
    return Object.assign({}, P.HEAD, { BOX_W: Math.ceil(Math.max(40, widest + 0.5 * P.HEAD.TEXT + 4)),
                                       MATRIX_W: 90, TOP: 6 });
  }

  function naturalWidth(layout) { return 2 * layout.BOX_W + layout.MATRIX_W; }

  function clampInt(value, lo, hi) {
    value = parseInt(value, 10);
    return isNaN(value) ? lo : Math.min(hi, Math.max(lo, value));
  }

  function slugOf(source) { return String(source || "view").replace(/^attention-/, ""); }

  function download(blob, name) {
    var a = el("a", { href: URL.createObjectURL(blob), download: name });
    a.style.display = "none";
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  function palette(node) {
    var style = getComputedStyle(node), body = getComputedStyle(document.body);
    return { text: style.color, bg: body.backgroundColor || "#fff" };
  }

  /* Text in an exported SVG: escaped, and without what XML 1.0 cannot carry (controls
     but tab and line breaks, lone surrogates, U+FFFE, U+FFFF): one such character makes
     the whole file unreadable. */
  var NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
  function xml(value) {
    return String(value).replace(NOT_XML, "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;");
  }

  /* ------------------------------------------------------------ pictures */

  /* A picture's title: the first line bold 15 px, the others 13 px, each wrapped to
     ``width``. {lines: [{text, size, bold, y (baseline)}], height} */
  function titleBlock(titles, width) {
    var lines = [], y = 0;
    titles.forEach(function (title, i) {
      var size = i ? 13 : 15, bold = !i, line = "";
      function flush() { y += size + 7; lines.push({ text: line, size: size, bold: bold, y: y }); }
      String(title).split(/\s+/).forEach(function (word) {
        var longer = line ? line + " " + word : word;
        if (line && textWidth(longer, size, bold) > width) { flush(); line = word; } else line = longer;
      });
      if (line) flush();
    });
    return { lines: lines, height: y + 8 };
  }

  function paintTitle(ctx, block, x, y) {
    ctx.textAlign = "left";
    ctx.textBaseline = "alphabetic";
    block.lines.forEach(function (l) {
      ctx.font = (l.bold ? "bold " : "") + l.size + "px " + FONT;
      ctx.fillText(l.text, x, y + l.y);
    });
  }

  /* A head view as a picture: title lines, tokens, one line per weight of the shown
     heads (bertviz's layout and colours, opacity weight / number of heads). */
  function headPicture(data, state, titles) {
    var V = state.layout, n = data.tokens.length, pad = 10, width = naturalWidth(V) + 2 * pad;
    var title = titleBlock(titles, width - 2 * pad), top = pad + title.height, height = top + n * V.BOX_H + pad;
    var x1 = pad + V.BOX_W, x2 = x1 + V.MATRIX_W, k = state.heads.length, w = data.weights;

    function each(fn) {  /* fn(head, i, j, opacity) for every weight that is not zero */
      var H = data.heads;
      state.heads.forEach(function (h) {
        var off = (state.layer * H + h) * n * n;
        for (var i = 0; i < n; i++) {
          for (var j = 0; j < n; j++) {
            var a = w[off + i * n + j];
            if (a) fn(h, i, j, a / data.scale / k);
          }
        }
      });
    }
    function y(i) { return top + (i + 0.5) * V.BOX_H; }

    return {
      width: width, height: height,
      paint: function (ctx, colors) {
        ctx.fillStyle = colors.bg;
        ctx.fillRect(0, 0, width, height);
        ctx.fillStyle = colors.text;
        paintTitle(ctx, title, pad, pad);
        ctx.font = V.TEXT + "px " + FONT;
        ctx.textBaseline = "middle";
        data.tokens.forEach(function (t, i) {
          ctx.textAlign = "right";
          ctx.fillText(t, x1 - 0.5 * V.TEXT, y(i));
          ctx.textAlign = "left";
          ctx.fillText(t, x2 + 0.5 * V.TEXT, y(i));
        });
        ctx.lineWidth = 2;
        each(function (h, i, j, a) {
          ctx.strokeStyle = COLORS[h % 10];
          ctx.globalAlpha = a;
          ctx.beginPath();
          ctx.moveTo(x1, y(i));
          ctx.lineTo(x2, y(j));
          ctx.stroke();
        });
        ctx.globalAlpha = 1;
      },
      svg: function (colors) {
        var out = ['<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="' +
                   width + '" height="' + height + '" viewBox="0 0 ' + width + " " + height + '">',
                   "<title>" + xml(titles.join(" — ")) + "</title>",
                   '<rect width="100%" height="100%" fill="' + xml(colors.bg) + '"/>',
                   '<g fill="' + xml(colors.text) + '" font-family="Helvetica, Arial, sans-serif">'];
        title.lines.forEach(function (l) {
          out.push('<text x="' + pad + '" y="' + (pad + l.y) + '" font-size="' + l.size + '"' +
                   (l.bold ? ' font-weight="bold"' : "") + ">" + xml(l.text) + "</text>");
        });
        data.tokens.forEach(function (t, i) {
          out.push('<text x="' + (x1 - 0.5 * V.TEXT) + '" y="' + y(i) + '" font-size="' + V.TEXT +
                   '" text-anchor="end" dominant-baseline="central">' + xml(t) + "</text>");
          out.push('<text x="' + (x2 + 0.5 * V.TEXT) + '" y="' + y(i) + '" font-size="' + V.TEXT +
                   '" dominant-baseline="central">' + xml(t) + "</text>");
        });
        out.push('</g><g stroke-width="2" fill="none">');
        each(function (h, i, j, a) {
          out.push('<line x1="' + x1 + '" y1="' + y(i) + '" x2="' + x2 + '" y2="' + y(j) + '" stroke="' +
                   COLORS[h % 10] + '" stroke-opacity="' + a.toFixed(3) + '"/>');
        });
        out.push("</g></svg>\n");
        return out.join("\n");
      }
    };
  }

  /* A model view as a picture (PNG only: it has up to 72 n^2 lines), thumbnails
     rasterised as the view does, labels as in the view. */
  function modelPicture(data, titles) {
    var M = P.MODEL, n = data.tokens.length, L = data.layers, H = data.heads;
    var axis = M.HEADING_TEXT + M.HEADING_PAD + M.TEXT + M.TEXT_PAD;
    var boxH = 7 * (12 / H), thumbH = n * boxH + 2 * M.PAD, thumbW = (M.W - axis) / H;
    var title = titleBlock(titles, M.W - 20), titleH = title.height + 10, width = M.W;
    var height = titleH + L * thumbH + axis + 10;
    return {
      width: width, height: height,
      paint: function (ctx, colors, scale) {
        ctx.fillStyle = colors.bg;
        ctx.fillRect(0, 0, width, height);
        for (var l = 0; l < L; l++) {
          var row = document.createElement("canvas");
          row.width = Math.ceil(M.W * scale);
          row.height = Math.ceil(thumbH * scale);
          var rctx = row.getContext("2d");
          rctx.ratio = scale;
          for (var h = 0; h < H; h++) {
            var x1 = axis + h * thumbW + M.PAD;
            P.thumbnail(rctx, data.weights, (l * H + h) * n * n, n, data.scale, x1, x1 + thumbW - 14, M.PAD,
                        boxH, P.rgb(COLORS[l % 10]));
          }
          ctx.drawImage(row, 0, titleH + axis + l * thumbH, M.W, thumbH);
        }
        ctx.fillStyle = colors.text;
        paintTitle(ctx, title, 10, 10);
        ctx.textBaseline = "alphabetic";
        ctx.textAlign = "center";
        ctx.font = "bold " + M.HEADING_TEXT + "px " + FONT;
        ctx.fillText("Heads", axis + thumbW * H / 2, titleH + M.HEADING_TEXT);
        ctx.font = M.TEXT + "px " + FONT;
        for (h = 0; h < H; h++) {
          ctx.fillText(String(h), axis + (h + 0.5) * thumbW, titleH + M.HEADING_TEXT + M.HEADING_PAD + M.TEXT);
        }
        ctx.textAlign = "right";
        ctx.textBaseline = "middle";
        for (l = 0; l < L; l++) {
          ctx.fillText(String(l), M.HEADING_TEXT + M.HEADING_PAD + M.TEXT, titleH + axis + (l + 0.5) * thumbH);
        }
        ctx.save();
        ctx.translate(M.HEADING_TEXT / 2 + 2, titleH + axis + thumbH * L / 2);
        ctx.rotate(-Math.PI / 2);
        ctx.textAlign = "center";
        ctx.font = "bold " + M.HEADING_TEXT + "px " + FONT;
        ctx.fillText("Layers", 0, 0);
        ctx.restore();
      }
    };
  }

  function savePNG(picture, colors, name) {
    var scale = 2, c = document.createElement("canvas");
    c.width = Math.ceil(picture.width * scale);
    c.height = Math.ceil(picture.height * scale);
    var ctx = c.getContext("2d");
    ctx.scale(scale, scale);
    picture.paint(ctx, colors, scale);
    return new Promise(function (resolve) {
      c.toBlob(function (blob) { download(blob, name); resolve(blob); }, "image/png");
    });
  }

  function saveSVG(picture, colors, name) {
    var blob = new Blob([picture.svg(colors)], { type: "image/svg+xml" });
    download(blob, name);
    return Promise.resolve(blob);
  }

  function sentence() {
    var node = document.querySelector(".gallery-text");
    return node ? node.textContent.trim() : "";
  }

  /* The PNG (and SVG) buttons of one view. ``what`` () -> {data, picture title lines,
     state (head views), name}. */
  function exportButtons(parent, label, what, svgToo) {
    var bar = el("span", { "class": "gallery-export" }, parent);
    [["PNG", savePNG]].concat(svgToo ? [["SVG", saveSVG]] : []).forEach(function (kind) {
      var b = el("button", { type: "button", "class": "gallery-export-button",
                             "aria-label": "Save the " + label + " as " + kind[0],
                             title: "Save the " + label + " as " + kind[0] + " (for slides)" }, bar, kind[0]);
      b.addEventListener("click", function () {
        b.disabled = true;
        what().then(function (w) {
          var picture = w.state ? headPicture(w.data, w.state, w.titles) : modelPicture(w.data, w.titles);
          return kind[1](picture, palette(parent), w.name + "." + kind[0].toLowerCase());
        }).catch(function (err) { console.error(err); })
          .then(function () { b.disabled = false; });
      });
    });
    return bar;
  }

  /* model views (and head views outside the block): buttons beside their caption */
  function addViewExports() {
    document.querySelectorAll(".gallery-bertviz[data-view]").forEach(function (view) {
      if (view.closest(".gallery-compare") || view.hasAttribute("data-export")) return;
      view.setAttribute("data-export", "");
      var frame = view.closest(".gallery-view-frame") || view;
      var caption = frame.previousElementSibling;
      if (!caption || !caption.classList.contains("gallery-view-caption")) return;
      var kind = view.getAttribute("data-attention"), isHead = view.getAttribute("data-view") === "head_view";
      var title = caption.textContent.trim();
      exportButtons(caption, (isHead ? "head view" : "model view") + " of the " + (TITLES[kind] || kind), function () {
        return GV.attention(view.getAttribute("data-source"), kind).then(function (data) {
          var state = isHead && view.gvHead ? view.gvHead.state() : null;
          var name = slugOf(view.getAttribute("data-source")) + "-" + (isHead ? "head" : "model") + "-view-" + kind;
          return { data: data, state: state, titles: [title, sentence()], name: name };
        });
      }, isHead);
    });
  }

  /* ------------------------------------------------------------ side by side */

  function parseHash(hash) {
    var m = /^#head-(\d+)-(\d+)$/.exec(hash === undefined ? location.hash : hash);
    return m ? { layer: +m[1], head: +m[2] } : null;
  }

  function setupCompare(block) {
    if (block.gvCompare) return block.gvCompare;
    var source = block.getAttribute("data-source"), d = meta(source);
    if (!d) return null;
    var L = d.layers, H = d.heads, uid = block.id || "compare";
    var kinds = (block.getAttribute("data-attentions") || "trained untrained gained lost").split(/\s+/);
    var layout = compactLayout(d.tokens), natural = naturalWidth(layout);
    var state = { layer: clampInt(block.getAttribute("data-layer"), 0, L - 1),
                  head: clampInt(block.getAttribute("data-head"), 0, H - 1) };
    block.innerHTML = "";

    var controls = el("div", { "class": "gc-controls" }, block);
    var layerBox = el("span", { "class": "gc-layer" }, controls);
    el("label", { "for": uid + "-layer" }, layerBox, "Layer");
    var select = el("select", { id: uid + "-layer" }, layerBox);
    for (var l = 0; l < L; l++) el("option", { value: l }, select, String(l));
    var headBox = el("span", { "class": "gc-heads-box" }, controls);
    el("span", { id: uid + "-heads-label", "class": "gc-heads-label" }, headBox, "Head");
    var group = el("span", { role: "group", "aria-labelledby": uid + "-heads-label", "class": "gc-heads" }, headBox);
    var buttons = [];
    for (var h = 0; h < H; h++) {
      var color = COLORS[h % 10];
      var b = el("button", { type: "button", "class": "gc-head", "data-head": h, "aria-label": "Head " + h,
                             style: "--gc-head:" + color + ";--gc-ink:" + ink(color) }, group, String(h));
      buttons.push(b);
    }
    var allBox = el("span", { "class": "gc-all" }, controls);

    var grid = el("div", { "class": "gc-grid" }, block);
    var views = kinds.map(function (kind) {
      var figure = el("figure", { "class": "gc-panel", "data-attention": kind }, grid);
      var caption = el("figcaption", {}, figure);
      el("span", { "class": "gc-title" }, caption, TITLES[kind] || kind);
      var view = el("div", { "class": "gallery-bertviz gc-view", id: uid + "-" + kind, "data-source": source,
                             "data-view": "head_view", "data-attention": kind, "data-near": "early" }, figure);
      view.gvOptions = { controls: false, fit: MAX_SCALE, layout: layout,
                         onHover: function (side, i) {
                           views.forEach(function (other) { if (other !== view && other.gvHead) other.gvHead.hover(side, i); });
                         },
                         onDrawn: function (layer, heads) { view.setAttribute("data-shown", layer + "-" + heads.join(",")); } };
      exportButtons(caption, "head view of the " + (TITLES[kind] || kind), function () {
        return GV.attention(source, kind).then(function (data) {
          var s = view.gvHead ? view.gvHead.state() : { layer: state.layer, heads: [state.head], layout: layout };
          return { data: data, state: s, name: slugOf(source) + "-" + kind + "-layer" + s.layer + "-head" + s.heads.join("+"),
                   titles: [(TITLES[kind] || kind) + " · layer " + s.layer + ", head " + s.heads.join(", "), sentence()] };
        });
      }, true);
      return view;
    });
    el("button", { type: "button", "class": "gallery-export-button", title: "Save the four views in one picture (for slides)" },
       allBox, "PNG of all four").addEventListener("click", function () {
      Promise.all(kinds.map(function (kind) { return GV.attention(source, kind); })).then(function (datas) {
        var s = { layer: state.layer, heads: [state.head], layout: layout };
        var pictures = datas.map(function (data, i) { return headPicture(data, s, [TITLES[kinds[i]] || kinds[i]]); });
        var width = pictures.reduce(function (w, p) { return w + p.width; }, 0);
        var title = titleBlock(["Layer " + state.layer + ", head " + state.head + ": " + sentence()], width - 20);
        var titleH = title.height + 10;
        var row = {
          width: width,
          height: titleH + Math.max.apply(null, pictures.map(function (p) { return p.height; })),
          paint: function (ctx, colors) {
            ctx.fillStyle = colors.bg;
            ctx.fillRect(0, 0, row.width, row.height);
            ctx.fillStyle = colors.text;
            paintTitle(ctx, title, 10, 10);
            var x = 0;
            pictures.forEach(function (p) {
              ctx.save();
              ctx.translate(x, titleH);
              p.paint(ctx, colors);
              ctx.restore();
              x += p.width;
            });
          }
        };
        return savePNG(row, palette(block), slugOf(source) + "-side-by-side-layer" + state.layer + "-head" + state.head + ".png");
      }).catch(function (err) { console.error(err); });
    });

    /* as many views in a row as keep their text at least MIN_TEXT_PX: 4, 2 or 1 */
    function columns() {
      var width = grid.clientWidth, min = natural * MIN_TEXT_PX / P.HEAD.TEXT, cols = 1;
      if ((width - 3 * GAP) / 4 >= min) cols = 4;
      else if ((width - GAP) / 2 >= min) cols = 2;
      grid.setAttribute("data-cols", cols);
    }
    grid.style.setProperty("--gc-max", MAX_SCALE * natural + "px");
    columns();
    if (window.ResizeObserver) new ResizeObserver(columns).observe(grid);

    function show(layer, head, why) {
      state.layer = clampInt(layer, 0, L - 1);
      state.head = clampInt(head, 0, H - 1);
      block.setAttribute("data-layer", state.layer);
      block.setAttribute("data-head", state.head);
      select.value = state.layer;
      buttons.forEach(function (b, i) { b.setAttribute("aria-pressed", String(i === state.head)); });
      views.forEach(function (view) {
        view.setAttribute("data-layer", state.layer);
        view.setAttribute("data-heads", "[" + state.head + "]");
        if (view.gvHead) view.gvHead.show(state.layer, [state.head]);
      });
      if (why === "controls") {
        history.replaceState(history.state, "", "#head-" + state.layer + "-" + state.head);
      }
    }

    select.addEventListener("change", function () { show(select.value, state.head, "controls"); });
    buttons.forEach(function (b, i) {
      b.addEventListener("click", function () { show(state.layer, i, "controls"); });
    });
    show(state.layer, state.head);
    views.forEach(function (view) { GV.observe(view); });
    block.gvCompare = { show: show, state: state };
    return block.gvCompare;
  }

  /* #head-L-H: open the block on that head and bring it into view */
  function openFromHash(hash, scroll) {
    var wanted = parseHash(hash), block = document.querySelector(".gallery-compare");
    if (!wanted || !block) return false;
    var c = setupCompare(block);
    if (!c) return false;
    c.show(wanted.layer, wanted.head, "address");
    if (scroll !== false) block.scrollIntoView({ block: "start" });
    return true;
  }

  window.addEventListener("hashchange", function () { openFromHash(); });
  /* a link to the head already in the address changes nothing: open it all the same */
  document.addEventListener("click", function (event) {
    var a = event.target.closest ? event.target.closest('a[href^="#head-"]') : null;
    if (a && a.getAttribute("href") === location.hash) openFromHash(location.hash);
  });

  /* ------------------------------------------------------------ reading page */

  /* marks (SVG markup in the view's own units) over a drawn view */
  function annotate(view, marks) {
    var stage = view.querySelector(".gv-head-stage, .gv-stage"), box = stage && stage.querySelector("svg.gv-over");
    if (!box) return;
    var over = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    var viewBox = box.getAttribute("viewBox");
    if (!viewBox && view.gvHead) {  /* a head view drawn at its natural size */
      var V = view.gvHead.state().layout;
      viewBox = "0 0 " + (2 * V.BOX_W + V.MATRIX_W) + " " + box.getAttribute("height");
    }
    if (!viewBox) return;
    over.setAttribute("viewBox", viewBox);
    over.setAttribute("class", "gv-layer gallery-annotations");
    over.setAttribute("aria-hidden", "true");
    over.innerHTML = marks.join("");
    stage.appendChild(over);
  }

  function rect(cls, x, y, w, h) {
    return '<rect class="' + cls + '" x="' + x + '" y="' + y + '" width="' + w + '" height="' + h + '"/>';
  }

  function pct(a, scale) { return Math.round(100 * a / scale) + "%"; }

  /* One figure of the reading page: "line" (a line of the fine-tuned model's most
     changed head), "layer" (a head and a layer in the model view), "gained" (a line
     fine-tuning gained), each annotated, with a caption saying what is marked. */
  function drawFigure(figure) {
    if (figure.gvFigure) return figure.gvFigure;
    var source = figure.getAttribute("data-source"), kind = figure.getAttribute("data-figure");
    var layer = +figure.getAttribute("data-layer"), head = +figure.getAttribute("data-head");
    var view = figure.querySelector(".gallery-figure-view"), note = figure.querySelector(".gallery-figure-note");
    var where = "layer " + layer + ", head " + head;
    var kinds = kind === "gained" ? ["gained", "trained", "untrained"] : ["trained"];
    figure.gvFigure = Promise.all(kinds.map(function (k) { return GV.attention(source, k); })).then(function (got) {
      var data = got[0], n = data.tokens.length, off = (layer * data.heads + head) * n * n, w = data.weights;
      var best = 1;  /* the strongest line from [CLS] (the position the classifier reads) to a word */
      for (var j = 1; j < n - 1; j++) if (w[off + j] > w[off + best]) best = j;
      var to = "“" + data.tokens[best] + "”";
      if (kind === "layer") {
        return GV.drawView(view, data, { view: "model_view" }).then(function () {
          var g = view.gvModel, W = g.layout.W, thumbH = g.thumbH, thumbW = g.thumbW;
          var y = g.axis + layer * thumbH, x = g.axis + head * thumbW;
          annotate(view, [rect("ga-layer", g.axis - 4, y - 2, W - g.axis + 2, thumbH + 4),
                          rect("ga-head", x + 1, y + 3, thumbW - 8, thumbH - 6)]);
          if (note) note.textContent = "Marked in orange: a layer (the dashed row: layer " + layer + ", its " +
            data.heads + " heads, each a thumbnail of its lines) and a head (the box: " + where +
            ", the head fine-tuning changed most in this sentence). The fine-tuned model.";
          figure.setAttribute("data-drawn", "");
        });
      }
      var layout = compactLayout(data.tokens);
      return GV.drawView(view, data, { view: "head_view", layer: layer, heads: [head], controls: false,
                                       fit: 1.6, layout: layout }).then(function () {
        var V = view.gvHead.state().layout, x2 = V.BOX_W + V.MATRIX_W;
        var y1 = V.TOP + 0.5 * V.BOX_H, y2 = V.TOP + (best + 0.5) * V.BOX_H;
        view.gvHead.hover(0, 0);  /* only [CLS]'s lines */
        annotate(view, ['<line class="ga-line" x1="' + V.BOX_W + '" y1="' + y1 + '" x2="' + x2 + '" y2="' + y2 + '"/>',
                        rect("ga-token", 1, V.TOP + 1, V.BOX_W - 2, V.BOX_H - 2),
                        rect("ga-token", x2 + 1, V.TOP + best * V.BOX_H + 1, V.BOX_W - 2, V.BOX_H - 2)]);
        if (note) note.textContent = kind === "gained"
          ? "Attention gained by fine-tuning, " + where + ", the lines from [CLS]. Marked in orange: a gained line, " +
            "[CLS] → " + to + ": the fine-tuned model sends " + pct(got[1].weights[off + best], data.scale) +
            " of [CLS]'s attention there, the pretrained encoder " + pct(got[2].weights[off + best], data.scale) +
            "; the line's weight is the gain, " + Math.round(100 * w[off + best] / data.scale) + " points."
          : "The fine-tuned model, " + where + ", the lines from [CLS] (hover a token for its own). Marked in orange: " +
            "one line, [CLS] → " + to + ", the strongest: " + pct(w[off + best], data.scale) +
            " of [CLS]'s attention, so the darkest.";
        figure.setAttribute("data-drawn", "");
      });
    }).catch(function (err) { console.error(err); });
    return figure.gvFigure;
  }

  /* ------------------------------------------------------------ page */

  function start() {
    document.querySelectorAll(".gallery-compare").forEach(setupCompare);
    addViewExports();
    document.querySelectorAll(".gallery-figure[data-source]").forEach(function (figure) {
      GV.observe(figure, drawFigure);
    });
    if (parseHash()) {
      openFromHash(location.hash);
      /* again once the page has its final height (fonts, images above the block) */
      window.addEventListener("load", function () { openFromHash(location.hash); }, { once: true });
    }
  }

  GV.compare = { open: openFromHash,
    /* blocks and views a page added after it loaded (the live page): controls and exports */
    refresh: function () {
      document.querySelectorAll(".gallery-compare").forEach(setupCompare);
      addViewExports();
    },
    figures: function () {
    return Promise.all(Array.prototype.map.call(document.querySelectorAll(".gallery-figure[data-source]"), drawFigure));
  } };

  GV.onPage(start);
})();
