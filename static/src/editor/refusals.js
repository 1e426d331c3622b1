// When the server will not take a clause's edits: wait and send again (too fast, or it
// could not save now), or drop this device's copy and start again from the saved text
// (locked, read-only, too long), keeping the unsaved words in front of whoever typed them.
import { keptTextElement, labelNumber } from "./clause.js";
import { t } from "./i18n.js";

/** @typedef {import("./clause.js").ClauseView} ClauseView */

export class Refusals {
  /** @param {import("./editor.js").RecommendationEditor} editor provider, list, status */
  constructor(editor) {
    this.editor = editor;
    /** When each clause was last started again (clause id -> Date.now()). @type {Map<number, number>} */
    this.resetAt = new Map();
  }

  /**
   * @param {string} docName
   * @param {{code?: string, message?: string} | undefined} error
   * @param {boolean} carried whether the refused update carried edits of this person's
   */
  onRefused(docName, error, carried) {
    const { provider, list } = this.editor;
    const view = list.viewByDoc(docName);
    if (!view) return;
    const code = error?.code;
    if (code === "rate_limited" || code === "unavailable") {
      // Too fast, or the server could not save it now: what was refused is still in the
      // document, and a new exchange sends it again.
      setTimeout(() => provider.resync(docName), 2000);
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
   * @param {{doc?: string} | undefined} data
   */
  onReset(data) {
    const { provider, list, status } = this.editor;
    const view = list.viewByDoc(data?.doc);
    if (!view) return;
    const mine = provider.hasUnsaved(view.docName);
    // Its sender's refusal follows: this reset answers it too.
    this.resetAt.set(view.id, Date.now());
    if (mine) {
      const number = labelNumber(view.clause.number);
      status.messages.append(keptTextElement(t("refusedWhileTyping", { number }),
        t("unsavedText", { number }), view.text.toString(), `reset-${view.clause.id}`));
    }
    // Whoever typed them also gets the refusal as an `error`, with the reason.
    this.resetClause(view, "", mine ? "" : t("resetByServer"));
  }

  /** @param {ClauseView} view @param {string} [reason] @param {string} [note] */
  async resetClause(view, reason = "", note = "") {
    const { list } = this.editor;
    const clause = view.clause;
    const hadFocus = view.li.contains(document.activeElement);
    // Not recreated by a `clauses_changed` meanwhile: the copy on this device goes first.
    list.resetting.add(clause.id);
    const forgotten = view.destroy({ forget: true });
    list.views.delete(clause.id);
    await forgotten;
    list.resetting.delete(clause.id);
    list.apply(list.clauses);
    const fresh = list.views.get(clause.id);
    fresh?.showMessage(note || (reason ? `${reason} ${t("refusedReset")}` : t("refusedReset")), "reset");
    if (hadFocus) fresh?.focusEditor();
  }
}
