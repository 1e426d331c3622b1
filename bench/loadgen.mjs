// The benchmark's load generator: simulated editors, each a real Yjs replica, in one Node
// process, speaking to Plenary over Socket.IO or to a peer server over plain WebSocket.
//
// Driven by bench/run.py; the configuration comes as one JSON argument (or on stdin), and
// it prints one JSON object a line: progress events ("synced", "window_start", "window_end")
// that the driver samples the server's CPU on, then one "result" (or "failed", exit 1).
//
//   node bench/loadgen.mjs '{"mode": "fanout", "transport": "socketio", "url": ..., ...}'
//
// Modes:
//   fanout    N editors type into one document; fan-out latency, deliveries, convergence.
//   latejoin  fresh clients join a document with a long history, one after another.
//   history   make a long editing history (no server): the update log to seed a clause with.
//   feed      give a peer server a document's whole state as one update (its "history").
//
// How latency is measured: every edit is identified by the Yjs id of the item it inserts
// (client id, clock), or of the item it deletes; a cursor move by (client id, awareness
// clock). The editor that makes it notes the time; each other replica notes when the edit
// reaches it (see TIMING below: by default when the update carrying it arrives, decoded;
// optionally when a transaction applies it), once per replica however often it comes.
// All clients share one process and one clock (performance.now()).
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";

import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import * as prng from "lib0/prng";
import { io } from "socket.io-client";
import WebSocket from "ws";
import * as syncProtocol from "y-protocols/sync";
import * as Y from "yjs";

const MESSAGE_SYNC = 0;
const MESSAGE_AWARENESS = 1;
const LOCAL = Symbol("local");
const ALPHABET = "abcdefghijklmnopqrstuvwxyz     ";

const config = JSON.parse(process.argv[2] ?? readFileSync(0, "utf8"));
const emit = (event, fields = {}) => process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const sha256 = (value) => createHash("sha256").update(value).digest("hex");

// --- transports: each turns a y-protocols message into what its server expects -------------

// Browsers offer WebSocket compression (permessage-deflate) and a server may take it; by
// default these clients do not offer it, so that inflating every frame (most are a few dozen
// bytes) is no one's cost: neither the load generator's nor the server's.
const DEFLATE = config.deflate ? { threshold: 1024 } : false;

// Plenary: Socket.IO v5, `join` then `y` (doc, payload) events, each acknowledged.
class SocketIOLink {
  constructor({ url, token, recommendation, clause = 0 }) {
    Object.assign(this, { url, token, recommendation, clause });
    this.unacknowledged = 0;
    this.refusals = [];
    this.bytesReceived = 0;
  }

  async open(onMessage) {
    // forceNew: one connection per editor (socket.io-client shares one per URL otherwise).
    this.socket = io(this.url, {
      transports: ["websocket"], auth: { token: this.token }, reconnection: false, forceNew: true,
      perMessageDeflate: DEFLATE,
    });
    await new Promise((resolve, reject) => {
      this.socket.once("connect", resolve);
      this.socket.once("connect_error", (error) => reject(new Error(`cannot connect: ${error.message}`)));
    });
    this.connectedAt = performance.now();
    const joined = await this.socket.timeout(30000).emitWithAck("join", { recommendation: this.recommendation });
    if (!joined.ok) throw new Error(`join refused: ${JSON.stringify(joined)}`);
    this.joinedAt = performance.now();
    this.doc = joined.clauses[this.clause].doc;
    // The Yjs client id the server gives this editor (docs/protocol.md, `join`): typed under
    // it, as the browser's editor does, so the server attributes by it as it does for people.
    this.clientID = Number.isSafeInteger(joined.client) ? joined.client : null;
    this.socket.on("y", (name, payload) => {
      if (name !== this.doc) return;
      this.bytesReceived += payload.byteLength;
      onMessage(new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength));
    });
    // Refusals come twice, as the `y` acknowledgement and as an `error` event: counted once.
  }

  send(message) {
    this.unacknowledged += 1;
    const sentAt = performance.now();
    this.socket.timeout(60000).emit("y", this.doc, message, (timeout, answer) => {
      this.unacknowledged -= 1;
      // Keystroke to its durable acknowledgement at the sender (Plenary's alone: the peers
      // acknowledge nothing).
      if (!timeout && answer?.ok && clock.inWindow(sentAt)) latencies.ack.push(performance.now() - sentAt);
      if (timeout || !answer?.ok) this.refusals.push(answer?.error ? `${answer.error.code}: ${answer.error.message} (${Buffer.from(message.subarray(0, 12)).toString("hex")})` : "timeout");
    });
  }

  close() { this.socket.disconnect(); }
}

