// Many Yjs documents over one Socket.IO connection (docs/protocol.md, "Real-time editing").
//
// Each clause is one Y.Doc with its Awareness. The provider carries their y-protocols
// messages as `y(doc, payload)` events and knows the lifecycle the contract asks for:
//
//   connect -> emit `join`            (again after every reconnect: rooms do not survive it)
//   join ack -> per doc: take the Yjs client id it gives (ack.client), then sync step 1 +
//               our awareness state
//   server step 2   -> applied (origin: this provider, so it is not echoed back)
//   server step 1   -> answered with our step 2: what the server lacks (offline edits)
//   local update    -> `0,2,update`, acknowledged once durable (from the step 2 answer on;
//                      before it, edits ride in that answer)
//   local awareness -> `1,update` with our own entry only (the server stamps who we are)
//
// Durability is tracked with Socket.IO acknowledgements: a doc is "saving" while any of its
// messages is unacknowledged, or until our answer to the server's step 1 is acknowledged.
// Nothing is sent while not joined (socket.io-client would buffer it and flush it *before*
// the next join, where the server refuses it); the step 1/step 2 exchange after the join
// carries whatever was edited meanwhile, from the doc itself (and IndexedDB across reloads).
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { Observable } from "lib0/observable";
import * as awarenessProtocol from "y-protocols/awareness";
import * as syncProtocol from "y-protocols/sync";
import * as Y from "yjs";

const MESSAGE_SYNC = 0;
const MESSAGE_AWARENESS = 1;

/** Connection states, in the order a page goes through them. */
export const Connection = Object.freeze({
  CONNECTING: "connecting", // first connection, not joined yet
  JOINED: "joined",
  RECONNECTING: "reconnecting", // lost; socket.io is trying again
  OFFLINE: "offline", // lost, and the network or the server is not answering
  FAILED: "failed", // the server refused the join (not a member, not found)
});

function toBytes(payload) {
  if (payload instanceof Uint8Array) return payload;
  if (payload instanceof ArrayBuffer) return new Uint8Array(payload);
  if (ArrayBuffer.isView(payload)) {
    return new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
  }
  return null;
}

/**
 * Events (lib0 Observable):
 *   "joined"   (ack)                the join was answered ok: ack.clauses is the current list
 *   "status"   (provider)           connection or durability changed; read provider.status
 *   "refused"  (docName, error, kind, carried)
 *                                   the server refused one of our doc messages (ack ok:false);
 *                                   `carried`: it held changes (not an empty step 2 or a step 1)
 *   "acknowledged" (docName)        one of our changes of that doc is durable
 *   "loaded"   (docName)            the server's step 2 for that doc was applied
 */
export class SocketIOProvider extends Observable {
  /**
   * @param {import("socket.io-client").Socket} socket not yet connected, or connected
   * @param {{recommendation: number, rate?: number, burst?: number, maxMessageBytes?: number}} options
   *   rate/burst: our own send budget, kept under the server's YJS_RATE/YJS_BURST (60/300)
   *   so that joining a long recommendation is never rate-limited.
   */
  constructor(socket, { recommendation, rate = 50, burst = 250, maxMessageBytes = 0 }) {
    super();
    /** The server refuses larger messages (YJS_MAX_MESSAGE_BYTES), or drops the connection
     *  for a frame far larger: such a message is refused here, never sent (and re-sent at
     *  every reconnection). */
    this.maxMessageBytes = maxMessageBytes;
    this.socket = socket;
    this.recommendation = recommendation;
    /** @type {Map<string, DocEntry>} */
    this.docs = new Map();
    /** One of Connection's states. @type {string} */
    this.connection = Connection.CONNECTING;
    this.joinError = null;
    /** Bumped at every join and disconnect: acks of an earlier session are ignored. */
    this.session = 0;
    /** The Yjs client id the server gave this editor at its last join (null: none, as for
     *  someone who may not draft here). Our docs type under it, so that our words are ours
     *  in the server's log even when another replica hands them in after a crash. */
    this.clientID = null;
    this._failures = 0;
    this._everJoined = false;

    this._rate = rate;
    this._burst = burst;
    this._tokens = burst;
    this._refilledAt = performance.now();
    /** @type {Array<{entry: DocEntry, kind: string, data: Uint8Array, track: boolean}>} */
    this._queue = [];
    this._drainTimer = null;

    this._onY = (docName, payload) => this._receive(docName, payload);
    this._onConnect = () => this._join();
    this._onDisconnect = (reason) => this._lost(reason);
    // Fired for the first connection and for each failed reconnection attempt alike.
    this._onConnectError = () => this._failed();
    this._onOffline = () => this._setConnection(this.socket.connected ? this.connection : Connection.OFFLINE);
    this._onOnline = () => {
      if (!this.socket.connected) {
        this._setConnection(Connection.RECONNECTING);
        // Retry now rather than at the end of socket.io's back-off.
        if (!this.socket.active) this.socket.connect();
      }
    };
    socket.on("y", this._onY);
    socket.on("connect", this._onConnect);
    socket.on("disconnect", this._onDisconnect);
    socket.on("connect_error", this._onConnectError);
    window.addEventListener("offline", this._onOffline);
    window.addEventListener("online", this._onOnline);
    if (socket.connected) this._join();
  }

