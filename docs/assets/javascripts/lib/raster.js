/* Rasterising attention lines: every line that does not round to zero,
 * anti-aliased, overlapping lines composed as SVG strokes are (the views' pictures,
 * drawn in the raster worker, or on the main thread for hover and the detail panel;
 * the PNG export's thumbnails). Pure: typed arrays in, typed arrays out. */

/* ---------------------------------------------------------- lines
 * Device pixels throughout. A line k runs from (X1, ya) to (X2, yb) with opacity
 * a; it is 2 * half wide. Per pixel column it covers the strip of its vertical
 * thickness (half * sqrt(1 + slope^2) each side of its centre); lines of one
 * colour compose as SVG strokes do: alpha = 1 - prod(1 - a * coverage).
 *
 * lineBundle() works one column at a time, O(1) per line and column: the two
 * partly covered end rows multiply the transmission T, and the fully covered rows
 * between add log(1 - a) to a difference array D, summed down the column and
 * exponentiated once per pixel (a line crosses up to tens of rows of a column
 * when it is steep; this touches two). Within one level of 255 of drawing every
 * pixel of every line. */

var scratch = { P: new Float64Array(0), T: new Float64Array(0), D: new Float64Array(0), out: new Float32Array(0),
                lines: new Float64Array(0) };
function grow(name, size, Type) {
  if (scratch[name].length < size) scratch[name] = new Type(size);
  return scratch[name];
}

/* Transmission of lines (Float64Array of ya, yb, a triples; m lines) over the
   columns covering [X1, X2]: returns {T: Float32Array(cols * rows), column-major,
   c0: first column, cols}; T is scratch, valid until the next call. */
export function lineBundle(lines, m, X1, X2, rows, half) {
  var c0 = Math.floor(X1), cols = Math.ceil(X2) - c0, span = X2 - X1, c, k;
  if (half < 0.51) half = 0.51;  /* thinner than a pixel: drawn a pixel wide, fainter */
  var maxSlope = 0;
  for (k = 0; k < m; k++) maxSlope = Math.max(maxSlope, Math.abs(lines[3 * k + 1] - lines[3 * k]) / span);
  var PAD = Math.ceil(half * Math.sqrt(1 + maxSlope * maxSlope)) + 2, HP = rows + 2 * PAD + 2;
  var P = grow("P", 5 * m, Float64Array), n5 = 0;
  for (k = 0; k < m; k++) {
    var ya = lines[3 * k], slope = (lines[3 * k + 1] - ya) / span, a = lines[3 * k + 2];
    if (a > 1) a = 1;
    P[n5] = ya + PAD; P[n5 + 1] = slope; P[n5 + 2] = half * Math.sqrt(1 + slope * slope);
    P[n5 + 3] = a; P[n5 + 4] = Math.log(1 - a > 1e-9 ? 1 - a : 1e-9);
    n5 += 5;
  }
  var T = grow("T", HP, Float64Array), D = grow("D", HP, Float64Array);
  var out = grow("out", cols * rows, Float32Array);
  for (c = 0; c < cols; c++) {
    var left = Math.max(c0 + c, X1), right = Math.min(c0 + c + 1, X2);
    var cover = right > left ? right - left : 0, d = Math.min(Math.max(c0 + c + 0.5, X1), X2) - X1;
    var o = c * rows, acc = 0, row;
    if (!cover) { out.fill(1, o, o + rows); continue; }
    for (row = 0; row < HP; row++) { T[row] = 1; D[row] = 0; }
    /* (rb > rt below: lines are over a pixel thick) */
    if (cover < 1) {  /* an end column: partly covered, opacity scaled */
      for (k = 0; k < n5; k += 5) {
        var y = P[k] + P[k + 1] * d, hw = P[k + 2], top = y - hw, bottom = y + hw, ac = P[k + 3] * cover;
        var rt = top | 0, rb = bottom | 0, lf = Math.log(1 - ac > 1e-9 ? 1 - ac : 1e-9);
        T[rt] *= 1 - ac * (rt + 1 - top);
        T[rb] *= 1 - ac * (bottom - rb);
        D[rt + 1] += lf; D[rb] -= lf;
      }
    } else {  /* the hot loop */
      for (k = 0; k < n5; k += 5) {
        var y1 = P[k] + P[k + 1] * d, hw1 = P[k + 2], top1 = y1 - hw1, bottom1 = y1 + hw1, a1 = P[k + 3];
        var rt1 = top1 | 0, rb1 = bottom1 | 0, lf1 = P[k + 4];
        T[rt1] *= 1 - a1 * (rt1 + 1 - top1);
        T[rb1] *= 1 - a1 * (bottom1 - rb1);
        D[rt1 + 1] += lf1; D[rb1] -= lf1;
      }
    }
    for (row = 0; row < PAD; row++) acc += D[row];
    for (row = 0; row < rows; row++) {
      acc += D[row + PAD];
      out[o + row] = acc === 0 ? T[row + PAD] : T[row + PAD] * Math.exp(acc);
    }
  }
  return { T: out, c0: c0, cols: cols, rows: rows };
}

