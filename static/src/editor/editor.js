// The live editor of a recommendation: the entry of static/dist/editor.js, loaded only by
// recommendations/show.html.
//
// Progressive enhancement: the server-rendered clauses stay on the page (for people
// without scripts, and as the first paint) until the socket has joined and the clauses'
// documents are loaded; then the live list replaces them. If the join is refused, the
// rendered text stays and a message says why.
//
// The clause list is never changed optimistically: structure changes go through the JSON
// API, and the list is re-rendered from the server's `clauses_changed` (or from the join
// answer after a reconnect), keeping each surviving clause's document and editor.
import { io } from "socket.io-client";

import { apiFetch } from "../api.js";
import { ClauseView, keptTextElement, labelNumber, messageElement } from "./clause.js";
import { colorForId } from "./colors.js";
import { Discussion } from "./discussion.js";
import { loadStrings, t } from "./i18n.js";
import { Presence } from "./presence.js";
import { Connection, SocketIOProvider } from "./provider.js";
import { VoteConsole } from "./votes.js";

const KINDS = ["preambular", "operative"];
const UNDO_MS = 10_000;
// How long to wait for the server's `clauses_changed` after a structure request succeeded.
const CHANGE_TIMEOUT_MS = 5_000;
// Show "Saving…" only if saving takes longer than this: a quick round trip would flicker
// (and make screen readers announce two statuses per keystroke).
const SAVING_DELAY_MS = 400;
// Wait at most this long for the documents before replacing the rendered text.
const REVEAL_TIMEOUT_MS = 3_000;

class RecommendationEditor {
  constructor(root) {
    this.root = root;
    this.id = Number(root.dataset.recommendationId);
    this.canEdit = root.dataset.canEdit === "true";
    const userId = root.dataset.userId;
    this.user = {
      id: Number(userId),
      name: root.dataset.userName ?? "",
      color: root.dataset.userColor || colorForId(userId),
      category: root.dataset.userCategory ?? "",
    };
    this.storagePrefix = root.dataset.storagePrefix || `plenary:${userId}`;
    this.styleNonce = root.dataset.styleNonce || "";
    // The server's limits (docs/protocol.md): a longer clause or a larger message is refused.
    this.maxLength = Number(root.dataset.clauseMaxLength) || 0;
    this.maxMessageBytes = Number(root.dataset.maxMessageBytes) || 0;

    /** @type {Map<number, ClauseView>} */
    this.views = new Map();
    /** The last list the server sent, in its order. */
    this.clauses = [];
    this.waiters = new Set();
    this.resetAt = new Map();
    /** Clauses whose copy is being dropped (resetClause): not recreated until it is gone. */
    this.resetting = new Set();
    this.shownStatus = null;
    this.savingTimer = null;
    this.revealed = false;

    this.statusElement = root.querySelector("[data-editor-status]");
    this.messages = root.querySelector("[data-editor-messages]");
    this.announcer = root.querySelector("[data-editor-announcer]");
    this.live = root.querySelector("[data-editor-live]");
    // Built out of the document and swapped in at once: never two lists on the page.
    this.liveContent = document.createElement("div");
    this.presence = new Presence(root.querySelector("[data-editor-presence]"), this.user, root.dataset.locale);

    this.actions = {
      preview: (view) => this.togglePreview(view),
      moveUp: (view) => this.moveBy(view, -1),
      moveDown: (view) => this.moveBy(view, +1),
      addAfter: (view) => this.addClause(view.clause.kind, view.id),
      toggleKind: (view) => this.toggleKind(view),
      remove: (view) => this.removeClause(view),
    };

    this.buildParts();

    // One connection for every clause of the page; the session cookie goes with it.
    this.socket = io({ transports: ["websocket", "polling"], tryAllTransports: true });
    this.provider = new SocketIOProvider(this.socket, {
      recommendation: this.id,
      maxMessageBytes: this.maxMessageBytes,
    });
    // Counts, highlighted words and the side panel of the clauses' discussions.
    this.discussion = new Discussion(this, root.querySelector(".editor-layout") ?? root);
    // The votes' console (and list of open votes), kept current by the vote events.
    this.votes = new VoteConsole(this);
    this.provider.on("joined", (ack) => this.onJoined(ack));
    this.provider.on("status", () => this.renderStatus());
    this.provider.on("loaded", (docName) => this.viewByDoc(docName)?.markLoaded?.());
    this.provider.on("refused", (docName, error, kind, carried) => this.onRefused(docName, error, carried));
    this.provider.on("acknowledged", (docName) => this.onAcknowledged(docName));
    this.socket.on("clauses_changed", (data) => {
      if (Number(data?.recommendation) !== this.id || !Array.isArray(data.clauses)) return;
      // Announcements of concurrent changes may arrive out of order: only a newer version
      // of the list replaces the one shown.
      if (Number(data.version) <= this.structureVersion) return;
      this.structureVersion = Number(data.version);
      this.applyClauses(data.clauses);
    });
    this.socket.on("reset", (data) => this.onReset(data));
    this.socket.on("error", (data) => {
      // A refused join is answered in its acknowledgement too (see renderStatus).
      if (data?.doc == null && this.provider.connection !== Connection.JOINED) return;
      // About a clause no longer on the page (deleted): applyClauses said what happened.
      if (data?.doc != null && !this.viewByDoc(data.doc)) return;
      this.showError(data?.message, data?.doc, data?.code);
    });
    this.renderStatus();
  }

