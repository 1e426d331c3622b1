// What the editor tells the person about itself: the connection's status line ("Saved",
// "Offline…"), messages at the top or under a clause, and the announcements screen readers
// speak (a clause added, moved, deleted).
import { messageElement } from "./clause.js";
import { t } from "./i18n.js";
import { Connection } from "./provider.js";

// Show "Saving…" only if saving takes longer than this: a quick round trip would flicker
// (and make screen readers announce two statuses per keystroke).
const SAVING_DELAY_MS = 400;

export class EditorStatus {
  /**
   * @param {import("./editor.js").RecommendationEditor} editor provider, socket, canEdit,
   *   list (to find a clause's view)
   * @param {HTMLElement} root the editor's root element ([data-editor])
   */
  constructor(editor, root) {
    this.editor = editor;
    /** @type {HTMLElement | null} */
    this.statusElement = root.querySelector("[data-editor-status]");
    /** @type {HTMLElement} */
    this.messages = root.querySelector("[data-editor-messages]");
    /** @type {HTMLElement} */
    this.announcer = root.querySelector("[data-editor-announcer]");
    /** @type {string | null} */
    this.shownStatus = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.savingTimer = null;
  }

  render() {
    const { provider, socket } = this.editor;
    const status = provider.status;
    if (status === Connection.FAILED) {
      const { code, message } = provider.joinError ?? {};
      // Someone outside the group reading an adopted text: the rendered page is all there
      // is for them, and nothing went wrong.
      if (code === "forbidden" || code === "not_found") {
        provider.destroy();
        socket.disconnect();
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
          if (provider.status === "saving") this.show("saving");
        }, SAVING_DELAY_MS);
      }
      return;
    }
    clearTimeout(this.savingTimer);
    this.savingTimer = null;
    this.show(status === "saved" && !this.editor.canEdit ? "live" : status);
  }

  /** @param {string} state */
  show(state) {
    if (this.shownStatus === state || !this.statusElement) return;
    this.shownStatus = state;
    const key = `status${state[0].toUpperCase()}${state.slice(1)}`;
    this.statusElement.dataset.state = state;
    this.statusElement.textContent = t(key);
    this.statusElement.hidden = false;
  }

  /**
   * An `error` event or a refused request: under its clause, or at the top.
   * @param {string | undefined} message
   * @param {string | null} [docName]
   * @param {string} [code]
   */
  showError(message, docName = null, code = "error") {
    const text = message || t("errorUnknown");
    const view = docName ? this.editor.list.viewByDoc(docName) : null;
    if (view) view.showMessage(text, code);
    else this.showTopMessage(text, code);
  }

  /** @param {string} text @param {string} key */
  showTopMessage(text, key) {
    this.removeTopMessage(key);
    this.messages.append(messageElement(text, key));
  }

  /** @param {string} key */
  removeTopMessage(key) {
    for (const old of this.messages.querySelectorAll(`[data-key="${CSS.escape(key)}"]`)) old.remove();
  }

  /** @param {string} text */
  announce(text) {
    // Emptied first, so the same sentence twice is announced twice.
    this.announcer.textContent = "";
    setTimeout(() => {
      this.announcer.textContent = text;
    }, 50);
  }
}
