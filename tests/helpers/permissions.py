"""The permission matrix: every route and API endpoint with who may use it and what the
others get, and the cast every case of it is tried against (made once, restored row for row).
tests/test_permissions.py tries it; tests/test_web_attacks.py attacks it."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drafting.amendments.schemas import AmendmentCreate
from drafting.amendments.services import propose_amendment
from drafting.comments.services import reply, start_thread
from drafting.recommendations.schemas import ClausePatch
from drafting.recommendations.services import update_clause
from drafting.votes.ballots import cast_ballot
from drafting.votes.objections import object_to
from drafting.votes.schemas import BallotIn, ObjectionIn, VoteOpen
from drafting.votes.services import close_vote, open_vote
from models import (
    Clause,
    ClauseKind,
    ClauseUpdate,
    GroupRole,
    Membership,
    Notification,
    Participant,
    Recommendation,
    db,
    utcnow,
)

ROLES = ("secretariat", "chair", "member", "observer", "other_chair", "outsider")
CONFERENCE = {"secretariat", "chair", "member", "observer", "other_chair"}
GROUP = {"chair", "member", "observer"}
DRAFTERS = {"chair", "member"}
EVERYONE = set(ROLES)
OUTSIDE_GROUP = {"other_chair", "outsider"}

Body = dict[str, Any] | Callable[[dict[str, int]], dict[str, Any]] | None


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    #: Roles that may do it, and the status they get.
    ok: frozenset[str]
    ok_status: int
    #: Roles to whom the object does not exist (404); every other role gets 403.
    hidden: frozenset[str] = frozenset()
    #: Form/JSON the request sends; a callable receives the ids of the cast.
    body: Any = None
    api: bool = False

    @property
    def rule_key(self) -> tuple[str, str]:
        return self.method, self.path

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def html(method: str, path: str, ok: set[str], ok_status: int, hidden: set[str] = frozenset(),
         body: Body = None) -> Case:
    return Case(method, path, frozenset(ok), ok_status, frozenset(hidden), body)


def api(method: str, path: str, ok: set[str], ok_status: int, hidden: set[str] = frozenset(),
        body: Body = None) -> Case:
    return Case(method, "/api/v1" + path, frozenset(ok), ok_status, frozenset(hidden), body,
                api=True)


CONFERENCE_FORM = {"title": "Renamed conference", "venue": "Astana", "starts_on": "2009-06-24",
                   "ends_on": "2009-06-25", "organisers": "OSCE", "description": "", "preamble": ""}
RULES_FORM = {"decision_rule": "consensus", "fallback_rule": "two_thirds", "quorum": "majority",
              "chair_votes": "y", "reconsideration_rule": "two_thirds"}
PARTICIPANT_FORM = {"email": "new.person@example.org", "name": "New Person", "affiliation": "ILO",
                    "country": "ILO", "category": "international_organisation"}

CASES = [
    # pages
    html("GET", "/", EVERYONE, 200),
    html("GET", "/profile", EVERYONE, 200),
    html("POST", "/profile", EVERYONE, 302, body={"name": "New Name", "affiliation": "",
                                                  "country": "", "locale": "ru"}),
    html("POST", "/profile/password", EVERYONE, 302, body={
        "current": "correct horse battery", "password": "another long one",
        "confirmation": "another long one"}),
    html("POST", "/profile/tokens", EVERYONE, 201, body={"name": "script"}),
    html("POST", "/profile/tokens/{own_token}/revoke", EVERYONE, 302),
    html("POST", "/logout", EVERYONE, 302),
    html("GET", "/conferences/{conference}", CONFERENCE, 200, hidden={"outsider"}),
    html("GET", "/conferences/new", {"secretariat"}, 200),
    html("POST", "/conferences/new", {"secretariat"}, 302, body=CONFERENCE_FORM),
    html("GET", "/conferences/{conference}/edit", {"secretariat"}, 200, hidden={"outsider"}),
    html("POST", "/conferences/{conference}/edit", {"secretariat"}, 302, hidden={"outsider"},
         body=CONFERENCE_FORM),
    # delegations (build_cast: the member sits in one; another has nobody, so it can go)
    html("GET", "/conferences/{conference}/delegations", CONFERENCE, 200, hidden={"outsider"}),
    html("POST", "/conferences/{conference}/delegations", {"secretariat"}, 302, hidden={"outsider"},
         body={"name": "Kyrgyzstan", "kind": "state", "sort_key": ""}),
    html("POST", "/conferences/{conference}/voting-unit", {"secretariat"}, 302, hidden={"outsider"},
         body={"voting_unit": "delegation"}),
    html("GET", "/conferences/{conference}/delegations/{delegation}", CONFERENCE, 200,
         hidden={"outsider"}),
    html("POST", "/conferences/{conference}/delegations/{delegation}", {"secretariat"}, 302,
         hidden={"outsider"}, body=lambda ids: {"name": "Kazakhstan", "kind": "state", "sort_key": "",
                                                "head_id": str(ids["seated"]), "voter_id": ""}),
    html("POST", "/conferences/{conference}/delegations/{empty_delegation}/delete", {"secretariat"},
         302, hidden={"outsider"}),
    html("POST", "/conferences/{conference}/delegations/{delegation}/seats", {"secretariat"}, 302,
         hidden={"outsider"}, body=lambda ids: {"participant_id": str(ids["newcomer"])}),
    html("POST", "/conferences/{conference}/seats/{seated}/remove", {"secretariat"}, 302,
         hidden={"outsider"}),
    html("GET", "/groups/{group}", CONFERENCE, 200, hidden={"outsider"}),
    html("GET", "/conferences/{conference}/groups/new", {"secretariat"}, 200, hidden={"outsider"}),
    html("POST", "/conferences/{conference}/groups/new", {"secretariat"}, 302, hidden={"outsider"},
         body={"name": "Gender-sensitive policies", "mandate": "Use the OSCE Guide."}),
    html("GET", "/groups/{group}/edit", {"secretariat"}, 200, hidden={"outsider"}),
    html("POST", "/groups/{group}/edit", {"secretariat"}, 302, hidden={"outsider"},
         body={"name": "Renamed group", "mandate": "New mandate"}),
    html("GET", "/groups/{group}/members", {"secretariat", "chair"}, 200, hidden={"outsider"}),
    html("POST", "/groups/{group}/members", {"secretariat", "chair"}, 302, hidden={"outsider"},
         body=lambda ids: {"participant_id": str(ids["newcomer"]), "role": "member"}),
    html("POST", "/memberships/{member_membership}/role", {"secretariat", "chair"}, 302,
         hidden={"outsider"}, body={"role": "observer"}),
    html("POST", "/memberships/{member_membership}/remove", {"secretariat", "chair"}, 302,
         hidden={"outsider"}),
    html("GET", "/admin/participants/", {"secretariat"}, 200),
    html("GET", "/admin/participants/new", {"secretariat"}, 200),
    html("POST", "/admin/participants/new", {"secretariat"}, 201, body=PARTICIPANT_FORM),
    html("GET", "/admin/participants/{newcomer}/edit", {"secretariat"}, 200),
    html("POST", "/admin/participants/{newcomer}/edit", {"secretariat"}, 302,
         body={**PARTICIPANT_FORM, "email": "renamed@example.org"}),
    html("POST", "/admin/participants/{newcomer}/invitation", {"secretariat"}, 201),
    html("POST", "/admin/participants/{newcomer}/deactivate", {"secretariat"}, 302),
    html("POST", "/admin/participants/{newcomer}/activate", {"secretariat"}, 302),
    html("GET", "/recommendations/{recommendation}", GROUP | {"secretariat"}, 200,
         hidden=OUTSIDE_GROUP),
    html("GET", "/groups/{group}/recommendations/new", DRAFTERS, 200, hidden={"outsider"}),
    html("POST", "/groups/{group}/recommendations/new", DRAFTERS, 302, hidden={"outsider"},
         body={"title": "On remittances"}),
    html("GET", "/recommendations/{recommendation}/edit", {"chair", "secretariat"}, 200,
         hidden=OUTSIDE_GROUP),
    html("POST", "/recommendations/{recommendation}/edit", {"chair", "secretariat"}, 302,
         hidden=OUTSIDE_GROUP, body={"title": "Renamed"}),
    html("POST", "/recommendations/{recommendation}/withdraw", {"chair", "secretariat"}, 302,
         hidden=OUTSIDE_GROUP),
    html("POST", "/recommendations/{recommendation}/clauses", DRAFTERS, 302, hidden=OUTSIDE_GROUP,
         body={"kind": "operative", "text": "Invites the ILO to assist;"}),
    html("GET", "/clauses/{clause}/edit", DRAFTERS, 200, hidden=OUTSIDE_GROUP),
    html("POST", "/clauses/{clause}/edit", DRAFTERS, 302, hidden=OUTSIDE_GROUP,
         body={"text": "Calls on States to act;"}),
    html("POST", "/clauses/{clause}/delete", DRAFTERS, 302, hidden=OUTSIDE_GROUP),
    html("POST", "/clauses/{clause}/unlock", {"chair"}, 302, hidden=OUTSIDE_GROUP),
    html("POST", "/clauses/{clause}/ad-referendum", {"chair"}, 302, hidden=OUTSIDE_GROUP),
    html("POST", "/clauses/{clause}/ad-referendum/clear", {"chair"}, 302, hidden=OUTSIDE_GROUP),
    html("GET", "/clauses/{clause}/history", GROUP | {"secretariat"}, 200, hidden=OUTSIDE_GROUP),
    html("POST", "/clauses/{clause}/history/restore?at={first_update}", DRAFTERS, 302,
         hidden=OUTSIDE_GROUP),
    # discussion: the thread, comment and amendment are the member's own (build_cast)
    html("GET", "/clauses/{clause}/discussion", GROUP | {"secretariat"}, 200, hidden=OUTSIDE_GROUP),
    html("POST", "/clauses/{clause}/threads", GROUP | {"secretariat"}, 302, hidden=OUTSIDE_GROUP,
         body={"body": "Could we say *region*?"}),
    html("POST", "/threads/{thread}/replies", GROUP | {"secretariat"}, 302, hidden=OUTSIDE_GROUP,
         body={"body": "Agreed."}),
    # The thread was started by the member: they or the chair resolve and reopen it.
    html("POST", "/threads/{thread}/resolve", {"member", "chair"}, 302, hidden=OUTSIDE_GROUP),
    html("POST", "/threads/{thread}/reopen", {"member", "chair"}, 302, hidden=OUTSIDE_GROUP),
    # The member's own comment.
    html("GET", "/comments/{comment}/edit", {"member"}, 200, hidden=OUTSIDE_GROUP),
    html("POST", "/comments/{comment}/edit", {"member"}, 302, hidden=OUTSIDE_GROUP,
         body={"body": "Could we say *regional*?"}),
    html("POST", "/comments/{comment}/delete", {"member"}, 302, hidden=OUTSIDE_GROUP),
    html("POST", "/clauses/{clause}/amendments", DRAFTERS, 302, hidden=OUTSIDE_GROUP,
         body={"kind": "replace", "text": "Calls on States to act now;", "rationale": ""}),
    # The member's own amendment; the colleague's is one nobody of the cast proposed.
    html("GET", "/amendments/{amendment}/edit", {"member"}, 200, hidden=OUTSIDE_GROUP),
    html("POST", "/amendments/{amendment}/edit", {"member"}, 302, hidden=OUTSIDE_GROUP,
         body={"text": "Calls on States to act at once;", "rationale": "Urgent."}),
    html("POST", "/amendments/{amendment}/withdraw", {"member"}, 302, hidden=OUTSIDE_GROUP),
    html("POST", "/amendments/{colleagues_amendment}/sponsor", DRAFTERS, 302, hidden=OUTSIDE_GROUP),
    html("POST", "/amendments/{colleagues_amendment}/unsponsor", DRAFTERS, 302,
         hidden=OUTSIDE_GROUP),
    html("POST", "/amendments/{amendment}/accept", {"chair"}, 302, hidden=OUTSIDE_GROUP),
    html("POST", "/amendments/{amendment}/reject", {"chair"}, 302, hidden=OUTSIDE_GROUP,
         body={"reason": "Out of the mandate."}),
    html("POST", "/amendments/{amendment}/put-to-vote", {"chair"}, 302, hidden=OUTSIDE_GROUP),
    # the outcome document (_exports in build_cast: a finished export job of the secretariat;
    # the cast's conference has a draft pending, so finalising is refused: 409)
    html("GET", "/conferences/{conference}/export", {"secretariat"}, 200, hidden={"outsider"}),
    html("GET", "/conferences/{conference}/export/preview", {"secretariat"}, 200,
         hidden={"outsider"}),
    html("GET", "/conferences/{conference}/export/download?format=md", {"secretariat"}, 200,
         hidden={"outsider"}),
    # Not finalised: nothing stored to download, even for the secretariat.
    html("GET", "/conferences/{conference}/export/final/{final_format}", {"secretariat"}, 404,
         hidden={"outsider"}),
    html("POST", "/conferences/{conference}/finalise", {"secretariat"}, 409, hidden={"outsider"},
         body={"confirm": "1"}),
    # The closing plenary (the cast's draft is pending: its adoption cannot be recorded yet,
    # so there is none to withdraw).
    html("POST", "/conferences/{conference}/plenary-adoption", {"secretariat"}, 409,
         hidden={"outsider"}, body={"adopted_on": "2009-06-25", "method": "consensus"}),
    html("POST", "/conferences/{conference}/plenary-adoption/withdraw", {"secretariat"}, 404,
         hidden={"outsider"}),
    html("POST", "/conferences/{conference}/chairs-summary", {"secretariat"}, 302,
         hidden={"outsider"}, body={"text": "The chair notes the views on *remittances*."}),
    html("GET", "/groups/{group}/export", {"secretariat", "chair"}, 200, hidden={"outsider"}),
    html("GET", "/groups/{group}/export/preview", {"secretariat", "chair"}, 200,
         hidden={"outsider"}),
    html("GET", "/groups/{group}/export/download?format=md", {"secretariat", "chair"}, 200,
         hidden={"outsider"}),
    html("POST", "/conferences/{conference}/export/jobs", {"secretariat"}, 302,
         hidden={"outsider"}, body={"format": "md"}),
    html("POST", "/groups/{group}/export/jobs", {"secretariat", "chair"}, 302,
         hidden={"outsider"}, body={"format": "md"}),
    html("GET", "/export/jobs/{export_job}/progress", {"secretariat"}, 200,
         hidden=EVERYONE - {"secretariat"}),
    html("GET", "/export/jobs/{export_job}", {"secretariat"}, 200, hidden=EVERYONE - {"secretariat"}),
    html("GET", "/export/jobs/{export_job}/download", {"secretariat"}, 200,
         hidden=EVERYONE - {"secretariat"}),
    # vote pages and forms (the votes of _votes in build_cast)
    html("GET", "/votes/{open_vote}", GROUP | {"secretariat"}, 200, hidden=OUTSIDE_GROUP),
    html("GET", "/votes/{open_vote}/projector", GROUP | {"secretariat"}, 200,
         hidden=OUTSIDE_GROUP),
    html("GET", "/votes/{closed_vote}/record", GROUP | {"secretariat"}, 200, hidden=OUTSIDE_GROUP),
    html("POST", "/votes/{open_vote}/ballot", {"chair", "member"}, 302, hidden=OUTSIDE_GROUP,
         body=lambda ids: {"option_id": str(ids["open_vote_yes"])}),
    html("POST", "/votes/{open_vote}/close", {"chair"}, 302, hidden=OUTSIDE_GROUP),
    html("POST", "/votes/{open_vote}/cancel", {"chair"}, 302, hidden=OUTSIDE_GROUP),
    html("POST", "/votes/{consensus_vote}/objection", {"chair", "member"}, 302,
         hidden=OUTSIDE_GROUP, body={"reason": "Not yet."}),
    html("POST", "/votes/{consensus_vote}/objection/withdraw", {"chair", "member"}, 302,
         hidden=OUTSIDE_GROUP),
    html("GET", "/conferences/{conference}/rules", CONFERENCE, 200, hidden={"outsider"}),
    html("POST", "/conferences/{conference}/rules", {"secretariat"}, 302, hidden={"outsider"},
         body=RULES_FORM),
    html("GET", "/recommendations/{recommendation}/votes?partial=1", GROUP | {"secretariat"}, 200,
         hidden=OUTSIDE_GROUP),
    html("POST", "/recommendations/{recommendation}/votes", {"chair"}, 302, hidden=OUTSIDE_GROUP,
         body=lambda ids: {"subject": "clause", "clause_id": str(ids["votable_clause"]),
                           "ballot": "roll_call"}),
    # Statements: the group's chair and members; observers have no voice in its decisions.
    html("POST", "/recommendations/{recommendation}/statements", DRAFTERS, 302, hidden=OUTSIDE_GROUP,
         body=lambda ids: {"kind": "interpretative", "text": "We read it as binding.",
                           "clause_id": str(ids["adopted_clause"])}),
    html("GET", "/notifications", EVERYONE, 200),
    html("POST", "/notifications/read-all", EVERYONE, 302),
    # The member's notification: nobody else's to open.
    html("POST", "/notifications/{notification}/open", {"member"}, 302,
         hidden=EVERYONE - {"member"}),
    # API (the discussion's endpoints have their matrix in tests/test_discussion_api.py)
    api("GET", "/me", EVERYONE, 200),
    api("GET", "/conferences", EVERYONE, 200),
    api("POST", "/conferences", {"secretariat"}, 201, body={
        "title": "Second conference", "starts_on": "2010-05-01", "ends_on": "2010-05-02"}),
    api("GET", "/conferences/{conference}", CONFERENCE, 200, hidden={"outsider"}),
    api("PATCH", "/conferences/{conference}", {"secretariat"}, 200, hidden={"outsider"},
        body={"venue": "Almaty"}),
    api("GET", "/conferences/{conference}/delegations", CONFERENCE, 200, hidden={"outsider"}),
    api("POST", "/conferences/{conference}/delegations", {"secretariat"}, 201, hidden={"outsider"},
        body={"name": "Kyrgyzstan"}),
    api("GET", "/conferences/{conference}/delegations/{delegation}", CONFERENCE, 200,
        hidden={"outsider"}),
    api("PATCH", "/conferences/{conference}/delegations/{delegation}", {"secretariat"}, 200,
        hidden={"outsider"}, body=lambda ids: {"voter_id": ids["seated"]}),
    api("DELETE", "/conferences/{conference}/delegations/{empty_delegation}", {"secretariat"}, 204,
        hidden={"outsider"}),
    api("PUT", "/conferences/{conference}/seats/{newcomer}", {"secretariat"}, 200,
        hidden={"outsider"}, body=lambda ids: {"delegation_id": ids["delegation"]}),
    api("DELETE", "/conferences/{conference}/seats/{seated}", {"secretariat"}, 204,
        hidden={"outsider"}),
    api("PUT", "/conferences/{conference}/voting-unit", {"secretariat"}, 200, hidden={"outsider"},
        body={"voting_unit": "delegation"}),
    api("GET", "/groups/{group}", CONFERENCE, 200, hidden={"outsider"}),
    api("POST", "/conferences/{conference}/groups", {"secretariat"}, 201, hidden={"outsider"},
        body={"name": "New group"}),
    api("PATCH", "/groups/{group}", {"secretariat"}, 200, hidden={"outsider"},
        body={"mandate": "Changed"}),
    api("POST", "/groups/{group}/members", {"secretariat", "chair"}, 201, hidden={"outsider"},
        body=lambda ids: {"participant_id": ids["newcomer"], "role": "observer"}),
    api("PATCH", "/memberships/{member_membership}", {"secretariat", "chair"}, 200,
        hidden={"outsider"}, body={"role": "observer"}),
    api("DELETE", "/memberships/{member_membership}", {"secretariat", "chair"}, 204,
        hidden={"outsider"}),
    api("GET", "/participants", {"secretariat"}, 200),
    api("POST", "/participants", {"secretariat"}, 201, body=PARTICIPANT_FORM),
    api("GET", "/participants/{newcomer}", {"secretariat"}, 200),
    api("PATCH", "/participants/{newcomer}", {"secretariat"}, 200, body={"country": "Kyrgyzstan"}),
    api("GET", "/recommendations", EVERYONE, 200),
    api("GET", "/recommendations/{recommendation}", GROUP | {"secretariat"}, 200,
        hidden=OUTSIDE_GROUP),
    api("POST", "/groups/{group}/recommendations", DRAFTERS, 201, hidden={"outsider"},
        body={"title": "On remittances"}),
    api("PATCH", "/recommendations/{recommendation}", {"chair", "secretariat"}, 200,
        hidden=OUTSIDE_GROUP, body={"title": "Renamed"}),
    api("POST", "/recommendations/{recommendation}/withdraw", {"chair", "secretariat"}, 200,
        hidden=OUTSIDE_GROUP),
    api("POST", "/recommendations/{recommendation}/clauses", DRAFTERS, 201, hidden=OUTSIDE_GROUP,
        body={"kind": "preambular", "text": "*Noting* the crisis,"}),
    api("PATCH", "/clauses/{clause}", DRAFTERS, 200, hidden=OUTSIDE_GROUP,
        body={"text": "Calls on States to act;"}),
    api("DELETE", "/clauses/{clause}", DRAFTERS, 204, hidden=OUTSIDE_GROUP),
    api("POST", "/clauses/{clause}/move", DRAFTERS, 200, hidden=OUTSIDE_GROUP,
        body={"after_id": None}),
    api("POST", "/clauses/{deleted_clause}/restore", DRAFTERS, 200, hidden=OUTSIDE_GROUP),
    api("POST", "/clauses/{clause}/lock", {"chair"}, 200, hidden=OUTSIDE_GROUP),
    api("POST", "/clauses/{clause}/unlock", {"chair"}, 200, hidden=OUTSIDE_GROUP),
    api("POST", "/clauses/{clause}/ad-referendum", {"chair"}, 200, hidden=OUTSIDE_GROUP),
    api("DELETE", "/clauses/{clause}/ad-referendum", {"chair"}, 200, hidden=OUTSIDE_GROUP),
    api("GET", "/clauses/{clause}/history", GROUP | {"secretariat"}, 200, hidden=OUTSIDE_GROUP),
    api("GET", "/clauses/{clause}/text?at={first_update}", GROUP | {"secretariat"}, 200,
        hidden=OUTSIDE_GROUP),
    api("GET", "/clauses/{clause}/diff?from={first_update}", GROUP | {"secretariat"}, 200,
        hidden=OUTSIDE_GROUP),
    api("POST", "/clauses/{clause}/restore-wording", DRAFTERS, 200, hidden=OUTSIDE_GROUP,
        body=lambda ids: {"at": ids["first_update"]}),
    # votes: an open roll-call vote, a closed one that adopted its clause (build_cast)
    api("GET", "/recommendations/{recommendation}/votes", GROUP | {"secretariat"}, 200,
        hidden=OUTSIDE_GROUP),
    api("POST", "/recommendations/{recommendation}/votes", {"chair"}, 201, hidden=OUTSIDE_GROUP,
        body=lambda ids: {"subject": "clause", "clause_id": ids["votable_clause"]}),
    api("GET", "/votes/{open_vote}", GROUP | {"secretariat"}, 200, hidden=OUTSIDE_GROUP),
    api("POST", "/votes/{open_vote}/ballot", {"chair", "member"}, 200, hidden=OUTSIDE_GROUP,
        body=lambda ids: {"option_id": ids["open_vote_yes"]}),
    api("GET", "/votes/{open_vote}/ballot", GROUP | {"secretariat"}, 200, hidden=OUTSIDE_GROUP),
    api("POST", "/votes/{open_vote}/close", {"chair"}, 200, hidden=OUTSIDE_GROUP),
    api("POST", "/votes/{consensus_vote}/presence", GROUP | {"secretariat"}, 200,
        hidden=OUTSIDE_GROUP),
    api("POST", "/votes/{consensus_vote}/objection", {"chair", "member"}, 200,
        hidden=OUTSIDE_GROUP, body={"reason": "Not yet."}),
    api("DELETE", "/votes/{consensus_vote}/objection", {"chair", "member"}, 200,
        hidden=OUTSIDE_GROUP),
    api("GET", "/conferences/{conference}/rules", CONFERENCE, 200, hidden={"outsider"}),
    api("PUT", "/conferences/{conference}/rules", {"secretariat"}, 200, hidden={"outsider"},
        body={"decision_rule": "consensus", "fallback_rule": "two_thirds", "quorum": "majority",
              "chair_votes": True, "reconsideration_rule": "two_thirds"}),
    api("POST", "/votes/{open_vote}/cancel", {"chair"}, 200, hidden=OUTSIDE_GROUP),
    api("GET", "/votes/{closed_vote}/verify", GROUP | {"secretariat"}, 200, hidden=OUTSIDE_GROUP),
    api("GET", "/recommendations/{recommendation}/statements", GROUP | {"secretariat"}, 200,
        hidden=OUTSIDE_GROUP),
    api("POST", "/recommendations/{recommendation}/statements", DRAFTERS, 201, hidden=OUTSIDE_GROUP,
        body=lambda ids: {"kind": "reservation", "text": "Our delegation cannot join.",
                          "clause_id": ids["adopted_clause"]}),
    # the outcome document (see the pages above)
    api("POST", "/conferences/{conference}/exports", {"secretariat"}, 202, hidden={"outsider"},
        body={"format": "md"}),
    api("GET", "/exports/{export_job}", {"secretariat"}, 200, hidden=EVERYONE - {"secretariat"}),
    api("POST", "/conferences/{conference}/finalise", {"secretariat"}, 409, hidden={"outsider"}),
    api("GET", "/conferences/{conference}/documents", {"secretariat"}, 200, hidden={"outsider"}),
    # Not recorded yet (the cast's draft is pending): nothing to read or withdraw.
    api("GET", "/conferences/{conference}/plenary-adoption", CONFERENCE, 404, hidden={"outsider"}),
    api("PUT", "/conferences/{conference}/plenary-adoption", {"secretariat"}, 409,
        hidden={"outsider"}, body={"adopted_on": "2009-06-25", "method": "consensus"}),
    api("DELETE", "/conferences/{conference}/plenary-adoption", {"secretariat"}, 404,
        hidden={"outsider"}),
    api("GET", "/conferences/{conference}/chairs-summary", CONFERENCE, 200, hidden={"outsider"}),
    api("PUT", "/conferences/{conference}/chairs-summary", {"secretariat"}, 200,
        hidden={"outsider"}, body={"text": "The chair notes the views on *remittances*."}),
]

#: Reachable without signing in, by design; their behaviour is tested in test_auth/test_api.
PUBLIC = {
    ("GET", "/login"), ("POST", "/login"), ("GET", "/invitations/<token>"),
    ("POST", "/invitations/<token>"), ("POST", "/locale"), ("GET", "/api/v1/openapi.json"),
    ("GET", "/static/<path:filename>"),
}


def flask_rule(path: str) -> str:
    """"/groups/{group}/members" -> the rule's shape, for matching against the URL map."""
    return re.sub(r"\{[a-z_]+\}", "<>", path.split("?", 1)[0])


