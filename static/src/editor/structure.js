// Changes to the list's structure, each a request to the JSON API: add, move (buttons or
// drag and drop), change kind, delete (with Undo). The list itself changes only when the
// server's `clauses_changed` arrives (list.js): then the focus goes where the person
// expects and the change is announced.
import { apiFetch } from "../api.js";
import { labelNumber } from "./clause.js";
import { t } from "./i18n.js";

const UNDO_MS = 10_000;

/** @typedef {import("./clause.js").ClauseView} ClauseView */

export class StructureActions {
  /**
   * @param {import("./editor.js").RecommendationEditor} editor id, canEdit, list, status
   * @param {HTMLElement} root where the Undo notice goes
   */
  constructor(editor, root) {
    this.editor = editor;
    this.root = root;
    /** The Undo notice on screen, if any. @type {{close: (moveFocus?: boolean) => void} | null} */
    this.toast = null;
    /** The clause being dragged. @type {{id: number, kind: string} | null} */
    this.drag = null;
  }

  /**
   * @param {string} url
   * @param {object} [options] apiFetch's
   * @param {ClauseView | null} [view] the clause a refusal is shown under
   */
  async request(url, options, view = null) {
    try {
      return { ok: true, data: await apiFetch(url, options) };
    } catch (error) {
      this.editor.status.showError(error.message, view?.docName ?? null, error.code ?? "request");
      return { ok: false, error };
    }
  }

  /** @param {string} kind @param {number | null} afterId */
  async addClause(kind, afterId) {
    const { list, status } = this.editor;
    /** @type {{kind: string, text: string, after_id?: number}} */
    const body = { kind, text: "" };
    if (afterId != null) body.after_id = afterId;
    const after = afterId != null ? list.views.get(afterId) : null;
    const result = await this.request(`/api/v1/recommendations/${this.editor.id}/clauses`, { method: "POST", body }, after);
    if (!result.ok || result.data?.id == null) return;
    const id = result.data.id;
    if (await list.whenClauses(() => list.views.has(id))) {
      const view = list.views.get(id);
      view.focusEditor();
      status.announce(t("added", { number: labelNumber(view.clause.number) }));
    }
  }

  /** @param {ClauseView} view @param {number} step -1 (up) or +1 (down) */
  async moveBy(view, step) {
    const button = step < 0 ? view.buttons.up : view.buttons.down;
    if (button.getAttribute("aria-disabled") === "true") return;
    const part = this.editor.list.clauses.filter((clause) => clause.kind === view.clause.kind);
    const index = part.findIndex((clause) => clause.id === view.id);
    const target = index + step;
    if (index < 0 || target < 0 || target >= part.length) return;
    // Up: follow the clause two places above (or be first); down: follow the next one.
    const afterId = step < 0 ? (target > 0 ? part[target - 1].id : null) : part[target].id;
    await this.move(view, afterId, button);
  }

  /**
   * @param {ClauseView} view
   * @param {number | null} afterId
   * @param {HTMLElement | null} [focusAfter]
   */
  async move(view, afterId, focusAfter = null) {
    const { list, status } = this.editor;
    const result = await this.request(`/api/v1/clauses/${view.id}/move`, { method: "POST", body: { after_id: afterId } }, view);
    if (!result.ok) return;
    if (await list.whenClauses(() => list.predecessorOf(view.id) === afterId)) {
      if (focusAfter?.isConnected && document.activeElement !== focusAfter) focusAfter.focus();
      status.announce(t("moved", { number: labelNumber(view.clause.number) }));
    }
  }

  /** @param {ClauseView} view */
  async toggleKind(view) {
    const { list, status } = this.editor;
    const kind = view.clause.kind === "preambular" ? "operative" : "preambular";
    const result = await this.request(`/api/v1/clauses/${view.id}`, { method: "PATCH", body: { kind } }, view);
    if (!result.ok) return;
    if (await list.whenClauses(() => list.clauseById(view.id)?.kind === kind)) {
      view.buttons.kind.focus();
      status.announce(t("kindChanged", { number: labelNumber(view.clause.number) }));
    }
  }

  /** @param {ClauseView} view */
  async removeClause(view) {
    const { list } = this.editor;
    const { id } = view;
    const number = labelNumber(view.clause.number);
    const kind = view.clause.kind;
    const result = await this.request(`/api/v1/clauses/${id}`, { method: "DELETE" }, view);
    if (!result.ok) return;
    if (await list.whenClauses(() => !list.views.has(id))) this.offerUndo(id, number, kind);
  }

  /**
   * "Clause PP2 deleted — Undo", for UNDO_MS (paused while the pointer or focus is on it).
   * @param {number} id @param {string} number @param {string} kind
   */
  offerUndo(id, number, kind) {
    const { list, status } = this.editor;
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

    /** @type {ReturnType<typeof setTimeout> | null} */
    let timer = null;
    const toast = {
      close: (moveFocus = true) => {
        clearTimeout(timer);
        const hadFocus = box.contains(document.activeElement);
        box.remove();
        if (this.toast === toast) this.toast = null;
        if (hadFocus && moveFocus) list.parts[kind].heading.focus();
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
    box.addEventListener("focusout", (event) => !box.contains(/** @type {Node | null} */ (event.relatedTarget)) && start());
    dismiss.addEventListener("click", () => toast.close());
    undo.addEventListener("click", async () => {
      undo.disabled = true;
      const result = await this.request(`/api/v1/clauses/${id}/restore`, { method: "POST" });
      toast.close(false);
      if (!result.ok) return;
      if (await list.whenClauses(() => list.views.has(id))) {
        const view = list.views.get(id);
        view.focusEditor();
        status.announce(t("restored", { number: labelNumber(view.clause.number) }));
      }
    });
    this.toast = toast;
    // The clause's buttons are gone with it: the natural next stop is Undo.
    undo.focus();
    start();
  }

  /** Drag a clause by its handle within its part. @param {string} kind */
  enableDragAndDrop(kind) {
    const { list } = this.editor;
    const { ol } = list.parts[kind];
    const clear = () => {
      for (const li of ol.querySelectorAll(".clause--drop-before, .clause--drop-after")) {
        li.classList.remove("clause--drop-before", "clause--drop-after");
      }
    };
    /**
     * Where a drop at clientY would put the dragged clause: {afterId, marker, side}.
     * @param {number} clientY
     */
    const target = (clientY) => {
      const others = /** @type {HTMLElement[]} */ ([...ol.children])
        .filter((li) => Number(li.dataset.clauseId) !== this.drag.id);
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
      const handle = /** @type {Element} */ (event.target).closest?.(".clause__handle");
      const li = /** @type {HTMLElement | null} */ (handle?.closest("li"));
      if (!li || !this.editor.canEdit) return;
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
      if (!ol.contains(/** @type {Node | null} */ (event.relatedTarget))) clear();
    });
    ol.addEventListener("drop", (event) => {
      if (this.drag?.kind !== kind) return;
      event.preventDefault();
      event.stopPropagation();
      clear();
      const { afterId } = target(event.clientY);
      const view = list.views.get(this.drag.id);
      this.drag = null;
      if (view && list.predecessorOf(view.id) !== afterId) this.move(view, afterId);
    }, true);
    ol.addEventListener("dragend", () => {
      clear();
      for (const li of ol.querySelectorAll(".clause--dragging")) li.classList.remove("clause--dragging");
      this.drag = null;
    });
  }
}
