// Anchors as a browser makes them: given a clause document's state (base64 update) and a
// script of edits, apply the edits as another Yjs client, then encode the relative positions
// of a phrase with Y.encodeRelativePosition. Prints one JSON object:
// {update, start, end, text} (base64 update of every change, base64 positions, final text).
import * as Y from "yjs";

const config = JSON.parse(process.argv[2]);
const doc = new Y.Doc();
Y.applyUpdate(doc, Buffer.from(config.state, "base64"));
const text = doc.getText("text");
const before = Y.encodeStateVector(doc);
for (const [op, index, value] of config.edits) {
  if (op === "insert") text.insert(index, value);
  else text.delete(index, value);
}
const current = text.toString();
const from = current.indexOf(config.phrase);
if (from < 0) throw new Error(`phrase not in ${current}`);
const to = from + config.phrase.length;
const encode = (index, assoc) =>
  Buffer.from(Y.encodeRelativePosition(Y.createRelativePositionFromTypeIndex(text, index, assoc)))
    .toString("base64");
console.log(JSON.stringify({
  update: Buffer.from(Y.encodeStateAsUpdate(doc, before)).toString("base64"),
  start: encode(from, 0), end: encode(to, -1), text: current,
}));
