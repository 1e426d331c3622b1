"""A Plenary editor client in Python (python-socketio + pycrdt), speaking the wire contract
of docs/protocol.md the way the browser's provider does: the tests' second implementation."""
from __future__ import annotations

import threading
import time
from typing import Any

import engineio
import socketio
from pycrdt import Doc, Text

from drafting.realtime import protocol

WAIT = 10.0


class _InOrderEngine(engineio.Client):
    """python-engineio's client starts a thread for every message it receives, so a binary
    packet's attachment could be handled before its header (the client then fails to decode
    it, and the message is lost) and one update before another. Handle each message on the
    read loop, in the order it arrived, as the browser does."""

    def _trigger_event(self, event: str, *args: Any, **kwargs: Any) -> Any:
        if event == "message":
            kwargs["run_async"] = False
        return super()._trigger_event(event, *args, **kwargs)


class _InOrderClient(socketio.Client):
    def _engineio_client_class(self) -> type[engineio.Client]:
        return _InOrderEngine


class EditorClient:
    def __init__(self, base_url: str, *, token: str | None = None,
                 http_session: Any = None) -> None:
        self.base_url = base_url
        self.token = token
        self.http_session = http_session
        self.docs: dict[str, Doc] = {}
        self.texts: dict[str, Text] = {}
        self.synced: dict[str, threading.Event] = {}
        self.errors: list[dict[str, Any]] = []
        self.structure: list[dict[str, Any]] = []
        self.awareness: list[tuple[str, list[protocol.AwarenessEntry]]] = []
        self.lock = threading.RLock()
        self.acks: list[Any] = []
        #: Every update message the server sent (sync update or step 2), as received.
        self.updates: list[bytes] = []
        self._applying = False
        self.joined: list[Any] = []
        #: The Yjs client id the last join gave (None: none given, or not joined yet): the
        #: documents opened from then on type under it, as the browser's do.
        self.client_id: int | None = None
        #: Every ``reset`` the server sent, as received.
        self.resets: list[dict[str, Any]] = []
        self.sio = self._new_socket()

    def _new_socket(self) -> socketio.Client:
        sio = _InOrderClient(reconnection=False, http_session=self.http_session)
        sio.on("y", self._on_y)
        sio.on("error", self.errors.append)
        sio.on("clauses_changed", self.structure.append)
        sio.on("reset", self._on_reset)
        return sio

    # --- connection ---------------------------------------------------------------------

    def connect(self) -> EditorClient:
        self.sio.connect(self.base_url, transports=["websocket"], wait_timeout=WAIT,
                         auth={"token": self.token} if self.token else None)
        return self

    def disconnect(self) -> None:
        if self.sio.connected:
            # The development server never answers a WebSocket close frame (it reads the
            # frame as a new HTTP request), so websocket-client would wait 3 s for a reply.
            ws = getattr(self.sio.eio, "ws", None)
            if ws is not None:
                close = ws.close
                ws.close = lambda *args, **kwargs: close(timeout=0.1)
            self.sio.disconnect()

    def join(self, recommendation_id: Any) -> dict[str, Any]:
        answer = self.sio.call("join", {"recommendation": recommendation_id}, timeout=WAIT)
        if isinstance(answer, dict) and answer.get("ok"):
            self.joined.append(recommendation_id)
            self.client_id = answer.get("client")
        return answer

    def reconnect(self) -> None:
        """Come back after a disconnect, as the browser's provider does: join again and sync
        every document (what was typed offline goes up in the answer to the server's step 1)."""
        self.sio = self._new_socket()
        self.connect()
        joined, self.joined = self.joined, []
        for recommendation_id in joined:
            self.join(recommendation_id)
        for doc_name in list(self.docs):
            self.open(doc_name)

    def send(self, doc: Any, payload: Any) -> dict[str, Any]:
        return self.sio.call("y", (doc, payload), timeout=WAIT)

    # --- documents ----------------------------------------------------------------------

    def open(self, doc_name: str) -> Text:
        """Start syncing a clause document; returns once the server's step 2 has arrived."""
        with self.lock:
            if doc_name not in self.docs:
                # pycrdt fixes a document's client id when it is made: a document made before
                # a later join keeps the id of the join before, as the browser's items do.
                doc: Doc = Doc() if self.client_id is None else Doc(client_id=self.client_id)
                self.texts[doc_name] = doc.get("text", type=Text)
                self.docs[doc_name] = doc
                self.synced[doc_name] = threading.Event()
                doc.observe(lambda event, name=doc_name: self._local_update(name, event))
            state = self.docs[doc_name].get_state()
        self.synced[doc_name].clear()
        answer = self.send(doc_name, protocol.sync_step1(state))
        assert answer == {"ok": True}, answer
        assert self.synced[doc_name].wait(WAIT), f"no sync step 2 for {doc_name}"
        return self.texts[doc_name]

    def text(self, doc_name: str) -> str:
        with self.lock:
            return str(self.texts[doc_name])

    def insert(self, doc_name: str, index: int, value: str) -> None:
        """Insert at a character index (converted to pycrdt's UTF-8 offsets)."""
        with self.lock:
            current = str(self.texts[doc_name])
            self.texts[doc_name].insert(len(current[:index].encode()), value)

    def delete(self, doc_name: str, index: int, length: int) -> None:
        with self.lock:
            current = str(self.texts[doc_name])
            start = len(current[:index].encode())
            end = len(current[:index + length].encode())
            if end > start:
                del self.texts[doc_name][start:end]

    def _local_update(self, doc_name: str, event: Any) -> None:
        if self._applying:
            return
        update = event.update
        # Offline edits stay in the document: the next sync's step 2 carries them.
        if self.sio.connected:
            self.sio.emit("y", (doc_name, protocol.sync_update(update)), callback=self._acked)

    def _acked(self, answer: Any = None) -> None:
        self.acks.append(answer)

    def _on_y(self, doc_name: str, payload: bytes) -> None:
        message = protocol.parse_message(payload)
        with self.lock:
            doc = self.docs.get(doc_name)
            if doc is None:
                return
            if message.kind is protocol.Kind.AWARENESS:
                self.awareness.append((doc_name, protocol.parse_awareness(message.body)))
            elif message.kind is protocol.Kind.STEP1:
                self.sio.emit("y", (doc_name, protocol.sync_step2(doc.get_update(message.body))))
            else:
                self.updates.append(message.body)
                self._applying = True
                try:
                    doc.apply_update(message.body)
                finally:
                    self._applying = False
                if message.kind is protocol.Kind.STEP2:
                    self.synced[doc_name].set()

    def _on_reset(self, data: dict[str, Any]) -> None:
        """As the browser does: drop this copy of the clause (whatever it holds that the
        server refused) and sync it afresh, off the read loop (the sync waits for answers)."""
        self.resets.append(data)
        doc_name = data.get("doc") if isinstance(data, dict) else None
        with self.lock:
            if doc_name not in self.docs:
                return
            del self.docs[doc_name], self.texts[doc_name]
        threading.Thread(target=self._reopen, args=(doc_name,), daemon=True).start()

    def _reopen(self, doc_name: str) -> None:
        try:
            self.open(doc_name)
        except (socketio.exceptions.SocketIOError, AssertionError):
            # Unless the test has ended and disconnected meanwhile, or the session has ended
            # (as a browser would, it has nothing to sync then).
            ended = any(error.get("code") == "unauthenticated" for error in self.errors)
            if self.sio.connected and not ended:
                raise

    def set_presence(self, doc_name: str, client_id: int, state: dict[str, Any] | None,
                     clock: int = 1) -> dict[str, Any]:
        body = protocol.encode_awareness([protocol.AwarenessEntry(client_id, clock, state)])
        return self.send(doc_name, protocol.awareness_message(body))


def eventually(check: Any, timeout: float = WAIT, message: str = "condition") -> None:
    """Wait for a condition a remote party must bring about (bounded; not a timing test)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"{message} did not happen within {timeout} s")