#: The cast's rows as first built in this process, per database: ~1,200 cases each start
#: from the same cast, and putting its rows back is far cheaper than making them again through
#: the factories and services (which was most of this module's time).
_saved_casts: dict[str, tuple[Any, dict[str, int], list[tuple[Any, list[dict[str, Any]]]]]] = {}


def build_cast(factories) -> tuple[Any, dict[str, int]]:
    """The cast and the ids of its objects: made once, then restored row for row into the
    empty database each case starts with (a second cast in the same test is made anew)."""
    app = factories.app
    key = app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        empty = db.session.scalar(db.select(db.func.count()).select_from(Participant)) == 0
        saved = _saved_casts.get(key) if empty else None
        if saved is not None:
            cast, ids, rows = saved
            with db.engine.begin() as connection:
                for table, table_rows in rows:
                    if table_rows:
                        connection.execute(table.insert(), table_rows)
            ids = dict(ids)
    if saved is None:
        cast, ids = _make_cast(factories)
        if empty:
            with app.app_context(), db.engine.connect() as connection:
                rows = [(table, [dict(row) for row in connection.execute(table.select()).mappings()])
                        for table in db.metadata.sorted_tables]
            _saved_casts[key] = (cast, dict(ids), rows)
    ids.update(_exports(factories, cast))
    return cast, ids