// y-websocket and pycrdt-websocket: one WebSocket per document, the room in the path, each
// frame one y-protocols message. (Neither acknowledges anything.)
class WebSocketLink {
  constructor({ url, room }) {
    Object.assign(this, { url, room });
    this.unacknowledged = 0;
    this.refusals = [];
    this.bytesReceived = 0;
  }

  async open(onMessage) {
    this.ws = new WebSocket(`${this.url}/${this.room}`, { perMessageDeflate: DEFLATE });
    this.ws.binaryType = "nodebuffer";
    this.ws.on("message", (data) => {
      this.bytesReceived += data.byteLength;
      this.receive(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), onMessage);
    });
    await new Promise((resolve, reject) => {
      this.ws.once("open", resolve);
      this.ws.once("error", reject);
    });
    this.ws.on("error", (error) => this.refusals.push(String(error)));
    this.connectedAt = this.joinedAt = performance.now();
  }

  receive(message, onMessage) { onMessage(message); }
  send(message) { this.ws.send(message); }
  close() { this.ws.close(); }
}

// Hocuspocus multiplexes documents on one socket: every message starts with the document's
// name, and a connection must authenticate (an empty token when the server has no hook)
// before its sync messages are read. Its own message types (authenticated, sync status) are
// not y-protocols messages and are not passed on.
const HOCUSPOCUS_AUTH = 2;
const HOCUSPOCUS_AUTH_TOKEN = 0;
const HOCUSPOCUS_AUTHENTICATED = 2;
const HOCUSPOCUS_SYNC_REPLY = 4;

class HocuspocusLink extends WebSocketLink {
  async open(onMessage) {
    const authenticated = new Promise((resolve, reject) => { this.authenticated = { resolve, reject }; });
    this.url = this.url.replace(/\/$/, "");
    const room = this.room;
    this.room = "";
    await super.open(onMessage);
    this.room = room;
    const encoder = encoding.createEncoder();
    encoding.writeVarString(encoder, room);
    encoding.writeVarUint(encoder, HOCUSPOCUS_AUTH);
    encoding.writeVarUint(encoder, HOCUSPOCUS_AUTH_TOKEN);
    encoding.writeVarString(encoder, "");
    this.ws.send(encoding.toUint8Array(encoder));
    await authenticated;
    this.joinedAt = performance.now();
  }

  receive(message, onMessage) {
    const decoder = decoding.createDecoder(message);
    if (decoding.readVarString(decoder) !== this.room) return;
    const type = decoding.peekVarUint(decoder);
    if (type === MESSAGE_SYNC || type === MESSAGE_AWARENESS) {
      onMessage(message.subarray(decoder.pos));
    } else if (type === HOCUSPOCUS_SYNC_REPLY) {
      const sync = message.slice(decoder.pos); // a sync message that asks for no answering step 1
      sync[0] = MESSAGE_SYNC;
      onMessage(sync);
    } else if (type === HOCUSPOCUS_AUTH) {
      decoding.readVarUint(decoder);
      const answer = decoding.readVarUint(decoder);
      if (answer === HOCUSPOCUS_AUTHENTICATED) this.authenticated.resolve();
      else this.authenticated.reject(new Error(`hocuspocus refused: ${decoding.readVarString(decoder)}`));
    }
  }

  send(message) {
    const encoder = encoding.createEncoder();
    encoding.writeVarString(encoder, this.room);
    encoding.writeUint8Array(encoder, message);
    this.ws.send(encoding.toUint8Array(encoder));
  }
}

