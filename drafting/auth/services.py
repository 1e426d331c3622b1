"""Sign-in, sessions, passwords, invitations and API tokens."""
from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from drafting import sqlite
from drafting.auth.passwords import hash_password, needs_rehash, verify_password
from drafting.errors import NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from drafting.realtime import queue_sockets_ended
from drafting.services import clean_text
from models import ApiToken, Invitation, LoginSession, Participant, db, hash_secret, utcnow

log = logging.getLogger(__name__)

API_TOKEN_PREFIX = "plen_"  # noqa: S105 - a public marker that makes leaked tokens greppable
# Refreshing last_used_at on every call would turn each API read into a write.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_participant_by_email(email: str) -> Participant | None:
    return db.session.scalar(
        select(Participant).where(Participant.email == normalise_email(email))
    )


def authenticate(email: str, password: str) -> Participant:
    """The participant with these credentials, or NotAuthenticated with one message for every
    failure, so that the answer does not reveal which emails have accounts."""
    participant = find_participant_by_email(email or "")
    valid = verify_password(participant.password_hash if participant else None, password or "")
    if participant is None or not valid:
        raise NotAuthenticated(_("The email or password is not correct."))
    if not participant.is_active_account:
        raise PermissionDenied(_("This account has been deactivated. Contact the secretariat."))
    assert participant.password_hash is not None
    if needs_rehash(participant.password_hash):
        participant.password_hash = hash_password(password)
    return participant


def open_login_session(participant: Participant, user_agent: str) -> str:
    """Start a new server-side session and return its secret for the cookie."""
    secret = secrets.token_urlsafe(32)
    db.session.add(LoginSession(
        participant=participant, secret_hash=hash_secret(secret), user_agent=user_agent[:300],
    ))
    db.session.flush()
    return secret


def find_login_session(secret: str) -> LoginSession | None:
    return live_login_sessions([secret]).get(secret)


#: Login sessions with their participants: asked on every request a browser makes, so built
#: once (building it, and an IN of one, cost a request more than the query's own round trip).
_LOGINS = select(LoginSession).options(joinedload(LoginSession.participant))


def live_login_sessions(secrets: Iterable[str]) -> dict[str, LoginSession]:
    """The live login session of each secret that has one, its participant active (one query
    for them all: a server checks every live socket's session on every batch of edits)."""
    by_hash = {hash_secret(secret): secret for secret in secrets}
    if not by_hash:
        return {}
    hashes = list(by_hash)
    logins = db.session.scalars(_LOGINS.where(
        LoginSession.secret_hash == hashes[0] if len(hashes) == 1 else LoginSession.secret_hash.in_(hashes)))
    now, lifetime = utcnow(), current_app.config["PERMANENT_SESSION_LIFETIME"]
    return {by_hash[login.secret_hash]: login for login in logins
            if login.is_live(now, lifetime) and login.participant.is_active_account}


def close_login_session(secret: str) -> None:
    login = find_login_session(secret)
    if login is not None:
        login.revoked_at = utcnow()
        queue_sockets_ended(login.participant_id, scope="login", secret_hash=login.secret_hash)


def revoke_login_sessions(participant: Participant, *, keep_secret: str | None = None) -> None:
    """End every session of a participant (all devices), except optionally the current one,
    and the sockets that came with them."""
    statement = (
        update(LoginSession)
        .where(LoginSession.participant_id == participant.id)
        .where(LoginSession.revoked_at.is_(None))
    )
    if keep_secret is not None:
        statement = statement.where(LoginSession.secret_hash != hash_secret(keep_secret))
    db.session.execute(statement.values(revoked_at=utcnow()))
    queue_sockets_ended(participant.id, scope="logins",
                        secret_hash=hash_secret(keep_secret) if keep_secret is not None else None)


def check_new_password(participant: Participant, password: str, confirmation: str) -> None:
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if not isinstance(password, str) or len(password) < minimum:
        raise ValidationFailed(
            _("Choose a password of at least %(n)d characters.", n=minimum),
            fields={"password": _("At least %(n)d characters.", n=minimum)},
        )
    if len(password) > 1024:
        raise ValidationFailed(_("That password is too long."), fields={"password": _("Too long.")})
    if password.strip().lower() in {participant.email, participant.name.strip().lower()}:
        raise ValidationFailed(
            _("Your password must not be your email or your name."),
            fields={"password": _("Must not be your email or your name.")},
        )
    if password != confirmation:
        raise ValidationFailed(
            _("The two passwords do not match."), fields={"confirmation": _("Does not match.")}
        )


def change_password(participant: Participant, *, current: str, new: str, confirmation: str,
                    keep_session: str | None) -> None:
    """Change a password and sign out every other device."""
    if not verify_password(participant.password_hash, current or ""):
        raise ValidationFailed(
            _("Your current password is not correct."),
            fields={"current": _("Not correct.")},
        )
    check_new_password(participant, new, confirmation)
    participant.password_hash = hash_password(new)
    revoke_login_sessions(participant, keep_secret=keep_session)


