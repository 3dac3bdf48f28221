/* Exports for slides: every view gets a "PNG" button (drawn again from its data at
 * twice its size, with its title) and head views an "SVG" button: a real SVG, one
 * <line> per weight, written from the data. Pictures use the views' layout and
 * palette (lib/settings.js). */

import { rgb } from "./colour.js";
import { element as el } from "./dom.js";
import { naturalWidth } from "./head-view.js";
import { MODEL } from "./model-view.js";
import { opacityLevels, thumbnail } from "./raster.js";
import { colourOf, settings, title as titleOf } from "./settings.js";
import { attention } from "./views.js";
import { sourceFor } from "./blob.js";

export var FONT = '"Helvetica Neue", Helvetica, Arial, sans-serif';

var measurer = null;
export function textWidth(value, px, bold) {
  measurer = measurer || document.createElement("canvas").getContext("2d");
  measurer.font = (bold ? "bold " : "") + px + "px " + FONT;
  return measurer.measureText(value).width;
}


export function slugOf(source) { return String(source || "view").replace(/^attention-/, ""); }

function download(blob, name) {
  var a = el("a", { href: URL.createObjectURL(blob), download: name });
  a.style.display = "none";
  document.body.appendChild(a);
  a.click();
  setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

export function palette(node) {
  var style = getComputedStyle(node), body = getComputedStyle(document.body);
  return { text: style.color, bg: body.backgroundColor || "#fff" };
}

/* Text in an exported SVG: escaped, and without what XML 1.0 cannot carry (controls
   but tab and line breaks, lone surrogates, U+FFFE, U+FFFF): one such character makes
   the whole file unreadable. */
var NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
export function xml(value) {
  return String(value).replace(NOT_XML, "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/* ------------------------------------------------------------ pictures */

/* A picture's title: the first line bold 15 px, the others 13 px, each wrapped to
   ``width``. {lines: [{text, size, bold, y (baseline)}], height} */
export function titleBlock(titles, width) {
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

export function paintTitle(ctx, block, x, y) {
  ctx.textAlign = "left";
  ctx.textBaseline = "alphabetic";
  block.lines.forEach(function (l) {
    ctx.font = (l.bold ? "bold " : "") + l.size + "px " + FONT;
    ctx.fillText(l.text, x, y + l.y);
  });
}

/* A head view as a picture: title lines, tokens, one line per weight of the shown
   heads (bertviz's layout and colours, opacity weight / number of heads). */
export function headPicture(data, state, titles) {
  var V = state.layout, n = data.tokens.length, pad = 10, width = naturalWidth(V) + 2 * pad;
  var title = titleBlock(titles, width - 2 * pad), top = pad + title.height, height = top + n * V.BOX_H + pad;
  var x1 = pad + V.BOX_W, x2 = x1 + V.MATRIX_W, k = state.heads.length, w = data.weights;
  var op = opacityLevels(data.scale, settings().opacity);

  function each(fn) {  /* fn(head, i, j, opacity) for every weight that is not zero */
    var H = data.heads;
    state.heads.forEach(function (h) {
      var off = (state.layer * H + h) * n * n;
      for (var i = 0; i < n; i++) {
        for (var j = 0; j < n; j++) {
          var a = w[off + i * n + j];
          if (a) fn(h, i, j, op[a] / k);
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
        ctx.strokeStyle = colourOf(h);
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
                 colourOf(h) + '" stroke-opacity="' + a.toFixed(3) + '"/>');
      });
      out.push("</g></svg>\n");
      return out.join("\n");
    }
  };
}

/* A model view as a picture (PNG only: it has up to 72 n^2 lines), thumbnails
   rasterised as the view does, labels as in the view. */
export function modelPicture(data, titles) {
  var M = MODEL, n = data.tokens.length, L = data.layers, H = data.heads;
  var axis = M.HEADING_TEXT + M.HEADING_PAD + M.TEXT + M.TEXT_PAD;
  var boxH = 7 * (12 / H), thumbH = n * boxH + 2 * M.PAD, thumbW = (M.W - axis) / H;
  var title = titleBlock(titles, M.W - 20), titleH = title.height + 10, width = M.W;
  var height = titleH + L * thumbH + axis + 10, op = opacityLevels(data.scale, settings().opacity);
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
          thumbnail(rctx, data.weights, (l * H + h) * n * n, n, op, x1, x1 + thumbW - 14, M.PAD,
                      boxH, rgb(colourOf(l)));
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

export function savePNG(picture, colors, name) {
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

export function sentence() {
  var node = document.querySelector(".gallery-text");
  return node ? node.textContent.trim() : "";
}

/* The PNG (and SVG) buttons of one view. ``what`` () -> {data, picture title lines,
   state (head views), name}. */
export function exportButtons(parent, label, what, svgToo) {
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
export function addViewExports() {
  document.querySelectorAll(".gallery-bertviz[data-view]").forEach(function (view) {
    if (view.closest(".gallery-compare") || view.hasAttribute("data-export")) return;
    view.setAttribute("data-export", "");
    var frame = view.closest(".gallery-view-frame") || view;
    var caption = frame.previousElementSibling;
    if (!caption || !caption.classList.contains("gallery-view-caption")) return;
    var kind = view.getAttribute("data-attention"), isHead = view.getAttribute("data-view") === "head_view";
    var title = caption.textContent.trim();
    exportButtons(caption, (isHead ? "head view" : "model view") + " of the " + titleOf(kind), function () {
      var measure = view.getAttribute("data-measure") || "weights";
      return attention(sourceFor(view.getAttribute("data-source"), measure), kind).then(function (data) {
        var state = isHead && view.gvHead ? view.gvHead.state() : null;
        var name = slugOf(view.getAttribute("data-source")) + "-" + (isHead ? "head" : "model") + "-view-" + kind + (measure === "weights" ? "" : "-" + measure);
        return { data: data, state: state, titles: [title, sentence()], name: name };
      });
    }, isHead);
  });
}
