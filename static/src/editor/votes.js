// The votes of a recommendation, live in its editor page: the chair's console and everyone's
// list of open votes (`<section data-vote-console>`, rendered by the server) is fetched again
// whenever something it shows changes, and a short "Vote now" notice at the top points at
// each open vote this person may vote in and has not (the console marks them).
//
// The console is the server's (`GET /recommendations/<id>/votes?partial=1`, the same markup
// as in the page without scripts), so every rule and word stays there; this file only
// replaces it, keeping what the chair was typing in its forms (keep.js).
//
// A clause locked by a vote, and an adopted one, turn read-only by themselves: the services
// announce `clauses_changed` with the clause's new status (list.js, clause.js).
import { extract, replaceKeeping } from "./keep.js";
import { t } from "./i18n.js";
import { apiFetch } from "../api.js";

const EVENTS = ["vote_opened", "ballot_counted", "vote_closed", "vote_cancelled", "statement_added", "clauses_changed",
  "objection_made", "objection_withdrawn", "presence_counted"];
// Ballots come in bursts: one reload for each burst.
const REFRESH_MS = 150;

export class VoteConsole {
  /** @param {import("./editor.js").RecommendationEditor} editor id, socket, provider, announce() */
  constructor(editor) {
    this.editor = editor;
    this.seq = 0;
    this.timer = null;
    for (const name of EVENTS) {
      editor.socket.on(name, (data) => {
        if (Number(data?.recommendation) !== editor.id) return;
        this.schedule();
        if (name === "vote_opened") this.announceOpened(data.vote);
        if (name === "vote_closed" || name === "vote_cancelled") this.announceEnded(name, data.vote);
      });
    }
    // Events may have been missed between the page's rendering and the first join, or
    // while the connection was down.
    editor.provider.on("joined", () => this.schedule());
    this.banner = document.createElement("div");
    this.banner.className = "vote-now";
    this.banner.dataset.voteNowBanner = "";
    this.banner.hidden = true;
    editor.messages?.before(this.banner);
    this.renderBanner();
    // Questions put for consensus that this page has shown to this member.
    this.reached = new Set();
    this.reportPresence();
  }

  /** A question put for consensus counts who it has reached (a chair declares consensus
   *  only once it has reached a quorum): the console shows this member the questions they
   *  decide (a[data-vote-present]), and this page tells the server once for each. */
  reportPresence() {
    for (const link of this.element?.querySelectorAll("a[data-vote-present]") ?? []) {
      const id = /** @type {HTMLElement} */ (link).dataset.votePresent ?? "";
      if (!id || this.reached.has(id)) continue;
      this.reached.add(id);
      apiFetch(`/api/v1/votes/${encodeURIComponent(id)}/presence`, { method: "POST" }).catch(() => {
        this.reached.delete(id); // the next refresh tries again
      });
    }
  }

  /** "Vote now" for each open vote this person may vote in and has not: the console
   *  marks them (a[data-vote-now]), and it is far down the page, below every clause. */
  renderBanner() {
    const links = [...(this.element?.querySelectorAll("a[data-vote-now]") ?? [])];
    const rows = links.map((link) => {
      const item = /** @type {HTMLElement | null} */ (link.closest("[data-vote-id]"));
      const id = item?.dataset.voteId ?? "";
      const question = item?.querySelector(`a[href$="/votes/${CSS.escape(id)}"]`)?.textContent.trim() ?? "";
      const row = document.createElement("p");
      row.className = "vote-now__row";
      const text = document.createElement("span");
      text.className = "vote-now__text";
      const title = document.createElement("strong");
      title.textContent = t("voteNowTitle");
      text.append(title, ` ${question}`);
      const go = document.createElement("a");
      go.className = "button button--primary button--small";
      go.href = link.getAttribute("href") ?? "#";
      go.textContent = t("voteNow");
      if (question) go.setAttribute("aria-label", `${t("voteNow")}: ${question}`);
      row.append(text, go);
      return row;
    });
    this.banner.replaceChildren(...rows);
    this.banner.hidden = rows.length === 0;
  }

  get element() {
    return document.querySelector("[data-vote-console]");
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), REFRESH_MS);
  }

  async refresh() {
    const current = this.element;
    if (!current) return;
    const seq = ++this.seq;
    const url = new URL(`/recommendations/${encodeURIComponent(this.editor.id)}/votes`, window.location.href);
    url.searchParams.set("partial", "1");
    let html;
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!response.ok) return;
      html = await response.text();
    } catch {
      return; // the next event, or the next join, tries again
    }
    // A newer answer is on its way, or already shown.
    if (seq !== this.seq) return;
    const fresh = extract(html, "[data-vote-console]");
    const old = this.element;
    if (!fresh || !old || Number(fresh.dataset.recommendationId) !== this.editor.id) return;
    const lostFocus = replaceKeeping(old, fresh);
    this.renderBanner();
    this.reportPresence();
    if (lostFocus) {
      // What had the focus is gone (a vote that ended): the console's heading takes it.
      const heading = fresh.querySelector("h2, h3");
      if (heading) {
        heading.tabIndex = -1;
        heading.focus({ preventScroll: true });
      }
    }
  }

  announceOpened(vote) {
    if (!vote?.question) return;
    this.editor.announce(t("voteOpened", { question: vote.question }));
  }

  announceEnded(name, vote) {
    if (!vote?.question) return;
    this.editor.announce(t(name === "vote_closed" ? "voteClosed" : "voteCancelled", { question: vote.question }));
  }
}
