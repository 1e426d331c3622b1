"""Plenary: working groups of a conference draft, amend and adopt recommendations together."""
from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, has_request_context, request, session
from flask_babel import gettext
from flask_login import current_user

from drafting import assets, sqlite
from drafting.config import LANGUAGES, PROJECT_ROOT, load_config
from drafting.extensions import babel, csrf, db, limiter, login_manager, migrate, socketio
from drafting.markup import render_markdown

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

def content_security_policy(style_nonce: str) -> str:
    """No inline script at all; inline style only in a <style> element carrying this
    response's nonce (CodeMirror injects its stylesheet that way), never in attributes."""
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        f"style-src 'self' 'nonce-{style_nonce}'",
        "style-src-attr 'none'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


#: What every answer carries, page or not: never read as another content type, never
#: framed, no address leaked to other sites.
EVERY_ANSWER_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
)

#: The headers of an answer that is not a page (Engine.IO's polling and handshake answers):
#: nothing in it may load or run, and it is never stored.
NON_PAGE_HEADERS = (
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    *EVERY_ANSWER_HEADERS,
    ("Cache-Control", "no-store"),
)


class SocketIOHeaders:
    """WSGI middleware adding ``NON_PAGE_HEADERS`` (where not set) to the answers of
    /socket.io/, which Flask-SocketIO's middleware gives without passing through Flask."""

    def __init__(self, wsgi_app: Any, path: str = "/socket.io") -> None:
        self.wsgi_app = wsgi_app
        self.path = path

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if not environ.get("PATH_INFO", "").startswith(self.path):
            return self.wsgi_app(environ, start_response)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _value in headers}
            added = [(name, value) for name, value in NON_PAGE_HEADERS if name.lower() not in present]
            return start_response(status, [*headers, *added], exc_info)

        return self.wsgi_app(environ, start)


