"""Background threads of a server process: one of each kind per application, started on
first use (so a process forked by gunicorn starts its own, not its parent's)."""
from __future__ import annotations

import threading
from typing import Any, TypeVar

from flask import Flask, current_app

W = TypeVar("W", bound="Worker")

_lock = threading.Lock()


class Worker:
    """A daemon thread running ``run`` for as long as the process lives."""

    name = "plenary-worker"

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.thread: threading.Thread | None = None
        self.start_lock = threading.Lock()

    def start(self) -> None:
        with self.start_lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self.run, name=self.name, daemon=True)
                self.thread.start()

    def run(self) -> None:
        raise NotImplementedError


def worker(kind: type[W], *args: Any) -> W:
    """The current application's worker of this kind, made with ``args`` and started."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    key = f"plenary_{kind.name}"
    with _lock:
        found = app.extensions.get(key)
        if found is None:
            found = app.extensions[key] = kind(app, *args)
    found.start()
    return found