def issue_invitation(participant: Participant, created_by: Participant | None) -> str:
    """Make a new single-use invitation link token; earlier unused ones stop working."""
    now = utcnow()
    db.session.execute(
        update(Invitation)
        .where(Invitation.participant_id == participant.id)
        .where(Invitation.used_at.is_(None))
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    db.session.add(Invitation(
        participant=participant,
        token_hash=hash_secret(token),
        created_by_id=created_by.id if created_by else None,
        created_at=now,
        expires_at=now + current_app.config["INVITATION_TTL"],
    ))
    db.session.flush()
    return token


def find_invitation(token: str) -> Invitation:
    """The usable invitation for this token, or NotFound with a message that says what to do."""
    invitation = None
    if isinstance(token, str) and 0 < len(token) <= 200:
        invitation = db.session.scalar(
            select(Invitation).where(Invitation.token_hash == hash_secret(token))
        )
    if (invitation is None or not invitation.is_usable(utcnow())
            or not invitation.participant.is_active_account):
        raise NotFound(_("This invitation link is not valid: it has expired or was already "
                         "used. Ask the secretariat for a new one."))
    return invitation


def accept_invitation(token: str, *, password: str, confirmation: str) -> Participant:
    invitation = find_invitation(token)
    participant = invitation.participant
    check_new_password(participant, password, confirmation)
    participant.password_hash = hash_password(password)
    invitation.used_at = utcnow()
    # A reset through a new invitation must also lock out whoever had the old password.
    revoke_login_sessions(participant)
    return participant


def create_api_token(participant: Participant, name: str) -> tuple[ApiToken, str]:
    """A new token for scripts; the secret is returned once and only its hash is kept."""
    label = clean_text(name, "name", _("Token name"), max_length=100)
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        participant=participant, name=label, prefix=secret[:12], token_hash=hash_secret(secret),
    )
    db.session.add(token)
    db.session.flush()
    return token, secret


def revoke_api_token(token: ApiToken, actor: Participant) -> None:
    if not token.can_revoke(actor):
        raise NotFound(_("Not found."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        queue_sockets_ended(token.participant_id, scope="token", secret_hash=token.token_hash)


def participant_for_api_token(secret: str) -> Participant | None:
    return participants_for_api_tokens([secret]).get(secret)


def participants_for_api_tokens(secrets: Iterable[str]) -> dict[str, Participant]:
    """The active participant behind each live API token (one query for them all)."""
    by_hash = {hash_secret(secret): secret for secret in secrets
               if secret.startswith(API_TOKEN_PREFIX) and len(secret) <= 200}
    if not by_hash:
        return {}
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.token_hash.in_(by_hash)).options(joinedload(ApiToken.participant))
    )
    now = utcnow()
    found = {}
    stale = []
    for token in tokens:
        if not token.is_live or not token.participant.is_active_account:
            continue
        if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
            stale.append(token)
        found[by_hash[token.token_hash]] = token.participant
    if stale:
        _record_use(stale, now)
    return found


def _record_use(tokens: list[ApiToken], now: datetime) -> None:
    """Note when tokens were last used, never making the request wait for it (else at a
    later use).

    On PostgreSQL, in the request's own transaction (under a savepoint) and only for the
    tokens nobody else is noting right now (``SKIP LOCKED``): a row lock blocks no reader,
    and a second connection per request would empty the pool when many clients arrive at
    once, each holding one connection and waiting for another.

    On SQLite, in a transaction of its own and only if nobody holds the database's write
    lock right now: a read would otherwise take SQLite's one write lock before its own work,
    and a request that then waits for a live document would wait on whoever waits for that
    lock (the live-editing writer): a stall of seconds. SQLite's connections are not pooled
    that way (one per thread), so the second one is not taken from other requests."""
    ids = [token.id for token in tokens]
    try:
        if db.session.get_bind().dialect.name == "postgresql":
            with db.session.begin_nested():
                free = select(ApiToken.id).where(ApiToken.id.in_(ids)).with_for_update(skip_locked=True)
                db.session.execute(update(ApiToken).where(ApiToken.id.in_(free)).values(last_used_at=now)
                                   .execution_options(synchronize_session=False))
        else:
            with db.engine.connect() as connection, connection.begin():
                driver = connection.connection.driver_connection
                waits = getattr(driver, "wait_seconds", None)
                sqlite.set_wait(driver, 0)
                try:
                    connection.execute(update(ApiToken).where(ApiToken.id.in_(ids)).values(last_used_at=now))
                finally:
                    if waits is not None:
                        sqlite.set_wait(driver, waits)
    except OperationalError:
        log.info("A token's last use was not recorded now: the database was busy")
        return
    for token in tokens:
        set_committed_value(token, "last_used_at", now)


def live_api_tokens(participant: Participant) -> list[ApiToken]:
    return list(db.session.scalars(
        select(ApiToken)
        .where(ApiToken.participant_id == participant.id)
        .where(ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc())
    ))


