// A vote's page and its projector view, kept live: the entry of static/dist/votes.js, linked
// by votes/show.html and votes/projector.html (templates/votes/_live.html).
//
// Both pages are complete without scripts (the server renders the turnout, the deadline,
// the result). Here they join the recommendation's room over Socket.IO, as the editor does
// (same origin, the session cookie), and follow the vote:
//   ballot_counted            -> "n of N" (and the running tally, when the vote shows one,
//                                fetched with the section: the server words the counts)
//   objection_made/_withdrawn, presence_counted -> (consensus) the section fetched again
//   vote_closed/vote_cancelled -> the page's vote section fetched again and swapped in, so
//                                the result appears where people look, with no reload (a
//                                projector in full screen stays in full screen)
//   every second              -> the countdown to data-deadline; at zero "Closing…" until
//                                the server's deadline worker closes the vote
// After each join (the first too: the page was rendered before it) the vote is compared with
// the API's: events may have been missed meanwhile.
//
// Secret ballots: the receipt the page shows once after a ballot is kept in localStorage
// (one key per vote), and put into the ballot form's `receipt` field, so that the same
// browser can change the ballot without anyone copying it. It is dropped once the vote ends.
import { io } from "socket.io-client";

import { apiFetch } from "../api.js";
import { followClosing } from "../closed.js";
import { extract, replaceKeeping } from "../editor/keep.js";

// After the countdown reached zero: the server closes the vote within its poll interval;
// if no vote_closed came meanwhile (the socket is down), ask the page again this often.
const CLOSING_POLL_MS = 5_000;
// Ballots of a vote that shows its tally come in bursts: one fetch per burst.
const TALLY_REFRESH_MS = 300;

let strings = {};

function t(key, fallback) {
  return strings[key] ?? fallback;
}

function loadStrings() {
  strings = { ...(document.getElementById("vote-strings")?.dataset ?? {}) };
}

/** 3725 s -> "1:02:05"; 65 s -> "1:05". Digits only: they read the same in every language. */
export function formatRemaining(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
}

/**
 * When the vote closes, in this browser's clock (ms). The seconds left that the server
 * rendered (data-remaining) are free of clock differences; else data-deadline, read as UTC
 * when it carries no offset (the server keeps times in UTC).
 */
function deadlineOf(root, countdown) {
  const remaining = Number.parseFloat(countdown?.dataset.remaining ?? "");
  if (Number.isFinite(remaining)) return Date.now() + remaining * 1000;
  const iso = root.dataset.deadline ?? "";
  if (!iso) return Number.NaN;
  const zoned = /(Z|[+-]\d\d:?\d\d)$/.test(iso) ? iso : `${iso}Z`;
  return Date.parse(zoned);
}

function receiptKey(root) {
  // Per vote, with its opening time (a recreated database reuses vote ids), and per person
  // when the page says who is signed in.
  const who = root.dataset.userId ? `${root.dataset.userId}:` : "";
  return `plenary:${who}vote:${root.dataset.voteId}:${root.dataset.openedAt ?? ""}:receipt`;
}

function storage() {
  try {
    return window.localStorage;
  } catch {
    return null; // storage disabled: the receipt is still shown, to be copied by hand
  }
}

class LiveVote {
  constructor(root) {
    this.root = root;
    this.voteId = Number(root.dataset.voteId);
    this.recommendationId = Number(root.dataset.recommendationId);
    this.seq = 0;
    this.closingTimer = null;

    this.announcer = document.createElement("div");
    this.announcer.className = "visually-hidden";
    this.announcer.setAttribute("aria-live", "polite");
    document.body.append(this.announcer);

    this.adopt(root);
    this.tick = setInterval(() => this.renderCountdown(), 1000);

    this.socket = io({ transports: ["websocket", "polling"], tryAllTransports: true });
    this.socket.on("connect", () => this.join());
    this.socket.on("ballot_counted", (data) => this.onBallot(data));
    followClosing(this.socket);
    for (const name of ["vote_closed", "vote_cancelled"]) {
      this.socket.on(name, (data) => {
        if (this.mine(data) && Number(data.vote?.id) === this.voteId) this.refresh({ ended: true });
      });
    }
    // A question put for consensus: the named objections and who it has reached, as the
    // server words them (the chair's button changes with them).
    for (const name of ["objection_made", "objection_withdrawn", "presence_counted"]) {
      this.socket.on(name, (data) => {
        if (this.mine(data) && Number(data.vote?.id) === this.voteId) this.refresh();
      });
    }
  }

  mine(data) {
    return Number(data?.recommendation) === this.recommendationId;
  }

  get status() {
    return this.root.dataset.status;
  }

  /** Take `root` (the page's, or a fresh rendering swapped in) as the vote shown. */
  adopt(root) {
    this.root = root;
    this.turnout = Number(root.dataset.turnout) || 0;
    const countdown = root.querySelector("[data-vote-countdown]");
    this.deadline = deadlineOf(root, countdown);
    // A timer, not a live region: a screen reader must not read it every second.
    if (countdown && !countdown.hasAttribute("role")) countdown.setAttribute("role", "timer");
    this.keepReceipt();
    this.renderCountdown();
  }

  join() {
    this.socket.emit("join", { recommendation: this.recommendationId }, (ack) => {
      if (!ack?.ok) {
        // Not allowed to follow it live (or it is gone): the page as rendered is all there is.
        this.socket.disconnect();
        return;
      }
      // Ballots counted (or the close) between the page's rendering and this join, or
      // while the connection was down, were announced to nobody here: catch up.
      this.sync();
    });
  }