/* ---------------------------------------------------------- weight to opacity
 * One stated mapping for every view the site draws (views.json "opacity", which the
 * block's legend states): linear from 0 to at_knee at weight knee, then linear to 1
 * at weight 1. With knee 0.33 and at_knee 0.85, every palette colour at a weight of
 * 0.33 or more has at least 3:1 contrast with the views' white and black
 * (tests/test_views.py). bertviz's own mapping is opacity = weight. */
export function opacity(weight, ramp) {
  if (!(weight > 0)) return 0;
  if (weight >= 1) return 1;
  var k = ramp.knee, a = ramp.at_knee;
  return weight <= k ? a * (weight / k) : a + (1 - a) * ((weight - k) / (1 - k));
}

var levelTables = {};
/* the opacity of each stored level 0 .. scale of a blob's weights (level / scale = weight) */
export function opacityLevels(scale, ramp) {
  var key = scale + " " + ramp.knee + " " + ramp.at_knee;
  if (!levelTables[key]) {
    var t = new Float64Array(scale + 1);
    for (var i = 0; i <= scale; i++) t[i] = opacity(i / scale, ramp);
    levelTables[key] = t;
  }
  return levelTables[key];
}

/* The lines of head block ``offset`` of w (n x n, query-major), from query
   y0 + (i + .5) step on the left to key y0 + (j + .5) step on the right, opacity
   alpha * op[w] (op: opacityLevels()); ``rows``/``cols``: which queries and keys (null: all). */
export function headLines(w, offset, n, op, y0, step, alpha, rows, cols) {
  var ri = rows || null, cj = cols || null, nr = ri ? ri.length : n, nc = cj ? cj.length : n;
  var lines = grow("lines", 3 * nr * nc, Float64Array), m = 0;
  for (var ii = 0; ii < nr; ii++) {
    var i = ri ? ri[ii] : ii, base = offset + i * n, ya = y0 + (i + 0.5) * step;
    for (var jj = 0; jj < nc; jj++) {
      var j = cj ? cj[jj] : jj, a = w[base + j];
      if (!a) continue;
      lines[3 * m] = ya; lines[3 * m + 1] = y0 + (j + 0.5) * step; lines[3 * m + 2] = alpha * op[a];
      m++;
    }
  }
  return { lines: lines, m: m };
}

/* One colour's lines (b, from lineBundle) onto an image ``width`` pixels wide:
   straight into RGBA bytes where nothing else overlaps them (model-view
   thumbnails, the detail panel), or, ``over`` set, over premultiplied RGBA floats
   (the head view: head over head, as SVG groups are; toImage() makes bytes). */
export function paint(out, width, b, rgb, over) {
  var T = b.T, rows = b.rows, r = rgb[0], g = rgb[1], bl = rgb[2];
  for (var c = 0; c < b.cols; c++) {
    var x = b.c0 + c;
    if (x < 0 || x >= width) continue;
    for (var row = 0, o = c * rows, p = 4 * x; row < rows; row++, p += 4 * width) {
      var t = T[o + row];
      if (t >= 1) continue;
      var s = 1 - t;
      if (over) {
        out[p] = out[p] * t + r * s; out[p + 1] = out[p + 1] * t + g * s;
        out[p + 2] = out[p + 2] * t + bl * s; out[p + 3] = out[p + 3] * t + s;
      } else {
        out[p] = r; out[p + 1] = g; out[p + 2] = bl; out[p + 3] = s * 255 + 0.5;
      }
    }
  }
}

export function toImage(acc, img) {
  for (var p = 0; p < acc.length; p += 4) {
    var a = acc[p + 3];
    if (a <= 0) continue;
    img[p] = acc[p] / a + 0.5; img[p + 1] = acc[p + 1] / a + 0.5; img[p + 2] = acc[p + 2] / a + 0.5;
    img[p + 3] = a * 255 + 0.5;
  }
  return img;
}

/* ---------------------------------------------------------- views' pictures
 * Geometry comes from the page (view units x r device pixels a unit). */

/* One layer row of a model view: H thumbnails side by side. g: {width, height
   (device px), r, axis, thumbW, pad, boxH, n, H, scale, ramp}. */
