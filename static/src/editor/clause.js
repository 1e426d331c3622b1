// One clause on the live page: its list item, its Y.Doc (Y.Text "text"), Awareness,
// IndexedDB copy and CodeMirror editor. The list item is kept for as long as the clause
// exists, so moving or renumbering it never rebuilds the editor (or loses its focus).
import { defaultKeymap } from "@codemirror/commands";
import { markdownKeymap, markdownLanguage } from "@codemirror/lang-markdown";
import { LanguageSupport, syntaxHighlighting } from "@codemirror/language";
import { Compartment, EditorState, Prec, Transaction } from "@codemirror/state";
import { EditorView, keymap, placeholder } from "@codemirror/view";
import { tagHighlighter, tags } from "@lezer/highlight";
import { yCollab, yUndoManagerKeymap } from "y-codemirror.next";
import { IndexeddbPersistence } from "y-indexeddb";
import { Awareness } from "y-protocols/awareness";
import * as Y from "yjs";

import { unagreedHighlight } from "./brackets.js";
import { anchorOf, discussionAnchors, setAnchors, setCurrentThread, threadAt } from "./anchors.js";
import { t } from "./i18n.js";
import { remoteSelections } from "./remote-selections.js";

// Markdown marks stay visible but quiet; emphasis looks like what it will become. Static
// class names styled in editor.css: CodeMirror's own generated styles go into a <style>
// element, which the CSP refuses unless the page gives a nonce (see cspNonce below).
const markdownHighlighter = tagHighlighter([
  { tag: tags.heading, class: "md-heading" },
  { tag: tags.emphasis, class: "md-emphasis" },
  { tag: tags.strong, class: "md-strong" },
  { tag: tags.strikethrough, class: "md-strikethrough" },
  { tag: [tags.link, tags.url], class: "md-link" },
  { tag: tags.monospace, class: "md-code" },
  { tag: tags.quote, class: "md-quote" },
  { tag: [tags.processingInstruction, tags.contentSeparator, tags.meta], class: "md-mark" },
]);

// Markdown without markdown()'s HTML-tag support, which would bring the HTML, CSS and
// JavaScript parsers (~180 kB) for tags that the server's sanitiser removes anyway.
function markdownSupport() {
  return new LanguageSupport(markdownLanguage, [Prec.high(keymap.of(markdownKeymap))]);
}

/** "1." reads badly inside a sentence ("Delete clause 1.?"); "PP1" is unchanged. */
export function labelNumber(number) {
  return String(number).replace(/\.+$/, "");
}

function button(label, context, className = "button button--link") {
  const element = document.createElement("button");
  element.type = "button";
  element.className = className;
  setButtonLabel(element, label, context);
  return element;
}

/** Visible label, and for screen readers which clause it acts on: "Delete: clause PP2".
 *  (The visible words start the accessible name, as WCAG's "label in name" asks.) */
function setButtonLabel(element, label, context) {
  element.textContent = label;
  if (context) element.setAttribute("aria-label", `${label}: ${context}`);
  else element.removeAttribute("aria-label");
}

/** Code points, as the server counts a clause's length (CodeMirror counts UTF-16 units). */
export function characters(text) {
  let count = 0;
  for (const _character of text) count += 1;
  return count;
}

/**
 * Refuse what a person types or pastes that would make the clause longer than `max`
 * characters (the server's CLAUSE_MAX_LENGTH): nothing is changed or sent, and `refused`
 * is told the length it would have had. Remote changes are not filtered (the server has
 * already checked them).
 */
function lengthLimit(max, refused) {
  if (!max) return [];
  return EditorState.transactionFilter.of((tr) => {
    // UTF-16 units are never fewer than characters: most changes need no counting.
    if (!tr.docChanged || !tr.annotation(Transaction.userEvent) || tr.newDoc.length <= max) return tr;
    const after = characters(tr.newDoc.toString());
    if (after <= max || after <= characters(tr.startState.doc.toString())) return tr;
    refused(after);
    return [];
  });
}