def _make_cast(factories) -> tuple[Any, dict[str, int]]:
    cast = factories.cast()
    recommendation = factories.recommendation(cast.group, clauses=[
        (ClauseKind.PREAMBULAR, "*Recognising* the crisis,"),
        (ClauseKind.OPERATIVE, "Calls on States to protect migrant workers;"),
    ])
    newcomer = factories.participant(name="New Comer")
    deleted = factories.clause(recommendation, text="Withdrawn wording;", position=9)
    with factories.app.app_context():
        member_membership = db.session.scalar(
            db.select(Membership.id).where(Membership.participant_id == cast.member.id)
        )
        clause_id = db.session.scalar(
            db.select(db.func.max(Clause.id)).where(Clause.id != deleted.id))
        db.session.get(Clause, deleted.id).deleted_at = utcnow()
        db.session.commit()
    with factories.app.test_request_context():
        # A clause with a history: its first text, then one edit by the chair.
        update_clause(db.session.get(Participant, cast.chair.id), db.session.get(Clause, clause_id),
                      ClausePatch(text="Calls on States to protect all migrant workers;"))
        db.session.commit()
        first_update = db.session.scalar(db.select(db.func.min(ClauseUpdate.id)))
    ids = {
        "conference": cast.conference.id, "group": cast.group.id,
        "recommendation": recommendation.id, "clause": clause_id,
        "member_membership": member_membership, "newcomer": newcomer.id,
        "deleted_clause": deleted.id, "first_update": first_update,
    }
    delegation = factories.delegation(cast.conference, "Kazakhstan", members=(cast.member,),
                                      head=cast.member)
    empty = factories.delegation(cast.conference, "Uzbekistan")
    ids.update({"delegation": delegation.id, "empty_delegation": empty.id, "seated": cast.member.id})
    ids.update(_discussion(factories, cast, clause_id))
    ids.update(_votes(factories, cast, recommendation))
    return cast, ids


