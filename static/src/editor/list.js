// The live list of clauses: one ClauseView per clause, in the server's order, in the two
// parts (preambular, operative). It is never changed optimistically: it follows the list
// the server sends (`clauses_changed`, or the join's answer after a reconnect), keeping
// each surviving clause's document and editor.
import { ClauseView, keptTextElement, labelNumber } from "./clause.js";
import { t } from "./i18n.js";

export const KINDS = ["preambular", "operative"];
// How long to wait for the server's `clauses_changed` after a structure request succeeded.
const CHANGE_TIMEOUT_MS = 5_000;
// Wait at most this long for the documents before replacing the rendered text.
const REVEAL_TIMEOUT_MS = 3_000;

/**
 * One part of the list, and what is drawn around it.
 * @typedef {{ section: HTMLElement, heading: HTMLElement, ol: HTMLOListElement,
 *             empty: HTMLElement, add: HTMLButtonElement }} Part
 */

export class ClauseList {
  /**
   * @param {import("./editor.js").RecommendationEditor} editor its settings (user, limits,
   *   canEdit), provider, presence, discussion, status, and the structure actions
   * @param {HTMLElement} root the editor's root element ([data-editor])
   */
  constructor(editor, root) {
    this.editor = editor;
    this.root = root;
    /** @type {Map<number, ClauseView>} */
    this.views = new Map();
    /** The last list the server sent, in its order. @type {any[]} */
    this.clauses = [];
    /** @type {Set<{check?: () => void}>} */
    this.waiters = new Set();
    /** Clauses whose copy is being dropped (resetClause): not recreated until it is gone. */
    this.resetting = new Set();
    this.revealed = false;
    /** @type {HTMLElement} */
    this.live = root.querySelector("[data-editor-live]");
    // Built out of the document and swapped in at once: never two lists on the page.
    this.liveContent = document.createElement("div");
    /** @type {Record<string, Part>} */
    this.parts = {};
    this.build();
  }

  build() {
    this.emptyAll = document.createElement("p");
    this.emptyAll.className = "empty";
    this.emptyAll.textContent = t("noClauses");
    this.emptyAll.hidden = true;
    this.liveContent.append(this.emptyAll);
    for (const kind of KINDS) {
      const section = document.createElement("section");
      section.className = "section clauses-part";
      const heading = document.createElement("h2");
      heading.id = `${kind}-heading`;
      heading.tabIndex = -1;
      heading.textContent = t(`${kind}Heading`);
      section.setAttribute("aria-labelledby", heading.id);
      const ol = document.createElement("ol");
      ol.className = "clauses";
      const empty = document.createElement("p");
      empty.className = "clauses-part__empty muted";
      empty.textContent = t(`${kind}Empty`);
      const add = document.createElement("button");
      add.type = "button";
      add.className = "button button--secondary button--small clauses-part__add";
      add.textContent = t(kind === "preambular" ? "addPreambular" : "addOperative");
      add.addEventListener("click", () => this.editor.structure.addClause(kind, null));
      section.append(heading, ol, empty, add);
      this.liveContent.append(section);
      this.parts[kind] = { section, heading, ol, empty, add };
    }
  }

  /**
   * The server's list, in its order: keep, update, create and destroy clause views.
   * @param {any[]} serverList
   */
  apply(serverList) {
    const { canEdit, provider, status } = this.editor;
    const focused = document.activeElement;
    // `clauses_changed` goes to the whole room, so it has no per-person `editable`: then a
    // clause is editable when the join said can_edit and the clause is open.
    const list = serverList.map((clause) => ({
      ...clause,
      editable: typeof clause.editable === "boolean" ? clause.editable : canEdit && clause.status === "open",
    }));
    this.clauses = list;
    const ids = new Set(list.map((clause) => clause.id));
    for (const [id, view] of this.views) {
      if (!ids.has(id)) {
        // Deleted while this person was typing in it: what the server had not yet taken
        // stays in front of them, to copy (a restore brings back the saved text).
        if (provider.hasUnsaved(view.docName)) {
          const number = labelNumber(view.clause.number);
          status.messages.append(keptTextElement(t("deletedWhileTyping", { number }),
            t("unsavedText", { number }), view.text.toString(), `deleted-${id}`));
        }
        // Deleted: its copy on this device goes too (a restore loads it from the server).
        view.destroy({ forget: true });
        this.views.delete(id);
      }
    }
    for (const clause of list) {
      const view = this.views.get(clause.id);
      if (view) view.update(clause);
      else if (!this.resetting.has(clause.id)) this.createView(clause);
    }
    for (const kind of KINDS) {
      const part = this.parts[kind];
      const wanted = list
        .filter((clause) => clause.kind === kind && this.views.has(clause.id))
        .map((clause) => this.views.get(clause.id));
      // Move only what is out of place: the clause someone is typing in usually stays put.
      wanted.forEach((view, index) => {
        if (part.ol.children[index] !== view.li) part.ol.insertBefore(view.li, part.ol.children[index] ?? null);
        view.setEdges({ first: index === 0, last: index === wanted.length - 1 });
        view.render();
      });
      part.empty.hidden = wanted.length > 0 || !canEdit;
      part.section.hidden = wanted.length === 0 && !canEdit;
      part.add.hidden = !canEdit;
    }
    this.emptyAll.hidden = list.length > 0 || canEdit;
    this.editor.discussion.onClauses();
    this.restoreFocus(focused);
    this.editor.presence.schedule(this.views);
    for (const waiter of [...this.waiters]) waiter.check();
  }

