// The live editor of a recommendation: the entry editor.js of the build, loaded only by
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
import { colorForId } from "./colors.js";
import { followConnection, openConnection } from "./connection.js";
import { Discussion } from "./discussion.js";
import { loadStrings } from "./i18n.js";
import { ClauseList, KINDS } from "./list.js";
import { Presence } from "./presence.js";
import { Preview } from "./preview.js";
import { Refusals } from "./refusals.js";
import { EditorStatus } from "./status.js";
import { StructureActions } from "./structure.js";
import { VoteConsole } from "./votes.js";

/**
 * The page's editor: the settings the page gives, and the parts that do the work, each
 * reaching the others through it.
 *   list        the live clauses (list.js)          structure  add, move, delete (structure.js)
 *   status      status line, messages (status.js)   preview    clause previews (preview.js)
 *   refusals    edits the server refused (refusals.js)
 *   presence, discussion, votes: who is here, the discussion panel, the votes' console
 */
export class RecommendationEditor {
  /** @param {HTMLElement} root the element [data-editor] of recommendations/show.html */
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
    /** The version of the clause list shown (the server's count of structure changes);
     *  none before the join, when any announced list is newer. @type {number | undefined} */
    this.structureVersion = undefined;

    this.presence = new Presence(root.querySelector("[data-editor-presence]"), this.user, root.dataset.locale);
    this.status = new EditorStatus(this, root);
    this.list = new ClauseList(this, root);
    this.structure = new StructureActions(this, root);
    this.preview = new Preview(this);
    this.refusals = new Refusals(this);
    for (const kind of KINDS) this.structure.enableDragAndDrop(kind);
    /** What a clause's own buttons do (clause.js). */
    this.actions = {
      preview: (view) => this.preview.toggle(view),
      moveUp: (view) => this.structure.moveBy(view, -1),
      moveDown: (view) => this.structure.moveBy(view, +1),
      addAfter: (view) => this.structure.addClause(view.clause.kind, view.id),
      toggleKind: (view) => this.structure.toggleKind(view),
      remove: (view) => this.structure.removeClause(view),
    };

    const { socket, provider } = openConnection(this.id, this.maxMessageBytes);
    this.socket = socket;
    this.provider = provider;
    // Counts, highlighted words and the side panel of the clauses' discussions.
    this.discussion = new Discussion(this, root.querySelector(".editor-layout") ?? root);
    // The votes' console (and list of open votes), kept current by the vote events.
    this.votes = new VoteConsole(this);
    followConnection(this);
    this.status.render();
  }

  /** Every clause view, by clause id (the tests read the editors' state through it). */
  get views() {
    return this.list.views;
  }

  /** Where discussion.js and votes.js put their messages. */
  get messages() {
    return this.status.messages;
  }

  /** @param {string} text said to screen readers */
  announce(text) {
    this.status.announce(text);
  }

  /** The conference was closed: nothing here may be written any more. */
  onClosed() {
    this.canEdit = false;
    this.list.apply(this.list.clauses.map((clause) => ({ ...clause, editable: false })));
  }

  /** @param {any} ack the join's answer: can_edit, version, clauses, and the discussion's */
  onJoined(ack) {
    this.canEdit = Boolean(ack.can_edit);
    this.structureVersion = Number(ack.version) || 0;
    this.status.removeTopMessage("join");
    this.discussion.onJoined(ack);
    this.list.apply(Array.isArray(ack.clauses) ? ack.clauses : []);
    if (!this.list.revealed) this.list.revealWhenLoaded();
  }
}

function boot() {
  const root = /** @type {HTMLElement | null} */ (document.querySelector("[data-editor]"));
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