export function modelLayer(w, g, layer, rgb) {
  var img = new Uint8ClampedArray(g.width * g.height * 4), n = g.n, r = g.r, op = opacityLevels(g.scale, g.ramp);
  for (var h = 0; h < g.H; h++) {
    var x1 = g.axis + h * g.thumbW + g.pad;
    var L = headLines(w, (layer * g.H + h) * n * n, n, op, g.pad * r, g.boxH * r, 1, null, null);
    paint(img, g.width, lineBundle(L.lines, L.m, x1 * r, (x1 + g.thumbW - 14) * r, g.height, 1.1 * r), rgb, false);
  }
  return img;
}

/* The head view's lines for one layer: every line of the active heads (or only
   those of one token), head over head, on the strip between the two columns of
   tokens. g: {sx: the strip's first device column, sw: its width, height, r, x1,
   x2, top, step, n, H, scale, ramp} (x1, x2, top, step in view units; ramp: views.json opacity); colors: one per
   head; active: booleans; only: {side, index}. */
export function headPicture(w, g, layer, active, colors, only) {
  var n = g.n, r = g.r, k = 0, h, op = opacityLevels(g.scale, g.ramp);
  for (h = 0; h < g.H; h++) if (active[h]) k++;
  var acc = new Float32Array(g.sw * g.height * 4), single = only ? [only.index] : null;
  for (h = 0; h < g.H; h++) {
    if (!active[h]) continue;
    var L = headLines(w, (layer * g.H + h) * n * n, n, op, g.top * r, g.step * r, 1 / k,
                      only && only.side === 0 ? single : null, only && only.side === 1 ? single : null);
    if (L.m) paint(acc, g.sw, lineBundle(L.lines, L.m, g.x1 * r - g.sx, g.x2 * r - g.sx, g.height, r), colors[h], true);
  }
  return toImage(acc, new Uint8ClampedArray(acc.length));
}

/* One head's lines (the model view's detail panel; ``only``: one query's). */
export function detailPicture(w, g, offset, rgb, only) {
  var img = new Uint8ClampedArray(g.width * g.height * 4), r = g.r;
  var L = headLines(w, offset, g.n, opacityLevels(g.scale, g.ramp), 0, g.step * r, 1, only === null ? null : [only], null);
  if (L.m) paint(img, g.width, lineBundle(L.lines, L.m, 0, g.width, g.height, 1.1 * r), rgb, false);
  return img;
}

/* The lines of one model-view thumbnail (or its detail; ``only``: one query's
   lines; op: opacityLevels()), rasterised here into an ImageData: a
   canvas stroke costs 10-30 us a line in software rendering, this about 1. Each
   line is 2.2 units wide (bertviz's stroke) from (x1, y1 + (i + .5) step) to
   (x2, y1 + (j + .5) step); per pixel column it covers the strip of its vertical
   thickness, and overlapping lines compose as SVG's strokes of one colour do:
   alpha = 1 - prod(1 - weight * coverage). */
export function thumbnail(ctx, w, offset, n, op, x1, x2, y1, step, rgb, only) {
  var r = ctx.ratio, X1 = x1 * r, X2 = x2 * r, c0 = Math.floor(X1), cols = Math.ceil(X2) - c0;
  var height = ctx.canvas.height, T = new Float32Array(cols * height).fill(1);
  var span = X2 - X1, half = 1.1 * r, cover = new Float32Array(cols), dist = new Float32Array(cols), c;
  for (c = 0; c < cols; c++) {
    cover[c] = Math.max(0, Math.min(c0 + c + 1, X2) - Math.max(c0 + c, X1));
    dist[c] = Math.min(Math.max(c0 + c + 0.5, X1), X2) - X1;
  }
  for (var i = only === undefined ? 0 : only; i < (only === undefined ? n : only + 1); i++) {
    var ya = (y1 + (i + 0.5) * step) * r, base = offset + i * n;
    for (var j = 0; j < n; j++) {
      var a = w[base + j];
      if (!a) continue;
      a = op[a];
      var slope = ((y1 + (j + 0.5) * step) * r - ya) / span, hw = half * Math.sqrt(1 + slope * slope);
      for (c = 0; c < cols; c++) {
        var y = ya + slope * dist[c], top = y - hw, bottom = y + hw, ac = a * cover[c];
        var row = top < 0 ? 0 : top | 0, last = bottom >= height ? height - 1 : bottom | 0;
        for (; row <= last; row++) {
          T[row * cols + c] *= 1 - ac * ((bottom < row + 1 ? bottom : row + 1) - (top > row ? top : row));
        }
      }
    }
  }
  var img = ctx.createImageData(cols, height), d = img.data;
  for (var k = 0, p = 0; k < T.length; k++, p += 4) {
    if (T[k] >= 1) continue;
    d[p] = rgb[0]; d[p + 1] = rgb[1]; d[p + 2] = rgb[2]; d[p + 3] = (1 - T[k]) * 255 + 0.5;
  }
  ctx.putImageData(img, c0, 0);
}