def csp_nonce() -> str:
    """This response's style nonce, made on first use."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return str(g.csp_nonce)


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    instance_path = Path(os.environ.get("PLENARY_INSTANCE_PATH", PROJECT_ROOT / "instance"))
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    instance_path.mkdir(parents=True, exist_ok=True)
    app.config.update(load_config(instance_path))
    app.config.update(overrides or {})
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # Waits for SQLite's lock without stopping the process (drafting/sqlite.py).
        options = app.config["SQLALCHEMY_ENGINE_OPTIONS"] = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options["connect_args"] = {**options.get("connect_args", {}), **sqlite.connect_args()}
    logging.basicConfig(level=logging.INFO)
    for name in app.config.get("DEBUG_LOGGERS", []):
        logging.getLogger(name).setLevel(logging.DEBUG)

    _init_extensions(app)
    _register_blueprints(app)
    _install_request_hooks(app)
    _install_template_helpers(app)

    from drafting.errors import register_error_handlers

    register_error_handlers(app)
    from drafting.cli import register_cli

    register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "models" / "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    # Flask-Login's own message is English; ours goes through the catalogue like every string.
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.localize_callback = gettext
    # Session protection "basic": a phone moving between venue Wi-Fi and mobile data changes
    # IP; "strong" would sign delegates out mid-session. Session ids rotate at login instead.
    login_manager.session_protection = "basic"
    from drafting.editing import relayed
    from drafting.editing.docs import forget_gates
    from drafting.realtime import GATES_CHANGED, SOCKETS_ENDED, patches
    from drafting.sockets.connections import end_sockets

    patches.check_versions()
    socketio.init_app(
        app,
        # Redis as the message queue when several processes serve (REDIS_URL).
        client_manager=patches.client_manager(app.config.get("REDIS_URL"), {
            SOCKETS_ENDED: end_sockets, GATES_CHANGED: forget_gates},
            channel=app.config.get("REDIS_CHANNEL", "flask-socketio"), heard=relayed.note),
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        # None = same origin only: a page on another site cannot open a socket with our cookie.
        cors_allowed_origins=app.config.get("SOCKETIO_ALLOWED_ORIGINS"),
        # Room to answer an oversized y message with a clear error; beyond this Engine.IO
        # closes the connection.
        max_http_buffer_size=2 * app.config["YJS_MAX_MESSAGE_BYTES"] + 64 * 1024,
        # One connection's messages are handled in the order they were sent (each connection
        # still has its own thread): a Yjs update must not overtake the one it builds on.
        async_handlers=False,
    )

    # Engine.IO answers /socket.io/ before Flask sees the request: its answers get the headers
    # of every other response here.
    app.wsgi_app = SocketIOHeaders(app.wsgi_app)  # type: ignore[method-assign]

    from drafting.auth.sessions import load_session_participant

    login_manager.user_loader(load_session_participant)

    from drafting.realtime import init_realtime
    from drafting.sockets import connections, guard

    init_realtime(app)
    connections.register_handlers()
    guard.install()
    from drafting import unit_of_work
    from drafting.editing import events

    events.register_handlers()
    unit_of_work.install()

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _tune_sqlite(app)


def _tune_sqlite(app: Flask) -> None:
    with app.app_context():
        sqlite.install(db.engine)


def _extend_pages() -> None:
    """The parts the capabilities above add to the recommendation page and to a clause's
    discussion panel."""
    from drafting.amendments import page as amendments
    from drafting.comments import panel
    from drafting.recommendations import page
    from drafting.votes.pages import recommendation_part as votes_part

    page.extend(amendments.recommendation_part)
    page.extend(votes_part)
    panel.extend(amendments.panel_part)


def _register_blueprints(app: Flask) -> None:
    from drafting.amendments.routes import bp as amendments_bp
    from drafting.api import api_blueprint
    from drafting.auth.routes import bp as auth_bp
    from drafting.comments.routes import bp as comments_bp
    from drafting.conferences.routes import bp as conferences_bp
    from drafting.dashboard.routes import bp as dashboard_bp
    from drafting.delegations.routes import bp as delegations_bp
    from drafting.export.routes import bp as export_bp
    from drafting.groups.routes import bp as groups_bp
    from drafting.history.routes import bp as history_bp
    from drafting.notifications.routes import bp as notifications_bp
    from drafting.participants.routes import bp as participants_bp
    from drafting.recommendations.routes import bp as recommendations_bp
    from drafting.votes.routes import bp as votes_bp

    _extend_pages()
    for blueprint in (auth_bp, dashboard_bp, conferences_bp, delegations_bp, groups_bp, participants_bp,
                      recommendations_bp, history_bp, comments_bp, amendments_bp,
                      notifications_bp, votes_bp, export_bp):
        app.register_blueprint(blueprint)
    # After the capability modules above have added their endpoints to it.
    app.register_blueprint(api_blueprint)


def select_locale() -> str | None:
    if not has_request_context():
        return None  # CLI and background work: the default locale
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return str(current_user.locale)
    chosen = session.get("locale")
    if chosen in LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(list(LANGUAGES)) or "en"


def _install_request_hooks(app: Flask) -> None:
    from drafting.votes import deadlines

    deadlines.install(app)

    @app.before_request
    def protect_from_csrf() -> None:
        if request.method not in UNSAFE_METHODS:
            return
        from drafting.api.auth import has_bearer_token

        # A Bearer token is not sent by browsers on their own, so it cannot be forged
        # cross-site; every cookie-authenticated write must carry the CSRF token. An API call
        # with neither is answered 401 by the endpoint, which says more than a CSRF error.
        if request.path.startswith("/api/") and (
            has_bearer_token() or not current_user.is_authenticated
        ):
            return
        csrf.protect()

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
        for name, value in EVERY_ANSWER_HEADERS:
            headers.setdefault(name, value)
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if g.get("no_store") or request.path.startswith("/api/"):
            headers["Cache-Control"] = "no-store"
        return response

    @app.teardown_request
    def discard_unfinished(_error: BaseException | None) -> None:
        # An edge that raised before committing leaves nothing half-written behind.
        if db.session.is_active and (db.session.new or db.session.dirty or db.session.deleted):
            db.session.rollback()


def _install_template_helpers(app: Flask) -> None:
    from drafting import typography
    from drafting.conferences import pages

    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["preambular"] = typography.render_preambular
    app.jinja_env.globals["date_range_text"] = typography.date_range
    app.jinja_env.globals["one_date_text"] = typography.one_date
    assets.install(app)
    pages.install(app)

    @app.context_processor
    def template_globals() -> dict[str, Any]:
        from flask_babel import get_locale

        return {
            "csp_nonce": csp_nonce,
            "current_locale": str(get_locale() or "en"),
            "languages": LANGUAGES,
        }


__all__ = ["create_app", "socketio"]
