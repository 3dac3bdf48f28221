/* Colours as numbers: hex to RGB, bertviz's lightening of an inactive head's square,
 * and the ink (black or white) that reads best on a colour. */

export function rgb(hex) {
  return [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)];
}

/* d3's hsl lightening in bertviz's head view */
export function lighten(hex) {
  const [r, g, b] = rgb(hex).map((c) => c / 255);
  const max = Math.max(r, g, b), min = Math.min(r, g, b), d = max - min;
  let l = (max + min) / 2, s = 0, h = 0;
  if (d) {
    s = l < 0.5 ? d / (max + min) : d / (2 - max - min);
    h = max === r ? (g - b) / d + (g < b ? 6 : 0) : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
    h *= 60;
  }
  const inc = (1 - l) * 0.6;
  l += inc;
  s = Math.max(0, s - inc);
  return "hsl(" + h + "," + (100 * s) + "%," + (100 * l) + "%)";
}

/* WCAG relative luminance */
export function luminance(hex) {
  return rgb(hex).map((c) => {
    c /= 255;
    return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  }).reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
}

/* black or white, whichever reads better on ``hex`` */
export function ink(hex) {
  const l = luminance(hex);
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? "#000" : "#fff";
}
