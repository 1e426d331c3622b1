// The editor's one connection: a Socket.IO socket for every clause of the page (the session
// cookie goes with it) and the provider that syncs their documents over it; and what the
// editor does with what arrives on it.
import { io } from "socket.io-client";

import { followClosing } from "../closed.js";
import { Connection, SocketIOProvider } from "./provider.js";

/**
 * @param {number} recommendation the recommendation's id (the room to join)
 * @param {number} maxMessageBytes the server's limit on one message (0: none known)
 */
export function openConnection(recommendation, maxMessageBytes) {
  const socket = io({ transports: ["websocket", "polling"], tryAllTransports: true });
  const provider = new SocketIOProvider(socket, { recommendation, maxMessageBytes });
  return { socket, provider };
}

/**
 * Hands the provider's and the socket's events to the editor's parts.
 * @param {import("./editor.js").RecommendationEditor} editor
 */
export function followConnection(editor) {
  const { socket, provider, list, status, preview, refusals } = editor;
  provider.on("joined", (ack) => editor.onJoined(ack));
  provider.on("status", () => status.render());
  provider.on("loaded", (docName) => list.viewByDoc(docName)?.markLoaded?.());
  provider.on("refused", (docName, error, _kind, carried) => refusals.onRefused(docName, error, carried));
  provider.on("acknowledged", (docName) => preview.onAcknowledged(docName));
  socket.on("clauses_changed", (data) => {
    if (Number(data?.recommendation) !== editor.id || !Array.isArray(data.clauses)) return;
    // Announcements of concurrent changes may arrive out of order: only a newer version
    // of the list replaces the one shown.
    if (Number(data.version) <= editor.structureVersion) return;
    editor.structureVersion = Number(data.version);
    list.apply(data.clauses);
  });
  socket.on("reset", (data) => refusals.onReset(data));
  // Nothing of a closed conference is written any more: every clause goes read-only.
  followClosing(socket, () => editor.onClosed());
  socket.on("error", (data) => {
    // A refused join is answered in its acknowledgement too (see EditorStatus.render).
    if (data?.doc == null && provider.connection !== Connection.JOINED) return;
    // About a clause no longer on the page (deleted): ClauseList.apply said what happened.
    if (data?.doc != null && !list.viewByDoc(data.doc)) return;
    status.showError(data?.message, data?.doc, data?.code);
  });
}
