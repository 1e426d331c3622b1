"""gunicorn's settings for Plenary, read by itself from the directory it is started in (the
commands of docs/deployment.md).

Stopping with SIGTERM (a deployment's restart, systemd's stop): gunicorn's own graceful stop
waits up to ``graceful_timeout`` for every open connection to end, and a live editor's
WebSocket never ends by itself, so the process would keep taking edits for 30 s and then be
killed. Instead the worker, on SIGTERM, writes and acknowledges every edit it has received,
closes every Socket.IO connection (editors reconnect by themselves, to this server once it
is back or to another), writes what arrived meanwhile, closes the keep-alive connections
that wait for a next request, and only then stops as gunicorn does. (gunicorn's gevent worker
waits for every connection to end, and an idle keep-alive one, a browser's or a proxy's,
never does: the stop took the whole graceful timeout.)
"""
from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time
from typing import Any, ClassVar

#: No control socket: Plenary does not use gunicornc, and every gunicorn on a machine (the
#: scale-out setup's processes, the tests' servers) would take the same default path
#: (~/.gunicorn/gunicorn.ctl), each replacing the one before.
control_socket_disable = True

#: Bound on each wait for the writer while stopping (well under ``graceful_timeout``).
FLUSH_SECONDS = 10.0


class _KeepAlive:
    """The connections of this worker waiting for a client's next request."""

    idle: ClassVar[set[Any]] = set()
    stopping: ClassVar[bool] = False


def _closing_when_idle(base: type) -> type:
    """The worker's request handler (gevent's pywsgi), told apart while it waits for the
    next request of a keep-alive connection; once the worker stops, it waits no more."""

    class Handler(base):  # type: ignore[misc, valid-type]
        def read_requestline(self) -> str:
            if _KeepAlive.stopping:
                return ""  # an empty request line: the connection is closed
            _KeepAlive.idle.add(self)
            try:
                return str(super().read_requestline())
            finally:
                _KeepAlive.idle.discard(self)

    return Handler


def _close_idle_connections() -> None:
    """Close the connections that wait for a next request; the requests in flight finish,
    and their connections close after them."""
    _KeepAlive.stopping = True
    for handler in list(_KeepAlive.idle):
        with contextlib.suppress(OSError, AttributeError):  # already gone
            handler.socket.shutdown(socket.SHUT_RDWR)


def _stop(worker: Any) -> None:
    from drafting.editing.writer import drain
    from drafting.extensions import socketio
    from drafting.realtime.patches import close_every_session

    app = worker.wsgi
    try:
        if not drain(app, FLUSH_SECONDS):
            worker.log.warning("Stopping: edits still unwritten after %s s", FLUSH_SECONDS)
        time.sleep(0.05)  # the handlers send the acknowledgements the writer released
        server = getattr(socketio, "server", None)
        if server is not None:
            # Engine.IO's close, not Socket.IO's disconnect: a browser reconnects after it.
            # Without waiting for each client to collect it: one that went away never does.
            close_every_session(server)
        drain(app, FLUSH_SECONDS)
        _close_idle_connections()
    except Exception:
        worker.log.exception("Stopping: flushing the live editor failed")
    finally:
        worker.alive = False


def _gevent_patched() -> bool:
    try:
        from gevent import monkey
    except ImportError:
        return False
    return bool(monkey.is_module_patched("threading"))


def post_worker_init(worker: Any) -> None:
    if getattr(worker, "wsgi_handler", None) is not None:  # gunicorn's gevent workers
        worker.wsgi_handler = _closing_when_idle(worker.wsgi_handler)

    def on_sigterm(signum: int, frame: Any) -> None:
        # Not in the signal handler itself: the flush waits. Under gevent the handler may run
        # in the event loop, where even starting a thread would block: a greenlet, as
        # gunicorn's own gevent worker does for SIGQUIT.
        if _gevent_patched():
            import gevent

            gevent.spawn(_stop, worker)
        else:
            threading.Thread(target=_stop, args=(worker,), name="plenary-stop", daemon=True).start()

    signal.signal(signal.SIGTERM, on_sigterm)
