"""The discussion API's world (a group's clause with threads, comments and amendments of
each kind of person) and its permission matrix: who may do what to it, and what the others
get. tests/test_discussion_api.py tries the matrix; tests/test_permissions.py counts it in
its own."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from models import (
    AmendmentKind,
    ClauseKind,
    Comment,
    CommentThread,
    Notification,
    NotificationKind,
    db,
    utcnow,
)

ROLES = ("secretariat", "chair", "member", "observer", "other_chair", "outsider")
OUTSIDE_GROUP = frozenset({"other_chair", "outsider"})
OPERATIVE = "Calls on States to protect migrant workers;"
PREAMBULAR = "*Recognising* the crisis,"


# --- the world the tests act in -----------------------------------------------------------


@dataclass
class World:
    """A draft of the "Labour migration" group with a discussion under way, and a draft of
    another group of the same conference that the first group's people must not reach."""

    cast: Any
    tokens: dict[str, str]
    recommendation: int
    preambular: int
    clause: int
    #: Started by the member, with a reply by the observer.
    thread: int
    member_comment: int
    observer_comment: int
    #: Started by the member, then resolved.
    resolved_thread: int
    #: A new wording proposed by the member; one proposed by the chair.
    amendment: int
    chairs_amendment: int
    #: The member's notification (the observer's reply).
    notification: int
    #: Another group's draft, clause, thread and amendment.
    foreign_recommendation: int
    foreign_clause: int
    foreign_thread: int
    foreign_amendment: int

    def ids(self) -> dict[str, int]:
        return {name: value for name, value in vars(self).items() if isinstance(value, int)}

    def token(self, role: str) -> str:
        return self.tokens[role]


def build_world(app, factories) -> World:
    cast = factories.cast()
    draft = factories.recommendation(cast.group, title="Protecting migrant workers")
    preambular = factories.clause(draft, kind=ClauseKind.PREAMBULAR, text=PREAMBULAR)
    clause = factories.clause(draft, text=OPERATIVE)
    thread = factories.thread(clause, cast.member, "Should we say *region*?",
                              (cast.observer, "NGOs would welcome that."))
    resolved = factories.thread(clause, cast.member, "Typo in line 2.")
    amendment = factories.amendment(clause, cast.member,
                                    text="Calls on States to defend migrant workers;")
    chairs = factories.amendment(clause, cast.chair, kind=AmendmentKind.INSERT,
                                 text="Invites employers to do the same;")
    foreign_draft = factories.recommendation(cast.other_group, title="Their draft")
    foreign_clause = factories.clause(foreign_draft, text="Secret wording;")
    foreign_thread = factories.thread(foreign_clause, cast.other_chair, "Internal remark.")
    foreign_amendment = factories.amendment(foreign_clause, cast.other_chair)
    with app.app_context():
        comments = list(db.session.scalars(
            select(Comment.id).where(Comment.thread_id == thread.id).order_by(Comment.id)))
        db.session.get(CommentThread, resolved.id).resolved_at = utcnow()
        notification = Notification(recipient_id=cast.member.id, kind=NotificationKind.REPLY,
                                    actor_id=cast.observer.id, clause_id=clause.id,
                                    comment_id=comments[1])
        db.session.add(notification)
        db.session.commit()
        notification_id = notification.id
    tokens = {role: factories.api_token(getattr(cast, role)) for role in ROLES}
    return World(cast, tokens, draft.id, preambular.id, clause.id, thread.id, comments[0],
                 comments[1], resolved.id, amendment.id, chairs.id, notification_id,
                 foreign_draft.id, foreign_clause.id, foreign_thread.id, foreign_amendment.id)


# --- the permission matrix ----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    #: Role -> the status it gets; roles outside the group get 404 unless listed.
    expected: dict[str, int]
    body: dict[str, Any] | None = None

    def status_for(self, role: str) -> int:
        if role in self.expected:
            return self.expected[role]
        return 404 if role in OUTSIDE_GROUP else 403

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def case(method: str, path: str, ok: set[str], status: int, body: dict[str, Any] | None = None,
         **special: int) -> Case:
    return Case(method, path, {**dict.fromkeys(ok, status), **special}, body)


READERS = {"secretariat", "chair", "member", "observer"}
COMMENTERS = READERS
DRAFTERS = {"chair", "member"}
EVERYONE = set(ROLES)

CASES = [
    case("GET", "/clauses/{clause}/threads?state=open", READERS, 200),
    case("GET", "/recommendations/{recommendation}/threads", READERS, 200),
    case("GET", "/threads/{thread}", READERS, 200),
    case("POST", "/clauses/{clause}/threads", COMMENTERS, 201, {"body": "A new point."}),
    case("POST", "/threads/{thread}/comments", COMMENTERS, 201,
         {"body": "Agreed.", "parent_id": None}),
    case("PATCH", "/comments/{member_comment}", {"member"}, 200, {"body": "Should we say *sub-region*?"}),
    case("DELETE", "/comments/{member_comment}", {"member"}, 204),
    case("POST", "/threads/{thread}/resolve", {"member", "chair"}, 200),
    case("POST", "/threads/{resolved_thread}/reopen", {"member", "chair"}, 200),
    case("GET", "/clauses/{clause}/amendments?state=open", READERS, 200),
    case("GET", "/recommendations/{recommendation}/amendments", READERS, 200),
    case("GET", "/amendments/{amendment}", READERS, 200),
    case("POST", "/clauses/{clause}/amendments", DRAFTERS, 201,
         {"kind": "replace", "text": "Calls on all States to protect migrant workers;",
          "rationale": "Universal."}),
    case("PATCH", "/amendments/{amendment}", {"member"}, 200, {"rationale": "Stronger verb."}),
    case("POST", "/amendments/{amendment}/withdraw", {"member"}, 200),
    # The member proposed it: co-sponsoring one's own amendment is bad input, not a right.
    case("PUT", "/amendments/{amendment}/sponsors/me", {"chair"}, 200, member=400),
    case("DELETE", "/amendments/{amendment}/sponsors/me", {"chair"}, 200, member=400),
    case("PUT", "/amendments/{chairs_amendment}/sponsors/me", {"member"}, 200, chair=400),
    case("POST", "/amendments/{amendment}/accept", {"chair"}, 200),
    case("POST", "/amendments/{amendment}/reject", {"chair"}, 200, {"reason": "Too weak."}),
    case("POST", "/amendments/{amendment}/put-to-vote", {"chair"}, 200),
    case("GET", "/notifications", EVERYONE, 200),
    case("POST", "/notifications/read-all", EVERYONE, 200),
    # Another person's notification does not exist for anyone but its recipient.
    Case("POST", "/notifications/{notification}/read",
         {"member": 200, **{role: 404 for role in ROLES if role != "member"}}),
]
