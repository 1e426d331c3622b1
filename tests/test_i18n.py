"""The interface follows the participant's language: English and Russian."""
from __future__ import annotations

from models import Participant, db


def test_anonymous_language_follows_the_browser(client):
    page = client.get("/login", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert '<html lang="ru">' in page.get_data(as_text=True)
    page = client.get("/login", headers={"Accept-Language": "de-DE,en;q=0.5"})
    assert '<html lang="en">' in page.get_data(as_text=True)


def test_choosing_a_language_is_remembered_for_the_account(app, client, factories):
    person = factories.participant()
    client.sign_in(person)
    response = client.submit("/locale", {"locale": "ru", "next": "/profile"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/profile"
    assert '<html lang="ru">' in client.get("/profile").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Participant, person.id).locale == "ru"
    # On another device, after signing in, the choice follows the participant.
    laptop = app.test_client()
    laptop.sign_in(person)
    assert '<html lang="ru">' in laptop.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_unknown_language_and_foreign_next_are_ignored(client):
    response = client.submit("/locale", {"locale": "xx", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)


def test_dates_are_written_in_the_page_language(client, factories):
    from models import GroupRole

    group = factories.group()
    person = factories.member_of(group, GroupRole.MEMBER, locale="ru")
    client.sign_in(person)
    text = client.get(f"/conferences/{group.conference_id}").get_data(as_text=True)
    assert "июня 2009" in text


def test_pages_are_in_russian_from_the_catalogue(client):
    text = client.get("/login", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "<title>Войти · Plenary</title>" in text
    assert "Пароль" in text
    # Flask-Login's "please sign in" goes through the catalogue too.
    client.get("/profile", headers={"Accept-Language": "ru"})
    assert "войдите в систему" in client.get("/login", headers={"Accept-Language": "ru"}).get_data(as_text=True)


def test_errors_are_in_the_callers_language(client, factories):
    secret = factories.api_token(factories.participant())
    response = client.api("GET", "/api/v1/participants", token=secret,
                          headers={"Accept-Language": "ru"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert response.get_json()["error"]["message"] == "Управлять списком участников может только секретариат."
