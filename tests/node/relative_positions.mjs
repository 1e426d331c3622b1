// Anchors as a browser makes them: given a clause document's state (base64 update) and a
// script of edits, apply the edits as another Yjs client, then encode the relative positions
// of a phrase with Y.encodeRelativePosition. Prints one JSON object:
// {update, updates, start, end, text, positions}: the base64 update of every change, and of
// each edit alone (as keystrokes reach the server), the phrase's base64 positions, the final
// text, and for each [index, assoc] of `indices` (UTF-16 offsets) its base64 position.
// Edits are [op, index, value]: "insert" (index in UTF-16 units, as a browser's) or "delete"
// (value: how many units).
import * as Y from "yjs";

const config = JSON.parse(process.argv[2]);
const doc = new Y.Doc();
Y.applyUpdate(doc, Buffer.from(config.state, "base64"));
const text = doc.getText("text");
const before = Y.encodeStateVector(doc);
const updates = [];
doc.on("update", (update) => updates.push(Buffer.from(update).toString("base64")));
for (const [op, index, value] of config.edits) {
  if (op === "insert") text.insert(index, value);
  else text.delete(index, value);
}
const current = text.toString();
const encode = (index, assoc) =>
  Buffer.from(Y.encodeRelativePosition(Y.createRelativePositionFromTypeIndex(text, index, assoc)))
    .toString("base64");
let start = null;
let end = null;
if (config.phrase) {
  const from = current.indexOf(config.phrase);
  if (from < 0) throw new Error(`phrase not in ${current}`);
  start = encode(from, 0);
  end = encode(from + config.phrase.length, -1);
}
console.log(JSON.stringify({
  update: Buffer.from(Y.encodeStateAsUpdate(doc, before)).toString("base64"),
  updates, start, end, text: current,
  positions: (config.indices ?? []).map(([index, assoc]) => encode(index, assoc)),
}));