  // --- documents ---------------------------------------------------------------------------

  /**
   * Start syncing `doc` (and `awareness`) under the contract's doc name ("clause:<id>").
   * If already joined, the sync starts right away.
   */
  addDoc(name, doc, awareness) {
    if (this.docs.has(name)) throw new Error(`${name} is already synced`);
    const entry = new DocEntry(name, doc, awareness);
    entry.onUpdate = (update, origin) => {
      // Until our step 2 is on its way, the server may lack what this update builds on:
      // it travels in that step 2 instead, so updates never arrive before their causes.
      if (origin !== this && entry.answered) this._enqueue(entry, "update", update, true);
    };
    entry.onAwareness = ({ added, updated, removed }, origin) => {
      if (origin === this) return;
      // Only our own entry: a relayed entry of someone else would be stamped with our name.
      const mine = awareness.clientID;
      if (added.includes(mine) || updated.includes(mine) || removed.includes(mine)) {
        this._enqueue(entry, "awareness", null, false);
      }
    };
    doc.on("update", entry.onUpdate);
    awareness.on("update", entry.onAwareness);
    this.docs.set(name, entry);
    if (this.connection === Connection.JOINED) this._start(entry);
    this._statusChanged();
    return entry;
  }

  /** Stop syncing a doc (deleted clause). Does not destroy the doc or its awareness. */
  removeDoc(name) {
    const entry = this.docs.get(name);
    if (!entry) return;
    entry.doc.off("update", entry.onUpdate);
    entry.awareness.off("update", entry.onAwareness);
    this._queue = this._queue.filter((item) => item.entry !== entry);
    this.docs.delete(name);
    this._statusChanged();
  }

  /** Sync a doc again from scratch: sync step 1 now (after a refused or rate-limited message). */
  resync(name) {
    const entry = this.docs.get(name);
    if (entry && this.connection === Connection.JOINED) {
      entry.startedIn = -1;
      this._start(entry);
    }
  }

  // --- status ------------------------------------------------------------------------------

  /** Whether the doc has changes sent or queued that the server has not acknowledged. */
  hasUnsaved(name) {
    const entry = this.docs.get(name);
    if (!entry) return false;
    return entry.pending > 0 || this._queue.some((item) => item.entry === entry && item.track && item.kind !== "step1");
  }

  /** Messages not yet acknowledged, or docs whose exchange with the server is unfinished. */
  get pending() {
    let count = this._queue.filter((item) => item.track).length;
    for (const entry of this.docs.values()) {
      count += entry.pending + (entry.flushed ? 0 : 1);
    }
    return count;
  }

  /** "connecting" | "reconnecting" | "offline" | "failed" | "saving" | "saved" */
  get status() {
    if (this.connection !== Connection.JOINED) return this.connection;
    return this.pending > 0 ? "saving" : "saved";
  }

  _statusChanged() {
    this.emit("status", [this]);
  }

  _setConnection(connection) {
    if (this.connection !== connection) {
      this.connection = connection;
      this._statusChanged();
    }
  }

  // --- connection lifecycle ----------------------------------------------------------------

