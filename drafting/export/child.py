"""Rendering the outcome document in a child process, so the server process never holds it.

A PDF of a large conference keeps Typst busy for seconds on both cores and takes hundreds of
MB (drafting/export/render_pdf.py). Under gevent (how Plenary is
deployed) that would stall every other greenlet of the server, live editing included, and
the memory would stay in the server afterwards. So the export job compiles the
outline in the server (the database is read there, in the job's own session) and hands it to
``python -m drafting.export.child``, which renders and exits: its memory goes with it, and a
renderer that crashes or is killed for lack of memory takes down only the child.

The one wire between the two, both sides of it in this module:

* The parent makes a private temporary directory holding ``request.pickle``:
  ``{"outline": Outline, "formats": ["pdf", ...], "changes": bool, "locale": "en",
  "config": {...}}``, and runs ``python -m drafting.export.child <directory>``.
* The child answers on its stdout, one JSON object a line: ``{"progress": 0.42}`` (over all
  the formats asked, 0..1, growing), then either ``{"done": n}`` with the bytes of format
  ``i`` in ``<directory>/<i>.out``, or ``{"error": message|null, "code": ...}`` and a
  non-zero exit. Its stderr is the server's (its log lines and tracebacks land in the
  server's log).

The parent reads with ``select`` and waits with ``poll`` and ``sleep``, never a blocking
read: under gevent all three are the cooperative, monkey-patched ones, so the greenlet that
follows the child yields to the others; under threads only the job's thread waits.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import pickle
import select
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from flask import Flask
from flask_babel import gettext as _

from drafting.config import PROJECT_ROOT
from drafting.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    Unavailable,
    ValidationFailed,
)

log = logging.getLogger(__name__)

REQUEST = "request.pickle"
#: A domain error raised in the child is raised again in the parent as the same kind.
_ERRORS: dict[str, type[DomainError]] = {
    cls.code: cls for cls in (ValidationFailed, PermissionDenied, NotFound, Conflict, Unavailable)}
#: How often the parent looks whether the child has exited once its output has ended.
_POLL_SECONDS = 0.02


def child_config(app: Flask) -> dict[str, Any]:
    """What the child's app needs of the server's configuration: the language settings and
    the export's own (renderers may read ``EXPORT_*``). Not the database, nor Redis: the
    child reads nothing but the outline it is given."""
    wanted = ("BABEL_", "EXPORT_")
    found = {key: value for key, value in app.config.items() if key.startswith(wanted)}
    found.update({key: app.config[key] for key in ("LANGUAGES", "TESTING") if key in app.config})
    return found


# --- the parent's side -------------------------------------------------------------------


def render_in_child(outline: Any, formats: Sequence[Any], *, changes: bool = False,
                    progress: Callable[[float], None] | None = None, locale: str = "en",
                    config: dict[str, Any] | None = None, timeout: float = 300) -> list[bytes]:
    """The bytes of ``outline`` in each format (``services.Format`` or name), rendered by a
    child process; ``progress`` gets its reports (0..1). A child that fails, crashes or
    outlives ``timeout`` seconds raises a ``DomainError`` with a message for the person who
    asked (the details go to the log)."""
    names = [getattr(fmt, "name", fmt) for fmt in formats]
    with tempfile.TemporaryDirectory(prefix="plenary-export-") as work:
        folder = Path(work)
        with (folder / REQUEST).open("wb") as handle:
            pickle.dump({"outline": outline, "formats": names, "changes": changes,
                         "locale": locale, "config": config or {}}, handle,
                        protocol=pickle.HIGHEST_PROTOCOL)
        read_end, write_end = os.pipe()
        try:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "drafting.export.child", work],
                stdin=subprocess.DEVNULL, stdout=write_end, cwd=PROJECT_ROOT, close_fds=True,
                # A process group of its own: a renderer's helper processes (the PDF's layout
                # workers) are killed with it.
                start_new_session=True)
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        try:
            answer = _follow(process, read_end, time.monotonic() + timeout, progress)
        finally:
            os.close(read_end)
            _kill_group(process)
        if answer is None:
            log.error("export child %s outlived EXPORT_TIMEOUT_SECONDS (%s s): killed",
                      process.pid, timeout)
            raise Unavailable(_("The export took longer than %(seconds)s seconds and was "
                                "stopped. Try a smaller export, or ask the administrator to "
                                "allow more time.", seconds=f"{timeout:g}"))
        code = process.returncode
        if code == 0 and answer.get("done") == len(names):
            return [(folder / f"{index}.out").read_bytes() for index in range(len(names))]
        if answer.get("error"):
            raise _ERRORS.get(str(answer.get("code")), Unavailable)(str(answer["error"]))
        log.error("export child %s ended with status %s (answer %r)", process.pid, code, answer)
        if code is not None and code < 0:
            if -code == signal.SIGKILL:
                raise Unavailable(_("The export was stopped by the system, probably for lack "
                                    "of memory. Please try again later or a lighter format."))
            raise Unavailable(_("The export crashed (signal %(signal)d); the error has been "
                                "logged. Please try again.", signal=-code))
        raise Unavailable(_("The export failed (status %(status)s); the error has been logged. "
                            "Please try again.", status=code))


def _follow(process: subprocess.Popen[bytes], fd: int, deadline: float,
            progress: Callable[[float], None] | None) -> dict[str, Any] | None:
    """Read the child's lines until its output ends and it exits; its last answer (``{}`` if
    none), or None when the deadline passed first."""
    buffer = b""
    answer: dict[str, Any] = {}
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        readable, _w, _x = select.select([fd], [], [], min(remaining, 1.0))
        if not readable:
            if process.poll() is not None:
                break  # gone, though a helper process it left may still hold the pipe
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            message = _parse(line)
            if "progress" in message:
                if progress is not None and isinstance(message["progress"], int | float):
                    progress(min(1.0, max(0.0, float(message["progress"]))))
            elif message:
                answer = message
    return answer if _wait(process, deadline) else None


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Whatever is left of the child's process group (all of it, if the child still runs)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):  # all gone already
        os.killpg(process.pid, signal.SIGKILL)
    if process.poll() is None:
        _wait(process, time.monotonic() + 10)


def _wait(process: subprocess.Popen[bytes], deadline: float) -> bool:
    while process.poll() is None:
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_SECONDS)
    return True


def _parse(line: bytes) -> dict[str, Any]:
    try:
        message = json.loads(line)
    except ValueError:
        return {}
    return message if isinstance(message, dict) else {}


# --- the child's side --------------------------------------------------------------------


def _channel() -> TextIO:
    """The answer channel: the stdout the parent reads. File descriptor 1 then points at
    stderr, so that nothing a library prints can garble the answers."""
    channel = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    return channel


def main(argv: Sequence[str]) -> int:
    channel = _channel()

    def send(**message: Any) -> None:
        channel.write(json.dumps(message) + "\n")

    try:
        folder = Path(argv[0])
        request = pickle.loads((folder / REQUEST).read_bytes())  # noqa: S301 - written by our parent
        from flask_babel import force_locale

        from drafting import create_app
        from drafting.export import services

        # The child reads no database: an empty in-memory one, so a stray query fails here
        # instead of reaching the server's data; no message queue, no background worker.
        app = create_app({**request["config"], "SQLALCHEMY_DATABASE_URI": "sqlite://",
                          "REDIS_URL": None, "SOCKETIO_ASYNC_MODE": "threading",
                          "VOTE_DEADLINE_POLL_SECONDS": 0})
        formats = [services.FORMATS[name] for name in request["formats"]]
        reported = [-1]

        def progress(fraction: float) -> None:
            percent = int(fraction * 100)
            if percent > reported[0]:
                reported[0] = percent
                send(progress=round(fraction, 3))

        with app.app_context(), force_locale(request["locale"]):
            results = services.render_formats(request["outline"], formats,
                                              changes=request["changes"], progress=progress)
        for index, data in enumerate(results):
            (folder / f"{index}.out").write_bytes(data)
        send(done=len(results))
        return 0
    except DomainError as error:
        send(error=error.message, code=error.code)
        return 1
    except Exception:
        traceback.print_exc()
        send(error=None, code="crashed")
        return 1
    finally:
        channel.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
