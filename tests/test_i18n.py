"""The interface follows the participant's language: English and Russian."""
from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterable

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from models import Participant, db
from tests.conftest import ROOT

# What is checked here does not depend on the database: run once (tests/conftest.py).
pytestmark = pytest.mark.database_independent

RUSSIAN = ROOT / "drafting" / "translations" / "ru" / "LC_MESSAGES" / "messages.po"
#: What a translation must carry over: %(name)s-style and bare %s/%d arguments, and the
#: {name} placeholders of the editor's strings, which its script fills in.
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w+\}")


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


def _placeholders(texts: Iterable[str]) -> set[str]:
    return {found for text in texts for found in PLACEHOLDER.findall(text)}


def untranslated(template: Catalog, catalogue: Catalog) -> list[str]:
    """What ``catalogue`` lacks for the strings of ``template``: a missing, empty or fuzzy
    translation (fuzzy ones are not compiled), a missing plural form, or placeholders that
    differ from the English."""
    problems = []
    for message in template:
        if not message.id:
            continue
        english = message.id if isinstance(message.id, tuple | list) else (message.id,)
        translated = catalogue.get(message.id, message.context)
        if translated is None:
            problems.append(f"{english[0]!r}: not in the catalogue (run `make messages`)")
            continue
        forms = translated.string if isinstance(translated.string, tuple | list) else (translated.string,)
        if len(english) > 1 and (not translated.pluralizable or len(forms) != catalogue.num_plurals):
            problems.append(f"{english[0]!r}: needs {catalogue.num_plurals} plural forms")
        elif translated.fuzzy or not all(form and form.strip() for form in forms):
            problems.append(f"{english[0]!r}: not translated")
        else:
            expected = _placeholders(english)
            for form in forms:
                if _placeholders([form]) != expected:
                    problems.append(f"{english[0]!r}: placeholders {sorted(_placeholders([form]))} "
                                    f"in {form!r}, expected {sorted(expected)}")
    return problems


def test_every_marked_string_has_a_russian_translation(tmp_path):
    # Extract as `make messages` does, into a scratch template, so that a string marked in
    # the code but never carried into the catalogue counts too.
    template_path = tmp_path / "messages.pot"
    subprocess.run(  # noqa: S603 - babel's own command line, our arguments
        [sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg",
         "-k", "lazy_gettext", "-k", "_l", "-o", str(template_path), "--no-location", "."],
        cwd=ROOT, check=True, capture_output=True, timeout=120)
    with template_path.open("rb") as file:
        template = read_po(file)
    with RUSSIAN.open("rb") as file:
        catalogue = read_po(file, locale="ru")
    assert len(template) > 100, "the extraction found almost nothing: is babel.cfg still right?"
    problems = untranslated(template, catalogue)
    assert not problems, (f"{len(problems)} strings lack a Russian translation in "
                          f"{RUSSIAN.relative_to(ROOT)}:\n" + "\n".join(problems))


def test_no_translated_string_hides_inside_an_f_string():
    """Babel's extractor (on Python 3.11) does not look inside f-strings: a ``_()`` there
    never reaches the catalogue, and stays English for everyone."""
    import re
    root = ROOT / "drafting"
    hidden = [f"{path.relative_to(root)}:{number}"
              for path in root.rglob("*.py")
              for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
              if re.search(r"""\bf(["'])[^"']*\{\s*(_|gettext|pgettext|ngettext)\(""", line)]
    assert not hidden, hidden
