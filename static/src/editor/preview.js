// A clause's preview: the server's rendering of what it has saved, through its one
// sanitised Markdown path, refreshed a moment after each edit the server acknowledges.
import { apiFetch } from "../api.js";
import { t } from "./i18n.js";

/** @typedef {import("./clause.js").ClauseView} ClauseView */

export class Preview {
  /** @param {import("./editor.js").RecommendationEditor} editor id, list */
  constructor(editor) {
    this.editor = editor;
  }

  /** @param {ClauseView} view */
  async toggle(view) {
    if (view.previewing) {
      view.showEditor();
      return;
    }
    view.showPreviewText(t("previewLoading"));
    await this.refresh(view);
  }

  /** @param {ClauseView} view */
  async refresh(view) {
    try {
      const recommendation = await apiFetch(`/api/v1/recommendations/${this.editor.id}`);
      const clause = recommendation?.clauses?.find((/** @type {any} */ c) => c.id === view.id);
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

  /** The server took an edit of `docName`: its preview, if shown, follows. @param {string} docName */
  onAcknowledged(docName) {
    const view = this.editor.list.viewByDoc(docName);
    if (!view?.previewing) return;
    clearTimeout(view.previewTimer);
    view.previewTimer = setTimeout(() => this.refresh(view), 500);
  }
}
