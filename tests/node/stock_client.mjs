// A stock client of Plenary's live editor, built only from the npm packages yjs, y-protocols,
// lib0 and socket.io-client: the wire contract of docs/protocol.md ("Real-time editing"),
// spoken the way y-websocket speaks it, with Socket.IO events instead of WebSocket frames.
//
// Run from the repository root (so that node_modules resolves):
//
//   node tests/node/stock_client.mjs '{"url": "http://127.0.0.1:5000", "token": "plen_…",
//       "recommendation": 1, "clause": 0, "script": [{"do": "synced"}, {"do": "text"}]}'
//
// The configuration comes as the first argument, or on stdin. It joins the recommendation,
// syncs one clause document (`doc`, or the `clause`-th of the join answer, default 0), runs
// the script and prints one JSON object a line: {"event": "joined" | "synced" | "text" |
// "awareness" | "answer" | "error" | "refused" | "acked" | "done" | "failed", ...}.
// Script actions ("do"):
//   synced                          wait for the server's sync step 2
//   insert {index, text}            type (index: a UTF-16 offset, clamped, or "end")
//   delete {index, length}
//   wait_text {equals?, contains?}  wait until the text is / holds these, then report it
//   text                            report the text
//   presence {state}                set this client's awareness state
//   wait_awareness {name}           wait for another client's presence with user.name == name
//   awareness                       report the other clients' awareness states
//   wait_error {code?}              wait for an `error` event (each is reported as it comes)
//   send_hex {hex}                  send raw bytes as a `y` payload, report the answer
//   send_update_v2 {index, text}    send an insertion as a Yjs *version-2* update, report the answer
//   acked                           wait until every `y` sent so far is acknowledged
//   disconnect
import { readFileSync } from "node:fs";

import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { io } from "socket.io-client";
import * as awarenessProtocol from "y-protocols/awareness";
import * as syncProtocol from "y-protocols/sync";
import * as Y from "yjs";

const MESSAGE_SYNC = 0;
const MESSAGE_AWARENESS = 1;
const config = JSON.parse(process.argv[2] ?? readFileSync(0, "utf8"));
const WAIT = config.wait_ms ?? 10000;

const report = (event, fields = {}) => process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
const fail = (reason) => {
  report("failed", { reason: String(reason), text: text.toString() });
  process.exit(1);
};

// --- waiting for what the server brings: checked again after every message -----------------

const waiters = new Set();
const changed = () => waiters.forEach((check) => check());
const waitFor = (condition, what) => new Promise((resolve, reject) => {
  const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`no ${what} within ${WAIT} ms`)); }, WAIT);
  const check = () => {
    if (condition()) { clearTimeout(timer); waiters.delete(check); resolve(); }
  };
  waiters.add(check);
  check();
});

// --- the protocol ---------------------------------------------------------------------------

const doc = new Y.Doc();
const text = doc.getText("text"); // the clause's text is the Y.Text named "text"
const awareness = new awarenessProtocol.Awareness(doc);
const REMOTE = "plenary"; // the transaction origin of what the server sent: not to be sent back
const socket = io(config.url, { transports: ["websocket"], auth: { token: config.token }, reconnection: false });
let docName = null;
let synced = false;
let unacknowledged = 0;
const errors = [];

// Every `y` is acknowledged by the server: {"ok": true} once durable, or a refusal.
const send = (message) => {
  unacknowledged += 1;
  socket.timeout(WAIT).emit("y", docName, message, (timeout, answer) => {
    unacknowledged -= 1;
    if (timeout || !answer.ok) report("refused", { answer: answer ?? String(timeout) });
    changed();
  });
};

const syncMessage = (write) => {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_SYNC);
  write(encoder);
  return encoding.toUint8Array(encoder);
};

socket.on("y", (name, payload) => {
  if (name !== docName) return;
  const decoder = decoding.createDecoder(new Uint8Array(payload));
  const type = decoding.readVarUint(decoder);
  if (type === MESSAGE_SYNC) {
    // Step 1 is answered with step 2 (what the server lacks); step 2 and updates are applied.
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, MESSAGE_SYNC);
    const kind = syncProtocol.readSyncMessage(decoder, encoder, doc, REMOTE);
    if (kind === syncProtocol.messageYjsSyncStep2) synced = true;
    if (encoding.length(encoder) > 1) send(encoding.toUint8Array(encoder));
  } else if (type === MESSAGE_AWARENESS) {
    awarenessProtocol.applyAwarenessUpdate(awareness, decoding.readVarUint8Array(decoder), REMOTE);
  }
  changed();
});