const makeLink = (index) => {
  const { transport } = config;
  if (transport === "socketio") {
    // Several server processes (joined by Redis): the editors take them in turn.
    const url = config.urls?.length ? config.urls[index % config.urls.length] : config.url;
    return new SocketIOLink({ url, token: config.tokens[index % config.tokens.length],
      recommendation: config.recommendation, clause: config.clause ?? 0 });
  }
  if (transport === "ws") return new WebSocketLink({ url: config.url, room: config.room });
  if (transport === "hocuspocus") return new HocuspocusLink({ url: config.url, room: config.room });
  throw new Error(`unknown transport ${transport}`);
};

// --- what every replica records -------------------------------------------------------------

const clock = {
  windowStart: Infinity,
  windowEnd: Infinity,
  inWindow: (t) => t >= clock.windowStart && t < clock.windowEnd,
};
// An edit: when it was made, by which editor, and which editors have it so far (each counts
// once, however often the server sends it: some echo it back, or send it again merged).
const newEdit = (at, by) => ({
  at, by, seen: new Uint8Array(config.editors ?? 1), arrivalSeen: new Uint8Array(config.editors ?? 1),
});
//: client id -> (clock of the inserted item -> its edit)
const inserted = new Map();
//: "client:clock" of a deleted item -> its edit (the first editor to delete it)
const deleted = new Map();
//: client id -> (awareness clock -> the cursor move, an "edit" too)
const awarenessAt = new Map();
const awarenessSent = { count: 0 };
const latencies = { edit: [], insert: 0, delete: 0, awareness: [], arrival: [], ack: [] };
const received = { sync: 0, awareness: 0, bytes: 0 };
const malformed = { count: 0, examples: [] };

// "applied": an edit counts for a replica when a transaction applying what the server sent
// makes its item appear there (or its deletion happen): exact, but each replica applies each
// message as it comes, and a Yjs transaction costs in proportion to the document's clients,
// so N replicas cost N² per edit. "arrival": the edit's ids are read from the update when it
// arrives (Y.decodeUpdate), and the replica applies what it received in one transaction
// just before its own next keystroke (and every 250 ms): a fraction of the load generator's
// CPU, the same figures (they differ by the time a transaction takes), and the same
// convergence check at the end.
const TIMING = config.timing ?? "arrival";

// Where deliveries are written: the figures, and (with "applied" timing) the arrival times
// of the same edits beside them, to compare the two ways of timing in one run.
const FIGURES = { seen: "seen", times: latencies.edit };
const ARRIVALS = { seen: "arrivalSeen", times: latencies.arrival };

const noteDelivery = (edit, receiver, now, ledger = FIGURES) => {
  if (edit === undefined || !clock.inWindow(edit.at) || edit.by === receiver || edit[ledger.seen][receiver]) return false;
  edit[ledger.seen][receiver] = 1;
  ledger.times.push(now - edit.at);
  return ledger === FIGURES;
};

class Editor {
  constructor(index, link, { timed = true } = {}) {
    this.index = index;
    //: Whether its deliveries count (not for a newcomer that syncs everything at the end).
    this.timed = timed;
    this.link = link;
    this.doc = new Y.Doc();
    this.text = this.doc.getText("text");
    this.synced = false;
    this.awarenessClock = 0;
    this.received = 0;
    //: Updates received and not yet applied.
    this.inbox = [];
    this.random = prng.create(((config.seed ?? 1) * 7919 + index) >>> 0);
    this.inserted = [];
    inserted.set(this.doc.clientID, this.inserted);
    this.doc.on("afterTransaction", (transaction) => {
      if (transaction.origin === this && this.timed && TIMING === "applied") this.applied(transaction);
    });
  }

  async open() {
    this.openedAt = performance.now();
    await this.link.open((message) => this.receive(message));
    if (this.link.clientID != null) {
      inserted.delete(this.doc.clientID);
      this.doc.clientID = this.link.clientID;
      inserted.set(this.doc.clientID, this.inserted);
    }
    this.syncRequestedAt = performance.now();
    this.send(MESSAGE_SYNC, (encoder) => syncProtocol.writeSyncStep1(encoder, this.doc));
  }

