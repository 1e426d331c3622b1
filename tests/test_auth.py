"""Signing in and out, sessions, invitations, passwords, CSRF and cookies."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models import Invitation, LoginSession, Participant, db, utcnow
from tests.factories import PASSWORD


def session_cookie(client) -> str | None:
    cookie = client.get_cookie("plenary_session")
    return cookie.value if cookie else None


def test_sign_in_and_out(client, factories):
    person = factories.participant()
    assert client.get("/").status_code == 302  # anonymous: sent to the sign-in page
    response = client.sign_in(person)
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    client.sign_out()
    assert client.get("/").headers["Location"].startswith("/login")


@pytest.mark.parametrize("email", ["participant-unknown@example.org", "{person}"])
def test_wrong_credentials_get_one_message(client, factories, email):
    person = factories.participant()
    response = client.submit("/login", {"email": email.format(person=person.email),
                                        "password": "not the password"})
    assert response.status_code == 200
    assert "The email or password is not correct." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_email_is_case_insensitive(client, factories):
    person = factories.participant(email="chair@example.org")
    response = client.submit("/login", {"email": "  Chair@Example.ORG ", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert person.id


def test_deactivated_participant_cannot_sign_in(client, factories):
    person = factories.participant(active=False)
    response = client.submit("/login", {"email": person.email, "password": PASSWORD})
    assert "deactivated" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_participant_without_password_cannot_sign_in(client, factories):
    person = factories.participant(password=False)
    response = client.submit("/login", {"email": person.email, "password": ""})
    assert response.status_code == 200
    assert client.get("/").status_code == 302


def test_session_is_rotated_at_sign_in(app, factories):
    person = factories.participant()
    first, second = app.test_client(), app.test_client()
    before = first.csrf_token() and session_cookie(first)
    first.sign_in(person)
    second.sign_in(person)
    assert session_cookie(first) != before
    with app.app_context():
        secrets = db.session.scalars(select(LoginSession.secret_hash)).all()
    assert len(set(secrets)) == 2  # every sign-in opens its own server-side session


def test_cookie_from_before_sign_in_does_not_become_signed_in(app, factories):
    """Session fixation: an attacker who planted a cookie gains nothing when the victim signs in."""
    person = factories.participant()
    victim = app.test_client()
    victim.csrf_token()
    planted = session_cookie(victim)
    victim.sign_in(person)
    attacker = app.test_client()
    attacker.set_cookie("plenary_session", planted)
    assert attacker.get("/").status_code == 302


def test_cookie_copied_while_signed_in_dies_at_sign_out(app, factories):
    person = factories.participant()
    browser = app.test_client()
    browser.sign_in(person)
    stolen = session_cookie(browser)
    thief = app.test_client()
    thief.set_cookie("plenary_session", stolen)
    assert thief.get("/").status_code == 200
    browser.sign_out()
    assert thief.get("/").status_code == 302


def test_cookies_are_http_only_and_same_site(client, factories):
    person = factories.participant()
    response = client.sign_in(person)
    header = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("plenary_session="))
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header


def test_next_parameter_only_redirects_within_the_site(client, factories):
    person = factories.participant()
    response = client.submit("/login?next=https://evil.example/", {"email": person.email,
                                                                   "password": PASSWORD})
    assert response.headers["Location"] == "/"
    client.sign_out()
    response = client.submit("/login?next=/profile", {"email": person.email, "password": PASSWORD})
    assert response.headers["Location"] == "/profile"


def test_sign_in_form_without_csrf_token_is_refused(client, factories):
    person = factories.participant()
    response = client.post("/login", data={"email": person.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_state_changing_form_without_csrf_token_changes_nothing(client, factories, app):
    person = factories.participant(name="Original Name")
    client.sign_in(person)
    response = client.post("/profile", data={"name": "Changed", "affiliation": "", "country": ""})
    assert response.status_code == 400
    assert "Reload the page" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Participant, person.id).name == "Original Name"


def test_passwords_are_hashed_with_argon2id(app, factories):
    person = factories.participant()
    with app.app_context():
        stored = db.session.get(Participant, person.id).password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_login_is_rate_limited_per_address_and_per_account(app_variant, factories):
    limited = app_variant(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                          LOGIN_RATE_LIMIT="5 per minute", LOGIN_ACCOUNT_RATE_LIMIT="3 per minute")
    person = factories.participant()
    client = limited.test_client()
    statuses = [client.submit("/login", {"email": person.email, "password": "wrong"}).status_code
                for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    page = client.submit("/login", {"email": person.email, "password": PASSWORD})
    assert page.status_code == 429
    assert "Too many attempts" in page.get_data(as_text=True)
    # Another account from the same address still has attempts left under the address limit.
    other = factories.participant()
    assert client.submit("/login", {"email": other.email, "password": PASSWORD}).status_code == 302


# --- invitations --------------------------------------------------------------------------


def invite(app, secretariat_client, email="newcomer@example.org") -> str:
    response = secretariat_client.submit("/admin/participants/new", {
        "email": email, "name": "New Comer", "affiliation": "IOM", "country": "IOM",
        "category": "international_organisation",
    })
    assert response.status_code == 201, response.get_data(as_text=True)[:3000]
    text = response.get_data(as_text=True)
    start = text.index("/invitations/")
    return text[start:text.index('"', start)]


@pytest.fixture
def secretariat_client(app, factories):
    client = app.test_client()
    client.sign_in(factories.secretariat())
    return client


def test_invitation_lets_the_invitee_choose_a_password(app, secretariat_client):
    path = invite(app, secretariat_client)
    invitee = app.test_client()
    assert invitee.get(path).status_code == 200
    response = invitee.submit(path, {"password": "a long passphrase", "confirmation": "a long passphrase"})
    assert response.status_code == 302
    assert invitee.get("/").status_code == 200
    # Single use: the link is dead now.
    assert app.test_client().get(path).status_code == 404
    fresh = app.test_client()
    fresh.submit("/login", {"email": "newcomer@example.org", "password": "a long passphrase"})
    assert fresh.get("/").status_code == 200


def test_invitation_token_is_stored_hashed(app, secretariat_client):
    path = invite(app, secretariat_client)
    token = path.rsplit("/", 1)[1]
    with app.app_context():
        hashes = db.session.scalars(select(Invitation.token_hash)).all()
    assert token not in hashes and len(hashes) == 1


@pytest.mark.parametrize(("password", "confirmation", "message"), [
    ("short", "short", "at least 10 characters"),
    ("a long passphrase", "a different one!", "do not match"),
    ("newcomer@example.org", "newcomer@example.org", "must not be your email"),
])
def test_weak_or_mistyped_passwords_are_refused(app, secretariat_client, password, confirmation,
                                                 message):
    path = invite(app, secretariat_client)
    invitee = app.test_client()
    response = invitee.submit(path, {"password": password, "confirmation": confirmation})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True).lower()
    assert invitee.get(path).status_code == 200  # still usable


def test_expired_invitation_is_refused(app, secretariat_client):
    path = invite(app, secretariat_client)
    with app.app_context():
        invitation = db.session.scalars(select(Invitation)).one()
        invitation.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    response = app.test_client().get(path)
    assert response.status_code == 404
    assert "expired" in response.get_data(as_text=True)


def test_new_invitation_replaces_the_old_one(app, secretariat_client):
    old = invite(app, secretariat_client)
    with app.app_context():
        person = db.session.scalars(select(Participant).where(Participant.email == "newcomer@example.org")).one()
    response = secretariat_client.submit(f"/admin/participants/{person.id}/invitation")
    assert response.status_code == 201
    assert app.test_client().get(old).status_code == 404


def test_unknown_invitation_token_is_a_friendly_404(client):
    response = client.get("/invitations/not-a-token")
    assert response.status_code == 404
    assert "Ask the secretariat for a new one" in response.get_data(as_text=True)


# --- password change ---------------------------------------------------------------------


def test_change_password_signs_out_other_devices(app, factories):
    person = factories.participant()
    laptop, phone = app.test_client(), app.test_client()
    laptop.sign_in(person)
    phone.sign_in(person)
    response = laptop.submit("/profile/password", {
        "current": PASSWORD, "password": "a new long passphrase",
        "confirmation": "a new long passphrase",
    })
    assert response.status_code == 302
    assert laptop.get("/").status_code == 200
    assert phone.get("/").status_code == 302
    again = app.test_client()
    again.submit("/login", {"email": person.email, "password": "a new long passphrase"})
    assert again.get("/").status_code == 200


def test_change_password_needs_the_current_one(app, factories):
    person = factories.participant()
    client = app.test_client()
    client.sign_in(person)
    response = client.submit("/profile/password", {
        "current": "wrong", "password": "a new long passphrase",
        "confirmation": "a new long passphrase",
    })
    assert response.status_code == 400
    assert "current password is not correct" in response.get_data(as_text=True)


# --- secret key --------------------------------------------------------------------------


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path, monkeypatch):
    from drafting.config import secret_key

    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = secret_key(tmp_path)
    assert len(first) == 64
    assert secret_key(tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert secret_key(tmp_path) == "from-the-environment"


def test_a_login_session_expires_on_the_server_too(app, factories):
    """A session cookie lives PERMANENT_SESSION_LIFETIME in the browser; on the server its
    login session lived for ever, so a cookie copied once opened the account until someone
    signed out. It now ends on the server when the cookie would."""
    from datetime import timedelta

    from models import LoginSession, db

    person = factories.participant()
    browser = app.test_client()
    browser.sign_in(person)
    copied = session_cookie(browser)
    assert browser.get("/").status_code == 200
    with app.app_context():
        login = db.session.scalars(db.select(LoginSession).where(LoginSession.participant_id == person.id)).one()
        login.created_at = login.created_at - app.config["PERMANENT_SESSION_LIFETIME"] - timedelta(minutes=1)
        db.session.commit()
    thief = app.test_client()
    thief.set_cookie("plenary_session", copied)
    assert thief.get("/").status_code == 302
    assert browser.get("/").status_code == 302
