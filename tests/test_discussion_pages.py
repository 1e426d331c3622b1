"""The discussion as people use it without scripts: the discussion page of a clause and its
panel (the contract the live editor reads), comments and amendments end to end through the
forms, the recommendation and group pages at a glance, notifications, and the group setting
that lets observers comment or only read.

Pages are read as a browser parses them (tests/test_pages.Page), never as substrings.
"""
from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from flask import Flask
from pycrdt import Assoc
from sqlalchemy import select

from drafting.amendments.schemas import AmendmentCreate, AmendmentRejection
from drafting.comments.services import MAX_COMMENT_LENGTH
from drafting.editing import services as editing
from models import (
    Amendment,
    AmendmentStatus,
    Clause,
    ClauseKind,
    Comment,
    CommentThread,
    GroupRole,
    Notification,
    Participant,
    RecommendationStatus,
    WorkingGroup,
    db,
)
from tests.helpers.pages import (
    Page,
    acting,
    assert_friendly_error_page,
    assert_well_formed,
    client_as,
    count,
    elements,
    fetch,
    get,
    hostile_text_problems,
    marks,
    plain,
    read,
    read_all,
    structure_problems,
)

TEXT = "Calls on States to protect migrant workers and their families;"
PARTIAL = {"X-Plenary-Partial": "1"}
STAFF = ("secretariat", "chair", "member", "observer")


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def cast(factories):
    return factories.cast()


@pytest.fixture
def clause(factories, cast) -> Clause:
    recommendation = factories.recommendation(cast.group, title="Protecting migrant workers",
                                              clauses=[(ClauseKind.OPERATIVE, TEXT)])
    with factories.app.app_context():
        found = db.session.scalars(select(Clause).where(
            Clause.recommendation_id == recommendation.id)).one()
        db.session.expunge(found)
    return found


def panel_of(response: Any) -> Page:
    """The panel alone, as the editor receives it."""
    assert response.mimetype == "text/html"
    source = response.get_data(as_text=True)
    assert source.lstrip().startswith("<section class=\"discussion\""), source[:300]
    return Page(source)


def panel_problems(page: Page) -> list[str]:
    """What the page checks of tests/test_pages ask of a fragment: unique ids, tokens."""
    return [problem for problem in structure_problems(page)
            if problem.startswith(("duplicated ids", "POST form"))]


def root(page: Page) -> dict[str, str]:
    roots = elements(page, "section", data_discussion=...)
    assert len(roots) == 1, roots
    return roots[0]


def start_thread(client: Any, clause_id: int, body: str, headers: Any = None, **extra: Any) -> Any:
    return client.submit(f"/clauses/{clause_id}/threads", {"body": body, **extra},
                         headers=headers or {})


def propose(client: Any, clause_id: int, text: str, kind: str = "replace",
            rationale: str = "Clearer.", base_text: str = TEXT, headers: Any = None,
            **extra: Any) -> Any:
    return client.submit(f"/clauses/{clause_id}/amendments", {
        "kind": kind, "text": text, "base_text": base_text, "rationale": rationale, **extra},
        headers=headers or {})