  send(type, write) {
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, type);
    write(encoder);
    this.link.send(encoding.toUint8Array(encoder));
  }

  receive(message) {
    const now = performance.now();
    this.received += 1;
    if (fault.dropEvery && this.index === 1 && clock.inWindow(now) && this.received % fault.dropEvery === 0) return;
    if (fault.delayMs) {
      setTimeout(() => this.handleSafely(message, performance.now()), fault.delayMs);
    } else {
      this.handleSafely(message, now);
    }
  }

  // A message this client cannot read is counted (and a few kept, in hex), not fatal: what it
  // carried is missing from this replica, which the convergence check then reports.
  handleSafely(message, arrivedAt) {
    try {
      this.handle(message, arrivedAt);
    } catch (error) {
      malformed.count += 1;
      if (malformed.examples.length < 5) {
        malformed.examples.push({ error: String(error), bytes: message.byteLength,
          hex: Buffer.from(message.subarray(0, 64)).toString("hex") });
      }
    }
  }

  handle(message, arrivedAt) {
    const decoder = decoding.createDecoder(message);
    const type = decoding.readVarUint(decoder);
    const counted = clock.inWindow(arrivedAt);
    if (counted) received.bytes += message.byteLength;
    if (type === MESSAGE_SYNC) {
      if (counted) received.sync += 1;
      if (decoding.peekVarUint(decoder) === syncProtocol.messageYjsUpdate) {
        decoding.readVarUint(decoder);
        const update = decoding.readVarUint8Array(decoder);
        this.inbox.push(update);
        if (TIMING === "arrival") {
          if (this.timed) this.arrived(update, arrivedAt, FIGURES);
        } else {
          if (this.timed) this.arrived(update, arrivedAt, ARRIVALS);
          // Applied with whatever else reaches this editor in the same turn of the event loop.
          if (this.inbox.length === 1) setImmediate(() => this.applyInbox());
        }
      } else {
        this.applyInbox();
        const encoder = encoding.createEncoder();
        encoding.writeVarUint(encoder, MESSAGE_SYNC);
        const kind = syncProtocol.readSyncMessage(decoder, encoder, this.doc, this);
        if (kind === syncProtocol.messageYjsSyncStep2 && !this.synced) {
          this.synced = true;
          this.syncedAt = performance.now();
          this.step2Bytes = message.byteLength;
          this.step2ArrivedAt = arrivedAt;
        }
        if (encoding.length(encoder) > 1) this.link.send(encoding.toUint8Array(encoder));
      }
    } else if (type === MESSAGE_AWARENESS) {
      if (counted) received.awareness += 1;
      // Timed by (client id, clock) on arrival; not applied to an Awareness: these clients
      // draw no cursors.
      const body = decoding.createDecoder(decoding.readVarUint8Array(decoder));
      for (let entries = decoding.readVarUint(body); entries > 0; entries -= 1) {
        const client = decoding.readVarUint(body);
        const clientClock = decoding.readVarUint(body);
        decoding.readVarUint8Array(body); // the state, JSON
        const sent = awarenessAt.get(client)?.[clientClock];
        if (this.timed && sent !== undefined && sent.by !== this.index && !sent.seen[this.index] && clock.inWindow(sent.at)) {
          sent.seen[this.index] = 1; // servers also send everyone's states again, to newcomers
          latencies.awareness.push(arrivedAt - sent.at);
        }
      }
    }
  }

  applyInbox() {
    if (this.inbox.length === 0) return;
    const updates = this.inbox;
    this.inbox = [];
    this.doc.transact(() => updates.forEach((update) => Y.applyUpdate(this.doc, update, this)), this);
  }

  // "applied" timing: a transaction from the server, every item it made appear, every
  // deletion it applied.
  applied(transaction) {
    const now = performance.now();
    transaction.afterState.forEach((after, client) => {
      const before = transaction.beforeState.get(client) ?? 0;
      const typed = inserted.get(client);
      if (after > before && typed !== undefined) {
        for (let c = before; c < after; c += 1) if (noteDelivery(typed[c], this.index, now)) latencies.insert += 1;
      }
    });
    this.deletions(transaction.deleteSet, now, FIGURES);
  }

  // "arrival" timing: every item and deletion the update carries.
  arrived(update, now, ledger) {
    const { structs, ds } = Y.decodeUpdate(update);
    for (const struct of structs) {
      const typed = inserted.get(struct.id.client);
      if (typed === undefined) continue;
      for (let c = struct.id.clock; c < struct.id.clock + struct.length; c += 1) {
        if (noteDelivery(typed[c], this.index, now, ledger)) latencies.insert += 1;
      }
    }
    this.deletions(ds, now, ledger);
  }

  deletions(deleteSet, now, ledger) {
    deleteSet.clients.forEach((ranges, client) => {
      for (const { clock: start, len } of ranges) {
        for (let c = start; c < start + len; c += 1) {
          if (noteDelivery(deleted.get(`${client}:${c}`), this.index, now, ledger)) latencies.delete += 1;
        }
      }
    });
  }

  // One keystroke at this editor's cursor: a one-character insert, or a backspace.
  keystroke() {
    this.applyInbox(); // a person types into the text as it is on their screen
    const now = performance.now();
    const at = this.cursor === undefined ? this.text.length
      : (Y.createAbsolutePositionFromRelativePosition(this.cursor, this.doc)?.index ?? this.text.length);
    let update = null;
    const capture = (bytes) => { update = bytes; };
    this.doc.on("update", capture);
    if (at > 0 && prng.real53(this.random) < (config.delete_share ?? 0.1)) {
      const { item } = Y.createRelativePositionFromTypeIndex(this.text, at - 1);
      const key = `${item.client}:${item.clock}`;
      // Two editors can backspace the same character at once: one deletion, the first.
      if (!deleted.has(key)) {
        deleted.set(key, newEdit(now, this.index));
        this.edits.delete += clock.inWindow(now) ? 1 : 0;
      }
      this.doc.transact(() => this.text.delete(at - 1, 1), LOCAL);
      this.cursor = Y.createRelativePositionFromTypeIndex(this.text, at - 1);
    } else {
      this.inserted[Y.getState(this.doc.store, this.doc.clientID)] = newEdit(now, this.index);
      this.doc.transact(() => this.text.insert(at, ALPHABET[prng.uint32(this.random, 0, ALPHABET.length - 1)]), LOCAL);
      this.cursor = Y.createRelativePositionFromTypeIndex(this.text, at + 1);
      this.edits.insert += clock.inWindow(now) ? 1 : 0;
    }
    this.doc.off("update", capture);
    this.send(MESSAGE_SYNC, (encoder) => syncProtocol.writeUpdate(encoder, update));
    if (config.awareness) this.sendCursor(now, at);
  }

  // The awareness update an editor sends as its cursor moves (y-codemirror's shape).
  sendCursor(now, at) {
    this.awarenessClock += 1;
    const clientAwareness = awarenessAt.get(this.doc.clientID) ?? [];
    awarenessAt.set(this.doc.clientID, clientAwareness);
    clientAwareness[this.awarenessClock] = newEdit(now, this.index);
    if (clock.inWindow(now)) awarenessSent.count += 1;
    const position = Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(this.text, Math.min(at + 1, this.text.length)));
    const state = { user: { name: `Editor ${this.index}`, color: "#30bced" }, cursor: { anchor: position, head: position } };
    this.send(MESSAGE_AWARENESS, (encoder) => {
      const body = encoding.createEncoder();
      encoding.writeVarUint(body, 1);
      encoding.writeVarUint(body, this.doc.clientID);
      encoding.writeVarUint(body, this.awarenessClock);
      encoding.writeVarString(body, JSON.stringify(state));
      encoding.writeVarUint8Array(encoder, encoding.toUint8Array(body));
    });
  }

  startTyping(stopAt) {
    this.edits = { insert: 0, delete: 0 };
    this.cursor = Y.createRelativePositionFromTypeIndex(this.text, prng.uint32(this.random, 0, this.text.length));
    const rate = config.rate ?? 5;
    // Open loop: each keystroke is due a jittered interval after the previous one was *due*,
    // so a busy event loop delays keystrokes but does not make the editors type less.
    // The first ones are spread over one interval: people do not start together.
    let due = performance.now() + prng.real53(this.random) * 1000 / rate;
    const next = () => {
      this.timer = setTimeout(() => {
        if (performance.now() >= stopAt) return;
        this.keystroke();
        due += (0.5 + prng.real53(this.random)) * 1000 / rate;
        next();
      }, Math.max(0, due - performance.now()));
    };
    next();
  }
}

