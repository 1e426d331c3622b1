"""Glue between Flask's signed cookie and the server-side login sessions.

The cookie carries a random session secret; the database decides whether it is still live.
Signing in clears the old cookie contents and issues a new secret (no fixation); signing out,
changing the password or deactivating an account revokes secrets on the server, so a copied
cookie stops working everywhere at once.
"""
from __future__ import annotations

from flask import request, session
from flask_login import login_user, logout_user

from drafting.auth.services import close_login_session, find_login_session, open_login_session
from models import Participant

SESSION_KEY = "sid"


def load_session_participant(user_id: str) -> Participant | None:
    secret = session.get(SESSION_KEY)
    if not isinstance(secret, str):
        return None
    login = find_login_session(secret)
    if login is None or str(login.participant_id) != user_id:
        return None
    return login.participant


def sign_in(participant: Participant) -> None:
    locale = session.get("locale")
    session.clear()
    secret = open_login_session(participant, request.headers.get("User-Agent", ""))
    session[SESSION_KEY] = secret
    if locale:
        session["locale"] = locale
    session.permanent = True
    login_user(participant)


def current_session_secret() -> str | None:
    secret = session.get(SESSION_KEY)
    return secret if isinstance(secret, str) else None


def sign_out() -> None:
    secret = current_session_secret()
    if secret:
        close_login_session(secret)
    logout_user()
    session.clear()