/**
 * A clause as the server describes it (docs/protocol.md); `editable` is this person's.
 * @typedef {{ id: number, number: string, kind: string, status: string, doc: string,
 *             ad_referendum?: boolean, editable?: boolean }} Clause
 */

export class ClauseView {
  /**
   * @param {Clause} clause the Clause of the contract: {id, number, kind, status, doc, editable}
   * @param {any} ctx what the page provides:
   *   storagePrefix, user (our awareness user), canStructure() (may change the structure),
 *   styleNonce (the CSP nonce for CodeMirror's <style> element, if the page has one),
   *   actions: {preview, moveUp, moveDown, addAfter, toggleKind, remove} (each gets this view),
   *   discussion: {canComment, toggle(view), comment(view, anchor), openThread(view, id)}
   *     (discussion.js)
   */
  constructor(clause, ctx) {
    this.id = clause.id;
    this.docName = clause.doc;
    this.clause = clause;
    this.ctx = ctx;
    this.destroyed = false;
    /** Resolves once the server's copy is in (set by list.js). @type {Promise<unknown>} */
    this.loaded = undefined;
    /** @type {(value?: unknown) => void} */
    this.markLoaded = undefined;
    /** The pending refresh of the preview (preview.js). @type {ReturnType<typeof setTimeout>} */
    this.previewTimer = undefined;
    /** Whether discussion.js has given it its counts and anchors. */
    this.discussionReady = false;

    this.doc = new Y.Doc();
    this.text = this.doc.getText("text");
    this.awareness = new Awareness(this.doc);
    this.awareness.setLocalStateField("user", ctx.user);
    // Kept per participant: another person signing in on this browser starts clean.
    this.persistence = new IndexeddbPersistence(`${ctx.storagePrefix}:clause:${clause.id}`, this.doc);
    /** Resolves once the text is known: from this device or from the server. */
    this.stored = Promise.race([
      this.persistence.whenSynced.catch(() => null),
      new Promise((resolve) => setTimeout(resolve, 1500)),
    ]);

    this.buildDom();
    this.labelCompartment = new Compartment();
    this.editableCompartment = new Compartment();
    this.view = new EditorView({
      parent: this.editorHost,
      state: EditorState.create({
        doc: this.text.toString(),
        extensions: [
          ctx.styleNonce ? EditorView.cspNonce.of(ctx.styleNonce) : [],
          this.labelCompartment.of(this.labelExtension()),
          this.editableCompartment.of(this.editableExtension()),
          // Ctrl+Alt+M, as in other editors: comment on the selected words (or read the
          // comment under the caret).
          keymap.of([{ key: "Mod-Alt-m", run: () => this.commentOrShow() }]),
          keymap.of([...yUndoManagerKeymap, ...defaultKeymap]),
          markdownSupport(),
          syntaxHighlighting(markdownHighlighter),
          unagreedHighlight,
          EditorView.lineWrapping,
          placeholder(t("placeholder")),
          // Sync and undo from y-codemirror.next; cursors from remote-selections.js.
          yCollab(this.text, null, { undoManager: new Y.UndoManager(this.text) }),
          remoteSelections(this.text, this.awareness),
          lengthLimit(ctx.maxLength, (length) => ctx.onTooLong?.(this, length)),
          // A click on commented words shows their thread, leaving the caret in the text.
          discussionAnchors(this.text, (threadId) => ctx.discussion.openThread(this, threadId, { focus: false })),
          EditorView.updateListener.of((update) => {
            if (update.selectionSet || update.docChanged || update.focusChanged) this.placeSelectionButton();
          }),
        ],
      }),
    });
    // After the editor: the next stop of Tab from the text.
    this.editorHost.append(this.selectionButton);
    this.render();
  }

  get editable() {
    return Boolean(this.clause.editable) && this.clause.status === "open";
  }

  get locked() {
    return this.clause.status !== "open";
  }

  get numberLabel() {
    return t("clauseNumber", { number: labelNumber(this.clause.number) });
  }

  labelExtension() {
    const attributes = { "aria-label": t("clauseLabel", { number: labelNumber(this.clause.number) }) };
    if (!this.editable) attributes["aria-readonly"] = "true";
    return EditorView.contentAttributes.of(attributes);
  }