const fault = { dropEvery: config.fault_drop_every ?? 0, delayMs: config.fault_delay_ms ?? 0 };

const waitUntil = async (condition, ms, what) => {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`no ${what} within ${ms} ms`);
    await sleep(20);
  }
};

const percentile = (sorted, p) => (sorted.length ? +sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(2) : null);
const summary = (values) => {
  const sorted = Float64Array.from(values).sort();
  return {
    count: sorted.length, p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), p99: percentile(sorted, 0.99),
    max: sorted.length ? +sorted[sorted.length - 1].toFixed(2) : null,
    mean: sorted.length ? +(sorted.reduce((a, b) => a + b, 0) / sorted.length).toFixed(2) : null,
  };
};
const cpuSeconds = (usage) => (usage.user + usage.system) / 1e6;

// --- modes ----------------------------------------------------------------------------------

async function fanout() {
  const editors = Array.from({ length: config.editors }, (_, index) => new Editor(index, makeLink(index)));
  // One editor first, alone: a new room's first simultaneous joiners can hang (pycrdt-websocket).
  await editors[0].open();
  await waitUntil(() => editors[0].synced, 30000, "first sync");
  if (config.initial_text && editors[0].text.length === 0) {
    // Somewhere for the cursors to be: the clause's first wording, typed in by one editor.
    editors[0].doc.on("update", function first(update) {
      editors[0].doc.off("update", first);
      editors[0].send(MESSAGE_SYNC, (encoder) => syncProtocol.writeUpdate(encoder, update));
    });
    editors[0].text.insert(0, config.initial_text);
  }
  for (let i = 1; i < editors.length; i += 10) {
    const batch = editors.slice(i, i + 10);
    await Promise.all(batch.map((editor) => editor.open()));
    await waitUntil(() => batch.every((editor) => editor.synced), 30000, "sync of every editor");
  }
  const initialText = editors[0].text.toString();
  await waitUntil(() => editors.every((editor) => editor.text.toString() === initialText), 10000, "equal initial texts");
  emit("synced", { editors: editors.length, text_length: initialText.length });

  const flusher = setInterval(() => editors.forEach((editor) => editor.applyInbox()), 250);
  const begin = performance.now();
  clock.windowStart = begin + config.warmup_s * 1000;
  clock.windowEnd = clock.windowStart + config.seconds * 1000;
  editors.forEach((editor) => editor.startTyping(clock.windowEnd));
  await sleep(clock.windowStart - performance.now());
  const cpuAtStart = process.cpuUsage();
  // How late the load generator's own event loop runs: its share of every latency figure.
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  emit("window_start");
  await sleep(clock.windowEnd - performance.now());
  const cpuWindow = cpuSeconds(process.cpuUsage(cpuAtStart));
  loopDelay.disable();
  emit("window_end");
  const wall = (performance.now() - clock.windowStart) / 1000;

  // Drain: every edit acknowledged and every replica equal (or the drain time runs out).
  const sameEverywhere = () => {
    editors.forEach((editor) => editor.applyInbox());
    const vector = Y.encodeStateVector(editors[0].doc).toString();
    return editors.every((e) => e.link.unacknowledged === 0 && Y.encodeStateVector(e.doc).toString() === vector)
      && new Set(editors.map((e) => e.text.toString())).size === 1;
  };
  const drainStart = performance.now();
  try {
    await waitUntil(sameEverywhere, (config.drain_s ?? 30) * 1000, "convergence");
  } catch {
    // Reported below as not converged.
    emit("not_converged", {
      unacknowledged: editors.map((e) => e.link.unacknowledged),
      state_vectors: editors.map((e) => Object.fromEntries(Y.decodeStateVector(Y.encodeStateVector(e.doc)))),
    });
  }
  const drained = (performance.now() - drainStart) / 1000;
  const texts = editors.map((editor) => editor.text.toString());
  // The server's own state, as a newcomer gets it (the peers keep nothing else to ask).
  const observer = new Editor(editors.length, makeLink(0), { timed: false });
  await observer.open();
  await waitUntil(() => observer.synced, 60000, "the observer's sync");
  const serverText = observer.text.toString();
  observer.link.close();
  const sent = editors.reduce((sum, e) => ({ insert: sum.insert + e.edits.insert, delete: sum.delete + e.edits.delete }), { insert: 0, delete: 0 });
  const edits = sent.insert + sent.delete;
  const expected = edits * (editors.length - 1);
  const result = {
    editors: editors.length, rate: config.rate ?? 5, awareness: !!config.awareness, timing: TIMING,
    seconds: +wall.toFixed(3),
    edits_sent: edits, inserts_sent: sent.insert, deletes_sent: sent.delete,
    edits_per_s: +(edits / wall).toFixed(1),
    deliveries: latencies.edit.length, inserts_delivered: latencies.insert, deletes_delivered: latencies.delete,
    delivered_share: expected ? +(latencies.edit.length / expected).toFixed(4) : null,
    messages_received: received.sync + received.awareness,
    messages_per_s: +((received.sync + received.awareness) / wall).toFixed(1),
    update_messages_per_s: +(received.sync / wall).toFixed(1),
    awareness_messages_per_s: +(received.awareness / wall).toFixed(1),
    bytes_received_per_s: Math.round(received.bytes / wall),
    latency_ms: summary(latencies.edit),
    arrival_latency_ms: TIMING === "applied" ? summary(latencies.arrival) : null,
    awareness_latency_ms: config.awareness ? summary(latencies.awareness) : null,
    ack_latency_ms: latencies.ack.length ? summary(latencies.ack) : null,
    awareness_deliveries: latencies.awareness.length,
    awareness_delivered_share: awarenessSent.count ? +(latencies.awareness.length / (awarenessSent.count * (editors.length - 1))).toFixed(4) : null,
    loadgen_cpu_s: +cpuWindow.toFixed(3),
    loadgen_cpu_share: +(cpuWindow / wall).toFixed(3),
    loadgen_loop_delay_ms: { p50: +(loopDelay.percentile(50) / 1e6).toFixed(2), p99: +(loopDelay.percentile(99) / 1e6).toFixed(2), max: +(loopDelay.max / 1e6).toFixed(2) },
    malformed: malformed.count, malformed_examples: malformed.examples,
    refusals: editors.flatMap((e) => e.link.refusals).slice(0, 20),
    refused: editors.reduce((sum, e) => sum + e.link.refusals.length, 0),
    unacknowledged: editors.reduce((sum, e) => sum + e.link.unacknowledged, 0),
    drain_s: +drained.toFixed(3),
    replicas_equal: new Set(texts).size === 1,
    server_equal: serverText === texts[0],
    distinct_texts: new Set(texts).size,
    text_length: texts[0].length,
    text_sha256: sha256(texts[0]),
    text: texts[0],
  };
  clearInterval(flusher);
  editors.forEach((editor) => { clearTimeout(editor.timer); editor.link.close(); });
  emit("result", result);
}

