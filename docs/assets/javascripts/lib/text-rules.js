/* What a text may contain: the build's rules as data (attention_gallery/rules.json,
 * "text"; build/sentences.py check_text applies the same), worded as the build
 * words them. For the live page's box and ?text= alike.
 *
 * textChecker(rules) -> problems(text): the first problem (a message), or null. */

/* a regular expression matching one code point of [first, last] hex ranges */
function codeClass(ranges) {
  return new RegExp("[" + ranges.map((r) => "\\u{" + r[0] + "}-\\u{" + r[1] + "}").join("") + "]", "u");
}
function singles(codes) { return codes.map((c) => [c, c]); }
function fromHex(codes) { return codes.map((c) => String.fromCodePoint(parseInt(c, 16))); }

export function codepoint(ch) { return "U+" + ch.codePointAt(0).toString(16).toUpperCase().padStart(4, "0"); }

/* {at (1-based, in code points, as the build counts), ch, more} of the first character ``bad`` says, or null */
function firstBad(chars, bad) {
  let hits = 0, found = null;
  chars.forEach((ch, i) => { if (bad(ch)) { hits++; if (!found) found = { at: i + 1, ch }; } });
  if (found) found.more = hits > 1 ? " (and " + (hits - 1) + " more)" : "";
  return found;
}

export function textChecker(TEXT) {
  const LINE_BREAKS = {};
  Object.keys(TEXT.line_breaks.chars).forEach((c) => { LINE_BREAKS[fromHex([c])[0]] = TEXT.line_breaks.chars[c]; });
  const CONTROL = new RegExp("\\p{" + TEXT.controls.category + "}", "u"), CONTROL_ALLOWED = fromHex(TEXT.controls.allowed);
  const BIDI = codeClass(singles(TEXT.bidi_controls.chars));
  const NONCHARACTER = codeClass(TEXT.noncharacters.ranges), SURROGATE = codeClass(TEXT.surrogates.ranges);
  const READABLE = new RegExp("[" + TEXT.readable.categories.map((c) => "\\p{" + c + "}").join("") + "]", "u");
  const INVISIBLE = fromHex(TEXT.readable.invisible);

  return function problems(text) {
    if (text === "") return "text is empty";
    if (!text.trim()) return "text is blank (only whitespace)";
    const chars = Array.from(text);
    let f;
    if (!chars.some((ch) => READABLE.test(ch) && INVISIBLE.indexOf(ch) < 0)) {
      return "text has no visible characters; a sentence needs at least one letter, number, symbol or punctuation mark";
    }
    if (chars.length > TEXT.max_chars) {
      return "text is too long: " + chars.length + " characters; at most " + TEXT.max_chars +
        " are accepted (overlong sentences are refused, not truncated)";
    }
    if ((f = firstBad(chars, (ch) => ch in LINE_BREAKS))) {
      return "text must be a single line, but it has a line break (" + LINE_BREAKS[f.ch] + ") at character " + f.at +
        "; write the sentence on one line";
    }
    if ((f = firstBad(chars, (ch) => CONTROL.test(ch) && CONTROL_ALLOWED.indexOf(ch) < 0 && !(ch in LINE_BREAKS)))) {
      return "text contains a control character, " + codepoint(f.ch) + " at character " + f.at + f.more +
        "; only printable characters, spaces and tabs are allowed";
    }
    if ((f = firstBad(chars, (ch) => BIDI.test(ch)))) {
      return "text contains a bidirectional control character, " + codepoint(f.ch) + " at character " + f.at + f.more +
        "; it makes the page show the text in another order than the model reads it";
    }
    if ((f = firstBad(chars, (ch) => SURROGATE.test(ch)))) {
      return "text contains a lone surrogate (" + codepoint(f.ch) + ") at character " + f.at + ", which is not a valid character";
    }
    if ((f = firstBad(chars, (ch) => NONCHARACTER.test(ch)))) {
      return "text contains a noncharacter, " + codepoint(f.ch) + " at character " + f.at + f.more +
        "; noncharacters are not text (an exported SVG could not carry it): remove it";
    }
    return null;
  };
}
