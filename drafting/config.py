"""Configuration from the environment, with safe defaults for a single machine."""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = {"en": "English", "ru": "Русский"}


def database_url(raw: str | None, instance_path: Path) -> str:
    """Normalise ``DATABASE_URL``: default SQLite in instance/, psycopg 3 for PostgreSQL."""
    if not raw:
        return f"sqlite:///{instance_path / 'plenary.sqlite'}"
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def secret_key(instance_path: Path) -> str:
    """``SECRET_KEY`` from the environment, else one generated once and kept in instance/."""
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting together must not each write a different key.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(instance_path: Path) -> dict[str, Any]:
    redis_url = os.environ.get("REDIS_URL") or None
    return {
        "SECRET_KEY": secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url(os.environ.get("DATABASE_URL"), instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": redis_url,
        # The Redis channel the processes of one installation talk on: Redis's publish and
        # subscribe ignore its numbered databases, so installations sharing a Redis server
        # (staging beside production) must each have their own.
        "REDIS_CHANNEL": os.environ.get("REDIS_CHANNEL", "flask-socketio"),
        # Cookies: never readable by scripts, not sent on cross-site subrequests.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env_flag("SECURE_COOKIES"),
        "SESSION_COOKIE_NAME": "plenary_session",
        "PERMANENT_SESSION_LIFETIME": timedelta(days=14),
        "REMEMBER_COOKIE_HTTPONLY": True,
        # Edges call csrf.protect() themselves, so that Bearer-token API calls (which carry no
        # cookie to abuse) can skip it while every cookie-authenticated write is checked.
        "WTF_CSRF_CHECK_DEFAULT": False,
        # A conference day is long; a form opened at 9:00 must still submit at 18:00.
        "WTF_CSRF_TIME_LIMIT": None,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
        "LOGIN_ACCOUNT_RATE_LIMIT": os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT", "10 per 15 minutes"),
        # argon2id, RFC 9106's second recommended option (64 MiB, 3 passes).
        "ARGON2_TIME_COST": 3,
        "ARGON2_MEMORY_COST": 64 * 1024,
        "ARGON2_PARALLELISM": 4,
        "INVITATION_TTL": timedelta(days=int(os.environ.get("INVITATION_TTL_DAYS", "7"))),
        "PASSWORD_MIN_LENGTH": 10,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "drafting" / "translations"),
        "LANGUAGES": LANGUAGES,
        "JSON_SORT_KEYS": False,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        # Live editing: the largest y message accepted, how many messages a connection may
        # send a second (and in a burst), and how often a clause's log gets a snapshot.
        # The longest a clause may be, in characters: the API's limit and the live editor's.
        "CLAUSE_MAX_LENGTH": int(os.environ.get("CLAUSE_MAX_LENGTH", "20000")),
        "YJS_MAX_MESSAGE_BYTES": int(os.environ.get("YJS_MAX_MESSAGE_BYTES", str(1024 * 1024))),
        "YJS_RATE": float(os.environ.get("YJS_RATE", "60")),
        "YJS_BURST": float(os.environ.get("YJS_BURST", "300")),
        "YJS_SNAPSHOT_EVERY": int(os.environ.get("YJS_SNAPSHOT_EVERY", "500")),
        "YJS_BATCH_LIMIT": int(os.environ.get("YJS_BATCH_LIMIT", "200")),
        "YJS_BATCH_LINGER_MS": float(os.environ.get("YJS_BATCH_LINGER_MS", "5")),
        "YJS_WRITE_TIMEOUT_MS": int(os.environ.get("YJS_WRITE_TIMEOUT_MS", "5000")),
        "YJS_RELAY_TICK_MS": float(os.environ.get("YJS_RELAY_TICK_MS", "3")),
        "YJS_RELAY_TICK_PER_EDITOR_MS": float(os.environ.get("YJS_RELAY_TICK_PER_EDITOR_MS", "0.1")),
        "PRESENCE_TICK_MS": int(os.environ.get("PRESENCE_TICK_MS", "30")),
        # How often each process looks for votes past their deadline (0: never).
        "VOTE_DEADLINE_POLL_SECONDS": float(os.environ.get("VOTE_DEADLINE_POLL_SECONDS", "1")),
        # Ballots cast together in one transaction (drafting/votes/writer.py), at most, and how
        # long the writer waits after a ballot for another to cast with it (while they keep
        # coming: at most 50 ms in all).
        "BALLOT_BATCH_LIMIT": int(os.environ.get("BALLOT_BATCH_LIMIT", "200")),
        "BALLOT_BATCH_LINGER_MS": float(os.environ.get("BALLOT_BATCH_LINGER_MS", "2")),
        # Loggers that also write their DEBUG lines (comma-separated names, e.g.
        # "drafting.votes.deadlines" for each look of the deadline closer); the rest log INFO.
        "DEBUG_LOGGERS": [name.strip() for name in os.environ.get("DEBUG_LOGGERS", "").split(",")
                          if name.strip()],
        # The outcome document is rendered in a child process (drafting/export/child.py), so
        # that a PDF neither stalls the server's greenlets nor keeps its memory; off renders
        # in the server process itself. A child past the timeout is killed, its job failed.
        "EXPORT_IN_CHILD_PROCESS": env_flag("EXPORT_IN_CHILD_PROCESS", True),
        "EXPORT_TIMEOUT_SECONDS": float(os.environ.get("EXPORT_TIMEOUT_SECONDS", "300")),
        # Jobs of one server process rendering at once (the others wait, queued).
        "EXPORT_CONCURRENCY": int(os.environ.get("EXPORT_CONCURRENCY", "2")),
        # The jurisdiction of the Akoma Ntoso export's FRBR URIs (/akn/kz/...): an ISO 3166
        # code, by the AKN naming convention; the OSCE has none (docs/akoma-ntoso.md).
        "EXPORT_AKN_JURISDICTION": os.environ.get("EXPORT_AKN_JURISDICTION", "kz"),
        # "threading" (gunicorn's gthread worker, the development server) is what the suite
        # runs; "gevent" needs gunicorn's gevent worker (see docs/deployment.md).
        "SOCKETIO_ASYNC_MODE": os.environ.get("SOCKETIO_ASYNC_MODE", "threading"),
    }