// Fresh clients join one after another; the first is the cold one when the server has just
// started. Before each, a primer client connects (and joins) without syncing, so that the
// process's first connection, first query and so on are not counted as the document's load.
async function latejoin() {
  const expected = config.expected_sha256;
  const trials = [];
  for (let trial = 0; trial < (config.trials ?? 1); trial += 1) {
    if (config.transport === "socketio") {
      const primer = makeLink(0);
      await primer.open(() => {});
      primer.close();
    }
    const editor = new Editor(trial, makeLink(trial));
    const start = performance.now();
    await editor.open();
    await waitUntil(() => editor.synced, 120000, "sync step 2");
    const text = editor.text.toString();
    const trialResult = {
      trial,
      connect_ms: +(editor.link.connectedAt - start).toFixed(2),
      join_ms: +(editor.link.joinedAt - editor.link.connectedAt).toFixed(2),
      // From sending sync step 1 to the first byte of the answer's arrival: the server's part
      // (on the loopback, transfer is small beside it), then applying it in the client.
      server_ms: +(editor.step2ArrivedAt - editor.syncRequestedAt).toFixed(2),
      apply_ms: +(editor.syncedAt - editor.step2ArrivedAt).toFixed(2),
      total_ms: +(editor.syncedAt - start).toFixed(2),
      step2_bytes: editor.step2Bytes,
      bytes_received: editor.link.bytesReceived,
      text_length: text.length,
      correct: sha256(text) === expected,
    };
    trials.push(trialResult);
    emit("trial", trialResult);
    editor.link.close();
    editor.doc.destroy();
    await sleep(config.pause_ms ?? 200);
  }
  emit("result", { trials, correct: trials.every((t) => t.correct) });
}