  _join() {
    this._failures = 0;
    this._setConnection(this._everJoined ? Connection.RECONNECTING : Connection.CONNECTING);
    const session = ++this.session;
    this.socket.emit("join", { recommendation: this.recommendation }, (ack) => {
      if (session !== this.session || !this.socket.connected) return;
      if (!ack?.ok) {
        this.joinError = ack?.error ?? { code: "internal_error", message: "" };
        this._setConnection(Connection.FAILED);
        return;
      }
      this.joinError = null;
      this._everJoined = true;
      this.clientID = Number.isSafeInteger(ack.client) ? ack.client : null;
      this.connection = Connection.JOINED;
      // Listeners reconcile the clause list first (adding docs starts them right away)...
      this.emit("joined", [ack]);
      // ...then every doc that existed before the join starts its exchange.
      for (const entry of this.docs.values()) {
        if (entry.startedIn !== this.session) this._start(entry);
      }
      this._statusChanged();
    });
  }

  _lost(reason) {
    this.session += 1;
    this._failures = 0;
    this._queue = [];
    for (const entry of this.docs.values()) {
      entry.pending = 0;
      entry.flushed = false;
      entry.answered = false;
      entry.startedIn = -1;
      // Other people's cursors are stale until the next join sends them again.
      const others = [...entry.awareness.getStates().keys()].filter((id) => id !== entry.awareness.clientID);
      awarenessProtocol.removeAwarenessStates(entry.awareness, others, this);
    }
    this._setConnection(navigator.onLine === false ? Connection.OFFLINE : Connection.RECONNECTING);
    this._statusChanged();
    // The server closed the socket (e.g. it restarted without a graceful handover):
    // socket.io does not retry on its own in that case.
    if (reason === "io server disconnect") {
      setTimeout(() => {
        if (!this.socket.connected && !this._destroyed) this.socket.connect();
      }, 1000);
    }
  }

  _failed() {
    if (this.connection === Connection.JOINED) return;
    this._failures += 1;
    // One failed attempt may be a server restarting; two mean nobody is answering.
    if (this._failures >= 2 || navigator.onLine === false) this._setConnection(Connection.OFFLINE);
    // A refused handshake (signed out, foreign origin) is not retried by socket.io: retry
    // slowly, so that a server that comes back with our session resumes by itself.
    if (!this.socket.active && !this._destroyed) {
      clearTimeout(this._retryTimer);
      this._retryTimer = setTimeout(() => this.socket.connect(), 5000);
    }
  }

