"""Real Plenary server processes for the tests: started as docs/deployment.md runs them, on
the test database, and stopped, signed into, or crashed as a test needs."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.conftest import REDIS_CHANNEL, ROOT
from tests.factories import PASSWORD


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


#: How docs/deployment.md runs a Plenary process (``{port}`` filled in).
GEVENT_GUNICORN = [sys.executable, "-m", "gunicorn", "--worker-class",
                   "geventwebsocket.gunicorn.workers.GeventWebSocketWorker", "--workers", "1",
                   "--bind", "127.0.0.1:{port}", "wsgi:app"]


class Server:
    """A real Plenary process (``flask run``, or ``command`` with ``{port}`` in it) on the
    test database."""

    def __init__(self, app, redis_url: str | None, tmp_path: Path, name: str,
                 port: int | None = None, command: list[str] | None = None,
                 extra_env: dict[str, str] | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": app.config["SECRET_KEY"],
            "PLENARY_INSTANCE_PATH": str(tmp_path / name),
            "LOGIN_RATE_LIMIT": "4 per minute",
            "LOGIN_ACCOUNT_RATE_LIMIT": "100 per minute",
            # This test process's own channel (other test processes share the Redis server).
            "REDIS_CHANNEL": REDIS_CHANNEL,
        }
        env.update(extra_env or {})
        if redis_url:
            env["REDIS_URL"] = redis_url
        self.log = (tmp_path / f"{name}.log").open("a")
        command = command or [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", "{port}"]
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and app
            [part.replace("{port}", str(self.port)) for part in command],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            # Its own process group: a crash takes gunicorn's workers with it (``crash``).
            start_new_session=True,
        )

    def crash(self) -> None:
        """SIGKILL to every process of the server (gunicorn's master and its workers) at
        once: a crash of the machine's or the container's kind, with whatever was in memory
        gone. (Killing only gunicorn's master leaves its worker running for a moment, which
        still writes what it holds before it notices.)"""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def kill(self) -> None:
        """SIGKILL: no chance to flush or say goodbye."""
        self.process.kill()
        self.process.wait(timeout=10)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/login", timeout=1).status_code == 200:
                    return
            except requests.RequestException:  # not listening yet, or still starting
                time.sleep(0.1)
        raise AssertionError(f"server on {self.url} did not start: {Path(self.log.name).read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def sign_in(server: Server, email: str, password: str = PASSWORD) -> tuple[requests.Session, int]:
    browser = requests.Session()
    page = browser.get(server.url + "/login", timeout=5).text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    response = browser.post(server.url + "/login", data={
        "email": email, "password": password, "csrf_token": token,
    }, allow_redirects=False, timeout=10)
    return browser, response.status_code


GEVENT = {"SOCKETIO_ASYNC_MODE": "gevent"}


def gunicorn(app, tmp_path, name: str = "server", port: int | None = None,
             redis_url: str | None = None, **env: str) -> Server:
    server = Server(app, redis_url, tmp_path, name, port=port, command=GEVENT_GUNICORN,
                    extra_env={**GEVENT, **env})
    server.wait_ready()
    return server


def log_of(server: Server) -> str:
    server.log.flush()
    with open(server.log.name, encoding="utf-8") as log:
        return log.read()