// A long editing history, as typing people make it: sessions of one author at one place,
// 90 % one-character inserts and 10 % backspaces, until the text reaches `cap` characters,
// then as many deletions as inserts so that it stays about that long (a clause, not a book).
// Written as a sequence of (varUint author, varUint8Array update), plus the whole state.
function history() {
  const doc = new Y.Doc();
  const text = doc.getText("text");
  const random = prng.create(config.seed ?? 1);
  const authors = Array.from({ length: config.authors ?? 8 }, (_, i) => 1000 + i);
  const cap = config.cap ?? 2000;
  const log = encoding.createEncoder();
  let author = 0;
  let update = null;
  doc.on("update", (bytes) => { update = bytes; });
  let at = 0;
  let left = 0;
  for (let edit = 0; edit < config.edits; edit += 1) {
    if (left === 0) {
      author = prng.uint32(random, 0, authors.length - 1);
      doc.clientID = authors[author]; // Yjs itself changes a document's client id this way
      at = prng.uint32(random, 0, text.length);
      left = prng.uint32(random, 5, 60);
    }
    left -= 1;
    const deleteShare = text.length >= cap ? 0.5 : 0.1;
    if (at > 0 && prng.real53(random) < deleteShare) {
      text.delete(at - 1, 1);
      at -= 1;
    } else {
      text.insert(at, ALPHABET[prng.uint32(random, 0, ALPHABET.length - 1)]);
      at += 1;
    }
    encoding.writeVarUint(log, author);
    encoding.writeVarUint8Array(log, update);
  }
  writeFileSync(config.out, encoding.toUint8Array(log));
  writeFileSync(`${config.out}.state`, Y.encodeStateAsUpdate(doc));
  const final = text.toString();
  emit("result", { edits: config.edits, text: final, text_sha256: sha256(final), state_bytes: Y.encodeStateAsUpdate(doc).byteLength });
}

