// A conference closed while one of its pages is open: its outcome document has just been
// finalised (the server's `conference_closed` event). The page shows the notice every page of
// a closed conference shows (templates/base.html renders it hidden, with its words), and
// hides the forms that would now be refused (the server refuses them anyway). A form that
// still works on a closed conference (the export page's downloads) carries
// `data-after-closing`.

/**
 * The date of the finalisation as the notice says it ("7 December 2026", "7 декабря 2026 г."),
 * in the page's language.
 * @param {string} iso
 */
function dateOf(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const lang = document.documentElement.lang || "en";
  // "en" alone would say "December 7, 2026": the conference world writes the day first.
  const locale = lang === "en" ? "en-GB" : lang;
  return new Intl.DateTimeFormat(locale, { day: "numeric", month: "long", year: "numeric" }).format(date);
}

/**
 * Show the notice and hide the forms, if the event is about this page's conference.
 * @param {{conference?: unknown, finalised_at?: unknown} | undefined} data
 * @returns {boolean} whether it was
 */
export function showClosed(data) {
  const notice = /** @type {HTMLElement | null} */ (document.querySelector("[data-closed-notice]"));
  if (!notice || Number(data?.conference) !== Number(notice.dataset.conferenceId)) return false;
  if (notice.dataset.closed !== "true") {
    notice.textContent = (notice.dataset.words ?? "").replace("{date}", dateOf(String(data?.finalised_at ?? "")));
    notice.dataset.closed = "true";
    notice.hidden = false;
  }
  for (const form of document.querySelectorAll("main form[method='post' i]:not([data-after-closing])")) {
    /** @type {HTMLElement} */ (form.closest("details") ?? form).hidden = true;
  }
  return true;
}

/**
 * Follow the closing of the page's conference on `socket`; `then()` runs once it is closed.
 * @param {import("socket.io-client").Socket} socket
 * @param {() => void} [then]
 */
export function followClosing(socket, then) {
  socket.on("conference_closed", (data) => {
    if (showClosed(data)) then?.();
  });
}
