"""Who is calling the API: a Bearer token for scripts, the signed-in session for the browser."""
from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from drafting.auth.services import participant_for_api_token
from drafting.errors import NotAuthenticated
from models import Participant


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def has_bearer_token() -> bool:
    return bearer_token() is not None


def api_participant() -> Participant:
    """The acting participant, or NotAuthenticated. A Bearer header, when present, decides
    alone: a bad token is refused even if a session cookie came along."""
    token = bearer_token()
    if token is not None:
        holder = participant_for_api_token(token)
        if holder is None:
            raise NotAuthenticated(_("The API token is not valid or has been revoked."))
        return holder
    if current_user.is_authenticated:
        signed_in: Participant = current_user._get_current_object()
        return signed_in
    raise NotAuthenticated(_("Sign in, or send an API token as 'Authorization: Bearer <token>'."))