  // --- the list ------------------------------------------------------------------------------

  buildParts() {
    this.parts = {};
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
      add.addEventListener("click", () => this.addClause(kind, null));
      section.append(heading, ol, empty, add);
      this.liveContent.append(section);
      this.parts[kind] = { section, heading, ol, empty, add };
      this.enableDragAndDrop(kind);
    }
  }

  onJoined(ack) {
    this.canEdit = Boolean(ack.can_edit);
    this.structureVersion = Number(ack.version) || 0;
    this.removeTopMessage("join");
    this.discussion.onJoined(ack);
    this.applyClauses(Array.isArray(ack.clauses) ? ack.clauses : []);
    if (!this.revealed) this.revealWhenLoaded();
  }

  /** The server's list, in its order: keep, update, create and destroy clause views. */
  applyClauses(serverList) {
    const focused = document.activeElement;
    // `clauses_changed` goes to the whole room, so it has no per-person `editable`: then a
    // clause is editable when the join said can_edit and the clause is open.
    const list = serverList.map((clause) => ({
      ...clause,
      editable: typeof clause.editable === "boolean" ? clause.editable : this.canEdit && clause.status === "open",
    }));
    this.clauses = list;
    const ids = new Set(list.map((clause) => clause.id));
    for (const [id, view] of this.views) {
      if (!ids.has(id)) {
        // Deleted while this person was typing in it: what the server had not yet taken
        // stays in front of them, to copy (a restore brings back the saved text).
        if (this.provider.hasUnsaved(view.docName)) {
          const number = labelNumber(view.clause.number);
          this.messages.append(keptTextElement(t("deletedWhileTyping", { number }),
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
      part.empty.hidden = wanted.length > 0 || !this.canEdit;
      part.section.hidden = wanted.length === 0 && !this.canEdit;
      part.add.hidden = !this.canEdit;
    }
    this.emptyAll.hidden = list.length > 0 || this.canEdit;
    this.discussion.onClauses();
    this.restoreFocus(focused);
    this.presence.schedule(this.views);
    for (const waiter of [...this.waiters]) waiter.check();
  }

  createView(clause) {
    const view = new ClauseView(clause, {
      storagePrefix: this.storagePrefix,
      styleNonce: this.styleNonce,
      user: this.user,
      provider: this.provider,
      maxLength: this.maxLength,
      onTooLong: (view, length) => view.showMessage(t("tooLong", { limit: this.maxLength, length }), "too-long"),
      canStructure: () => this.canEdit,
      actions: this.actions,
      discussion: this.discussion,
    });
    this.views.set(clause.id, view);
    view.loaded = new Promise((resolve) => {
      view.markLoaded = resolve;
    });
    view.awareness.on("change", () => this.presence.schedule(this.views));
    // The copy on this device first, so that the sync step 1 says what we already have.
    view.stored.then(() => {
      if (!view.destroyed) this.provider.addDoc(clause.doc, view.doc, view.awareness);
    });
    return view;
  }

  /** Moving a node that holds focus blurs it: give the focus back, with the caret intact. */
  restoreFocus(focused) {
    if (!focused || focused === document.activeElement || !focused.isConnected) return;
    for (const view of this.views.values()) {
      if (view.view.contentDOM.contains(focused)) {
        view.view.focus();
        return;
      }
    }
    focused.focus({ preventScroll: true });
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

  viewByDoc(docName) {
    for (const view of this.views.values()) if (view.docName === docName) return view;
    return null;
  }

  clauseById(id) {
    return this.clauses.find((clause) => clause.id === id) ?? null;
  }

  /** The id of the clause `id` follows within its part, or null when it is first. */
  predecessorOf(id) {
    const clause = this.clauseById(id);
    if (!clause) return undefined;
    const part = this.clauses.filter((c) => c.kind === clause.kind);
    const index = part.findIndex((c) => c.id === id);
    return index > 0 ? part[index - 1].id : null;
  }

  /** Resolves true once the server's list satisfies `predicate`, false after a timeout. */
  whenClauses(predicate, timeout = CHANGE_TIMEOUT_MS) {
    return new Promise((resolve) => {
      if (predicate()) {
        resolve(true);
        return;
      }
      const waiter = {};
      const done = (value) => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(value);
      };
      waiter.check = () => predicate() && done(true);
      const timer = setTimeout(() => done(false), timeout);
      this.waiters.add(waiter);
    });
  }

  // --- structure (server-mediated) -----------------------------------------------------------

  async request(url, options, view = null) {
    try {
      return { ok: true, data: await apiFetch(url, options) };
    } catch (error) {
      this.showError(error.message, view?.docName ?? null, error.code ?? "request");
      return { ok: false, error };
    }
  }

  async addClause(kind, afterId) {
    const body = { kind, text: "" };
    if (afterId != null) body.after_id = afterId;
    const after = afterId != null ? this.views.get(afterId) : null;
    const result = await this.request(`/api/v1/recommendations/${this.id}/clauses`, { method: "POST", body }, after);
    if (!result.ok || result.data?.id == null) return;
    const id = result.data.id;
    if (await this.whenClauses(() => this.views.has(id))) {
      const view = this.views.get(id);
      view.focusEditor();
      this.announce(t("added", { number: labelNumber(view.clause.number) }));
    }
  }

  async moveBy(view, step) {
    const button = step < 0 ? view.buttons.up : view.buttons.down;
    if (button.getAttribute("aria-disabled") === "true") return;
    const part = this.clauses.filter((clause) => clause.kind === view.clause.kind);
    const index = part.findIndex((clause) => clause.id === view.id);
    const target = index + step;
    if (index < 0 || target < 0 || target >= part.length) return;
    // Up: follow the clause two places above (or be first); down: follow the next one.
    const afterId = step < 0 ? (target > 0 ? part[target - 1].id : null) : part[target].id;
    await this.move(view, afterId, button);
  }

  async move(view, afterId, focusAfter = null) {
    const result = await this.request(`/api/v1/clauses/${view.id}/move`, { method: "POST", body: { after_id: afterId } }, view);
    if (!result.ok) return;
    if (await this.whenClauses(() => this.predecessorOf(view.id) === afterId)) {
      if (focusAfter?.isConnected && document.activeElement !== focusAfter) focusAfter.focus();
      this.announce(t("moved", { number: labelNumber(view.clause.number) }));
    }
  }

  async toggleKind(view) {
    const kind = view.clause.kind === "preambular" ? "operative" : "preambular";
    const result = await this.request(`/api/v1/clauses/${view.id}`, { method: "PATCH", body: { kind } }, view);
    if (!result.ok) return;
    if (await this.whenClauses(() => this.clauseById(view.id)?.kind === kind)) {
      view.buttons.kind.focus();
      this.announce(t("kindChanged", { number: labelNumber(view.clause.number) }));
    }
  }

  async removeClause(view) {
    const { id } = view;
    const number = labelNumber(view.clause.number);
    const kind = view.clause.kind;
    const result = await this.request(`/api/v1/clauses/${id}`, { method: "DELETE" }, view);
    if (!result.ok) return;
    if (await this.whenClauses(() => !this.views.has(id))) this.offerUndo(id, number, kind);
  }

  /** "Clause PP2 deleted — Undo", for UNDO_MS (paused while the pointer or focus is on it). */
  offerUndo(id, number, kind) {
    this.toast?.close(false);
    const box = document.createElement("div");
    box.className = "editor-toast";
    box.setAttribute("role", "status");
    const text = document.createElement("p");
    text.className = "editor-toast__text";
    text.textContent = t("deleted", { number });
    const undo = document.createElement("button");
    undo.type = "button";
    undo.className = "button button--small";
    undo.textContent = t("undo");
    const dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.className = "button button--link editor-toast__dismiss";
    dismiss.textContent = t("dismiss");
    box.append(text, undo, dismiss);
    this.root.append(box);

    let timer = null;
    const toast = {
      close: (moveFocus = true) => {
        clearTimeout(timer);
        const hadFocus = box.contains(document.activeElement);
        box.remove();
        if (this.toast === toast) this.toast = null;
        if (hadFocus && moveFocus) this.parts[kind].heading.focus();
      },
    };
    const start = () => {
      clearTimeout(timer);
      timer = setTimeout(() => toast.close(), UNDO_MS);
    };
    const pause = () => clearTimeout(timer);
    box.addEventListener("mouseenter", pause);
    box.addEventListener("mouseleave", () => !box.contains(document.activeElement) && start());
    box.addEventListener("focusin", pause);
    box.addEventListener("focusout", (event) => !box.contains(event.relatedTarget) && start());
    dismiss.addEventListener("click", () => toast.close());
    undo.addEventListener("click", async () => {
      undo.disabled = true;
      const result = await this.request(`/api/v1/clauses/${id}/restore`, { method: "POST" });
      toast.close(false);
      if (!result.ok) return;
      if (await this.whenClauses(() => this.views.has(id))) {
        const view = this.views.get(id);
        view.focusEditor();
        this.announce(t("restored", { number: labelNumber(view.clause.number) }));
      }
    });
    this.toast = toast;
    // The clause's buttons are gone with it: the natural next stop is Undo.
    undo.focus();
    start();
  }

  enableDragAndDrop(kind) {
    const { ol } = this.parts[kind];
    const clear = () => {
      for (const li of ol.querySelectorAll(".clause--drop-before, .clause--drop-after")) {
        li.classList.remove("clause--drop-before", "clause--drop-after");
      }
    };
    /** Where a drop at clientY would put the dragged clause: {afterId, marker, side}. */
    const target = (clientY) => {
      const others = [...ol.children].filter((li) => Number(li.dataset.clauseId) !== this.drag.id);
      const before = others.find((li) => {
        const box = li.getBoundingClientRect();
        return clientY < box.top + box.height / 2;
      });
      const index = before ? others.indexOf(before) : others.length;
      const afterLi = index > 0 ? others[index - 1] : null;
      return {
        afterId: afterLi ? Number(afterLi.dataset.clauseId) : null,
        marker: before ?? afterLi,
        side: before ? "before" : "after",
      };
    };
    ol.addEventListener("dragstart", (event) => {
      const handle = event.target.closest?.(".clause__handle");
      const li = handle?.closest("li");
      if (!li || !this.canEdit) return;
      this.drag = { id: Number(li.dataset.clauseId), kind };
      event.dataTransfer.effectAllowed = "move";
      // Our own type only: editors ignore it, so a drop never inserts text by accident.
      event.dataTransfer.setData("application/x-plenary-clause", li.dataset.clauseId);
      event.dataTransfer.setDragImage(li, 16, 16);
      li.classList.add("clause--dragging");
    });
    ol.addEventListener("dragover", (event) => {
      if (this.drag?.kind !== kind) return;
      event.preventDefault();
      event.stopPropagation();
      event.dataTransfer.dropEffect = "move";
      clear();
      const { marker, side } = target(event.clientY);
      marker?.classList.add(`clause--drop-${side}`);
    }, true);
    ol.addEventListener("dragleave", (event) => {
      if (!ol.contains(event.relatedTarget)) clear();
    });
    ol.addEventListener("drop", (event) => {
      if (this.drag?.kind !== kind) return;
      event.preventDefault();
      event.stopPropagation();
      clear();
      const { afterId } = target(event.clientY);
      const view = this.views.get(this.drag.id);
      this.drag = null;
      if (view && this.predecessorOf(view.id) !== afterId) this.move(view, afterId);
    }, true);
    ol.addEventListener("dragend", () => {
      clear();
      for (const li of ol.querySelectorAll(".clause--dragging")) li.classList.remove("clause--dragging");
      this.drag = null;
    });
  }

  // --- preview -------------------------------------------------------------------------------

  async togglePreview(view) {
    if (view.previewing) {
      view.showEditor();
      return;
    }
    view.showPreviewText(t("previewLoading"));
    await this.refreshPreview(view);
  }

  /** The server's rendering of what it has saved: its one sanitised Markdown path. */
  async refreshPreview(view) {
    try {
      const recommendation = await apiFetch(`/api/v1/recommendations/${this.id}`);
      const clause = recommendation?.clauses?.find((c) => c.id === view.id);
      if (!view.previewing || view.destroyed) return;
      if (clause && typeof clause.text_html === "string") {
        if (clause.text_html.trim()) view.showPreview(clause.text_html);
        else view.showPreviewText(t("previewEmpty"));
      } else {
        view.showPreviewText(t("previewFailed"));
      }
    } catch {
      if (view.previewing && !view.destroyed) view.showPreviewText(t("previewFailed"));
    }
  }

  onAcknowledged(docName) {
    const view = this.viewByDoc(docName);
    if (!view?.previewing) return;
    clearTimeout(view.previewTimer);
    view.previewTimer = setTimeout(() => this.refreshPreview(view), 500);
  }

  // --- status, errors, announcements ---------------------------------------------------------

  renderStatus() {
    const status = this.provider.status;
    if (status === Connection.FAILED) {
      const { code, message } = this.provider.joinError ?? {};
      // Someone outside the group reading an adopted text: the rendered page is all there
      // is for them, and nothing went wrong.
      if (code === "forbidden" || code === "not_found") {
        this.provider.destroy();
        this.socket.disconnect();
        if (this.statusElement) this.statusElement.hidden = true;
        return;
      }
      this.showTopMessage(message ? t("joinFailed", { message }) : t("joinFailedUnknown"), "join");
    }
    if (status === "saving") {
      // Flip to "Saving…" only when it lasts; "Saved" again as soon as it is true.
      if (this.shownStatus !== "saving" && this.savingTimer === null) {
        this.savingTimer = setTimeout(() => {
          this.savingTimer = null;
          if (this.provider.status === "saving") this.showStatus("saving");
        }, SAVING_DELAY_MS);
      }
      return;
    }
    clearTimeout(this.savingTimer);
    this.savingTimer = null;
    this.showStatus(status === "saved" && !this.canEdit ? "live" : status);
  }

  showStatus(state) {
    if (this.shownStatus === state || !this.statusElement) return;
    this.shownStatus = state;
    const key = `status${state[0].toUpperCase()}${state.slice(1)}`;
    this.statusElement.dataset.state = state;
    this.statusElement.textContent = t(key);
    this.statusElement.hidden = false;
  }

  /** An `error` event or a refused request: under its clause, or at the top. */
  showError(message, docName = null, code = "error") {
    const text = message || t("errorUnknown");
    const view = docName ? this.viewByDoc(docName) : null;
    if (view) view.showMessage(text, code);
    else this.showTopMessage(text, code);
  }

  showTopMessage(text, key) {
    this.removeTopMessage(key);
    this.messages.append(messageElement(text, key));
  }

  removeTopMessage(key) {
    for (const old of this.messages.querySelectorAll(`[data-key="${CSS.escape(key)}"]`)) old.remove();
  }

  onRefused(docName, error, carried) {
    const view = this.viewByDoc(docName);
    if (!view) return;
    const code = error?.code;
    if (code === "rate_limited" || code === "unavailable") {
      // Too fast, or the server could not save it now: what was refused is still in the
      // document, and a new exchange sends it again.
      setTimeout(() => this.provider.resync(docName), 2000);
      return;
    }
    if (carried && ["forbidden", "locked", "invalid", "too_large"].includes(code)) {
      // The server will never take these edits (locked clause, read-only role, a change
      // no editor makes, a clause past its length): without them this copy would differ
      // from everyone else's for good, and would be sent again at every reconnection.
      // Start again from the server's text, once in a while at most.
      const last = this.resetAt.get(view.id) ?? 0;
      if (Date.now() - last < 10_000) return;
      this.resetAt.set(view.id, Date.now());
      this.resetClause(view, error?.message || (code === "too_large" ? t("tooLarge") : ""));
    }
  }

  /**
   * The server refused, after all, changes to a clause that it had already passed on (a lock
   * or a revocation that reached it a moment late): every editor drops its copy and loads the
   * saved text. Whoever typed words that were not saved keeps them in front of them, to copy.
   */
  onReset(data) {
    const view = this.viewByDoc(data?.doc);
    if (!view) return;
    const mine = this.provider.hasUnsaved(view.docName);
    // Its sender's refusal follows: this reset answers it too.
    this.resetAt.set(view.id, Date.now());
    if (mine) {
      const number = labelNumber(view.clause.number);
      this.messages.append(keptTextElement(t("refusedWhileTyping", { number }),
        t("unsavedText", { number }), view.text.toString(), `reset-${view.clause.id}`));
    }
    // Whoever typed them also gets the refusal as an `error`, with the reason.
    this.resetClause(view, "", mine ? "" : t("resetByServer"));
  }

  async resetClause(view, reason = "", note = "") {
    const clause = view.clause;
    const hadFocus = view.li.contains(document.activeElement);
    // Not recreated by a `clauses_changed` meanwhile: the copy on this device goes first.
    this.resetting.add(clause.id);
    const forgotten = view.destroy({ forget: true });
    this.views.delete(clause.id);
    await forgotten;
    this.resetting.delete(clause.id);
    this.applyClauses(this.clauses);
    const fresh = this.views.get(clause.id);
    fresh?.showMessage(note || (reason ? `${reason} ${t("refusedReset")}` : t("refusedReset")), "reset");
    if (hadFocus) fresh?.focusEditor();
  }

  announce(text) {
    // Emptied first, so the same sentence twice is announced twice.
    this.announcer.textContent = "";
    setTimeout(() => {
      this.announcer.textContent = text;
    }, 50);
  }
}

function boot() {
  const root = document.querySelector("[data-editor]");
  if (!root || root.dataset.editorStarted) return;
  root.dataset.editorStarted = "true";
  loadStrings();
  try {
    window.plenaryEditor = new RecommendationEditor(root);
  } catch (error) {
    // The server-rendered text is still there; say that live editing did not start.
    console.error(error);
  }
}

boot();