def created_id(response: Any, prefix: str) -> int:
    """The id in the fragment of the redirect after a form: ``...#thread-12``."""
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    match = re.search(rf"#{prefix}-(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def anchor_on(app: Flask, clause_id: int, words: str) -> dict[str, str]:
    """An anchor on ``words``, made as the browser makes one: Yjs relative positions on the
    clause's own document (as in tests/test_comments.py)."""
    with app.test_request_context():
        clause = get(Clause, clause_id)
        with editing._document(clause, writing=False) as live:
            text = str(live.text)
            start = len(text[:text.index(words)].encode())
            end = start + len(words.encode())
            encoded = (live.text.sticky_index(start, Assoc.AFTER).encode(),
                       live.text.sticky_index(end, Assoc.BEFORE).encode())
        db.session.commit()
    return {"anchor_start": base64.b64encode(encoded[0]).decode(),
            "anchor_end": base64.b64encode(encoded[1]).decode()}


# --- who sees the discussion ------------------------------------------------------------------


@pytest.mark.parametrize("role", STAFF)
def test_discussion_page_is_well_formed_for_everyone_in_the_group(app, cast, clause, role):
    client = client_as(app, cast, role)
    page = assert_well_formed(client.get(f"/clauses/{clause.id}/discussion"))
    assert page.h1 == ["Discussion of clause 1"]
    assert TEXT in page.text_of(f"clause-{clause.id}")
    assert root(page)["data-clause-id"] == str(clause.id)
    partial = client.get(f"/clauses/{clause.id}/discussion?partial=1")
    assert partial.status_code == 200
    assert not panel_problems(panel_of(partial))


@pytest.mark.parametrize("role", ["other_chair", "outsider"])
def test_discussion_is_not_found_for_people_outside_the_group(app, cast, clause, role):
    client = client_as(app, cast, role)
    assert_friendly_error_page(client.get(f"/clauses/{clause.id}/discussion"), 404, "Page not found")
    assert client.get(f"/clauses/{clause.id}/discussion?partial=1").status_code == 404


@pytest.mark.parametrize("role, status", [
    ("member", 200), ("chair", 403), ("observer", 403), ("secretariat", 403),
    ("other_chair", 404), ("outsider", 404),
])
def test_edit_pages_are_their_authors(app, factories, cast, clause, role, status):
    with acting(app):
        thread = factories.thread(get(Clause, clause.id), get(Participant, cast.member.id), "Mine.")
        amendment = factories.amendment(get(Clause, clause.id), get(Participant, cast.member.id))
    with app.app_context():
        comment_id = db.session.scalars(select(Comment.id).where(Comment.thread_id == thread.id)).one()
    client = client_as(app, cast, role)
    for path in (f"/comments/{comment_id}/edit", f"/amendments/{amendment.id}/edit"):
        response = client.get(path)
        assert response.status_code == status, path
        if status == 200:
            page = assert_well_formed(response)
            assert page.attributes_of("csrf_token")


def test_notifications_page_is_well_formed_for_everyone(app, cast):
    for role in (*STAFF, "other_chair", "outsider"):
        page = assert_well_formed(client_as(app, cast, role).get("/notifications"))
        assert page.h1 == ["Notifications"]
        assert "Nothing yet." in page.text_of("main")


def test_discussion_of_a_deleted_or_unknown_clause_is_not_found(app, cast, clause):
    client = client_as(app, cast, "chair")
    assert client.submit(f"/clauses/{clause.id}/delete").status_code == 302
    assert client.get(f"/clauses/{clause.id}/discussion").status_code == 404
    assert client.get("/clauses/99999999/discussion").status_code == 404


def test_an_unknown_filter_is_refused_with_a_message(app, cast, clause):
    response = client_as(app, cast, "member").get(f"/clauses/{clause.id}/discussion?state=later")
    assert response.status_code == 400
    assert "Show open, resolved or all threads." in read(response).text_of("main")


def test_an_adopted_recommendation_keeps_its_discussion_readable_by_the_conference(
        app, factories, cast, clause):
    with acting(app):
        thread = factories.thread(get(Clause, clause.id), get(Participant, cast.member.id), "Settled.")
        get(Clause, clause.id).recommendation.status = RecommendationStatus.ADOPTED
    for role in ("other_chair", "member"):
        page = assert_well_formed(client_as(app, cast, role).get(
            f"/clauses/{clause.id}/discussion"))
        assert "Settled." in page.text_of(f"thread-{thread.id}")
        # Nothing to post but the header's forms (sign out, language).
        assert {action for action, _token in page.post_forms} == {"/logout", "/locale"}
        assert not elements(page, "textarea")
        assert "no longer a draft" in page.text_of("main")


# --- the panel's contract ---------------------------------------------------------------------


def test_panel_follows_the_contract(app, factories, cast, clause):
    with acting(app):
        factories.thread(get(Clause, clause.id), get(Participant, cast.member.id), "A point.")
        factories.amendment(get(Clause, clause.id), get(Participant, cast.member.id),
                            text=TEXT.replace("migrant workers", "all migrants"))
    client = client_as(app, cast, "chair")
    response = client.get(f"/clauses/{clause.id}/discussion?partial=1")
    page = panel_of(response)
    section = root(page)
    assert section["class"] == "discussion"
    assert (section["data-clause-id"], section["data-open-threads"], section["data-open-amendments"],
            section["data-state"]) == (str(clause.id), "1", "1", "open")
    assert [link["data-discussion-filter"] for link in elements(page, "a", data_discussion_filter=...)] \
        == ["open", "resolved", "all"]

    thread = elements(page, "article", data_thread_id=...)[0]
    assert thread["class"].split()[0] == "thread" and thread["id"] == f"thread-{thread['data-thread-id']}"
    assert (thread["data-anchor-start"], thread["data-anchor-end"], thread["data-detached"],
            thread["data-resolved"]) == ("", "", "false", "false")
    assert elements(page, "div", **{"class": "comment"})

    amendment = elements(page, "article", data_amendment_id=...)[0]
    assert amendment["class"].split()[0] == "amendment"
    assert (amendment["data-status"], amendment["data-conflict"]) == ("proposed", "false")
    assert elements(page, "p", **{"class": "redline"})
    changes = marks(response)
    assert {tag for tag, _text in changes} == {"ins", "del"}
    assert "workers" in "".join(text for tag, text in changes if tag == "del")
    assert "all" in "".join(text for tag, text in changes if tag == "ins")

    # Every form: method post, the CSRF token and the filter.
    forms = [attrs for tag, attrs in page.tags if tag == "form"]
    assert forms and all(dict(attrs)["method"] == "post" for attrs in forms)
    assert all(token for _action, token in page.post_forms)
    assert len(elements(page, "input", name="state", value="open")) == len(forms)

    new_thread = elements(page, "form", data_discussion_new_thread=...)
    assert new_thread and new_thread[0]["action"].startswith(f"/clauses/{clause.id}/threads")
    assert elements(page, "textarea", name="body", id=f"clause-{clause.id}-thread-body")
    assert elements(page, "input", type="hidden", name="anchor_start", value="")
    assert elements(page, "input", type="hidden", name="anchor_end", value="")
    assert elements(page, "p", data_discussion_quote=..., hidden=...)

    new_amendment = elements(page, "form", data_discussion_new_amendment=...)
    assert new_amendment and new_amendment[0]["action"].startswith(f"/clauses/{clause.id}/amendments")
    assert [radio["value"] for radio in elements(page, "input", type="radio", name="kind")] \
        == ["replace", "insert", "delete"]
    assert page.text_of(f"clause-{clause.id}-amendment-text") == TEXT
    assert elements(page, "input", type="hidden", name="base_text", value=TEXT)
    assert elements(page, "textarea", name="rationale")


def test_filter_shows_open_resolved_or_all_threads(app, factories, cast, clause):
    with acting(app):
        kept = factories.thread(get(Clause, clause.id), get(Participant, cast.member.id), "Still open.")
        settled = factories.thread(get(Clause, clause.id), get(Participant, cast.chair.id), "Settled.")
        from drafting.comments.services import set_resolved

        set_resolved(get(Participant, cast.chair.id), get(CommentThread, settled.id), True)
    client = client_as(app, cast, "member")

    def shown(state: str | None) -> list[str]:
        query = f"?state={state}" if state else ""
        page = read(client.get(f"/clauses/{clause.id}/discussion{query}"))
        assert root(page)["data-state"] == (state or "open")
        return [a["id"] for a in elements(page, "article", data_thread_id=...)]

    assert shown(None) == shown("open") == [f"thread-{kept.id}"]
    assert shown("resolved") == [f"thread-{settled.id}"]
    assert sorted(shown("all")) == sorted([f"thread-{kept.id}", f"thread-{settled.id}"])


# --- comments, end to end ---------------------------------------------------------------------


def test_comment_flow_without_scripts(app, cast, clause):
    member, chair = client_as(app, cast, "member"), client_as(app, cast, "chair")
    response = start_thread(member, clause.id, "Could we say *region*?")
    thread_id = created_id(response, "thread")
    assert response.headers["Location"] == f"/clauses/{clause.id}/discussion#thread-{thread_id}"
    page = assert_well_formed(member.get(response.headers["Location"]))
    assert "Your comment is posted." in page.text_of("main")
    assert "Member Person" in page.text_of(f"thread-{thread_id}")
    assert "<em>region</em>" in "".join(page.markdown_areas)

    # A reply, to the thread's first comment.
    with app.app_context():
        first_comment = db.session.scalars(select(Comment.id).where(Comment.thread_id == thread_id)).first()
    reply_id = created_id(chair.submit(f"/threads/{thread_id}/replies",
                                       {"body": "Yes.", "parent_id": str(first_comment)}), "comment")
    page = read(chair.get(f"/clauses/{clause.id}/discussion"))
    assert "in reply to Member Person" in page.text_of(f"comment-{reply_id}")

    # Edit one's own comment: a page of its own, then "edited".
    edit = member.get(f"/comments/{first_comment}/edit")
    form = assert_well_formed(edit)
    assert form.text_of("body") == "Could we say *region*?"
    assert member.submit(f"/comments/{first_comment}/edit", {"body": "Could we say *regional*?"}) \
        .headers["Location"] == f"/clauses/{clause.id}/discussion#comment-{first_comment}"
    page = read(member.get(f"/clauses/{clause.id}/discussion"))
    assert "edited" in page.text_of(f"comment-{first_comment}")
    assert "regional" in page.text_of(f"comment-{first_comment}")

    # Delete one's own comment: a placeholder keeps its place, the reply stays.
    assert created_id(member.submit(f"/comments/{first_comment}/delete"), "thread") == thread_id
    page = read(member.get(f"/clauses/{clause.id}/discussion"))
    assert page.text_of(f"comment-{first_comment}").endswith("Comment removed")
    assert "regional" not in page.text_of(f"thread-{thread_id}")
    assert "Yes." in page.text_of(f"comment-{reply_id}")

    # Resolve (the thread's author), then it is among the resolved; reopen (the chair).
    member.submit(f"/threads/{thread_id}/resolve", {"state": "open"})
    page = read(member.get(f"/clauses/{clause.id}/discussion"))
    assert not elements(page, "article", data_thread_id=str(thread_id))
    page = read(member.get(f"/clauses/{clause.id}/discussion?state=resolved"))
    assert elements(page, "article", data_thread_id=str(thread_id))[0]["data-resolved"] == "true"
    assert "Resolved by Member Person" in page.text_of(f"thread-{thread_id}")
    response = chair.submit(f"/threads/{thread_id}/reopen", {"state": "resolved"})
    assert response.headers["Location"] == \
        f"/clauses/{clause.id}/discussion?state=resolved#thread-{thread_id}"
    assert fetch(app, CommentThread, thread_id).resolved_at is None


def test_buttons_are_offered_only_to_whom_may_use_them(app, factories, cast, clause):
    with acting(app):
        thread = factories.thread(get(Clause, clause.id), get(Participant, cast.member.id), "Mine.")
    with app.app_context():
        comment_id = db.session.scalars(select(Comment.id).where(Comment.thread_id == thread.id)).one()

    def actions(role: str) -> set[str]:
        page = read(client_as(app, cast, role).get(f"/clauses/{clause.id}/discussion"))
        return {action.split("#")[0] for action, _token in page.post_forms} | {
            href.split("?")[0] for href in page.main_links if href.startswith("/comments/")}

    assert {f"/comments/{comment_id}/edit", f"/comments/{comment_id}/delete",
            f"/threads/{thread.id}/resolve", f"/threads/{thread.id}/replies"} <= actions("member")
    chair = actions("chair")
    assert f"/threads/{thread.id}/resolve" in chair and f"/comments/{comment_id}/edit" not in chair
    observer = actions("observer")
    assert f"/threads/{thread.id}/replies" in observer and f"/threads/{thread.id}/resolve" not in observer
    assert f"/clauses/{clause.id}/amendments" not in observer  # observers do not propose


def test_an_anchored_thread_shows_its_words_and_is_marked_detached_when_they_go(app, cast, clause):
    member = client_as(app, cast, "member")
    thread_id = created_id(start_thread(member, clause.id, "Why only workers?",
                                        **anchor_on(app, clause.id, "migrant workers")), "thread")
    page = read(member.get(f"/clauses/{clause.id}/discussion"))
    article = elements(page, "article", data_thread_id=str(thread_id))[0]
    assert article["data-anchor-start"] and article["data-anchor-end"]
    assert article["data-detached"] == "false"
    assert "migrant workers" in page.text_of(f"thread-{thread_id}")

    changed = TEXT.replace("migrant workers and ", "")
    assert member.submit(f"/clauses/{clause.id}/edit", {"text": changed}).status_code == 302
    page = read(member.get(f"/clauses/{clause.id}/discussion"))
    article = elements(page, "article", data_thread_id=str(thread_id))[0]
    assert article["data-detached"] == "true"
    text = page.text_of(f"thread-{thread_id}")
    assert "Detached" in text and "migrant workers" in text


@pytest.mark.parametrize("body, message", [
    ("", "Required."), ("  \n ", "Required."),
    ("x" * (MAX_COMMENT_LENGTH + 1), f"At most {MAX_COMMENT_LENGTH} characters."),
])
def test_empty_or_over_long_comments_are_refused_beside_the_field(app, cast, clause, body, message):
    member = client_as(app, cast, "member")
    response = start_thread(member, clause.id, body)
    assert response.status_code == 400
    page = assert_well_formed(response)
    field = f"clause-{clause.id}-thread-body"
    assert page.text_of(f"{field}-errors") == message
    assert page.attributes_of(field)["aria-invalid"] == "true"
    assert page.text_of(field) == body.strip() or page.text_of(field) == " ".join(body.split())
    assert elements(page, "div", role="alert", data_discussion_error=...)
    assert count(app, CommentThread) == 0


def test_an_over_long_edit_is_refused_on_the_edit_page(app, factories, cast, clause):
    with acting(app):
        thread = factories.thread(get(Clause, clause.id), get(Participant, cast.member.id), "Short.")
    with app.app_context():
        comment_id = db.session.scalars(select(Comment.id).where(Comment.thread_id == thread.id)).one()
    response = client_as(app, cast, "member").submit(f"/comments/{comment_id}/edit",
                                                     {"body": "y" * (MAX_COMMENT_LENGTH + 1)})
    assert response.status_code == 400
    page = assert_well_formed(response)
    assert page.text_of("body-errors") == "Comment is too long."
    assert fetch(app, Comment, comment_id).body == "Short."


def test_a_reply_answers_a_comment_of_its_own_thread(app, factories, cast, clause):
    with acting(app):
        mine = factories.thread(get(Clause, clause.id), get(Participant, cast.member.id), "Mine.")
        other = factories.thread(get(Clause, clause.id), get(Participant, cast.chair.id), "Other.")
    with app.app_context():
        stranger = db.session.scalars(select(Comment.id).where(Comment.thread_id == other.id)).one()
    member = client_as(app, cast, "member")
    for parent in (str(stranger), "not-a-number"):
        response = member.submit(f"/threads/{mine.id}/replies", {"body": "Typed.", "parent_id": parent})
        assert response.status_code == 400
        page = assert_well_formed(response)
        assert page.text_of(f"clause-{clause.id}-error") == "A reply answers a comment of the same thread."
        assert page.text_of(f"thread-{mine.id}-reply") == "Typed."  # what was typed stays
    assert count(app, Comment) == 2


def test_editing_a_comment_from_the_editor_answers_the_panel(app, factories, cast, clause):
    with acting(app):
        thread = factories.thread(get(Clause, clause.id), get(Participant, cast.member.id), "Draft.")
    with app.app_context():
        comment_id = db.session.scalars(select(Comment.id).where(Comment.thread_id == thread.id)).one()
    member = client_as(app, cast, "member")
    response = member.submit(f"/comments/{comment_id}/edit", {"body": "Final.", "state": "all"},
                             headers=PARTIAL)
    assert response.status_code == 200
    page = panel_of(response)
    assert root(page)["data-state"] == "all"
    assert "Final." in page.text_of(f"comment-{comment_id}")
    assert "edited" in page.text_of(f"comment-{comment_id}")
    response = client_as(app, cast, "chair").submit(f"/comments/{comment_id}/edit", {"body": "Mine now."},
                                                    headers=PARTIAL)
    assert response.status_code == 403
    assert panel_of(response).text_of(f"clause-{clause.id}-error") == \
        "Only its author can change or remove a comment."
    assert fetch(app, Comment, comment_id).body == "Final."


# --- amendments, end to end -------------------------------------------------------------------


def test_amendment_flow_without_scripts(app, cast, clause):
    member, chair = client_as(app, cast, "member"), client_as(app, cast, "chair")
    wording = TEXT.replace("migrant workers", "all migrant workers")
    amendment_id = created_id(propose(member, clause.id, wording, rationale="Be **inclusive**."),
                              "amendment")

    page = assert_well_formed(chair.get(f"/clauses/{clause.id}/discussion"))
    article = page.text_of(f"amendment-{amendment_id}")
    assert "New wording" in article and "Proposed" in article and "Proposed by Member Person" in article
    assert "<strong>inclusive</strong>" in "".join(page.markdown_areas)
    ins = [attrs for tag, attrs in page.tags if tag == "ins"]
    assert len(ins) == 1

    # The chair co-sponsors, then stops; the proposer edits.
    chair.submit(f"/amendments/{amendment_id}/sponsor")
    assert "co-sponsored by Chair Person" in read(member.get(
        f"/clauses/{clause.id}/discussion")).text_of(f"amendment-{amendment_id}")
    chair.submit(f"/amendments/{amendment_id}/unsponsor")
    assert "co-sponsored" not in read(member.get(
        f"/clauses/{clause.id}/discussion")).text_of(f"amendment-{amendment_id}")

    edit = assert_well_formed(member.get(f"/amendments/{amendment_id}/edit"))
    assert edit.text_of("text") == wording
    better = TEXT.replace("migrant workers", "every migrant worker")
    response = member.submit(f"/amendments/{amendment_id}/edit",
                             {"text": better, "base_text": TEXT, "rationale": "Clearer."})
    assert created_id(response, "amendment") == amendment_id
    assert fetch(app, Amendment, amendment_id).text == better

    # The chair accepts: the clause's text is the amendment's.
    response = chair.submit(f"/amendments/{amendment_id}/accept")
    assert created_id(response, "amendment") == amendment_id
    assert fetch(app, Clause, clause.id).text == better
    assert fetch(app, Amendment, amendment_id).status is AmendmentStatus.ACCEPTED
    page = read(chair.get(f"/clauses/{clause.id}/discussion"))
    assert elements(page, "article", data_amendment_id=str(amendment_id))[0]["data-status"] == "accepted"
    assert better in page.text_of(f"clause-{clause.id}")


def test_withdraw_reject_and_to_be_voted(app, cast, clause):
    member, chair = client_as(app, cast, "member"), client_as(app, cast, "chair")
    first = created_id(propose(member, clause.id, TEXT + " Now."), "amendment")
    second = created_id(propose(member, clause.id, "", kind="delete", rationale="Redundant."),
                        "amendment")
    third = created_id(propose(member, clause.id, "Urges regional co-operation;", kind="insert"),
                       "amendment")

    member.submit(f"/amendments/{first}/withdraw")
    assert fetch(app, Amendment, first).status is AmendmentStatus.WITHDRAWN

    refused = chair.submit(f"/amendments/{second}/reject", {"reason": "  "})
    assert refused.status_code == 400
    page = assert_well_formed(refused)
    assert page.text_of(f"amendment-{second}-reason-errors") == "Required."
    assert fetch(app, Amendment, second).status is AmendmentStatus.PROPOSED

    chair.submit(f"/amendments/{second}/reject", {"reason": "The clause is needed."})
    chair.submit(f"/amendments/{third}/put-to-vote")
    page = read(member.get(f"/clauses/{clause.id}/discussion"))
    statuses = {a["data-amendment-id"]: a["data-status"] for a in elements(page, "article", data_amendment_id=...)}
    assert statuses == {str(first): "withdrawn", str(second): "rejected", str(third): "to_be_voted"}
    assert "The clause is needed." in page.text_of(f"amendment-{second}")
    assert [tag for tag, _attrs in page.tags if tag == "del"]  # the deletion strikes the clause
    assert root(page)["data-open-amendments"] == "1"


def test_an_accepted_deletion_leads_back_to_the_recommendation(app, cast, clause):
    amendment_id = created_id(propose(client_as(app, cast, "member"), clause.id, "", kind="delete"),
                              "amendment")
    response = client_as(app, cast, "chair").submit(f"/amendments/{amendment_id}/accept")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/recommendations/{clause.recommendation_id}"
    assert fetch(app, Clause, clause.id).deleted_at is not None


def test_a_conflicting_amendment_is_flagged_and_cannot_be_accepted(app, cast, clause):
    member, chair = client_as(app, cast, "member"), client_as(app, cast, "chair")
    amendment_id = created_id(propose(member, clause.id, TEXT.replace("protect", "shield")),
                              "amendment")
    chair.submit(f"/clauses/{clause.id}/edit", {"text": TEXT.replace("protect", "defend")})
    page = read(chair.get(f"/clauses/{clause.id}/discussion"))
    assert elements(page, "article", data_amendment_id=str(amendment_id))[0]["data-conflict"] == "true"
    assert "Conflicts with the current text" in page.text_of(f"amendment-{amendment_id}")
    assert f"/amendments/{amendment_id}/accept" not in {a.split("#")[0] for a, _t in page.post_forms}
    response = chair.submit(f"/amendments/{amendment_id}/accept")
    assert response.status_code == 409  # the state refuses it, not what was typed
    assert "Its proposer must update it" in read(response).text_of("main")
    assert fetch(app, Clause, clause.id).text == TEXT.replace("protect", "defend")


def test_the_proposer_brings_a_conflicting_amendment_up_to_date(app, cast, clause):
    member, chair = client_as(app, cast, "member"), client_as(app, cast, "chair")
    amendment_id = created_id(propose(member, clause.id, TEXT.replace("protect", "shield")),
                              "amendment")
    current = TEXT.replace("protect", "defend")
    chair.submit(f"/clauses/{clause.id}/edit", {"text": current})
    page = assert_well_formed(member.get(f"/amendments/{amendment_id}/edit"))
    assert "Conflicts with the current text" in page.text_of("main")
    assert page.attributes_of("base_text")["value"] == current  # now written against it
    response = member.submit(f"/amendments/{amendment_id}/edit", {
        "text": TEXT.replace("protect", "shield and defend"), "base_text": current,
        "rationale": "Both."})
    assert created_id(response, "amendment") == amendment_id
    page = read(chair.get(f"/clauses/{clause.id}/discussion"))
    assert elements(page, "article", data_amendment_id=str(amendment_id))[0]["data-conflict"] == "false"
    assert created_id(chair.submit(f"/amendments/{amendment_id}/accept"), "amendment") == amendment_id
    assert fetch(app, Clause, clause.id).text == TEXT.replace("protect", "shield and defend")


def test_a_deletion_is_edited_for_its_rationale_only(app, cast, clause):
    member = client_as(app, cast, "member")
    amendment_id = created_id(propose(member, clause.id, "", kind="delete", rationale="Why not."),
                              "amendment")
    page = assert_well_formed(member.get(f"/amendments/{amendment_id}/edit"))
    assert "text" not in page.ids and "rationale" in page.ids
    member.submit(f"/amendments/{amendment_id}/edit", {"rationale": "Redundant with PP1."})
    amendment = fetch(app, Amendment, amendment_id)
    assert (amendment.text, amendment.rationale) == ("", "Redundant with PP1.")


def test_a_browsers_line_breaks_are_stored_as_the_editor_writes_them(app, cast, clause):
    member = client_as(app, cast, "member")
    amendment_id = created_id(propose(member, clause.id, TEXT + "\r\nSecond line.",
                                      rationale="One.\r\nTwo."), "amendment")
    amendment = fetch(app, Amendment, amendment_id)
    assert (amendment.text, amendment.rationale) == (TEXT + "\nSecond line.", "One.\nTwo.")


@pytest.mark.parametrize("text, rationale, field, message", [
    ("", "Why.", "text", "Required."),
    ("x" * 20001, "Why.", "text", "At most"),
    (TEXT + " More.", "r" * 5001, "rationale", "At most 5000 characters."),
])
def test_empty_or_over_long_amendments_are_refused_beside_the_field(app, cast, clause, text,
                                                                     rationale, field, message):
    response = propose(client_as(app, cast, "member"), clause.id, text, rationale=rationale)
    assert response.status_code == 400
    page = assert_well_formed(response)
    assert page.text_of(f"clause-{clause.id}-amendment-{field}-errors").startswith(message)
    assert page.text_of(f"clause-{clause.id}-amendment-rationale") == rationale
    assert count(app, Amendment) == 0


# --- partial answers for the live editor ------------------------------------------------------


def test_partial_answers_are_the_re_rendered_panel(app, cast, clause):
    member = client_as(app, cast, "member")
    response = start_thread(member, clause.id, "From the editor.", state="all", headers=PARTIAL)
    assert response.status_code == 200
    page = panel_of(response)
    assert (root(page)["data-state"], root(page)["data-open-threads"]) == ("all", "1")
    (thread,) = elements(page, "article", data_thread_id=...)
    response = member.submit(f"/threads/{thread['data-thread-id']}/resolve", {"state": "open"},
                             headers=PARTIAL)
    assert response.status_code == 200
    assert root(panel_of(response))["data-open-threads"] == "0"
    response = propose(member, clause.id, TEXT + " Today.", headers=PARTIAL)
    assert response.status_code == 200
    assert root(panel_of(response))["data-open-amendments"] == "1"


def test_a_refused_partial_keeps_what_was_typed_and_says_why(app, cast, clause):
    member = client_as(app, cast, "member")
    long_body = "z" * (MAX_COMMENT_LENGTH + 1)
    response = start_thread(member, clause.id, long_body, state="resolved", headers=PARTIAL)
    assert response.status_code == 400
    page = panel_of(response)
    assert root(page)["data-state"] == "resolved"
    assert page.text_of(f"clause-{clause.id}-thread-body") == long_body
    assert page.text_of(f"clause-{clause.id}-thread-body-errors") == "At most 5000 characters."
    assert page.text_of(f"clause-{clause.id}-error") == "Comment is too long."
    assert count(app, CommentThread) == 0


@pytest.mark.parametrize("role, path, data, status, message", [
    ("observer", "/clauses/{clause}/amendments", {"kind": "replace", "text": "New."}, 403,
     "Only the group's chair and members propose amendments."),
    ("member", "/amendments/{amendment}/accept", {}, 403,
     "Only the group's chair accepts or rejects amendments."),
    ("chair", "/amendments/{accepted}/reject", {"reason": "No."}, 409,
     "This amendment has already been dealt with."),
    ("member", "/threads/{thread}/resolve", {}, 403,
     "Only whoever started the thread, or the group's chair, can resolve or reopen it."),
])
def test_a_refused_partial_answers_the_errors_status_inside_the_panel(
        app, factories, cast, clause, role, path, data, status, message):
    with acting(app):
        amendment = factories.amendment(get(Clause, clause.id), get(Participant, cast.member.id))
        accepted = factories.amendment(get(Clause, clause.id), get(Participant, cast.member.id),
                                       status=AmendmentStatus.ACCEPTED)
        thread = factories.thread(get(Clause, clause.id), get(Participant, cast.chair.id))
    url = path.format(clause=clause.id, amendment=amendment.id, accepted=accepted.id, thread=thread.id)
    response = client_as(app, cast, role).submit(url, data, headers=PARTIAL)
    assert response.status_code == status
    page = panel_of(response)
    assert len(elements(page, "div", role="alert", data_discussion_error=...)) == 1
    assert page.text_of(f"clause-{clause.id}-error") == message
    assert fetch(app, Amendment, amendment.id).status is AmendmentStatus.PROPOSED
    assert fetch(app, CommentThread, thread.id).resolved_at is None


# --- refusals for people ----------------------------------------------------------------------


@pytest.mark.parametrize("role, path, data", [
    ("observer", "/clauses/{clause}/amendments", {"kind": "replace", "text": "New.", "base_text": TEXT}),
    ("member", "/comments/{chair_comment}/edit", {"body": "Not mine."}),
    ("member", "/comments/{chair_comment}/delete", {}),
    ("member", "/threads/{chair_thread}/resolve", {}),
    ("member", "/amendments/{amendment}/accept", {}),
    ("member", "/amendments/{amendment}/reject", {"reason": "No."}),
    ("member", "/amendments/{amendment}/put-to-vote", {}),
    ("chair", "/amendments/{amendment}/edit", {"text": "Chair's words.", "base_text": TEXT}),
    ("chair", "/amendments/{amendment}/withdraw", {}),
    ("member", "/amendments/{amendment}/sponsor", {}),  # one's own
    ("observer", "/amendments/{amendment}/sponsor", {}),
])
def test_refused_actions_are_a_friendly_page_and_change_nothing(app, factories, cast, clause,
                                                                role, path, data):
    with acting(app):
        chair_thread = factories.thread(get(Clause, clause.id), get(Participant, cast.chair.id), "Chair's.")
        amendment = factories.amendment(get(Clause, clause.id), get(Participant, cast.member.id))
    with app.app_context():
        chair_comment = db.session.scalars(select(Comment.id).where(Comment.thread_id == chair_thread.id)).one()
    url = path.format(clause=clause.id, chair_comment=chair_comment, chair_thread=chair_thread.id,
                      amendment=amendment.id)
    before = (count(app, Amendment), fetch(app, Comment, chair_comment).body)
    response = client_as(app, cast, role).submit(url, data)
    if "sponsor" in path and role == "member":
        assert response.status_code == 400  # a proposer cannot co-sponsor: an input error
        assert "cannot also co-sponsor" in read(response).text_of("main")
    else:
        assert_friendly_error_page(response, 403, "You do not have access to this page")
    assert (count(app, Amendment), fetch(app, Comment, chair_comment).body) == before
    assert fetch(app, Amendment, amendment.id).status is AmendmentStatus.PROPOSED
    assert not fetch(app, Amendment, amendment.id).decision_reason
    assert fetch(app, CommentThread, chair_thread.id).resolved_at is None


@pytest.mark.parametrize("role", ["other_chair", "outsider"])
def test_people_outside_the_group_cannot_post_to_the_discussion(app, factories, cast, clause, role):
    with acting(app):
        thread = factories.thread(get(Clause, clause.id), get(Participant, cast.member.id))
        amendment = factories.amendment(get(Clause, clause.id), get(Participant, cast.member.id))
    client = client_as(app, cast, role)
    for url, data in [(f"/clauses/{clause.id}/threads", {"body": "Hi."}),
                      (f"/threads/{thread.id}/replies", {"body": "Hi."}),
                      (f"/amendments/{amendment.id}/sponsor", {}),
                      (f"/amendments/{amendment.id}/accept", {})]:
        assert client.submit(url, data).status_code == 404, url
        assert client.submit(url, data, headers=PARTIAL).status_code == 404, url
    assert count(app, Comment) == 1
    assert fetch(app, Amendment, amendment.id).status is AmendmentStatus.PROPOSED


def test_posting_without_the_csrf_token_is_refused(app, cast, clause):
    member = client_as(app, cast, "member")
    response = member.post(f"/clauses/{clause.id}/threads", data={"body": "Forged."})
    assert_friendly_error_page(response, 400, "The request could not be understood")
    response = member.post(f"/clauses/{clause.id}/amendments",
                           data={"kind": "delete"}, headers=PARTIAL)
    assert response.status_code == 400
    assert (count(app, CommentThread), count(app, Amendment)) == (0, 0)


# --- the group setting: observers comment, or only read ---------------------------------------


def test_the_secretariat_restricts_observers_to_reading_with_the_group_form(app, cast, clause):
    secretariat = client_as(app, cast, "secretariat")
    form = assert_well_formed(secretariat.get(f"/groups/{cast.group.id}/edit"))
    checkbox = form.attributes_of("observers_may_comment")
    assert checkbox["type"] == "checkbox" and "checked" in checkbox

    observer = client_as(app, cast, "observer")
    assert created_id(start_thread(observer, clause.id, "Heard."), "thread")

    response = secretariat.submit(f"/groups/{cast.group.id}/edit",
                                  {"name": cast.group.name, "mandate": "Recommend."})
    assert response.status_code == 302
    assert fetch(app, WorkingGroup, cast.group.id).observers_may_comment is False
    assert "checked" not in read(secretariat.get(f"/groups/{cast.group.id}/edit")).attributes_of(
        "observers_may_comment")

    page = read(observer.get(f"/clauses/{clause.id}/discussion"))
    assert not elements(page, "form", data_discussion_new_thread=...)
    assert not elements(page, "textarea")
    assert "does not let you take part" in page.text_of("main")
    assert_friendly_error_page(start_thread(observer, clause.id, "Still here."), 403,
                               "You do not have access to this page")
    assert count(app, CommentThread) == 1
    assert "Observers of this group read the discussion of clauses but do not comment." in \
        read(observer.get(f"/groups/{cast.group.id}")).text_of("main")

    secretariat.submit(f"/groups/{cast.group.id}/edit", {
        "name": cast.group.name, "mandate": "Recommend.", "observers_may_comment": "y"})
    assert fetch(app, WorkingGroup, cast.group.id).observers_may_comment is True


def test_a_new_group_lets_observers_comment_unless_unticked(app, cast):
    secretariat = client_as(app, cast, "secretariat")
    form = read(secretariat.get(f"/conferences/{cast.conference.id}/groups/new"))
    assert "checked" in form.attributes_of("observers_may_comment")
    secretariat.submit(f"/conferences/{cast.conference.id}/groups/new",
                       {"name": "Readers", "mandate": ""})
    with app.app_context():
        group = db.session.scalars(select(WorkingGroup).where(WorkingGroup.name == "Readers")).one()
        assert group.observers_may_comment is False


@pytest.mark.parametrize("role", ["chair", "member"])
def test_only_the_secretariat_edits_the_group_setting(app, cast, role):
    client = client_as(app, cast, role)
    assert client.get(f"/groups/{cast.group.id}/edit").status_code == 403
    client.submit(f"/groups/{cast.group.id}/edit", {"name": "Mine", "mandate": ""})
    assert fetch(app, WorkingGroup, cast.group.id).observers_may_comment is True


def test_the_group_setting_through_the_api_is_a_strict_boolean(app, factories, cast):
    token = factories.api_token(cast.secretariat)
    client = app.test_client()
    group = client.api("GET", f"/api/v1/groups/{cast.group.id}", token=token).get_json()
    assert group["observers_may_comment"] is True
    for value in ("false", 0, None):
        response = client.api("PATCH", f"/api/v1/groups/{cast.group.id}",
                              {"observers_may_comment": value}, token=token)
        assert response.status_code == 400, value
    response = client.api("PATCH", f"/api/v1/groups/{cast.group.id}",
                          {"observers_may_comment": False}, token=token)
    assert response.status_code == 200
    assert response.get_json()["observers_may_comment"] is False
    assert response.get_json()["name"] == cast.group.name  # the rest unchanged


# --- the recommendation and group pages at a glance --------------------------------------------


def test_recommendation_page_shows_each_clauses_discussion_and_open_amendments(app, factories,
                                                                               cast, clause):
    member = client_as(app, cast, "member")
    start_thread(member, clause.id, "One.")
    start_thread(member, clause.id, "Two.")
    wording = TEXT.replace("their families", "their children")
    open_id = created_id(propose(member, clause.id, wording), "amendment")
    closed_id = created_id(propose(member, clause.id, TEXT + " Soon."), "amendment")
    member.submit(f"/amendments/{closed_id}/withdraw")

    page = assert_well_formed(member.get(f"/recommendations/{clause.recommendation_id}"))
    text = page.text_of(f"clause-{clause.id}")
    assert "2 open threads" in text and "1 open amendment" in text and "last activity" in text
    assert f"/clauses/{clause.id}/discussion" in page.main_links
    assert f"/clauses/{clause.id}/discussion#amendment-{open_id}" in page.main_links
    assert f"/clauses/{clause.id}/discussion#amendment-{closed_id}" not in page.main_links
    assert [tag for tag, _attrs in page.tags if tag in {"ins", "del"}] == ["del", "ins"]
    assert "Proposed by Member Person" in text


def test_group_page_shows_discussion_counts_and_member_anchors(app, factories, cast, clause):
    member = client_as(app, cast, "member")
    start_thread(member, clause.id, "One.")
    propose(member, clause.id, TEXT + " Now.")
    page = assert_well_formed(member.get(f"/groups/{cast.group.id}"))
    body = page.text_of("main")
    assert "Open threads" in body and "Open amendments" in body and "Last discussed" in body
    row = page.text_of(f"recommendation-{clause.recommendation_id}")
    assert re.match(r"Protecting migrant workers Drafting 1 1 \d+ \w+ \d{4}, \d\d:\d\d", row), row
    # Mentions link to a member's row.
    for person in (cast.chair, cast.member, cast.observer):
        assert f"member-{person.id}" in page.ids


# --- notifications ----------------------------------------------------------------------------


def test_notifications_list_open_and_mark_read(app, cast, clause):
    chair, member = client_as(app, cast, "chair"), client_as(app, cast, "member")
    thread_id = created_id(start_thread(member, clause.id, "A point."), "thread")
    chair.submit(f"/threads/{thread_id}/replies",
                 {"body": f"Agreed, @**Observer Person|{cast.observer.id}**."})
    amendment_id = created_id(propose(member, clause.id, TEXT + " Now."), "amendment")
    chair.submit(f"/amendments/{amendment_id}/reject", {"reason": "Too late."})

    page = assert_well_formed(member.get("/notifications"))
    badge = elements(page, "span", data_notifications_unread=...)
    assert badge and page.tags  # the header's count
    header = member.get("/notifications").get_data(as_text=True)
    assert re.search(r"data-notifications-unread>2<", header)
    entries = [a["id"] for a in elements(page, "li", id=...) if a["id"].startswith("notification-")]
    assert len(entries) == 2
    texts = [page.text_of(entry) for entry in entries]
    assert texts[0].startswith("New Chair Person rejected your amendment to clause 1 of "
                               "“Protecting migrant workers”.")
    assert texts[1].startswith("New Chair Person replied in your thread on clause 1 of "
                               "“Protecting migrant workers”.")

    # Opening one marks it read and leads to what it is about.
    with app.app_context():
        reply_note, decision_note = db.session.scalars(
            select(Notification.id).where(Notification.recipient_id == cast.member.id)
            .order_by(Notification.id)).all()
    response = member.submit(f"/notifications/{reply_note}/open")
    assert response.headers["Location"] == f"/clauses/{clause.id}/discussion?state=all#thread-{thread_id}"
    assert fetch(app, Notification, reply_note).read_at is not None
    response = member.submit(f"/notifications/{decision_note}/open")
    assert response.headers["Location"] == f"/clauses/{clause.id}/discussion#amendment-{amendment_id}"

    # The observer was mentioned; "mark all read" clears the badge.
    observer = client_as(app, cast, "observer")
    page = read(observer.get("/notifications"))
    assert "Chair Person mentioned you in a comment on clause 1" in page.text_of("main")
    assert observer.submit("/notifications/read-all").headers["Location"] == "/notifications"
    page = read(observer.get("/notifications"))
    assert elements(page, "span", data_notifications_badge=..., hidden=...)
    assert "0 unread" in page.text_of("main")


def test_nobody_opens_someone_elses_notification(app, cast, clause):
    member = client_as(app, cast, "member")
    thread_id = created_id(start_thread(member, clause.id, "A point."), "thread")
    client_as(app, cast, "chair").submit(f"/threads/{thread_id}/replies", {"body": "Yes."})
    with app.app_context():
        note = db.session.scalars(select(Notification.id)).one()
    assert client_as(app, cast, "observer").submit(f"/notifications/{note}/open").status_code == 404
    assert fetch(app, Notification, note).read_at is None


def test_notifications_page_needs_a_sign_in(client):
    response = client.get("/notifications")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- hostile text -----------------------------------------------------------------------------


@pytest.fixture
def hostile(app, factories, cast, xss_payloads) -> dict[str, Any]:
    """Every payload in every field of the discussion a person writes: comment bodies (with a
    mention of a hostile name), amendment wordings and rationales, rejection reasons, and the
    display names of commenters, proposers, co-sponsors and deciders."""
    recommendation = factories.recommendation(cast.group, title="Hostile discussion")
    clauses, worlds = [], []
    with acting(app):
        from drafting.amendments import services as amendments
        from drafting.comments import services as comments

        member = get(Participant, cast.member.id)
        for n, payload in enumerate(xss_payloads):
            person = factories.member_of(get(WorkingGroup, cast.group.id), GroupRole.CHAIR,
                                         name=payload[:200] or "x")
            person = get(Participant, person.id)
            clause = factories.clause(recommendation, text=f"Clause {n} of the text.", position=n + 1)
            clause = get(Clause, clause.id)
            clauses.append(clause.id)
            thread = comments.start_thread(member, clause, {"body": "Opening."})
            comments.reply(person, thread, {"body": f"{payload}\n\n@**{person.name}|{person.id}**"})
            comments.start_thread(person, clause, {"body": payload})
            proposed = amendments.propose_amendment(member, clause, AmendmentCreate(
                kind="replace", text=f"{clause.text} {payload}", rationale=payload))
            amendments.set_sponsorship(person, proposed, True)
            rejected = amendments.propose_amendment(member, clause, AmendmentCreate(
                kind="insert", text=payload, rationale=payload))
            amendments.reject_amendment(person, rejected, AmendmentRejection(reason=payload))
            db.session.commit()
            worlds.append({"payload": payload, "name": person.name, "clause": clause.id,
                           "proposed": proposed.id, "rejected": rejected.id})
    return {"recommendation": recommendation.id, "clauses": clauses, "worlds": worlds}


def test_hostile_discussion_text_stays_inert_on_every_page(app, cast, hostile):
    member = client_as(app, cast, "member")
    pages = [("recommendation", member.get(f"/recommendations/{hostile['recommendation']}")),
             ("group", member.get(f"/groups/{cast.group.id}")),
             ("notifications", member.get("/notifications"))]
    for clause_id in hostile["clauses"]:
        pages.append((f"discussion {clause_id}", member.get(f"/clauses/{clause_id}/discussion?state=all")))
        pages.append((f"panel {clause_id}",
                      member.get(f"/clauses/{clause_id}/discussion?state=all&partial=1")))
    problems, areas = hostile_text_problems(app, read_all(pages))
    assert not problems, "\n".join(problems)
    # Per clause, on its page and its panel: two comment bodies, two rationales at least.
    assert areas >= 8 * len(hostile["clauses"])


def test_hostile_names_and_reasons_show_as_typed(app, cast, hostile):
    member = client_as(app, cast, "member")
    for world in hostile["worlds"]:
        page = read(member.get(f"/clauses/{world['clause']}/discussion?state=all"))
        # Escaped once: the reader sees the characters typed, not "&lt;".
        assert plain(f"co-sponsored by {world['name']}") in page.text_of(f"amendment-{world['proposed']}")
        rejected = page.text_of(f"amendment-{world['rejected']}")
        assert plain(f"Reason {world['payload']}") in rejected
        assert plain(f"Decided by {world['name']}") in rejected