doc.on("update", (update, origin) => {
  if (origin !== REMOTE) send(syncMessage((encoder) => syncProtocol.writeUpdate(encoder, update)));
  changed();
});

awareness.on("update", ({ added, updated, removed }, origin) => {
  if (origin !== "local" || docName === null) return; // only our own presence
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_AWARENESS);
  encoding.writeVarUint8Array(encoder,
    awarenessProtocol.encodeAwarenessUpdate(awareness, added.concat(updated, removed)));
  send(encoding.toUint8Array(encoder));
});

socket.on("error", (error) => { errors.push(error); report("error", { error }); changed(); });
socket.on("connect_error", (error) => fail(`cannot connect: ${error.message}`));

// --- the script -----------------------------------------------------------------------------

const ask = async (payload) => socket.timeout(WAIT).emitWithAck("y", docName, payload);
const others = () => [...awareness.getStates()]
  .filter(([clientId]) => clientId !== doc.clientID)
  .map(([clientId, state]) => ({ client_id: clientId, state }));

const actions = {
  synced: async () => {
    await waitFor(() => synced, "sync step 2");
    report("synced", { text: text.toString() });
  },
  insert: ({ index, text: value }) => text.insert(index === "end" ? text.length : Math.min(index, text.length), value),
  delete: ({ index, length }) => text.delete(index, length),
  wait_text: async ({ equals, contains = [] }) => {
    const current = () => text.toString();
    await waitFor(() => (equals === undefined || current() === equals) && contains.every((part) => current().includes(part)),
      `text ${JSON.stringify(equals ?? contains)}`);
    report("text", { text: current() });
  },
  text: () => report("text", { text: text.toString() }),
  presence: ({ state }) => awareness.setLocalState(state),
  wait_awareness: ({ name }) => waitFor(() => others().some(({ state }) => state.user?.name === name), `presence of ${name}`),
  awareness: () => report("awareness", { states: others() }),
  wait_error: ({ code }) => waitFor(() => errors.some((error) => code === undefined || error.code === code), `error ${code}`),
  send_hex: async ({ hex }) => report("answer", { answer: await ask(Buffer.from(hex, "hex")) }),
  send_update_v2: async ({ index, text: value }) => {
    // The same insertion made on a copy (so that this client's own document does not have it),
    // encoded as Yjs version 2, which the contract does not speak.
    const copy = new Y.Doc();
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
    copy.getText("text").insert(index, value);
    const update = Y.encodeStateAsUpdateV2(copy, Y.encodeStateVector(doc));
    report("answer", { answer: await ask(syncMessage((encoder) => syncProtocol.writeUpdate(encoder, update))) });
  },
  acked: async () => {
    await waitFor(() => unacknowledged === 0, "acknowledgement");
    report("acked");
  },
  disconnect: () => socket.disconnect(),
};

const watchdog = setTimeout(() => fail("the script did not finish in time"), config.timeout_ms ?? 25000);
try {
  await new Promise((resolve) => socket.once("connect", resolve));
  const joined = await socket.timeout(WAIT).emitWithAck("join", { recommendation: config.recommendation });
  report("joined", { answer: joined, client_id: doc.clientID });
  docName = config.doc ?? joined.clauses?.[config.clause ?? 0]?.doc ?? null;
  send(syncMessage((encoder) => syncProtocol.writeSyncStep1(encoder, doc))); // sync step 1
  for (const step of config.script ?? []) {
    if (!(step.do in actions)) throw new Error(`unknown action ${step.do}`);
    await actions[step.do](step);
  }
} catch (error) {
  fail(error.message);
}
clearTimeout(watchdog);
report("done");
// Not waiting for the event loop to drain: the awareness timer and a WebSocket waiting for
// the close frame the development server never answers would keep the process alive.
process.exit(0);
