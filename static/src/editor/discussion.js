// The discussion of the clauses in the live editor: the counts on each clause's Discussion
// button, the highlighted words of open anchored threads, and the side panel.
//
// The panel is the server's: `GET /clauses/<id>/discussion?partial=1` renders it (the same
// markup as the page that works without scripts), and each form in it is an ordinary form
// whose POST, sent here with `X-Plenary-Partial: 1`, answers with the panel rendered again
// (with the error inside it when the action was refused). So every rule, word and escape
// stays on the server; this file only moves HTML into place and keeps it current:
// - live: every `comment_*`, `thread_*` and `amendment_*` event of the clause reloads it,
//   and so does a change of the clause's text (redlines are against the current text);
// - without losing what a person is typing: fields that differ from what the server
//   rendered, and the focus and caret, are carried over into the new panel (keep.js).
// Counts and anchors come from the `join` answer, `GET .../threads?state=open` and the
// events, which carry the whole thread.
import { apiFetch, csrfToken } from "../api.js";
import { labelNumber, messageElement } from "./clause.js";
import { t } from "./i18n.js";
import { capture, extract, fieldOf, isTyped, restore } from "./keep.js";

const THREAD_EVENTS = ["comment_created", "comment_updated", "comment_deleted", "thread_resolved", "thread_reopened"];
const AMENDMENT_EVENTS = [
  "amendment_proposed", "amendment_updated", "amendment_withdrawn",
  "amendment_accepted", "amendment_rejected", "amendment_put_to_vote", "amendment_superseded",
];
// Events come in bursts (a reply and a reopen, an accept and its edit): one reload for them.
const EVENT_REFRESH_MS = 100;
// After the clause's text has stopped changing for this long, its redlines are redrawn.
const TEXT_REFRESH_MS = 700;
const PANEL_ID = "discussion-panel";
// Where the panel stands beside the clauses rather than over them (editor.css).
const WIDE = "(min-width: 64rem)";

/** Put the number of unread notifications in the header's badge; hide it at 0. */
function showUnread(unread) {
  if (!Number.isInteger(unread) || unread < 0) return;
  const badge = /** @type {HTMLElement | null} */ (document.querySelector("[data-notifications-badge]"));
  const number = document.querySelector("[data-notifications-unread]");
  if (!badge || !number) return;
  number.textContent = String(unread);
  badge.hidden = unread === 0;
}

export class Discussion {
  /**
   * @param {import("./editor.js").RecommendationEditor} editor id, socket, provider, views, announce()
   * @param {HTMLElement} host the element the panel goes into (.editor-layout)
   */
  constructor(editor, host) {
    this.editor = editor;
    /** clause id -> {open_threads, comments, open_amendments} */
    this.counts = new Map();
    /** thread id -> {id, clauseId, start, end}: the open anchored threads */
    this.threads = new Map();
    /** Threads an event told about since the last full load (that load may be older). */
    this.touched = new Set();
    this.allowed = false;
    this.panel = new DiscussionPanel(host, this);
    for (const name of THREAD_EVENTS) editor.socket.on(name, (data) => this.onThreadEvent(data));
    for (const name of AMENDMENT_EVENTS) editor.socket.on(name, (data) => this.onAmendmentEvent(data));
    // The header's unread count (templates/base.html), kept live while the editor is open.
    for (const name of ["notification_created", "notifications_read"]) {
      editor.socket.on(name, (data) => showUnread(data?.unread));
    }
  }

  /** May this person start threads (the join said so)? */
  canComment() {
    return this.allowed;
  }

  /** After every join (reconnections too: events may have been missed meanwhile). */
  onJoined(ack) {
    this.allowed = Boolean(ack.can_comment);
    for (const clause of Array.isArray(ack.clauses) ? ack.clauses : []) {
      this.setCounts(clause.id, {
        open_threads: Number(clause.open_threads) || 0,
        comments: Number(clause.comments) || 0,
        open_amendments: Number(clause.open_amendments) || 0,
      });
    }
    this.loadThreads();
    if (this.panel.clauseId !== null) this.panel.refresh();
  }