  editableExtension() {
    const on = this.editable;
    return [EditorState.readOnly.of(!on), EditorView.editable.of(on)];
  }

  buildDom() {
    const li = document.createElement("li");
    li.id = `clause-${this.id}`;
    li.dataset.clauseId = String(this.id);

    const number = document.createElement("span");
    number.className = "clause__number";
    const handle = document.createElement("span");
    handle.className = "clause__handle";
    handle.setAttribute("aria-hidden", "true");
    handle.draggable = true;
    handle.title = t("dragHandle");
    const gutter = document.createElement("div");
    gutter.className = "clause__gutter";
    gutter.append(number, handle);

    const body = document.createElement("div");
    body.className = "clause__body";
    const badges = document.createElement("p");
    badges.className = "clause__badges";
    const editorHost = document.createElement("div");
    editorHost.className = "clause__editor";
    const preview = document.createElement("div");
    preview.className = "clause__preview prose";
    preview.hidden = true;
    const messages = document.createElement("div");
    messages.className = "clause__messages";
    const actions = document.createElement("div");
    actions.className = "clause__actions";
    body.append(badges, editorHost, preview, messages, actions);

    // "Comment" beside selected words (or "Show comment" with the caret in commented
    // words): right after the editor, so Tab from the text reaches it first.
    const selectionButton = document.createElement("button");
    selectionButton.type = "button";
    selectionButton.className = "button button--small clause__selection-action";
    selectionButton.hidden = true;
    // Pressed with the mouse, it must not take the focus (and the selection) from the text.
    selectionButton.addEventListener("mousedown", (event) => event.preventDefault());
    selectionButton.addEventListener("click", () => this.commentOrShow());
    editorHost.addEventListener("focusout", (event) => {
      if (!editorHost.contains(/** @type {Node | null} */ (event.relatedTarget))) this.hideSelectionButton();
    });
    // A click elsewhere ends it too (a read-only editor has no focus to lose).
    this.onPointerDown = (event) => {
      if (!editorHost.contains(event.target)) this.hideSelectionButton(true);
    };
    document.addEventListener("pointerdown", this.onPointerDown);
    // Escape on it goes back to the words, still selected.
    selectionButton.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        this.view.focus();
      }
    });

    // The discussion of the clause: threads and amendments, in the side panel.
    const discussion = document.createElement("button");
    discussion.type = "button";
    discussion.className = "button button--secondary button--small clause__discussion";
    discussion.setAttribute("aria-expanded", "false");
    discussion.setAttribute("aria-controls", "discussion-panel");
    const discussionLabel = document.createElement("span");
    const discussionContext = document.createElement("span");
    discussionContext.className = "visually-hidden";
    const threadCount = document.createElement("span");
    threadCount.className = "discussion-count discussion-count--threads";
    threadCount.hidden = true;
    const amendmentCount = document.createElement("span");
    amendmentCount.className = "discussion-count discussion-count--amendments";
    amendmentCount.hidden = true;
    discussion.append(discussionLabel, discussionContext, threadCount, amendmentCount);
    discussion.addEventListener("click", () => this.ctx.discussion.toggle(this));
    li.append(gutter, body);

    const a = this.ctx.actions;
    this.buttons = {
      preview: button(t("preview"), "", "button button--link"),
      up: button(t("moveUp"), ""),
      down: button(t("moveDown"), ""),
      addAfter: button(t("addAfter"), ""),
      kind: button("", ""),
      remove: button(t("delete"), "", "button button--link button--danger"),
    };
    this.buttons.preview.setAttribute("aria-pressed", "false");
    // A real link (it can be opened in a new tab or copied): the clause's history page.
    this.historyLink = document.createElement("a");
    this.historyLink.className = "clause__history";
    this.historyLink.href = `/clauses/${encodeURIComponent(this.id)}/history`;
    setButtonLabel(this.historyLink, t("history"), "");
    this.buttons.preview.addEventListener("click", () => a.preview(this));
    this.buttons.up.addEventListener("click", () => a.moveUp(this));
    this.buttons.down.addEventListener("click", () => a.moveDown(this));
    this.buttons.addAfter.addEventListener("click", () => a.addAfter(this));
    this.buttons.kind.addEventListener("click", () => a.toggleKind(this));
    this.buttons.remove.addEventListener("click", () => a.remove(this));
    const { preview: previewButton, ...structureButtons } = this.buttons;
    actions.append(discussion, previewButton, this.historyLink, ...Object.values(structureButtons));

    this.li = li;
    this.number = number;
    this.handle = handle;
    this.badges = badges;
    this.editorHost = editorHost;
    this.preview = preview;
    this.messages = messages;
    this.actions = actions;
    this.selectionButton = selectionButton;
    this.discussionButton = discussion;
    this.discussionParts = { label: discussionLabel, context: discussionContext, threadCount, amendmentCount };
    this.counts = { open_threads: 0, open_amendments: 0 };
  }

  /** The server says something about this clause changed (number, kind, status, editable). */
  update(clause) {
    const before = this.clause;
    this.clause = clause;
    this.render();
    if (before.number !== clause.number || before.editable !== clause.editable || before.status !== clause.status) {
      this.view.dispatch({
        effects: [
          this.labelCompartment.reconfigure(this.labelExtension()),
          this.editableCompartment.reconfigure(this.editableExtension()),
        ],
      });
    }
  }

  render() {
    const { clause } = this;
    this.li.className = `clause clause--${clause.kind} clause--live`;
    this.li.classList.toggle("clause--locked", this.locked);
    this.li.classList.toggle("clause--adopted", clause.status === "adopted");
    this.li.dataset.status = clause.status;
    this.li.classList.toggle("clause--readonly", !this.editable);
    this.number.textContent = clause.number;

    this.badges.replaceChildren();
    if (this.locked) {
      // Adopted by a vote, or locked while one is open: both read-only, said differently.
      const adopted = clause.status === "adopted";
      const badge = document.createElement("span");
      badge.className = `badge ${adopted ? "badge--adopted" : "badge--locked"}`;
      badge.dataset.clauseStatus = clause.status;
      badge.textContent = t(adopted ? "adopted" : "locked");
      badge.title = t(adopted ? "adoptedHelp" : "lockedHelp");
      this.badges.append(badge);
    }
    if (clause.ad_referendum) {
      const badge = document.createElement("span");
      badge.className = "badge badge--ad-referendum";
      badge.textContent = t("adReferendum");
      badge.title = t("adReferendumHelp");
      this.badges.append(badge);
    }
    this.badges.hidden = !this.badges.hasChildNodes();

    const context = this.numberLabel;
    const structure = this.ctx.canStructure();
    const other = clause.kind === "preambular" ? "operative" : "preambular";
    this.renderDiscussionButton();
    setButtonLabel(this.buttons.preview, t("preview"), context);
    setButtonLabel(this.historyLink, t("history"), context);
    setButtonLabel(this.buttons.up, t("moveUp"), context);
    setButtonLabel(this.buttons.down, t("moveDown"), context);
    setButtonLabel(this.buttons.addAfter, t("addAfter"), context);
    setButtonLabel(this.buttons.kind, t(other === "operative" ? "makeOperative" : "makePreambular"), context);
    setButtonLabel(this.buttons.remove, t("delete"), context);
    for (const name of ["up", "down", "addAfter", "kind", "remove"]) {
      this.buttons[name].hidden = !structure;
    }
    // A locked clause keeps its wording: neither deleted nor turned into another kind here.
    this.buttons.kind.hidden ||= this.locked;
    this.buttons.remove.hidden ||= this.locked;
    this.handle.hidden = !structure;
  }

  // --- discussion ----------------------------------------------------------------------------

  /** The counts on the Discussion button: {open_threads, open_amendments}. */
  setDiscussionCounts(counts) {
    this.counts = { ...this.counts, ...counts };
    this.renderDiscussionButton();
  }

  renderDiscussionButton() {
    const { label, context, threadCount, amendmentCount } = this.discussionParts;
    label.textContent = t("discussion");
    context.textContent = `: ${this.numberLabel}`;
    // The number is what the eye reads; the words are for screen readers and tooltips.
    const badge = (element, count, key, sign) => {
      const words = t(key, { count });
      element.hidden = !(count > 0);
      element.title = words;
      element.replaceChildren();
      const visible = document.createElement("span");
      visible.setAttribute("aria-hidden", "true");
      visible.textContent = `${sign}${count}`;
      const spoken = document.createElement("span");
      spoken.className = "visually-hidden";
      spoken.textContent = `, ${words}`;
      element.append(visible, spoken);
    };
    badge(threadCount, Number(this.counts.open_threads) || 0, "discussionOpenThreads", "");
    badge(amendmentCount, Number(this.counts.open_amendments) || 0, "discussionOpenAmendments", "±");
  }

  setDiscussionOpen(open) {
    this.discussionButton.setAttribute("aria-expanded", String(open));
    this.li.classList.toggle("clause--discussed", open);
    if (!open) this.setCurrentThread(null);
  }

  /** The anchors of this clause's open threads: [{id, start, end}]. */
  setAnchors(anchors) {
    if (this.destroyed) return;
    this.view.dispatch({ effects: setAnchors.of(anchors) });
  }

  setCurrentThread(threadId) {
    if (this.destroyed) return;
    this.view.dispatch({ effects: setCurrentThread.of(threadId) });
  }

  /** The selected words, without the spaces around them: {from, to, quote}, or null. */
  selectedWords() {
    const { from, to } = this.view.state.selection.main;
    const doc = this.view.state.doc;
    let start = from;
    let end = to;
    while (start < end && /\s/.test(doc.sliceString(start, start + 1))) start++;
    while (end > start && /\s/.test(doc.sliceString(end - 1, end))) end--;
    return start < end ? { from: start, to: end, quote: doc.sliceString(start, end) } : null;
  }

  /** What the selection button (and Ctrl+Alt+M) would do now: "comment", "show" or null. */
  selectionAction() {
    const words = this.selectedWords();
    if (words) return this.ctx.discussion.canComment() ? { kind: "comment", words } : null;
    const { main } = this.view.state.selection;
    if (!main.empty) return null;
    const threadId = threadAt(this.view, this.text, main.head);
    return threadId === null ? null : { kind: "show", threadId };
  }

  commentOrShow() {
    const action = this.selectionAction();
    if (!action) return false;
    this.hideSelectionButton(true);
    if (action.kind === "comment") {
      const { from, to, quote } = action.words;
      this.ctx.discussion.comment(this, { ...anchorOf(this.text, from, to), quote });
    } else {
      this.ctx.discussion.openThread(this, action.threadId);
    }
    return true;
  }

  /** Show the selection button under the end of the selection (or the caret), or hide it. */
  placeSelectionButton() {
    // A read-only editor never has the focus, but its words can be selected (an observer
    // may comment): then the selection itself says where the person is.
    const selected = !this.editable && this.view.contentDOM.contains(document.getSelection()?.anchorNode ?? null);
    const active = this.view.hasFocus || document.activeElement === this.selectionButton || selected;
    const action = active ? this.selectionAction() : null;
    if (!action) {
      this.hideSelectionButton();
      return;
    }
    const { selectionButton: element } = this;
    element.textContent = t(action.kind === "comment" ? "commentSelection" : "showComment");
    element.title = t(action.kind === "comment" ? "commentSelectionHelp" : "showCommentHelp");
    const at = action.kind === "comment" ? action.words.to : this.view.state.selection.main.head;
    this.view.requestMeasure({
      read: (view) => ({ coords: view.coordsAtPos(at, -1), host: this.editorHost.getBoundingClientRect() }),
      write: ({ coords, host }) => {
        if (!coords || this.destroyed) return;
        element.hidden = false;
        // CSSOM properties, which the CSP allows (style attributes it refuses).
        const left = Math.max(0, Math.min(coords.left - host.left, host.width - element.offsetWidth));
        element.style.left = `${left}px`;
        element.style.top = `${coords.bottom - host.top + 4}px`;
      },
    });
  }

  /** Hidden unless it has the focus (it keeps it while a person tabs to it), or `force`. */
  hideSelectionButton(force = false) {
    if (!force && document.activeElement === this.selectionButton) return;
    this.selectionButton.hidden = true;
  }

  /** Move up/down are aria-disabled (not disabled) at the ends, so they keep keyboard focus. */
  setEdges({ first, last }) {
    this.buttons.up.setAttribute("aria-disabled", String(first));
    this.buttons.down.setAttribute("aria-disabled", String(last));
  }

  focusEditor() {
    if (this.buttons.preview.getAttribute("aria-pressed") === "true") this.showEditor();
    this.view.focus();
  }

  showPreview(html) {
    // `html` is a `text_html` field: rendered and sanitised by the server's one Markdown
    // path, safe to insert by contract (docs/protocol.md). Nothing else is set as HTML.
    this.preview.innerHTML = html;
    this.preview.hidden = false;
    this.editorHost.hidden = true;
    this.buttons.preview.setAttribute("aria-pressed", "true");
  }

  showPreviewText(text) {
    this.preview.replaceChildren();
    const p = document.createElement("p");
    p.className = "muted";
    p.textContent = text;
    this.preview.append(p);
    this.preview.hidden = false;
    this.editorHost.hidden = true;
    this.buttons.preview.setAttribute("aria-pressed", "true");
  }

  showEditor() {
    this.preview.hidden = true;
    this.editorHost.hidden = false;
    this.buttons.preview.setAttribute("aria-pressed", "false");
    this.view.requestMeasure();
  }

  get previewing() {
    return this.buttons.preview.getAttribute("aria-pressed") === "true";
  }

  /** A dismissible message under the clause; one per key, the newest replacing the older. */
  showMessage(text, key = "error") {
    for (const old of this.messages.querySelectorAll(`[data-key="${CSS.escape(key)}"]`)) old.remove();
    this.messages.append(messageElement(text, key));
  }

  /** Stop syncing and free everything; `forget` also drops the copy kept on this device.
   *  Resolves once the copy is closed (and deleted). */
  destroy({ forget = false } = {}) {
    if (this.destroyed) return Promise.resolve();
    this.destroyed = true;
    document.removeEventListener("pointerdown", this.onPointerDown);
    this.ctx.provider.removeDoc(this.docName);
    this.view.destroy();
    this.awareness.destroy();
    const closed = (forget ? this.persistence.clearData() : this.persistence.destroy()).catch(() => {});
    this.doc.destroy();
    this.li.remove();
    return closed;
  }
}

