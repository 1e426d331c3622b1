// Commented words in a clause: the anchors of its open threads, drawn as CodeMirror marks.
//
// An anchor is a pair of Yjs relative positions in the clause's Y.Text (the contract of
// docs/protocol.md): the first commented character (assoc 0) and the last one (assoc -1),
// each base64 of Y.encodeRelativePosition. Relative positions name characters, not offsets,
// so the marks are computed again from them after every change of the text: they follow
// the words however anyone edits around them, and words typed just before or just after
// the range stay outside it. A range whose words were all deleted is empty ("detached"):
// it is not drawn (the panel shows its quote instead).
import { StateEffect, StateField } from "@codemirror/state";
import { Decoration, ViewPlugin } from "@codemirror/view";
import * as Y from "yjs";

/** Replace the clause's anchors: [{id, start, end}] with start/end as base64 strings. */
export const setAnchors = StateEffect.define();
/** The thread shown in the panel (drawn stronger), or null. */
export const setCurrentThread = StateEffect.define();

const anchorsField = StateField.define({
  create: () => ({ anchors: [], current: null }),
  update(value, transaction) {
    let next = value;
    for (const effect of transaction.effects) {
      if (effect.is(setAnchors)) next = { ...next, anchors: effect.value };
      if (effect.is(setCurrentThread)) next = { ...next, current: effect.value };
    }
    return next;
  },
});

export function toBase64(bytes) {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function fromBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The anchor of the characters [from, to) of `ytext`, as the server expects it. */
export function anchorOf(ytext, from, to) {
  const start = Y.createRelativePositionFromTypeIndex(ytext, from, 0);
  const end = Y.createRelativePositionFromTypeIndex(ytext, to, -1);
  return { start: toBase64(Y.encodeRelativePosition(start)), end: toBase64(Y.encodeRelativePosition(end)) };
}

/** Where one position is now in `ytext`, or null if this copy cannot tell (yet). */
function indexOf(encoded, ytext) {
  try {
    // Not following undone deletions: every copy, and the server, must agree on the range.
    const position = Y.createAbsolutePositionFromRelativePosition(
      Y.decodeRelativePosition(fromBase64(encoded)), ytext.doc, false);
    return position && position.type === ytext ? position.index : null;
  } catch {
    return null; // not base64, or not a relative position: nothing to draw
  }
}

/** [{id, from, to}] for the anchors whose words are still in the text, in text order. */
export function anchorRanges(ytext, anchors, length) {
  const ranges = [];
  for (const anchor of anchors) {
    const start = indexOf(anchor.start, ytext);
    const end = indexOf(anchor.end, ytext);
    if (start === null || end === null) continue;
    const from = Math.min(start, length);
    const to = Math.min(end, length);
    if (from < to) ranges.push({ id: anchor.id, from, to });
  }
  return ranges.sort((a, b) => a.from - b.from || a.to - b.to);
}

function mark(id, current) {
  return Decoration.mark({
    class: current ? "cm-discussion-anchor cm-discussion-anchor--current" : "cm-discussion-anchor",
    attributes: { "data-thread-id": String(id) },
  });
}

/**
 * @param {Y.Text} ytext the clause's text
 * @param {(threadId: number) => void} open shows a thread in the discussion panel
 * Must come after yCollab in the extensions, so that the Y.Text already holds a local
 * change when the marks are computed for it.
 */
export function discussionAnchors(ytext, open) {
  const build = (view) => {
    const { anchors, current } = view.state.field(anchorsField);
    if (anchors.length === 0) return Decoration.none;
    const ranges = anchorRanges(ytext, anchors, view.state.doc.length);
    return Decoration.set(ranges.map(({ id, from, to }) => mark(id, id === current).range(from, to)), true);
  };
  const plugin = ViewPlugin.fromClass(
    class {
      constructor(view) {
        this.decorations = build(view);
      }

      update(update) {
        const told = update.transactions.some((tr) =>
          tr.effects.some((effect) => effect.is(setAnchors) || effect.is(setCurrentThread)));
        if (update.docChanged || told) this.decorations = build(update.view);
      }
    },
    {
      decorations: (value) => value.decorations,
      eventHandlers: {
        // A click (not a drag that selects words) on commented words opens their thread.
        click(event, view) {
          const marked = /** @type {HTMLElement | null} */ (/** @type {Element | null} */ (event.target)?.closest?.(".cm-discussion-anchor"));
          if (!marked || !view.contentDOM.contains(marked) || !view.state.selection.main.empty) return false;
          open(Number(marked.dataset.threadId));
          return false;
        },
      },
    },
  );
  return [anchorsField, plugin];
}

/** The thread whose commented words hold `pos` (the innermost, if they nest), or null. */
export function threadAt(view, ytext, pos) {
  const { anchors } = view.state.field(anchorsField);
  const ranges = anchorRanges(ytext, anchors, view.state.doc.length).filter((r) => r.from <= pos && pos <= r.to);
  ranges.sort((a, b) => a.to - a.from - (b.to - b.from));
  return ranges[0]?.id ?? null;
}
