// The export page with a live progress bar: the entry of static/dist/export.js, linked by
// templates/export/page.html.
//
// Without scripts the page's forms post: a format button starts a job and the job's page
// reloads itself until the file is ready; finalising does the same. Here the same buttons
// start the job through the API and the page follows it where it was asked for:
//   export_progress  {job, kind, status, progress, error}  -> the <progress> bar moves
//   export_finished  {job, kind, status, progress, error}  -> the job is fetched once more
//                                                             (its file name and URL), then
//                                                             the download link appears and
//                                                             the download starts
// The events go to the owner's own socket room (every connection of a signed-in participant
// is in it). While the socket is not connected the job is polled instead
// (GET /export/jobs/<id>, the same JSON as the API's), and after each (re)connection it is
// fetched once: events sent while the connection was down reached nobody here.
// A finished finalisation reloads the page, which then lists the stored documents.
import { io } from "socket.io-client";

import { ApiError, apiFetch } from "../api.js";
import { followClosing } from "../closed.js";

const POLL_MS = 1000;

let strings = {};

function t(key, fallback, values = {}) {
  let text = strings[key] ?? fallback;
  for (const [name, value] of Object.entries(values)) text = text.replaceAll(`{${name}}`, value);
  return text;
}

/** One job followed on the page: a list item with its label, bar, and then link or error. */
class FollowedJob {
  constructor(job, { list, label, live }) {
    this.id = Number(job.id);
    this.kind = job.kind;
    this.label = label;
    this.live = live;
    this.ended = false;

    this.item = document.createElement("li");
    this.item.className = "export-job";
    this.item.dataset.exportLiveJob = String(this.id);
    this.item.dataset.status = job.status;
    this.text = document.createElement("p");
    this.text.setAttribute("role", "status");
    this.text.textContent = this.runningText();
    this.bar = document.createElement("progress");
    this.bar.max = 100;
    this.bar.value = Number(job.progress) || 0;
    this.bar.setAttribute("aria-label", `${t("progress", "Progress")}: ${label}`);
    this.bar.dataset.exportProgress = "";
    this.percent = document.createElement("span");
    this.percent.dataset.exportPercent = "";
    this.item.append(this.text, this.bar, " ", this.percent);
    list.prepend(this.item);
    this.show(job);
  }

  runningText() {
    return this.kind === "finalise"
      ? t("finalising", "Finalising…")
      : t("running", `Exporting ${this.label}…`, { format: this.label });
  }

  /** A job's state as the API or an event tells it; progress only grows. */
  show(job) {
    if (this.ended) return;
    const progress = Math.max(Number(this.bar.value) || 0, Math.min(100, Number(job.progress) || 0));
    this.bar.value = progress;
    this.percent.textContent = `${progress}%`;
    this.item.dataset.status = job.status;
    // A job waits, queued, while the server renders as many as it allows at once.
    if (job.status === "queued") this.text.textContent = t("queued", "Waiting for other exports to finish…");
    else if (job.status === "running") this.text.textContent = this.runningText();
    if (job.status === "failed") this.fail(job.error || t("failed", "The export failed."));
    else if (job.status === "finished") this.finish(job);
  }

  finish(job) {
    if (this.kind === "finalise") {
      this.end();
      this.text.textContent = t("final", "The outcome document is final.");
      // The page as the server renders it now: the stored documents and their SHA-256.
      window.location.reload();
      return;
    }
    if (!job.download_url) return; // an event: the job is fetched for its file
    this.end();
    this.text.textContent = t("ready", `${this.label} is ready.`, { format: this.label });
    const link = document.createElement("a");
    link.className = "button button--primary";
    link.href = job.download_url;
    link.dataset.exportDownload = "";
    link.textContent = t("download", `Download ${job.filename}`, { name: job.filename ?? "" });
    const paragraph = document.createElement("p");
    paragraph.append(link);
    this.item.append(paragraph);
    // The file is an attachment: following the link downloads it and the page stays.
    link.click();
  }

  fail(message) {
    this.end();
    this.bar.remove();
    this.percent.remove();
    this.text.removeAttribute("role");
    const alert = document.createElement("div");
    alert.className = "form-errors";
    alert.setAttribute("role", "alert");
    const paragraph = document.createElement("p");
    paragraph.textContent = message;
    alert.append(paragraph);
    this.item.append(alert);
  }