/** A message with a Dismiss button (used under clauses and at the top of the editor). */
/** A message with a copy of `text` to take away (words the server could not keep). */
export function keptTextElement(message, label, text, key) {
  const box = messageElement(message, key);
  const field = document.createElement("textarea");
  field.className = "editor-message__kept";
  field.readOnly = true;
  field.value = text;
  field.rows = Math.min(8, Math.max(2, Math.ceil(text.length / 80)));
  field.setAttribute("aria-label", label);
  const copy = document.createElement("button");
  copy.type = "button";
  copy.className = "button button--secondary editor-message__copy";
  copy.textContent = t("copy");
  copy.addEventListener("click", async () => {
    field.select();
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      document.execCommand("copy"); // no clipboard permission (plain HTTP): the selection
    }
    copy.textContent = t("copied");
  });
  box.querySelector(".editor-message__text").after(field, copy);
  return box;
}

export function messageElement(text, key = "error", tone = "error") {
  const box = document.createElement("div");
  box.className = `editor-message editor-message--${tone}`;
  box.dataset.key = key;
  box.setAttribute("role", tone === "error" ? "alert" : "status");
  const p = document.createElement("p");
  p.className = "editor-message__text";
  p.textContent = text;
  const dismiss = document.createElement("button");
  dismiss.type = "button";
  dismiss.className = "button button--link editor-message__dismiss";
  dismiss.textContent = t("dismiss");
  dismiss.addEventListener("click", () => box.remove());
  box.append(p, dismiss);
  return box;
}