  /** The editor's clause list changed: new views get their counts and anchors. */
  onClauses() {
    for (const view of this.editor.views.values()) {
      if (view.discussionReady) continue;
      view.discussionReady = true;
      view.setDiscussionCounts(this.counts.get(view.id) ?? {});
      view.setAnchors(this.anchorsOf(view.id));
    }
    this.panel.onClauses(this.editor.views);
  }

  async loadThreads() {
    const touched = new Set();
    this.touched = touched;
    let data;
    try {
      data = await apiFetch(`/api/v1/recommendations/${encodeURIComponent(this.editor.id)}/threads?state=open`);
    } catch {
      return; // no highlights, nothing else lost: the panel still lists the threads
    }
    if (this.touched !== touched) return; // a newer load is on its way
    const list = Array.isArray(data) ? data : data?.threads ?? data?.items ?? [];
    const fresh = new Set(list.map((thread) => thread.id));
    for (const id of [...this.threads.keys()]) {
      if (!fresh.has(id) && !touched.has(id)) this.threads.delete(id);
    }
    for (const thread of list) if (!touched.has(thread.id)) this.storeThread(thread);
    for (const view of this.editor.views.values()) view.setAnchors(this.anchorsOf(view.id));
  }

  storeThread(thread) {
    if (!thread || thread.id == null) return;
    if (thread.resolved || !thread.anchor?.start || !thread.anchor?.end) {
      this.threads.delete(thread.id);
    } else {
      this.threads.set(thread.id, {
        id: thread.id, clauseId: thread.clause_id, start: thread.anchor.start, end: thread.anchor.end,
      });
    }
  }

  anchorsOf(clauseId) {
    return [...this.threads.values()].filter((anchor) => anchor.clauseId === clauseId);
  }

  setCounts(clauseId, counts) {
    const known = Object.fromEntries(Object.entries(counts).filter(([, value]) => value != null && value !== ""));
    const merged = { ...(this.counts.get(clauseId) ?? {}), ...known };
    this.counts.set(clauseId, merged);
    this.editor.views.get(clauseId)?.setDiscussionCounts(merged);
  }

  ours(data) {
    return data && Number(data.recommendation) === this.editor.id && data.clause != null;
  }

  onThreadEvent(data) {
    if (!this.ours(data)) return;
    const clauseId = Number(data.clause);
    this.setCounts(clauseId, { open_threads: data.open_threads, comments: data.comments });
    if (data.thread) {
      this.touched.add(data.thread.id);
      this.storeThread(data.thread);
      this.editor.views.get(clauseId)?.setAnchors(this.anchorsOf(clauseId));
    }
    this.panel.changed(clauseId);
  }

  onAmendmentEvent(data) {
    if (!this.ours(data)) return;
    const clauseId = Number(data.clause);
    this.setCounts(clauseId, { open_amendments: data.open_amendments });
    this.panel.changed(clauseId);
  }

  // --- what the clauses ask for (ClauseView's ctx.discussion) ------------------------------

  toggle(view) {
    if (this.panel.clauseId === view.id) this.panel.close();
    else this.panel.open(view, { focus: "heading" });
  }

  /** Start a thread on the selected words: {start, end, quote}. */
  comment(view, anchor) {
    this.panel.open(view, { anchor, focus: "new-thread" });
  }

  openThread(view, threadId, { focus = true } = {}) {
    this.panel.open(view, { thread: threadId, focus: focus ? "thread" : null });
  }
}

// What a render keeps of the panel besides the changed fields (keep.js): the hidden fields of
// a form being written, which it was written against (an amendment's base_text: the clause's
// text when the person began), except the token and the filter; and where the focus was,
// outside the forms, found again by a filter link or the thread it was in.
const KEEP_HIDDEN = (name) => !["csrf_token", "state"].includes(name);
const KEEP_MARKS = ["data-discussion-filter", "data-thread-id"];

