"""The outcome document's annexes as a secretariat publishes them, in every format and in
English and Russian: annex A, the record of decisions (one line per decision, numbered and
named alike everywhere, roll calls in full only for recorded votes), and annex C, the list
of participants (everyone registered, by delegation or category, surname first, sorted by
surname in the document's language, organisations not in the "country" column, rows never
split across pages)."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from docx import Document
from docx.oxml.ns import qn
from flask_babel import force_locale
from pypdf import PdfReader

from drafting.export import render_docx, render_html, render_json, render_md, render_pdf
from drafting.export.labels import decision_line
from drafting.export.outline import Outline, compile_outline, listed_name
from drafting.votes import ballots, objections, services
from drafting.votes.deadlines import close_due_votes
from drafting.votes.schemas import BallotIn, ObjectionIn, VoteOpen
from models import (
    AmendmentStatus,
    ClauseKind,
    Conference,
    DelegationKind,
    GroupRole,
    OptionKind,
    Participant,
    Recommendation,
    RecommendationStatus,
    StakeholderCategory,
    Vote,
    db,
    utcnow,
)

NGO = StakeholderCategory.NGO_REPRESENTATIVE


@dataclass
class Story:
    conference: Conference
    recommendation: Recommendation
    people: dict[str, Participant]


def _put(chair: Participant, recommendation: Recommendation, **data: Any) -> Vote:
    vote = services.open_vote(chair, recommendation, VoteOpen.model_validate(data))
    db.session.commit()
    return vote


def _ballots(vote: Vote, answers: list[tuple[Participant, OptionKind]]) -> None:
    for voter, kind in answers:
        option = next(o.id for o in vote.options if o.kind is kind)
        ballots.cast_ballot(voter, vote, BallotIn(option_id=option))
        db.session.commit()


def _close(chair: Participant, vote: Vote) -> None:
    services.close_vote(chair, vote)
    db.session.commit()


@pytest.fixture
def story(ctx: None, factories: Any) -> Story:
    """One recommendation decided as a group would: a consensus broken by a delegation's
    member, then a recorded vote; a secret ballot; a consensus; a motion to reconsider, lost;
    the whole adopted under the silence procedure. Besides the group's members the conference
    has a delegation member in no group, an IO staff member, the secretariat, someone who
    opted out of publication, and names in Latin and Cyrillic."""
    conference = factories.conference(title="Migration", venue="Astana, Kazakhstan")
    group = factories.group(conference, name="Labour migration")
    chair = factories.member_of(group, GroupRole.CHAIR, name="Marat Dzhaksybekov",
                                category=StakeholderCategory.PARLIAMENTARIAN)
    sokolova = factories.member_of(group, name="Elena Sokolova", country="Russian Federation",
                                   affiliation="Federal Migration Service")
    abbott = factories.member_of(group, name="Olga Abbott", category=NGO, country="Uzbekistan")
    yolkin = factories.member_of(group, name="Пётр Ёлкин", category=NGO, country="Russian Federation")
    zhukov = factories.member_of(group, name="Иван Жуков", category=NGO, country="Kyrgyzstan")
    yakovleva = factories.participant(name="Анна Яковлева", category=NGO, country="Tajikistan")
    factories.membership(group, yakovleva, GroupRole.OBSERVER)
    iom = factories.member_of(group, name="Jean-Pierre Moreau", country="IOM",
                              affiliation="International Organization for Migration",
                              category=StakeholderCategory.INTERNATIONAL_ORGANISATION)
    # In a delegation but in no working group: registered all the same.
    volkov = factories.participant(name="Sergei Volkov", country="Russian Federation",
                                   affiliation="State Duma", category=StakeholderCategory.PARLIAMENTARIAN)
    private = factories.participant(name="Hidden Delegate", publish_name=False)
    secretariat = factories.secretariat(name="Aliya Serikbayeva", country="OSCE",
                                        affiliation="OSCE Centre in Astana")
    factories.delegation(conference, "Russian Federation", members=(sokolova, volkov, private),
                         head=volkov)
    factories.delegation(conference, "Kazakhstan", members=(chair,), head=chair)
    factories.delegation(conference, "International Organization for Migration", members=(iom,),
                         head=iom, kind=DelegationKind.ORGANISATION)
    recommendation = factories.recommendation(group, title="Protecting migrant workers", clauses=[
        (ClauseKind.PREAMBULAR, "*Recognising* the crisis,"),
        (ClauseKind.OPERATIVE, "Call on States to protect migrant workers;"),
        (ClauseKind.OPERATIVE, "Invite the IOM to assist.")])
    preambular, first, second = recommendation.live_clauses
    voters = [chair, sokolova, abbott, yolkin, zhukov, iom]

    sought = _put(chair, recommendation, subject="clause", clause_id=preambular.id, method="consensus")
    for member in voters:
        services.mark_present(sought, member)
    objections.object_to(sokolova, sought, ObjectionIn(reason="Not yet."))
    db.session.commit()
    _close(chair, sought)
    recorded = _put(chair, recommendation, subject="clause", clause_id=preambular.id)
    _ballots(recorded, [(chair, OptionKind.YES), (abbott, OptionKind.YES), (yolkin, OptionKind.YES),
                        (sokolova, OptionKind.NO), (zhukov, OptionKind.ABSTAIN),
                        (iom, OptionKind.ABSTAIN)])
    _close(chair, recorded)
    secret = _put(chair, recommendation, subject="clause", clause_id=first.id, secret=True)
    _ballots(secret, [(chair, OptionKind.YES), (sokolova, OptionKind.YES), (abbott, OptionKind.YES),
                      (zhukov, OptionKind.ABSTAIN)])
    _close(chair, secret)
    agreed = _put(chair, recommendation, subject="clause", clause_id=second.id, method="consensus")
    for member in voters:
        services.mark_present(agreed, member)
    db.session.commit()
    _close(chair, agreed)
    motion = _put(chair, recommendation, subject="reconsider", clause_id=second.id)
    _ballots(motion, [(abbott, OptionKind.YES), (chair, OptionKind.NO), (sokolova, OptionKind.NO)])
    _close(chair, motion)
    silence = _put(chair, recommendation, subject="recommendation", method="silence",
                   deadline_minutes=5)
    for member in voters:
        services.mark_present(silence, member)
    db.session.commit()
    assert close_due_votes(utcnow() + timedelta(minutes=6)) == 1
    db.session.expire_all()
    assert recommendation.status is RecommendationStatus.ADOPTED
    people = {"chair": chair, "sokolova": sokolova, "secretariat": secretariat, "iom": iom,
              "volkov": volkov}
    return Story(conference, recommendation, people)


def _outline(story: Story, language: str) -> Outline:
    with force_locale(language):
        return compile_outline(story.conference)


def _render(story: Story, language: str, renderer: Any) -> Any:
    with force_locale(language):
        return renderer.render(compile_outline(story.conference))


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _docx_paragraphs(data: bytes) -> list[tuple[str, str]]:
    document = Document(io.BytesIO(data))
    return [(p.style.name, p.text) for p in document.paragraphs]  # type: ignore[union-attr]


EN_DECISIONS = [
    ("A.1 Recommendation 1.1, preambular paragraph 1",
     "No consensus: objection by Elena Sokolova (Russian Federation)"),
    ("A.2 Recommendation 1.1, preambular paragraph 1",
     "Adopted by a recorded vote of 3 in favour, 1 against, 2 abstentions"),
    ("A.3 Recommendation 1.1, operative paragraph 1",
     "Adopted by a secret ballot of 3 in favour, 0 against, 1 abstention"),
    ("A.4 Recommendation 1.1, operative paragraph 2", "Adopted by consensus"),
    ("A.5 Motion to reconsider the decision on Recommendation 1.1, operative paragraph 2",
     "Rejected by a recorded vote of 1 in favour, 2 against, 0 abstentions"),
    ("A.6 Recommendation 1.1 as a whole", "Adopted under the silence procedure: no objection"),
]
RU_DECISIONS = [
    ("A.1 Рекомендация 1.1, пункт 1 преамбулы",
     "Консенсус не достигнут: возражение — Elena Sokolova (Russian Federation)"),
    ("A.2 Рекомендация 1.1, пункт 1 преамбулы",
     "Принято заносимым в отчёт голосованием: «за» — 3, «против» — 1, воздержались — 2"),
    ("A.3 Рекомендация 1.1, пункт 1 постановляющей части",
     "Принято тайным голосованием: «за» — 3, «против» — 0, воздержались — 1"),
    ("A.4 Рекомендация 1.1, пункт 2 постановляющей части", "Принято консенсусом"),
    ("A.5 Предложение о пересмотре решения: Рекомендация 1.1, пункт 2 постановляющей части",
     "Отклонено заносимым в отчёт голосованием: «за» — 1, «против» — 2, воздержались — 0"),
    ("A.6 Рекомендация 1.1 в целом",
     "Принято по процедуре умолчания: возражений не поступило"),
]
DECISIONS = {"en": EN_DECISIONS, "ru": RU_DECISIONS}


# --- annex A: the record of decisions -----------------------------------------------------

@pytest.mark.parametrize("language", ["en", "ru"])
def test_one_line_per_decision_numbered_and_named_alike_in_every_format(story, language):
    expected = DECISIONS[language]
    outline = _outline(story, language)
    assert [(f"{v.number} {v.subject}", v.decision) for v in outline.votes] == expected

    html = _text(_render(story, language, render_html).decode())
    markdown = _render(story, language, render_md).decode()
    paragraphs = _docx_paragraphs(_render(story, language, render_docx))
    for heading, decision in expected:
        assert f"{heading} {decision}" in html
        assert f"### {heading}\n\n**{render_md.escape(decision)}**" in markdown
        at = paragraphs.index(("Heading 2", heading))
        assert paragraphs[at + 1] == ("Normal", decision)
    # A consensus says how many it reached, not a turnout of ballots nobody cast.
    present = {"en": "Present: 6", "ru": "Присутствовали: 6"}[language]
    assert present in html.split("A.4 ")[1].split("A.5 ")[0]
    assert present in markdown.split("### A.4 ")[1].split("### A.5 ")[0]
    # One way of naming a paragraph: the chair's question ("clause PP1") is not printed.
    for text in (html, markdown, " ".join(t for _s, t in paragraphs)):
        assert "PP1" not in text and "Vote " not in text and "Голосование " not in text
    document = render_json.document(outline)
    assert [(v["number"], v["method"], v["decision"]) for v in document["votes"]] == [
        (f"A.{n}", method, line) for n, method, (_h, line) in zip(
            range(1, 7), ["consensus", "ballot", "ballot", "consensus", "ballot", "silence"],
            expected, strict=True)]


def test_roll_calls_in_full_for_recorded_votes_only(story):
    outline = _outline(story, "en")
    html = render_html.render(outline).decode()
    sections = {m.group(1): m.group(2) for m in re.finditer(
        r'<span class="decision-number">(A\.\d)</span>(.*?)</section>', html, re.S)}
    # The recorded votes (A.2, A.5) name everyone; the secret ballot (A.3) and the consensus
    # questions (A.1, A.4, A.6: the objector is in the line) print no roll call.
    assert {number for number, body in sections.items() if 'class="roll-call"' in body} == {"A.2", "A.5"}
    assert "Olga Abbott" in _text(sections["A.2"]) and "Иван Жуков" in _text(sections["A.2"])
    assert "Иван Жуков" not in _text(sections["A.3"])
    markdown = render_md.render(outline).decode()
    annex = markdown.split("## Annex A")[1].split("## Annex B")[0]
    assert annex.count("| Participant | Choice |") == 2
    document = Document(io.BytesIO(render_docx.render(outline)))
    roll_calls = [t for t in document.tables if t.rows[0].cells[0].text == "Name"
                  and t.rows[0].cells[1].text == "Choice"]
    assert [len(t.rows) - 1 for t in roll_calls] == [6, 3]


def test_a_vote_by_delegation_names_the_objecting_delegation(ctx, factories):
    conference = factories.conference(voting_unit="delegation")
    group = factories.group(conference)
    chair = factories.member_of(group, GroupRole.CHAIR, name="Chair Person")
    member = factories.member_of(group, name="Elena Sokolova")
    factories.delegation(conference, "Russian Federation", members=(member,), head=member)
    recommendation = factories.recommendation(group, clauses=[(ClauseKind.OPERATIVE, "Call on States;")])
    vote = _put(chair, recommendation, subject="clause",
                clause_id=recommendation.live_clauses[0].id, method="consensus")
    objections.object_to(member, vote, ObjectionIn(reason="No."))
    db.session.commit()
    _close(chair, vote)
    (entry,) = compile_outline(conference).votes
    assert entry.decision == "No consensus: objection by Russian Federation"


@pytest.mark.parametrize("language", ["en", "ru"])
def test_an_amendment_decided_is_named_with_its_paragraph(ctx, factories, language):
    group = factories.group(factories.conference())
    chair = factories.member_of(group, GroupRole.CHAIR)
    member = factories.member_of(group)
    recommendation = factories.recommendation(group, title="Skills", clauses=[
        (ClauseKind.PREAMBULAR, "*Noting* the need,"), (ClauseKind.OPERATIVE, "Call on States;"),
        (ClauseKind.OPERATIVE, "Invite employers.")])
    amendment = factories.amendment(recommendation.live_clauses[2], member, text="Invite unions.",
                                    status=AmendmentStatus.TO_BE_VOTED)
    vote = _put(chair, recommendation, subject="amendment", amendment_id=amendment.id)
    _ballots(vote, [(chair, OptionKind.NO), (member, OptionKind.YES)])
    _close(chair, vote)
    (entry,) = _outline(Story(group.conference, recommendation, {}), language).votes
    assert (entry.number, entry.subject, entry.decision) == {
        "en": ("A.1", f"Skills, operative paragraph 2: amendment {amendment.id}",
               "Rejected by a recorded vote of 1 in favour, 1 against, 0 abstentions"),
        "ru": ("A.1", f"Skills, пункт 2 постановляющей части: поправка {amendment.id}",
               "Отклонено заносимым в отчёт голосованием: «за» — 1, «против» — 1, воздержались — 0"),
    }[language]


def test_every_decision_the_rules_can_reach_has_its_line(ctx):
    """The lines no story above reaches, from the one function every format prints."""
    common: dict[str, Any] = {"secret": False, "yes": 0, "no": 0, "abstain": 0, "objectors": [],
                              "objections": 0, "present": 0, "wordings": [], "winner": "",
                              "runoff": []}
    with force_locale("en"):
        assert decision_line(**{**common, "method": "consensus", "outcome": "no_quorum",
                                "present": 2}) == "No decision: too few members present (2)"
        assert decision_line(**{**common, "method": "silence", "outcome": "no_consensus",
                                "objectors": ["Kazakhstan"]}) == "Silence broken: objection by Kazakhstan"
        assert decision_line(**{**common, "method": "consensus", "outcome": "no_consensus",
                                "objections": 2}) == "No consensus: 2 objections"
        wordings = [("The clause as drafted", 3), ("Amendment 4", 3)]
        assert decision_line(**{**common, "method": "ballot", "outcome": "runoff",
                                "wordings": wordings, "runoff": ["Amendment 4", "The clause as drafted"]}) == (
            "No wording carried (The clause as drafted: 3; Amendment 4: 3): run-off between "
            "Amendment 4 and The clause as drafted")
        assert decision_line(**{**common, "method": "ballot", "outcome": "adopted", "secret": True,
                                "wordings": wordings[:1], "winner": "The clause as drafted"}) == (
            "Wording adopted by a secret ballot: The clause as drafted (The clause as drafted: 3)")
        assert decision_line(**{**common, "method": "ballot", "outcome": "no_quorum", "yes": 1}) == (
            "No decision: quorum not met (1 in favour, 0 against, 0 abstentions)")


# --- annex C: the participants --------------------------------------------------------------

EN_LISTS = [
    ("International Organization for Migration",
     [("MOREAU, Jean-Pierre", "International Organization for Migration", "")]),
    ("Kazakhstan", [("DZHAKSYBEKOV, Marat", None, "Kazakhstan")]),
    ("Russian Federation", [("SOKOLOVA, Elena", "Federal Migration Service", "Russian Federation"),
                            ("VOLKOV, Sergei", "State Duma", "Russian Federation")]),
    ("Non-governmental organisations", [("ABBOTT, Olga", None, "Uzbekistan"),
                                        ("ЁЛКИН, Пётр", None, "Russian Federation"),
                                        ("ЖУКОВ, Иван", None, "Kyrgyzstan"),
                                        ("ЯКОВЛЕВА, Анна", None, "Tajikistan")]),
    ("Secretariat", [("SERIKBAYEVA, Aliya", "OSCE Centre in Astana", "")]),
]


def _expected_names(language: str) -> list[tuple[str, list[str]]]:
    lists = [(label, [name for name, _a, _c in people]) for label, people in EN_LISTS]
    if language == "ru":
        # Cyrillic first in a Russian list; «Ё» among the «Е»; Latin after.
        labels = {"Non-governmental organisations": "Неправительственные организации",
                  "Secretariat": "Секретариат"}
        lists = [(labels.get(label, label), names) for label, names in lists]
        lists[3] = (lists[3][0], ["ЁЛКИН, Пётр", "ЖУКОВ, Иван", "ЯКОВЛЕВА, Анна", "ABBOTT, Olga"])
    return lists


@pytest.mark.parametrize("language", ["en", "ru"])
def test_participants_by_delegation_then_category_surname_first_in_every_format(story, language):
    expected = _expected_names(language)
    outline = _outline(story, language)
    assert [(c.label, [p.name for p in c.participants]) for c in outline.participants] == expected
    entries = {p.name: p for c in outline.participants for p in c.participants}
    for _label, people in EN_LISTS:
        for name, affiliation, country in people:
            # An organisation's staff have no country: their organisation is not one.
            assert entries[name].country == country
            assert affiliation is None or entries[name].affiliation == affiliation
    listed = [name for _label, names in expected for name in names]

    html = _text(_render(story, language, render_html).decode().split('id="annex-c"')[1])
    positions = [html.find(name) for name in listed]
    assert -1 not in positions and positions == sorted(positions)
    for label, _names in expected:
        assert label in html
    markdown = _render(story, language, render_md).decode()
    annex = markdown.split("\n## ")[-1]
    assert [line[4:] for line in annex.splitlines() if line.startswith("### ")] == [label for label, _n in expected]
    lines = annex.splitlines()
    rows = [line for n, line in enumerate(lines) if line.startswith("| ") and not line.startswith("| ---")
            and not (n + 1 < len(lines) and lines[n + 1].startswith("| ---"))]
    assert [row.split(" | ")[0].removeprefix("| ") for row in rows] == listed
    document = Document(io.BytesIO(_render(story, language, render_docx)))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 2"]  # type: ignore[union-attr]
    assert headings[-len(expected):] == [label for label, _n in expected]
    tables = document.tables[-len(expected):]
    assert [[row.cells[0].text for row in t.rows[1:]] for t in tables] == [n for _label, n in expected]
    # No row of the list is split across pages.
    assert all(row._tr.trPr is not None and row._tr.trPr.find(qn("w:cantSplit")) is not None
               for t in tables for row in t.rows)
    for text in (html, markdown):
        assert "Hidden Delegate" not in text and "DELEGATE" not in text


def test_the_pdf_prints_both_annexes_and_keeps_rows_whole(story):
    css = render_html.render(_outline(story, "en")).decode()
    assert re.search(r"\btr\s*\{[^}]*break-inside:\s*avoid", css)
    for language in ("en", "ru"):
        with force_locale(language):
            pdf = render_pdf.render(compile_outline(story.conference))
        text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)
        for heading, decision in DECISIONS[language]:
            assert heading in text and decision in text
        names = [name for _label, people in _expected_names(language) for name in people]
        annex = text[text.rfind(names[0]):]
        positions = [annex.find(name) for name in names]
        assert -1 not in positions and positions == sorted(positions)


def test_a_groups_own_export_lists_its_members_only(story):
    group = story.recommendation.group
    outline = compile_outline(story.conference, group)
    names = [p.name for c in outline.participants for p in c.participants]
    assert "SERIKBAYEVA, Aliya" not in names and "VOLKOV, Sergei" not in names
    assert "SOKOLOVA, Elena" in names


@pytest.mark.parametrize(("name", "family", "listed"), [
    ("Elena Sokolova", "", "SOKOLOVA, Elena"),
    ("Jean-Pierre Moreau", "", "MOREAU, Jean-Pierre"),
    ("Anna de la Cruz", "de la Cruz", "DE LA CRUZ, Anna"),
    ("Kim Irina", "Kim", "KIM, Irina"),
    ("Елена Соколова", "", "СОКОЛОВА, Елена"),
    ("Madonna", "", "MADONNA"),
])
def test_a_name_is_listed_surname_first(name, family, listed):
    person = Participant(name=name, family_name=family)
    assert listed_name(person.name, person.surname) == listed
