/* The few DOM helpers the views share. */

var SVGNS = "http://www.w3.org/2000/svg";

export function svg(tag, attrs, parent) {
  var el = document.createElementNS(SVGNS, tag);
  for (var k in attrs) el.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(el);
  return el;
}

export function text(parent, value, attrs) {
  var el = svg("text", attrs, parent);
  el.textContent = value;
  return el;
}

export function dpr() { return Math.min(window.devicePixelRatio || 1, 2); }

/* A canvas of width x height device pixels. */
export function canvas(parent, width, height, cls) {
  var c = document.createElement("canvas");
  c.width = width;
  c.height = height;
  c.className = cls || "";
  parent.appendChild(c);
  return c;
}

/* Show a picture from the core (an ImageBitmap, or RGBA bytes) on a canvas. */
export function show(c, msg) {
  if (msg.bitmap) {
    var br = c._gvBitmap || (c._gvBitmap = c.getContext("bitmaprenderer"));
    if (br) { br.transferFromImageBitmap(msg.bitmap); return; }
    var ctx2 = c.getContext("2d");
    ctx2.clearRect(0, 0, c.width, c.height);
    ctx2.drawImage(msg.bitmap, 0, 0);
    msg.bitmap.close();
    return;
  }
  var ctx = c.getContext("2d");
  ctx.putImageData(new ImageData(msg.data, msg.width, msg.height), 0, 0);
}

/* Place a box given in view units (of a W x H view that scales) in percent. */
export function place(el, x, y, w, h, W, H) {
  el.style.left = (100 * x / W) + "%";
  el.style.top = (100 * y / H) + "%";
  el.style.width = (100 * w / W) + "%";
  el.style.height = (100 * h / H) + "%";
}

export function range(n) {
  var out = [];
  for (var i = 0; i < n; i++) out.push(i);
  return out;
}

/* Rows of a view (``count`` rows of ``each`` view units from ``top``, the view's top
   at ``y`` px on screen, ``scale`` px a unit) in the order a reader sees them: the
   ones in the viewport first, then the nearest. */
export function nearestFirst(y, scale, count, top, each) {
  var vh = window.innerHeight || 800, order = [];
  for (var l = 0; l < count; l++) {
    var y0 = y + (top + l * each) * scale, y1 = y0 + each * scale;
    order.push([y1 < 0 ? -y1 : y0 > vh ? y0 - vh : -1, l]);
  }
  order.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
  return order.map(function (x) { return x[1]; });
}

/* a placeholder no longer keeps the room of the view it waited for */
export function unreserve(el) {
  el.style.minHeight = el.style.aspectRatio = el.style.maxWidth = "";
}

/* An HTML element with attributes (and text), appended to ``parent``. */
export function element(tag, attrs, parent, text) {
  var node = document.createElement(tag);
  for (var k in attrs || {}) node.setAttribute(k, attrs[k]);
  if (text !== undefined) node.textContent = text;
  if (parent) parent.appendChild(node);
  return node;
}
