// Text still in square brackets: what the group has not agreed yet, highlighted as it is
// typed. The rule is drafting/brackets.py's, line by line (the server marks the same
// passages with <mark> and refuses to put them to a vote): a "[" with its matching "]",
// the outermost of nested ones; not a link or image "[text](address)" (its text is still
// read), not an escaped "\[", not inside a code span, and not across a blank line.
import { RangeSetBuilder } from "@codemirror/state";
import { Decoration, ViewPlugin } from "@codemirror/view";

/** @param {string} text @param {number} index */
function escaped(text, index) {
  let count = 0;
  while (index - count - 1 >= 0 && text[index - count - 1] === "\\") count += 1;
  return count % 2 === 1;
}

/** The index after the code span opening at `index`, or null. @param {string} text @param {number} index */
function codeSpanEnd(text, index) {
  let run = 0;
  while (index + run < text.length && text[index + run] === "`") run += 1;
  const fence = "`".repeat(run);
  let search = index + run;
  for (;;) {
    const found = text.indexOf(fence, search);
    if (found < 0) return null;
    let after = found + run;
    if (after < text.length && text[after] === "`") {
      while (after < text.length && text[after] === "`") after += 1;
      search = after;
      continue;
    }
    return after;
  }
}

/** @param {string} text @param {number} index */
function blankLineAt(text, index) {
  if (text[index] !== "\n") return false;
  let following = index + 1;
  while (following < text.length && (text[following] === " " || text[following] === "\t")) following += 1;
  return following >= text.length || text[following] === "\n";
}

/** @param {string} text @param {number} index @param {string} open @param {string} close */
function closing(text, index, open, close) {
  let depth = 0;
  let position = index;
  while (position < text.length) {
    const char = text[position];
    if (char === "`") {
      const end = codeSpanEnd(text, position);
      if (end !== null) {
        position = end;
        continue;
      }
      while (position < text.length && text[position] === "`") position += 1;
      continue;
    }
    if (char === "\n" && blankLineAt(text, position)) return null;
    if (char === "\\") {
      position += 2;
      continue;
    }
    if (char === open) depth += 1;
    else if (char === close) {
      depth -= 1;
      if (depth === 0) return position;
    }
    position += 1;
  }
  return null;
}

/**
 * What the "[" at `index` opens: {end, linkTextEnd: null} for a passage ending before
 * `end`, {end, linkTextEnd} for a link; null for a stray or escaped bracket.
 * @param {string} text @param {number} index
 */
function bracketAt(text, index) {
  if (text[index] !== "[" || escaped(text, index)) return null;
  const close = closing(text, index, "[", "]");
  if (close === null) return null;
  if (close + 1 < text.length && text[close + 1] === "(") {
    const addressEnd = closing(text, close + 1, "(", ")");
    if (addressEnd !== null) return { end: addressEnd + 1, linkTextEnd: close };
  }
  return { end: close + 1, linkTextEnd: null };
}

/**
 * The passages of a text still in square brackets, as [start, end) offsets, in order.
 * @param {string} text
 * @returns {Array<{from: number, to: number}>}
 */
export function unagreedPassages(text) {
  /** @type {Array<{from: number, to: number}>} */
  const found = [];
  let position = 0;
  while (position < text.length) {
    const char = text[position];
    if (char === "`") {
      const end = codeSpanEnd(text, position);
      position = end !== null ? end : position + 1;
      continue;
    }
    if (char === "\\") {
      position += 2;
      continue;
    }
    if (char !== "[") {
      position += 1;
      continue;
    }
    const opened = bracketAt(text, position);
    if (opened === null) {
      position += 1;
      continue;
    }
    if (opened.linkTextEnd === null) {
      found.push({ from: position, to: opened.end });
    } else {
      const offset = position + 1;
      for (const inner of unagreedPassages(text.slice(offset, opened.linkTextEnd))) {
        found.push({ from: inner.from + offset, to: inner.to + offset });
      }
    }
    position = opened.end;
  }
  return found;
}

const unagreedMark = Decoration.mark({ class: "cm-unagreed" });

/** @param {import("@codemirror/view").EditorView} view */
function decorations(view) {
  // A clause is short (the server's limit): read whole, since a passage may begin before
  // the visible part.
  /** @type {RangeSetBuilder<Decoration>} */
  const builder = new RangeSetBuilder();
  for (const { from, to } of unagreedPassages(view.state.doc.toString())) builder.add(from, to, unagreedMark);
  return builder.finish();
}

/** The CodeMirror extension that highlights unagreed passages as they are typed. */
export const unagreedHighlight = ViewPlugin.fromClass(
  class {
    /** @param {import("@codemirror/view").EditorView} view */
    constructor(view) {
      this.decorations = decorations(view);
    }

    /** @param {import("@codemirror/view").ViewUpdate} update */
    update(update) {
      if (update.docChanged) this.decorations = decorations(update.view);
    }
  },
  { decorations: (plugin) => plugin.decorations },
);