// A peer keeps nothing: its "history" is the same final state, sent as one update by a
// client that stays connected (y-websocket and others drop a room when its last client goes).
async function feed() {
  const editor = new Editor(0, makeLink(0));
  await editor.open();
  await waitUntil(() => editor.synced, 30000, "sync step 2");
  Y.applyUpdate(editor.doc, readFileSync(config.state), LOCAL);
  editor.send(MESSAGE_SYNC, (encoder) => syncProtocol.writeUpdate(encoder, readFileSync(config.state)));
  // Proof that the server has it: a second client syncs and reads the same text.
  const check = new Editor(1, makeLink(1));
  await check.open();
  await waitUntil(() => check.synced && check.text.length === editor.text.length, 60000, "the fed state on the server");
  check.link.close();
  emit("result", { text_sha256: sha256(editor.text.toString()), text_length: editor.text.length });
  // Stays connected until the driver ends it.
  await new Promise(() => {});
}

const modes = { fanout, latejoin, history, feed };
try {
  if (!(config.mode in modes)) throw new Error(`unknown mode ${config.mode}`);
  await modes[config.mode]();
  if (config.mode !== "feed") process.exit(0);
} catch (error) {
  emit("failed", { reason: String(error?.stack ?? error) });
  process.exit(1);
}
