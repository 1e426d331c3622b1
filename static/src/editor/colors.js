// A participant's colour as a class, never as a style attribute.
//
// The CSP is `style-src 'self'`, which refuses style attributes written into markup or set
// with setAttribute("style", ...). Rules in a constructed stylesheet (the CSSOM, as
// CodeMirror itself uses) are allowed, so each colour seen gets one rule:
//   .user-color-1d4f91 { --user-color: #1d4f91; --user-color-light: #1d4f9133; --user-color-text: #fff }
// and the stylesheets use var(--user-color). Colours come from the server (it stamps them
// into awareness) but are still checked before they reach CSS text.

const HEX = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i;
const FALLBACK = "#6b7483";
const known = new Set();
let sheet = null;

function normalise(color) {
  if (typeof color !== "string" || !HEX.test(color)) return FALLBACK;
  let hex = color.slice(1).toLowerCase();
  if (hex.length === 3) hex = [...hex].map((c) => c + c).join("");
  return `#${hex}`;
}

/** Black or white text, whichever reads better on `hex` (WCAG relative luminance). */
function textOn(hex) {
  const channel = (i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
  // Contrast with white (1.05 / (L + 0.05)) against contrast with black ((L + 0.05) / 0.05).
  return 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.05 ? "#ffffff" : "#000000";
}

function addRule(rule) {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  }
  sheet.insertRule(rule, sheet.cssRules.length);
}

/** The class that sets --user-color (and its light and text variants) to `color`. */
export function colorClass(color) {
  const hex = normalise(color);
  const name = `user-color-${hex.slice(1)}`;
  if (!known.has(name)) {
    known.add(name);
    addRule(`.${name} { --user-color: ${hex}; --user-color-light: ${hex}33; --user-color-text: ${textOn(hex)}; }`);
  }
  return name;
}

/** A stable colour for an id, for our own entry when the page did not give one. */
export function colorForId(id) {
  const palette = ["#1d4f91", "#86204f", "#0c5550", "#5b2a91", "#6a3911", "#323b8f", "#17592c", "#704400"];
  return palette[Math.abs(Number(id) || 0) % palette.length];
}
