"""Test fixtures: the app on SQLite or PostgreSQL, a CSRF-aware client, factories, services.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL points at one
(`make test` does both). Under CI=true a missing service (PostgreSQL, Redis, Chromium) fails
the run; elsewhere the tests that need it skip with a message saying what to start.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import Connection, create_engine, make_url, text

from tests.factories import Factories

IN_CI = os.environ.get("CI", "").lower() == "true"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
#: pytest-xdist's name for this worker process ("gw0", "gw1", …; "" without xdist): what the
#: workers share on this machine (Redis) is kept apart by it.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_WORKER_NUMBER = int(WORKER[2:]) if WORKER.startswith("gw") and WORKER[2:].isdigit() else 0
#: Each worker its own Redis database (15, 14, …) and Socket.IO channel (publish and
#: subscribe cross databases): the tests' servers flush and talk on them. Two runs at once
#: on one machine (two checkouts) keep apart with TEST_REDIS_OFFSET (the second: 2).
_REDIS_SLOT = int(os.environ.get("TEST_REDIS_OFFSET", "0") or 0) + _WORKER_NUMBER
REDIS_URL = os.environ.get("TEST_REDIS_URL", f"redis://127.0.0.1:6379/{15 - _REDIS_SLOT % 16}")
REDIS_CHANNEL = f"plenary-test-{_REDIS_SLOT}"
CHROMIUM = "/usr/bin/chromium"
#: The hardening suites' long forms (docs/security.md): more fuzzing, fault rounds, soak.
HARDENING_LONG = os.environ.get("PLENARY_HARDENING", "").lower() == "long"
DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parent.parent
#: What the tests that run the stock Yjs client under Node need from npm (``node``).
NODE_PACKAGES = ("yjs", "y-protocols", "lib0", "socket.io-client")


def service_missing(what: str, hint: str) -> None:
    """Fail under CI, skip elsewhere: a service test that silently skips in CI proves nothing."""
    message = f"{what} is not available: {hint}"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def postgres_reachable(url: str) -> bool:
    try:
        engine = create_engine(url)
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def pytest_report_header(config: pytest.Config) -> str:
    return f"plenary database: {'PostgreSQL ' + TEST_DATABASE_URL if TEST_DATABASE_URL else 'SQLite'}"


#: Tests the PostgreSQL run leaves out (deselected, not skipped): those about SQLite itself
#: (its one write lock, its files), and those whose subject does not depend on the database
#: (a browser's behaviour, rendering, parsing, validation), which the SQLite run has checked.
SQLITE_RUN_ONLY = ("sqlite_only", "database_independent", "browser")


def _sqlite_run_only(item: pytest.Item) -> bool:
    return any(item.get_closest_marker(name) for name in SQLITE_RUN_ONLY)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if TEST_DATABASE_URL:
        left_out = [item for item in items if _sqlite_run_only(item)]
    else:  # the SQLite run: what is about PostgreSQL itself runs in the PostgreSQL run
        left_out = [item for item in items if item.get_closest_marker("postgresql_only")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if item not in left_out]
    if TEST_DATABASE_URL and not postgres_reachable(TEST_DATABASE_URL):
        message = (f"PostgreSQL at {TEST_DATABASE_URL} does not answer; start it "
                   "(pg_ctlcluster <version> main start) or unset TEST_DATABASE_URL")
        if IN_CI:
            raise pytest.UsageError(message)
        for item in items:
            item.add_marker(pytest.mark.skip(reason=message))


# --- the application --------------------------------------------------------------------

TEST_CONFIG: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    # Cheap argon2 parameters: the algorithm is the same, the suite stays fast.
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_COST": 8 * 1024,
    "ARGON2_PARALLELISM": 1,
    # One test exercises the limits on an app of its own; the rest log in freely.
    "RATELIMIT_ENABLED": False,
    "SERVER_NAME": None,
    # Tests close votes at their deadline themselves (close_due_votes), at the moment they
    # choose; tests/test_vote_deadlines.py runs real servers with the closer on.
    "VOTE_DEADLINE_POLL_SECONDS": 0,
}


def make_app(tmp_path: Path, **overrides: Any) -> Flask:
    from drafting import create_app

    os.environ["PLENARY_INSTANCE_PATH"] = str(tmp_path)
    database = TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'test.sqlite'}"
    return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database, **overrides})


@contextmanager
def private_postgres_database(server_url: str) -> Iterator[str]:
    """A database of this test run's own on the PostgreSQL server of ``server_url``, dropped
    afterwards, so that runs on one server (developers, helpers, CI) never share tables."""
    url = make_url(server_url)
    name = f"plenary_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        # FORCE: a server process a test started may still hold a connection.
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if TEST_DATABASE_URL:
        with private_postgres_database(TEST_DATABASE_URL) as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('database') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[Flask]:
    application = make_app(tmp_path_factory.mktemp("instance"), SQLALCHEMY_DATABASE_URI=database_url)
    application.test_client_class = PlenaryClient
    _prepare_schema(application)
    yield application
    from models import db

    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def _prepare_schema(application: Flask) -> None:
    from flask_migrate import downgrade, upgrade

    from models import db

    with application.app_context():
        # A database left by an earlier run (PostgreSQL keeps its data): back to empty first.
        inspector_tables = set(db.inspect(db.engine).get_table_names())
        if "alembic_version" in inspector_tables:
            downgrade(revision="base")
        elif inspector_tables & set(db.metadata.tables):
            db.drop_all()
        upgrade()


@pytest.fixture
def app_variant(app: Flask, tmp_path: Path) -> Iterator[Any]:
    """Another app with some settings changed, on the same database as ``app``.

    Flask-SocketIO and Flask-Limiter keep their state on the process-wide extension objects,
    not per app (one app per process is how Plenary runs): creating a variant re-initialises
    them, so their state is put back afterwards, or the session app's live server would
    emit through the variant's Socket.IO server and count with the variant's limits."""
    def make(**overrides: Any) -> Flask:
        variant = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                           **overrides)
        variant.test_client_class = PlenaryClient
        return variant

    with extensions_restored():
        yield make


@contextmanager
def extensions_restored() -> Iterator[None]:
    """Put the process-wide extension objects back as they were after other apps were made."""
    from drafting.extensions import limiter, socketio

    saved = {extension: dict(vars(extension)) for extension in (limiter, socketio)}
    try:
        yield
    finally:
        for extension, state in saved.items():
            vars(extension).clear()
            vars(extension).update(state)


def empty_tables(connection: Connection) -> None:
    """Delete every row of every table, children before parents (no foreign key is broken
    on the way), in the caller's transaction.

    On PostgreSQL the DELETEs go as one statement string, in one round trip rather than one
    a table, and the commit does not wait for the WAL to reach the disk (a test database
    needs no durability): a test's teardown went from 8-9 ms to about 2 (--durations over
    tests/test_permissions.py, 2026-12-07). TRUNCATE, the textbook answer, is slower here:
    it replaces each table's files, 40-70 ms for the 24 tables even when nearly empty.
    SQLite's DELETEs cost little, one by one."""
    from models import db

    tables = list(reversed(db.metadata.sorted_tables))
    if connection.dialect.name == "postgresql":
        deletes = [str(table.delete().compile(dialect=connection.dialect)) for table in tables]
        connection.exec_driver_sql("; ".join(["SET LOCAL synchronous_commit = off", *deletes]))
        return
    for table in tables:
        connection.execute(table.delete())


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test starts from empty tables (cheaper than rebuilding the schema)."""
    yield
    if "app" not in request.fixturenames:
        return
    application: Flask = request.getfixturevalue("app")
    from drafting.editing.docs import forget_all
    from models import db

    with application.app_context():
        db.session.rollback()
        with db.engine.begin() as connection:
            empty_tables(connection)
    # After the tables are empty: the next test's clause 1 is another clause, and a cached
    # document must not outlive the rows it was built from.
    forget_all()
    from drafting.editing import presence

    presence.forget_all()


@pytest.fixture
def drafting_room(factories: Factories) -> tuple[Any, Any, dict[str, str]]:
    """A group with a draft of two clauses (a preambular and an operative one), and an API
    token for each kind of person: (cast, recommendation, {role: token})."""
    from models import ClauseKind

    cast = factories.cast()
    recommendation = factories.recommendation(cast.group, clauses=[
        (ClauseKind.PREAMBULAR, "*Recognising* the crisis,"),
        (ClauseKind.OPERATIVE, "Calls on States to protect migrant workers;"),
    ])
    tokens = {role: factories.api_token(getattr(cast, role))
              for role in ("chair", "member", "observer", "secretariat", "other_chair", "outsider")}
    return cast, recommendation, tokens


@pytest.fixture(scope="session")
def node() -> str:
    """The ``node`` command, once the npm packages the stock client needs are installed."""
    path = shutil.which("node")
    if path is None:
        service_missing("Node.js", "install Node 20 (the `node` command) to run the stock Yjs client")
    missing = [name for name in NODE_PACKAGES if not (ROOT / "node_modules" / name / "package.json").exists()]
    if missing:
        service_missing(f"The npm packages {', '.join(missing)}", "run `npm ci` in the repository root")
    return path


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    """An application context for tests that call services directly (not with the client:
    a request inside a pushed context would share its ``g`` and session)."""
    with app.test_request_context():
        yield


@pytest.fixture
def factories(app: Flask) -> Factories:
    return Factories(app)


@pytest.fixture
def client(app: Flask) -> PlenaryClient:
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def xss_payloads() -> list[str]:
    lines = (DATA / "xss-payloads.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception:
        service_missing("Redis", f"start a Redis server for {REDIS_URL}")
    return REDIS_URL


# --- a client that speaks like a browser ---------------------------------------------------

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class PlenaryClient(FlaskClient):
    """A test client that adds the CSRF token a real page would have given the browser."""

    def csrf_token(self) -> str:
        with self.session_transaction() as session:
            raw = session.get("csrf_token")
            if raw is None:
                raw = hashlib.sha1(os.urandom(64)).hexdigest()  # noqa: S324 - same as Flask-WTF
                session["csrf_token"] = raw
        serializer = URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token")
        return serializer.dumps(raw)

    def submit(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """POST a form as the page would: with its CSRF token."""
        return self.post(url, data={**(data or {}), "csrf_token": self.csrf_token()}, **kwargs)

    def api(self, method: str, url: str, json: Any = None, *, token: str | None = None,
            csrf: bool = True, **kwargs: Any) -> Any:
        """Call the JSON API; every answer is checked against the OpenAPI document."""
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        elif csrf and method.upper() not in {"GET", "HEAD", "OPTIONS"}:
            headers["X-CSRFToken"] = self.csrf_token()
        response = self.open(url, method=method, json=json, headers=headers, **kwargs)
        from tests.openapi import assert_matches_document

        assert_matches_document(self.application, method, url, response)
        return response

    def sign_in(self, participant: Any, password: str = "correct horse battery") -> Any:
        response = self.submit("/login", {"email": participant.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return response

    def sign_out(self) -> Any:
        return self.submit("/logout")


# --- browser tests ----------------------------------------------------------------------

#: How long ``expect`` waits for a page to show what it should before the test fails (a bound
#: on waiting, not a measurement): Playwright's 5 s default is short for a page of a server
#: that shares two cores with the other test worker, its browser and the servers of the tests.
EXPECT_TIMEOUT_MS = 15_000


@pytest.fixture(scope="session", autouse=True)
def _patient_expect() -> None:
    try:
        from playwright.sync_api import expect
    except ImportError:  # the browser tests skip (or fail under CI) on their own
        return
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        service_missing("Chromium", "install Debian's chromium package (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"],
    }


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() and shutil.which("chromium") is not None


# --- a live server for browser tests ------------------------------------------------------
# Added for tests/test_browser.py: the session's app on a real port, for a real Chromium.

@pytest.fixture
def socket_test_client() -> Iterator[Any]:
    """``socket_test_client(app, **options)``: Flask-SocketIO's in-process test client.

    Making one rewires the process's Socket.IO server for good: it replaces the server's
    packet senders with its own, which drop every packet for a client it does not know, and
    turns handlers synchronous. The live server's real sockets would then never hear an
    answer again, so everything it changes is put back afterwards."""
    from drafting.extensions import socketio

    server = socketio.server
    saved = {name: vars(server).get(name) for name in ("_send_packet", "_send_eio_packet", "async_handlers")}
    eio_async = server.eio.async_handlers

    def make(app: Flask, **options: Any) -> Any:
        return socketio.test_client(app, **options)

    try:
        yield make
    finally:
        for name, value in saved.items():
            if value is None:
                vars(server).pop(name, None)
            else:
                setattr(server, name, value)
        server.eio.async_handlers = eio_async


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    """Serve ``app`` over HTTP on a free port and yield its base URL ("http://127.0.0.1:N").

    Threaded, because a browser asks for the page, its CSS and its JS in parallel; a daemon
    thread, so that a request stuck in the server never keeps pytest alive. The tables are
    emptied after each test by ``_clean_database``, as for the test client: the server reads
    whatever the factories committed, on SQLite as on PostgreSQL.
    """
    import threading

    from werkzeug.serving import make_server

    if not (Path(app.static_folder or "") / "dist" / "manifest.json").exists():
        pytest.fail("static/dist/manifest.json is missing: build the front end first (npm run build)",
                    pytrace=False)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def base_url(live_server: str) -> str:
    """Every page of a browser test talks to the live server: ``page.goto("/login")``.
    (Overriding this rather than reading --base-url also spares pytest-playwright's fallback
    fixture, which pytest 9 warns about.)"""
    return live_server


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # A fixed Accept-Language: the interface language must not depend on the machine's locale.
    return {**browser_context_args, "locale": "en-GB"}


@pytest.fixture
def person(new_context: Any) -> Any:
    """``person(participant)``: a browser of their own, signed in through the form."""
    from tests.helpers.browser import sign_in

    def open_browser(participant: Any, **context_args: Any) -> tuple[Any, Any]:
        context = new_context(**context_args)
        page = context.new_page()
        sign_in(page, participant)
        return context, page
    return open_browser


@pytest.fixture
def connect(live_server: str) -> Iterator[Any]:
    """``connect(token)``: a live-editing client (tests/yclient.py), disconnected afterwards."""
    from tests.yclient import EditorClient

    clients: list[EditorClient] = []

    def make(token: str) -> EditorClient:
        client = EditorClient(live_server, token=token).connect()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.disconnect()