  /** @param {any} clause */
  createView(clause) {
    const { editor } = this;
    const view = new ClauseView(clause, {
      storagePrefix: editor.storagePrefix,
      styleNonce: editor.styleNonce,
      user: editor.user,
      provider: editor.provider,
      maxLength: editor.maxLength,
      onTooLong: (view, length) => view.showMessage(t("tooLong", { limit: editor.maxLength, length }), "too-long"),
      canStructure: () => editor.canEdit,
      actions: editor.actions,
      discussion: editor.discussion,
    });
    this.views.set(clause.id, view);
    view.loaded = new Promise((resolve) => {
      view.markLoaded = resolve;
    });
    view.awareness.on("change", () => editor.presence.schedule(this.views));
    // The copy on this device first, so that the sync step 1 says what we already have.
    view.stored.then(() => {
      if (!view.destroyed) editor.provider.addDoc(clause.doc, view.doc, view.awareness);
    });
    return view;
  }

  /**
   * Moving a node that holds focus blurs it: give the focus back, with the caret intact.
   * @param {Element | null} focused
   */
  restoreFocus(focused) {
    if (!focused || focused === document.activeElement || !focused.isConnected) return;
    for (const view of this.views.values()) {
      if (view.view.contentDOM.contains(focused)) {
        view.view.focus();
        return;
      }
    }
    /** @type {HTMLElement} */ (focused).focus({ preventScroll: true });
  }

  revealWhenLoaded() {
    const loaded = Promise.all([...this.views.values()].map((view) => view.loaded));
    const timeout = new Promise((resolve) => setTimeout(resolve, REVEAL_TIMEOUT_MS));
    Promise.race([loaded, timeout]).then(() => {
      if (this.revealed) return;
      this.revealed = true;
      const focused = document.activeElement;
      for (const element of this.root.querySelectorAll("[data-editor-fallback]")) element.remove();
      this.live.append(...this.liveContent.childNodes);
      this.live.hidden = false;
      // A link to #clause-N lands on the live clause, as it did on the rendered one.
      const id = decodeURIComponent(window.location.hash.slice(1));
      const target = id && this.live.contains(document.getElementById(id)) ? document.getElementById(id) : null;
      if (target && (!focused || focused === document.body)) target.scrollIntoView();
      for (const view of this.views.values()) view.view.requestMeasure();
    });
  }

  /** @param {string} docName */
  viewByDoc(docName) {
    for (const view of this.views.values()) if (view.docName === docName) return view;
    return null;
  }

  /** @param {number} id */
  clauseById(id) {
    return this.clauses.find((clause) => clause.id === id) ?? null;
  }

  /**
   * The id of the clause `id` follows within its part, or null when it is first.
   * @param {number} id
   */
  predecessorOf(id) {
    const clause = this.clauseById(id);
    if (!clause) return undefined;
    const part = this.clauses.filter((c) => c.kind === clause.kind);
    const index = part.findIndex((c) => c.id === id);
    return index > 0 ? part[index - 1].id : null;
  }

  /**
   * Resolves true once the server's list satisfies `predicate`, false after a timeout.
   * @param {() => boolean} predicate
   * @returns {Promise<boolean>}
   */
  whenClauses(predicate, timeout = CHANGE_TIMEOUT_MS) {
    return new Promise((resolve) => {
      if (predicate()) {
        resolve(true);
        return;
      }
      /** @type {{check?: () => void}} */
      const waiter = {};
      const done = (/** @type {boolean} */ value) => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(value);
      };
      waiter.check = () => predicate() && done(true);
      const timer = setTimeout(() => done(false), timeout);
      this.waiters.add(waiter);
    });
  }
}
