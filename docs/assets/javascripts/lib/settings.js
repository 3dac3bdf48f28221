/* The views' settings: palette, titles and labels (attention_gallery/views.json, the
 * one source the Python side reads too). A page carries them in
 *   <script type="application/json" id="gallery-settings">
 * (written by the theme); tests hand them over with useSettings(). */

let current = null;

export function useSettings(value) {
  current = value;
  return current;
}

export function settings() {
  if (current) return current;
  const node = typeof document === "undefined" ? null : document.getElementById("gallery-settings");
  if (!node) throw new Error("gallery: this page has no #gallery-settings");
  return useSettings(JSON.parse(node.textContent));
}

/* the colour of head (or layer) ``i``: the palette taken in turn */
export function colourOf(i, palette = settings().palette) {
  return palette[((i % palette.length) + palette.length) % palette.length];
}

export function title(kind) {
  return settings().titles[kind] || kind;
}

export function panelTitle(kind) {
  return settings().panel_titles[kind] || title(kind);
}