class DiscussionPanel {
  constructor(host, discussion) {
    this.host = host;
    this.discussion = discussion;
    this.view = null;
    this.state = "open";
    this.anchor = null;
    this.thread = null;
    this.loaded = false;
    this.seq = 0;
    this.sending = false;
    this.refreshWanted = false;
    this.composing = false;
    this.timer = null;
    this.textTimer = null;

    const element = document.createElement("aside");
    element.id = PANEL_ID;
    element.className = "discussion-panel editor-layout__discussion";
    element.setAttribute("aria-labelledby", `${PANEL_ID}-title`);
    element.hidden = true;
    const header = document.createElement("div");
    header.className = "discussion-panel__header";
    const heading = document.createElement("h2");
    heading.id = `${PANEL_ID}-title`;
    heading.className = "discussion-panel__title";
    heading.tabIndex = -1;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "button button--link discussion-panel__close";
    close.textContent = t("discussionClose");
    close.addEventListener("click", () => this.close());
    header.append(heading, close);
    const status = document.createElement("div");
    status.className = "discussion-panel__status";
    const body = document.createElement("div");
    body.className = "discussion-panel__body";
    const pageLink = document.createElement("a");
    pageLink.className = "discussion-panel__page";
    pageLink.textContent = t("discussionPage");
    element.append(header, status, body, pageLink);
    host.append(element);
    this.element = element;
    this.heading = heading;
    this.status = status;
    this.body = body;
    this.pageLink = pageLink;

    element.addEventListener("click", (event) => this.onClick(event));
    element.addEventListener("keydown", (event) => this.onKeydown(event));
    element.addEventListener("compositionstart", () => {
      this.composing = true;
    });
    element.addEventListener("compositionend", () => {
      this.composing = false;
    });
    // On window, so that it runs after main.js's data-confirm check (on document), and
    // sees a submission the person cancelled as defaultPrevented.
    window.addEventListener("submit", (event) => this.onSubmit(event));
  }

  /** The clause whose discussion is open, or null. */
  get clauseId() {
    return this.view && !this.element.hidden ? this.view.id : null;
  }

  // --- opening and closing -------------------------------------------------------------------

  /**
   * @param {import("./clause.js").ClauseView} view
   * @param {{anchor?: {start, end, quote}, thread?: number, focus?: string|null}} options
   *   focus: "heading", "new-thread", "thread" or null (leave the focus where it is)
   */
  open(view, { anchor = null, thread = null, focus = "heading" } = {}) {
    if (this.view !== view) {
      this.detach();
      this.view = view;
      this.state = "open";
      this.anchor = null;
      this.loaded = false;
      this.body.replaceChildren();
      this.status.replaceChildren();
      this.observeText(view);
    }
    if (anchor) this.anchor = anchor;
    this.thread = thread;
    view.setCurrentThread(thread);
    view.setDiscussionOpen(true);
    this.renderHeading();
    this.pageLink.href = `/clauses/${encodeURIComponent(view.id)}/discussion`;
    this.host.classList.add("editor-layout--discussing");
    this.element.hidden = false;
    // On a narrow screen the panel is a sheet over the lower half: the clause goes above it.
    if (focus !== null && !window.matchMedia(WIDE).matches) view.li.scrollIntoView({ block: "start" });
    if (!this.loaded) {
      this.showLoading();
      this.load({ focus });
    } else if (thread !== null && !this.body.querySelector(`#thread-${CSS.escape(String(thread))}`)) {
      // Not under the current filter (a resolved thread, say): show every thread.
      this.load({ focus, state: "all" });
    } else {
      this.afterRender(focus);
    }
  }

  close({ focus = true } = {}) {
    const view = this.view;
    if (!view) return;
    const hadFocus = this.element.contains(document.activeElement);
    this.detach();
    this.element.hidden = true;
    this.host.classList.remove("editor-layout--discussing");
    if (focus && hadFocus && view.discussionButton.isConnected) view.discussionButton.focus();
  }

  /** Forget the clause shown (its panel content goes: a later open loads it afresh). */
  detach() {
    if (!this.view) return;
    this.view.setDiscussionOpen(false);
    this.unobserveText?.();
    this.unobserveText = null;
    clearTimeout(this.timer);
    clearTimeout(this.textTimer);
    this.view = null;
    this.loaded = false;
    this.anchor = null;
    this.thread = null;
    this.seq += 1; // answers still on their way are for nobody now
    this.body.replaceChildren();
    this.status.replaceChildren();
  }

  renderHeading() {
    if (this.view) this.heading.textContent = t("discussionTitle", { number: labelNumber(this.view.clause.number) });
  }

  /** The editor's clause list changed: renumbered, or our clause deleted. */
  onClauses(views) {
    if (!this.view) return;
    if (views.get(this.view.id) !== this.view) this.close();
    else this.renderHeading();
  }

