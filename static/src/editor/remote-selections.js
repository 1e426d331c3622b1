// Other people's cursors and selections in one clause, from its Awareness.
//
// The same behaviour as y-codemirror.next's yRemoteSelections (which yCollab adds when it is
// given an awareness), with these differences:
// - colours are classes (colors.js), because y-codemirror.next writes them as style
//   attributes with setAttribute, which our CSP (style-src 'self') refuses: carets and
//   name labels would be drawn without colour;
// - the look is in editor.css (the .cm-ySelection* classes), not in a CodeMirror theme,
//   whose generated <style> element the CSP refuses too;
// - our cursor is withdrawn when the editor loses focus, so others see where we are
//   working, not where we last were.
// Our own cursor goes into the awareness state as {anchor, head} relative positions, which
// is what y-codemirror.next peers expect too.
import { RangeSet } from "@codemirror/state";
import { Decoration, ViewPlugin, WidgetType } from "@codemirror/view";
import * as Y from "yjs";

import { colorClass } from "./colors.js";

class RemoteCaret extends WidgetType {
  constructor(color, name) {
    super();
    this.color = color;
    this.name = name;
  }

  toDOM() {
    const caret = document.createElement("span");
    caret.className = `cm-ySelectionCaret ${colorClass(this.color)}`;
    const dot = document.createElement("span");
    dot.className = "cm-ySelectionCaretDot";
    const info = document.createElement("span");
    info.className = "cm-ySelectionInfo";
    info.textContent = this.name; // a name is text, never markup
    caret.append("\u2060", dot, "\u2060", info, "\u2060");
    return caret;
  }

  eq(other) {
    return other.color === this.color && other.name === this.name;
  }

  get estimatedHeight() {
    return -1;
  }

  ignoreEvent() {
    return true;
  }
}

function selectionMark(color) {
  return Decoration.mark({ class: `cm-ySelection ${colorClass(color)}` });
}

function selectionLine(color) {
  return Decoration.line({ class: `cm-yLineSelection ${colorClass(color)}` });
}

/**
 * @param {Y.Text} ytext
 * @param {import("y-protocols/awareness").Awareness} awareness
 */
export function remoteSelections(ytext, awareness) {
  const plugin = ViewPlugin.fromClass(
    class {
      constructor(view) {
        this.decorations = RangeSet.empty;
        this.alive = true;
        this.listener = ({ added, updated, removed }) => {
          const others = added.concat(updated, removed).some((id) => id !== awareness.clientID);
          // Redraw from a fresh view update; dispatching inside an update is not allowed.
          if (others) queueMicrotask(() => this.alive && view.dispatch({}));
        };
        awareness.on("change", this.listener);
      }

      destroy() {
        this.alive = false;
        awareness.off("change", this.listener);
      }

      update(update) {
        this.publishOwnCursor(update);
        this.decorations = this.build(update.view);
        // A name near the right edge would be cut off by the editor's box: it hangs to the
        // left of its caret instead. Measured after every update, since CodeMirror moves an
        // unchanged caret widget rather than drawing it again.
        update.view.requestMeasure({
          read: (view) => {
            const right = view.scrollDOM.getBoundingClientRect().right - 2;
            return [...view.contentDOM.querySelectorAll(".cm-ySelectionInfo")].map((info) => {
              info.classList.remove("cm-ySelectionInfo--left");
              return [info, info.getBoundingClientRect().right > right];
            });
          },
          write: (placements) => {
            for (const [info, left] of placements) info.classList.toggle("cm-ySelectionInfo--left", left);
          },
        });
      }

      publishOwnCursor(update) {
        const local = awareness.getLocalState();
        if (local === null) return;
        const focused = update.view.hasFocus && update.view.dom.ownerDocument.hasFocus();
        if (!focused) {
          if (local.cursor != null && update.focusChanged) awareness.setLocalStateField("cursor", null);
          return;
        }
        const { anchor: a, head: h } = update.state.selection.main;
        const anchor = Y.createRelativePositionFromTypeIndex(ytext, a);
        const head = Y.createRelativePositionFromTypeIndex(ytext, h);
        const current = local.cursor;
        if (
          current == null ||
          !Y.compareRelativePositions(Y.createRelativePositionFromJSON(current.anchor), anchor) ||
          !Y.compareRelativePositions(Y.createRelativePositionFromJSON(current.head), head)
        ) {
          awareness.setLocalStateField("cursor", { anchor, head });
        }
      }

      build(view) {
        const ydoc = ytext.doc;
        const decorations = [];
        awareness.getStates().forEach((state, clientId) => {
          if (clientId === awareness.clientID) return;
          const cursor = state.cursor;
          if (cursor?.anchor == null || cursor?.head == null) return;
          const anchor = Y.createAbsolutePositionFromRelativePosition(cursor.anchor, ydoc);
          const head = Y.createAbsolutePositionFromRelativePosition(cursor.head, ydoc);
          if (anchor == null || head == null || anchor.type !== ytext || head.type !== ytext) return;
          const length = view.state.doc.length;
          const from = Math.min(anchor.index, head.index, length);
          const to = Math.min(Math.max(anchor.index, head.index), length);
          const color = state.user?.color;
          const name = state.user?.name ?? "";
          if (from < to) {
            const startLine = view.state.doc.lineAt(from);
            const endLine = view.state.doc.lineAt(to);
            if (startLine.number === endLine.number) {
              decorations.push(selectionMark(color).range(from, to));
            } else {
              if (from < startLine.to) decorations.push(selectionMark(color).range(from, startLine.to));
              for (let n = startLine.number + 1; n < endLine.number; n++) {
                const line = view.state.doc.line(n);
                decorations.push(selectionLine(color).range(line.from));
              }
              if (endLine.from < to) decorations.push(selectionMark(color).range(endLine.from, to));
            }
          }
          const at = Math.min(head.index, length);
          decorations.push(
            Decoration.widget({
              // Outside the remote selection, so our own cursor is not drawn inside it.
              side: head.index - anchor.index > 0 ? -1 : 1,
              widget: new RemoteCaret(color, name),
            }).range(at),
          );
        });
        return Decoration.set(decorations, true);
      }
    },
    { decorations: (value) => value.decorations },
  );
  return plugin;
}