  end() {
    this.ended = true;
    this.item.dataset.status = this.item.dataset.status === "failed" ? "failed" : "finished";
    this.live.forget(this);
  }
}

/** The page's jobs, their socket and their polling. */
class ExportPage {
  constructor() {
    this.jobs = new Map();
    this.timer = null;
    this.socket = io({ transports: ["websocket", "polling"], tryAllTransports: true });
    this.socket.on("connect", () => this.catchUp());
    this.socket.on("disconnect", () => this.schedule());
    this.socket.on("export_progress", (data) => this.jobs.get(Number(data?.job))?.show(data));
    followClosing(this.socket);
    this.socket.on("export_finished", (data) => {
      const job = this.jobs.get(Number(data?.job));
      if (!job) return;
      if (data.status === "failed") job.show(data);
      else this.fetch(job);
    });
  }

  follow(job, list, label) {
    const followed = new FollowedJob(job, { list, label, live: this });
    if (!followed.ended) {
      this.jobs.set(followed.id, followed);
      // Whatever happened between the answer and now (a fast export may be done already).
      this.fetch(followed);
      this.schedule();
    }
  }

  forget(job) {
    this.jobs.delete(job.id);
  }

  async fetch(job) {
    try {
      job.show(await apiFetch(`/export/jobs/${encodeURIComponent(job.id)}`));
    } catch (error) {
      // Jobs are kept for minutes; one gone (or a server restarted) will not come back.
      if (error instanceof ApiError && error.status === 404) job.fail(error.message);
    }
  }

  catchUp() {
    for (const job of this.jobs.values()) this.fetch(job);
  }

  /** Poll while the socket is down and a job runs. */
  schedule() {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.jobs.size === 0) return;
      if (!this.socket.connected) this.catchUp();
      this.schedule();
    }, POLL_MS);
  }
}

function errorText(error) {
  return error instanceof ApiError || error instanceof Error ? error.message : String(error);
}

function showRefusal(list, message) {
  const item = document.createElement("li");
  const alert = document.createElement("div");
  alert.className = "form-errors";
  alert.setAttribute("role", "alert");
  alert.dataset.exportRefused = "";
  const paragraph = document.createElement("p");
  paragraph.textContent = message;
  alert.append(paragraph);
  item.append(alert);
  list.prepend(item);
}

function listAfter(form) {
  let next = form.nextElementSibling;
  while (next && !next.matches("[data-export-jobs]")) next = next.nextElementSibling;
  return next;
}

async function start(page, form, submitter) {
  const list = listAfter(form);
  const finalising = form.matches("[data-export-finalise]");
  const label = finalising ? "" : submitter?.textContent.trim() ?? "";
  const body = finalising
    ? undefined
    : {
        format: submitter?.value,
        changes: Boolean(form.querySelector('input[name="changes"]')?.checked),
        group_id: form.dataset.groupId ? Number(form.dataset.groupId) : null,
      };
  const buttons = [...form.querySelectorAll("button")];
  for (const button of buttons) button.disabled = true;
  try {
    const job = await apiFetch(form.dataset.apiUrl, { method: "POST", body: body ?? {} });
    page.follow(job, list, label);
  } catch (error) {
    showRefusal(list, errorText(error));
  } finally {
    for (const button of buttons) button.disabled = button.dataset.unavailable === "";
  }
}

function init() {
  strings = { ...(document.getElementById("export-strings")?.dataset ?? {}) };
  const forms = document.querySelectorAll("form[data-export-form][data-api-url], form[data-export-finalise][data-api-url]");
  if (forms.length === 0) return;
  for (const form of forms) {
    for (const button of form.querySelectorAll("button[disabled]")) /** @type {HTMLElement} */ (button).dataset.unavailable = "";
  }
  const page = new ExportPage();
  // On the document and registered after main.js: its data-confirm question comes first,
  // and a "no" there (defaultPrevented) starts nothing.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (event.defaultPrevented || !(form instanceof HTMLFormElement) || !form.dataset.apiUrl) return;
    if (!form.matches("[data-export-form], [data-export-finalise]") || !listAfter(form)) return;
    event.preventDefault();
    start(page, form, event.submitter);
  });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