  onBallot(data) {
    if (!this.mine(data) || Number(data.vote) !== this.voteId || this.status !== "open") return;
    const turnout = Number(data.turnout);
    if (!Number.isInteger(turnout)) return;
    // Announcements of ballots cast at once may arrive out of order; turnout only grows.
    if (turnout >= this.turnout) {
      this.turnout = turnout;
      this.root.dataset.turnout = String(turnout);
      for (const element of this.root.querySelectorAll("[data-vote-turnout]")) element.textContent = String(turnout);
      const eligible = Number(data.eligible);
      if (Number.isInteger(eligible)) {
        this.root.dataset.eligible = String(eligible);
        for (const element of this.root.querySelectorAll("[data-vote-eligible]")) element.textContent = String(eligible);
      }
      for (const bar of this.root.querySelectorAll("progress[data-vote-turnout-bar], meter[data-vote-turnout-bar]")) {
        if (Number.isInteger(eligible)) bar.max = eligible;
        bar.value = turnout;
      }
    }
    // The running tally (only in roll-call votes whose chair chose to show it): the server
    // words the counts ("1 vote", "2 votes" in every language), so the section is fetched
    // again, once per burst of ballots.
    if (data.tally && typeof data.tally === "object") {
      clearTimeout(this.tallyTimer);
      this.tallyTimer = setTimeout(() => this.refresh(), TALLY_REFRESH_MS);
    }
  }

  renderCountdown() {
    const element = this.root.querySelector("[data-vote-countdown]");
    if (!element || Number.isNaN(this.deadline) || this.status !== "open") return;
    const remaining = (this.deadline - Date.now()) / 1000;
    if (remaining > 0) {
      element.textContent = formatRemaining(Math.ceil(remaining));
      element.dataset.state = remaining <= 60 ? "ending" : "running";
      return;
    }
    if (element.dataset.state !== "closing") {
      element.textContent = t("closing", "Closing…");
      element.dataset.state = "closing";
    }
    // The deadline worker closes it; vote_closed swaps the result in. Until it does, ask.
    if (this.closingTimer === null) {
      this.closingTimer = setTimeout(() => {
        this.closingTimer = null;
        if (this.status === "open") this.refresh();
      }, CLOSING_POLL_MS);
    }
  }

  /** Compare with the vote as the API tells it now: the numbers are updated in place; an
   *  ended vote (or a tally to show) fetches the section. Not the page itself at first:
   *  its rendering shows a secret ballot's receipt once, and must stay as it is. */
  async sync() {
    let vote;
    try {
      vote = await apiFetch(`/api/v1/votes/${encodeURIComponent(this.voteId)}`);
    } catch {
      return;
    }
    if (vote?.status !== this.status || (vote.status === "open" && vote.show_tally && !vote.secret)) {
      this.refresh();
      return;
    }
    this.onBallot({ recommendation: this.recommendationId, vote: this.voteId, turnout: vote.turnout, eligible: vote.eligible });
  }

  /** Fetch this page again and swap its vote section in (keeping what was being chosen). */
  async refresh({ ended = false } = {}) {
    const seq = ++this.seq;
    let html;
    try {
      const url = new URL(window.location.href);
      url.hash = "";
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!response.ok) return;
      html = await response.text();
    } catch {
      return;
    }
    if (seq !== this.seq) return;
    const fresh = extract(html, "[data-vote]");
    if (!fresh || Number(fresh.dataset.voteId) !== this.voteId) return;
    const wasOpen = this.status === "open";
    const lostFocus = replaceKeeping(this.root, fresh);
    this.adopt(fresh);
    if (wasOpen && this.status !== "open") {
      const result = fresh.querySelector("[data-vote-result]");
      this.announce(result?.textContent.replace(/\s+/g, " ").trim() ?? "");
      if (lostFocus && result) {
        result.tabIndex = -1;
        result.focus({ preventScroll: true });
      }
    } else if (ended && this.status === "open") {
      // The event came before the page could see it closed (a replica lagging): once more.
      setTimeout(() => this.refresh(), 1000);
    }
  }

  announce(text) {
    this.announcer.textContent = "";
    setTimeout(() => {
      this.announcer.textContent = text;
    }, 50);
  }

  // --- secret ballots: the receipt -------------------------------------------------------

  keepReceipt() {
    const store = storage();
    if (!store || this.root.dataset.secret !== "true") return;
    const key = receiptKey(this.root);
    if (this.status !== "open") {
      // Nothing left to change: the receipt would only say, to whoever holds it, how this
      // browser voted.
      store.removeItem(key);
      return;
    }
    // Shown once, right after casting or changing the ballot: the newest one is the one
    // that works (a changed ballot spends the old receipt).
    const shown = this.root.querySelector("[data-vote-receipt]");
    const receipt = (shown?.dataset.voteReceipt || shown?.textContent || "").trim();
    if (receipt) store.setItem(key, receipt);
    const saved = store.getItem(key);
    if (!saved) return;
    for (const field of this.root.querySelectorAll('form input[name="receipt"], form textarea[name="receipt"]')) {
      if (!field.value) {
        field.value = saved;
        field.dataset.voteReceiptFilled = "true";
      }
    }
  }
}

function boot() {
  const root = /** @type {HTMLElement | null} */ (document.querySelector("[data-vote]"));
  if (!root || root.dataset.liveStarted) return;
  root.dataset.liveStarted = "true";
  loadStrings();
  try {
    window.plenaryVote = new LiveVote(root);
  } catch (error) {
    // The page as the server rendered it still says everything, if not live.
    console.error(error);
  }
}

boot();