  // --- keeping it current --------------------------------------------------------------------

  observeText(view) {
    const onChange = () => {
      clearTimeout(this.textTimer);
      this.textTimer = setTimeout(() => this.refreshAfterText(view), TEXT_REFRESH_MS);
    };
    view.text.observe(onChange);
    this.unobserveText = () => {
      if (!view.destroyed) view.text.unobserve(onChange);
    };
  }

  /** Once the server has our own latest edits too (otherwise its redline would be older). */
  refreshAfterText(view) {
    if (this.view !== view) return;
    const entry = this.discussion.editor.provider.docs?.get(view.docName);
    if (entry && (entry.pending > 0 || !entry.flushed)) {
      this.textTimer = setTimeout(() => this.refreshAfterText(view), 300);
      return;
    }
    this.refresh();
  }

  /** An event about `clauseId`. */
  changed(clauseId) {
    if (clauseId !== this.clauseId) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), EVENT_REFRESH_MS);
  }

  refresh() {
    if (!this.view) return;
    if (this.sending || this.composing) {
      // After the answer to what is being sent (or the word being composed).
      this.refreshWanted = true;
      if (this.composing) {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.refresh(), 500);
      }
      return;
    }
    this.refreshWanted = false;
    this.load({ focus: null });
  }

  // --- talking to the server -----------------------------------------------------------------

  panelUrl(state = this.state) {
    const url = new URL(`/clauses/${encodeURIComponent(this.view.id)}/discussion`, window.location.href);
    url.searchParams.set("state", state);
    url.searchParams.set("partial", "1");
    return url;
  }

  /** GET the panel (the current filter, or `url`) and show it. */
  async load({ url = null, focus = null, state = null } = {}) {
    if (!this.view) return;
    const view = this.view;
    const seq = ++this.seq;
    const target = url ?? this.panelUrl(state ?? this.state);
    target.searchParams.set("partial", "1");
    let response;
    let html;
    try {
      response = await fetch(target, {
        credentials: "same-origin",
        headers: { Accept: "text/html", "X-Plenary-Partial": "1" },
      });
      html = await response.text();
    } catch {
      if (seq === this.seq) this.showProblem(t("discussionFailed"));
      return;
    }
    if (seq !== this.seq || this.view !== view) return;
    const section = extract(html, "[data-discussion]");
    if (!section || Number(section.dataset.clauseId) !== view.id) {
      this.showProblem(t("discussionFailed"));
      return;
    }
    this.render(section, { focus });
  }

  onSubmit(event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !this.body.contains(form) || event.defaultPrevented) return;
    const action = new URL(form.getAttribute("action") ?? "", window.location.href);
    if (action.origin !== window.location.origin) return; // not ours: an ordinary submission
    event.preventDefault();
    let data;
    try {
      data = new FormData(form, event.submitter ?? null);
    } catch {
      data = new FormData(form); // a submitter from elsewhere: its name/value are not sent
    }
    if ((form.getAttribute("method") ?? "get").toLowerCase() !== "post") {
      for (const [name, value] of data) action.searchParams.set(name, String(value));
      this.load({ url: action, focus: null });
      return;
    }
    this.send(form, action, data);
  }

  async send(form, action, data) {
    const view = this.view;
    const seq = ++this.seq;
    this.sending = true;
    form.setAttribute("aria-busy", "true");
    const buttons = [...form.querySelectorAll("button, input[type=submit]")].filter((b) => !b.disabled);
    for (const button of buttons) button.disabled = true;
    let response;
    let html = "";
    try {
      response = await fetch(action, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { Accept: "text/html", "X-Plenary-Partial": "1", "X-CSRFToken": csrfToken() },
      });
      html = await response.text();
    } catch {
      response = null;
    }
    this.sending = false;
    for (const button of buttons) button.disabled = false;
    form.removeAttribute("aria-busy");
    if (this.view !== view) return;
    const section = response ? extract(html, "[data-discussion]") : null;
    if (!section || Number(section.dataset.clauseId) !== view.id) {
      // The form and its words are still there: say so, and let them try again.
      if (seq === this.seq) this.showProblem(response ? t("discussionSendRefused") : t("discussionSendFailed"));
      if (this.refreshWanted) this.refresh();
      return;
    }
    if (response.ok && form.matches("[data-discussion-new-thread]")) this.anchor = null;
    // Newer than any reload that was on its way, and the last word on what was sent.
    this.seq += 1;
    this.render(section, { submitted: form });
    if (response.ok) this.discussion.editor.announce(t("discussionSaved"));
    if (this.refreshWanted) this.refresh();
  }

  // --- showing it ----------------------------------------------------------------------------

  showLoading() {
    const p = document.createElement("p");
    p.className = "muted";
    p.setAttribute("role", "status");
    p.textContent = t("discussionLoading");
    this.status.replaceChildren(p);
  }

  showProblem(text) {
    this.status.replaceChildren(messageElement(text, "discussion"));
  }

  /** Replace the panel with `section`, keeping what the person had typed, opened and focused. */
  render(section, { focus = null, submitted = null } = {}) {
    const kept = capture(this.body, {
      skip: submitted, hidden: KEEP_HIDDEN, marks: KEEP_MARKS, scroll: [this.element, this.body],
    });
    this.body.replaceChildren(section);
    this.status.replaceChildren();
    this.loaded = true;
    this.state = section.dataset.state || this.state;
    this.discussion.setCounts(this.view.id, {
      open_threads: section.dataset.openThreads,
      open_amendments: section.dataset.openAmendments,
    });
    const restored = restore(this.body, kept, {
      focusable: true,
      // The form sent went (a resolved thread leaves the list, say): its thread, if still shown.
      fallback: (lost) => {
        const id = lost.key && submitted?.closest("[data-thread-id]")?.dataset.threadId;
        return id ? this.body.querySelector(`[data-thread-id="${CSS.escape(id)}"]`) : null;
      },
    });
    // A focus that cannot go back goes to the panel's heading.
    if (kept.focus && !restored) this.heading.focus({ preventScroll: true });
    this.afterRender(focus);
  }

  /** The selected words into the new-thread form; the current thread marked (and focused). */
  afterRender(focus) {
    const form = this.body.querySelector("form[data-discussion-new-thread]");
    if (form) {
      const start = fieldOf(form, "anchor_start");
      const end = fieldOf(form, "anchor_end");
      const quote = /** @type {HTMLElement | null} */ (form.querySelector("[data-discussion-quote]"));
      if (start && end) {
        start.value = this.anchor?.start ?? "";
        end.value = this.anchor?.end ?? "";
      }
      if (quote) {
        quote.textContent = this.anchor?.quote ?? "";
        quote.hidden = !this.anchor;
      }
    }
    for (const old of this.body.querySelectorAll(".thread--current")) old.classList.remove("thread--current");
    const thread = this.thread === null ? null
      : /** @type {HTMLElement | null} */ (this.body.querySelector(`#thread-${CSS.escape(String(this.thread))}`));
    thread?.classList.add("thread--current");

    if (focus === "heading") {
      this.heading.focus();
    } else if (focus === "new-thread") {
      const body = form && fieldOf(form, "body");
      if (body) {
        body.focus();
        body.scrollIntoView({ block: "nearest" });
      } else {
        this.heading.focus();
      }
    } else if (focus === "thread" && thread) {
      thread.tabIndex = -1;
      thread.focus({ preventScroll: true });
      thread.scrollIntoView({ block: "nearest" });
    } else if (focus === null && thread && this.thread !== this.shownThread) {
      thread.scrollIntoView({ block: "nearest" });
    }
    this.shownThread = thread ? this.thread : null;
  }

  // --- the person's input --------------------------------------------------------------------

  onClick(event) {
    const link = event.target.closest?.("a[data-discussion-filter]");
    if (!link || !this.body.contains(link) || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    const url = new URL(link.href, window.location.href);
    this.state = link.dataset.discussionFilter || this.state;
    url.searchParams.set("state", this.state);
    this.load({ url, focus: null });
  }

  onKeydown(event) {
    if (event.key !== "Escape" || event.defaultPrevented) return;
    // Not while writing: Escape must not throw a draft away.
    const target = event.target;
    if (isTyped(target) && target.value !== target.defaultValue) return;
    event.preventDefault();
    const view = this.view;
    this.close({ focus: false });
    view?.discussionButton.focus();
  }
}