  _start(entry) {
    // Items typed so far keep the id they were typed under (given at an earlier join).
    if (this.clientID !== null) entry.doc.clientID = this.clientID;
    entry.startedIn = this.session;
    entry.flushed = false;
    entry.answered = false;
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, MESSAGE_SYNC);
    syncProtocol.writeSyncStep1(encoder, entry.doc);
    this._enqueue(entry, "step1", encoding.toUint8Array(encoder), true);
    if (entry.awareness.getLocalState() !== null) {
      this._enqueue(entry, "awareness", null, false);
    }
  }

  // --- sending -----------------------------------------------------------------------------

  _enqueue(entry, kind, data, track) {
    if (this.connection !== Connection.JOINED || !this.socket.connected) return;
    if (!this.docs.has(entry.name)) return;
    const last = this._queue.length ? this._queue[this._queue.length - 1] : null;
    // Typing faster than the send budget: merge into the update still waiting in the queue.
    if (kind === "update" && last && last.entry === entry && last.kind === "update") {
      last.data = Y.mergeUpdates([last.data, data]);
    } else if (kind === "awareness" && this._queue.some((i) => i.entry === entry && i.kind === "awareness")) {
      // Encoded when sent, so the one already queued will carry the newest state.
    } else {
      this._queue.push({ entry, kind, data, track });
    }
    this._drain();
    this._statusChanged();
  }

  _drain() {
    const now = performance.now();
    this._tokens = Math.min(this._burst, this._tokens + ((now - this._refilledAt) / 1000) * this._rate);
    this._refilledAt = now;
    while (this._queue.length && this._tokens >= 1) {
      this._tokens -= 1;
      this._send(this._queue.shift());
    }
    if (this._queue.length && this._drainTimer === null) {
      this._drainTimer = setTimeout(() => {
        this._drainTimer = null;
        this._drain();
      }, Math.ceil(1000 / this._rate));
    }
  }

  _send({ entry, kind, data, track }) {
    let payload = data;
    // Whether the message carried changes: an empty step 2 (nothing the server lacks) is
    // [0, 1, 2, 0, 0]; its refusal costs nothing.
    const carried = kind === "update" || (kind === "step2" && !(data.length === 5 && data[3] === 0 && data[4] === 0));
    if (kind === "update") {
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MESSAGE_SYNC);
      syncProtocol.writeUpdate(encoder, data);
      payload = encoding.toUint8Array(encoder);
    } else if (kind === "awareness") {
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MESSAGE_AWARENESS);
      encoding.writeVarUint8Array(
        encoder,
        awarenessProtocol.encodeAwarenessUpdate(entry.awareness, [entry.awareness.clientID]),
      );
      payload = encoding.toUint8Array(encoder);
    }
    if (!track) {
      this.socket.emit("y", entry.name, payload);
      return;
    }
    if (this.maxMessageBytes && payload.length > this.maxMessageBytes) {
      if (kind === "step2") entry.flushed = false;
      // Refused as the server would refuse it: the editor drops this copy and syncs afresh.
      this.emit("refused", [entry.name, { code: "too_large", message: "" }, kind, carried]);
      this._statusChanged();
      return;
    }
    const session = this.session;
    entry.pending += 1;
    this.socket.emit("y", entry.name, payload, (ack) => {
      if (session !== this.session || this.docs.get(entry.name) !== entry) return;
      entry.pending -= 1;
      if (kind === "step2") {
        // Our answer to the server's step 1: from now on the server has all we have.
        entry.flushed = Boolean(ack?.ok);
      }
      if (!ack?.ok) {
        this.emit("refused", [entry.name, ack?.error ?? { code: "internal_error" }, kind, carried]);
      }
      else if (kind !== "step1") this.emit("acknowledged", [entry.name]);
      this._statusChanged();
    });
  }

  // --- receiving ---------------------------------------------------------------------------

  _receive(docName, raw) {
    const entry = this.docs.get(docName);
    const payload = toBytes(raw);
    if (!entry || !payload || this.connection !== Connection.JOINED) return;
    try {
      const decoder = decoding.createDecoder(payload);
      const type = decoding.readVarUint(decoder);
      if (type === MESSAGE_SYNC) {
        const encoder = encoding.createEncoder();
        encoding.writeVarUint(encoder, MESSAGE_SYNC);
        const syncType = syncProtocol.readSyncMessage(decoder, encoder, entry.doc, this);
        if (syncType === syncProtocol.messageYjsSyncStep1) {
          this._enqueue(entry, "step2", encoding.toUint8Array(encoder), true);
          entry.answered = true;
        } else if (syncType === syncProtocol.messageYjsSyncStep2) {
          this.emit("loaded", [docName]);
        }
      } else if (type === MESSAGE_AWARENESS) {
        awarenessProtocol.applyAwarenessUpdate(entry.awareness, decoding.readVarUint8Array(decoder), this);
      }
    } catch (error) {
      // A message we cannot read changes nothing here; the next sync repairs any gap.
      console.warn(`Plenary: unreadable message for ${docName}`, error);
    }
  }

  destroy() {
    this._destroyed = true;
    clearTimeout(this._retryTimer);
    clearTimeout(this._drainTimer);
    for (const name of [...this.docs.keys()]) this.removeDoc(name);
    this.socket.off("y", this._onY);
    this.socket.off("connect", this._onConnect);
    this.socket.off("disconnect", this._onDisconnect);
    this.socket.off("connect_error", this._onConnectError);
    window.removeEventListener("offline", this._onOffline);
    window.removeEventListener("online", this._onOnline);
    super.destroy();
  }
}

class DocEntry {
  constructor(name, doc, awareness) {
    this.name = name;
    this.doc = doc;
    this.awareness = awareness;
    /** Tracked messages of this doc sent in the current session and not yet acknowledged. */
    this.pending = 0;
    /** True once our answer to the server's step 1 was acknowledged in this session. */
    this.flushed = false;
    /** True once that answer is queued: local updates are sent from then on. */
    this.answered = false;
    /** The session in which this doc's sync step 1 was sent. */
    this.startedIn = -1;
    this.onUpdate = null;
    this.onAwareness = null;
  }
}