def _discussion(factories, cast, clause_id: int) -> dict[str, int]:
    """The member's thread (a colleague replied: the member's notification), the member's
    amendment, and a colleague's amendment others may co-sponsor."""
    colleague = factories.member_of(cast.group, GroupRole.MEMBER, name="A Colleague")
    with factories.app.test_request_context():
        clause = db.session.get(Clause, clause_id)
        member = db.session.get(Participant, cast.member.id)
        thread = start_thread(member, clause, {"body": "A point."})
        reply(db.session.get(Participant, colleague.id), thread, {"body": "Noted."})
        amendment = propose_amendment(member, clause, AmendmentCreate(kind="replace", text=clause.text + " Now."))
        colleagues = propose_amendment(db.session.get(Participant, colleague.id), clause,
                                       AmendmentCreate(kind="insert", text="Invites the ILO to assist;"))
        db.session.commit()
        return {"thread": thread.id, "comment": thread.comments[0].id, "amendment": amendment.id,
                "colleagues_amendment": colleagues.id,
                "notification": db.session.scalar(db.select(Notification.id))}


def _votes(factories, cast, recommendation) -> dict[str, int]:
    """A roll-call vote open on a clause of its own; a closed vote that adopted another clause
    (statements attach to it); consensus sought on a third, the chair and the member
    objecting; the preambular clause stays free to be put to a vote."""
    voted = factories.clause(recommendation, text="Invites employers to act;", position=3)
    adopted = factories.clause(recommendation, text="Invites the OSCE to report;", position=4)
    sought = factories.clause(recommendation, text="Invites the ILO to report;", position=5)
    with factories.app.test_request_context():
        chair = db.session.get(Participant, cast.chair.id)
        draft = db.session.get(Recommendation, recommendation.id)
        closed = open_vote(chair, draft, VoteOpen(subject="clause", clause_id=adopted.id))
        cast_ballot(chair, closed, BallotIn(option_id=closed.options[0].id))
        close_vote(chair, closed)
        vote = open_vote(chair, draft, VoteOpen(subject="clause", clause_id=voted.id))
        consensus = open_vote(chair, draft, VoteOpen(subject="clause", clause_id=sought.id,
                                                     method="consensus"))
        for objector in (chair, db.session.get(Participant, cast.member.id)):
            object_to(objector, consensus, ObjectionIn(reason="Too soon."))
        db.session.commit()
        free = db.session.scalar(db.select(db.func.min(Clause.id))
                                 .where(Clause.recommendation_id == recommendation.id))
        return {"open_vote": vote.id, "open_vote_yes": vote.options[0].id,
                "closed_vote": closed.id, "adopted_clause": adopted.id, "votable_clause": free,
                "vote_clause": voted.id, "consensus_vote": consensus.id}


def _exports(factories, cast) -> dict[str, Any]:
    """A finished export job of the secretariat's (made directly: no thread per case)."""
    from drafting.export import jobs

    job = jobs.ExportJob(id=10**9 + cast.conference.id, owner_id=cast.secretariat.id,
                         conference_id=cast.conference.id, group_id=None, format="md",
                         changes=False, locale="en", status=jobs.FINISHED, progress=100,
                         data=b"# Outcome", filename="outcome.md", mimetype="text/markdown",
                         finished_at=utcnow())
    jobs.store(factories.app).add(job)
    return {"export_job": job.id, "final_format": "md"}
