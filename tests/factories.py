"""Factories for every model: ``factories.participant()``, ``factories.group(conference)`` ...

Each call commits, so the data is visible to the test client as to services. Inside a test
that holds an application context (the ``ctx`` fixture) the objects stay attached to its
session; otherwise the factory opens a context of its own and hands back detached objects
whose columns are loaded (``.id``, ``.email`` ...), which is what client tests need.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from flask import Flask, has_app_context

from drafting.auth.passwords import hash_password
from models import (
    DEFAULT_RULES,
    Amendment,
    AmendmentKind,
    AmendmentStatus,
    ApiToken,
    Clause,
    ClauseKind,
    Comment,
    CommentThread,
    Conference,
    Delegation,
    DelegationKind,
    GroupRole,
    Membership,
    Participant,
    QuorumRule,
    Recommendation,
    RecommendationStatus,
    Seat,
    StakeholderCategory,
    VoteRule,
    WorkingGroup,
    db,
)

PASSWORD = "correct horse battery"
T = TypeVar("T")
_sequence = itertools.count(1)


@dataclass
class Cast:
    """A working group with one participant in each role the permission rules distinguish."""

    conference: Conference
    group: WorkingGroup
    other_group: WorkingGroup
    secretariat: Participant
    chair: Participant
    member: Participant
    observer: Participant
    other_chair: Participant
    outsider: Participant


#: The rules of procedure as a new conference gets them (``models.DEFAULT_RULES``).
PRACTICE: dict[str, Any] = {
    "decision_rule": DEFAULT_RULES.decision_rule, "fallback_rule": DEFAULT_RULES.fallback_rule,
    "quorum_rule": DEFAULT_RULES.quorum, "chair_votes": DEFAULT_RULES.chair_votes,
    "reconsideration_rule": DEFAULT_RULES.reconsideration_rule}


class Factories:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self._password_hash: str | None = None

    @contextmanager
    def _session(self) -> Iterator[list[Any]]:
        created: list[Any] = []
        if has_app_context():
            yield created
            db.session.add_all(created)
            db.session.commit()
            return
        with self.app.app_context():
            yield created
            db.session.add_all(created)
            db.session.commit()
            for obj in created:
                db.session.refresh(obj)
            db.session.expunge_all()

    def _make(self, obj: T) -> T:
        with self._session() as created:
            created.append(obj)
        return obj

    def _attached(self, obj: T) -> T:
        """The same row, in the current session (factories may get detached arguments)."""
        if obj is None or not has_app_context():
            return obj
        return db.session.merge(obj, load=False) if obj not in db.session else obj

    def password_hash(self) -> str:
        if self._password_hash is None:
            with self.app.app_context():
                self._password_hash = hash_password(PASSWORD)
        return self._password_hash

    def participant(self, *, name: str | None = None, email: str | None = None,
                    category: StakeholderCategory = StakeholderCategory.GOVERNMENT_OFFICIAL,
                    secretariat: bool = False, password: bool = True, active: bool = True,
                    **fields: Any) -> Participant:
        n = next(_sequence)
        return self._make(Participant(
            email=email or f"participant{n}@example.org",
            name=name or f"Participant {n}",
            affiliation=fields.pop("affiliation", f"Ministry {n}"),
            country=fields.pop("country", "Kazakhstan"),
            category=category,
            is_secretariat=secretariat,
            password_hash=self.password_hash() if password else None,
            is_active_account=active,
            **fields,
        ))

    def secretariat(self, **fields: Any) -> Participant:
        fields.setdefault("category", StakeholderCategory.INTERNATIONAL_ORGANISATION)
        return self.participant(secretariat=True, **fields)

    def conference(self, **fields: Any) -> Conference:
        """A conference whose rules of procedure let its groups vote by simple majority,
        their chairs voting, without a quorum: what most tests of counting ballots want. Tests of the rules of
        procedure themselves pass the practice's defaults (``PRACTICE``)."""
        n = next(_sequence)
        values = {"title": f"Conference {n}", "venue": "Astana, Kazakhstan",
                  "starts_on": date(2009, 6, 24), "ends_on": date(2009, 6, 25),
                  "organisers": "OSCE Centre in Astana\nIOM", "description": "",
                  "decision_rule": VoteRule.SIMPLE_MAJORITY, "chair_votes": True,
                  "quorum_rule": QuorumRule.NONE, **fields}
        return self._make(Conference(**values))

    def group(self, conference: Conference | None = None, **fields: Any) -> WorkingGroup:
        conference = conference or self.conference()
        n = next(_sequence)
        return self._make(WorkingGroup(conference_id=conference.id, name=fields.pop("name", f"Group {n}"),
                                       mandate=fields.pop("mandate", "Recommend *practical* measures."),
                                       position=fields.pop("position", n), **fields))

    def membership(self, group: WorkingGroup, participant: Participant,
                   role: GroupRole = GroupRole.MEMBER) -> Membership:
        return self._make(Membership(group_id=group.id, participant_id=participant.id, role=role))

    def member_of(self, group: WorkingGroup, role: GroupRole = GroupRole.MEMBER,
                  **fields: Any) -> Participant:
        participant = self.participant(**fields)
        self.membership(group, participant, role)
        return participant

    def delegation(self, conference: Conference, name: str | None = None, *,
                   members: tuple[Participant, ...] = (), head: Participant | None = None,
                   voter: Participant | None = None, kind: DelegationKind = DelegationKind.STATE,
                   sort_key: str = "") -> Delegation:
        """A delegation of the conference with ``members`` seated in it, ``head`` and
        ``voter`` among them."""
        n = next(_sequence)
        delegation = self._make(Delegation(conference_id=conference.id, name=name or f"State {n}",
                                           kind=kind, sort_key=sort_key))
        for person in members:
            self._make(Seat(conference_id=conference.id, delegation_id=delegation.id,
                            participant_id=person.id))
        if head is not None or voter is not None:
            with self._session():
                found = db.session.get(Delegation, delegation.id)
                found.head_id = head.id if head else None
                found.voter_id = voter.id if voter else None
            if has_app_context():
                db.session.refresh(delegation)
            else:
                delegation.head_id = head.id if head else None
                delegation.voter_id = voter.id if voter else None
        return delegation

    def recommendation(self, group: WorkingGroup, *, title: str | None = None,
                       status: RecommendationStatus = RecommendationStatus.DRAFTING,
                       clauses: list[tuple[ClauseKind, str]] | None = None) -> Recommendation:
        n = next(_sequence)
        recommendation = self._make(Recommendation(
            group_id=group.id, title=title or f"Recommendation {n}", status=status,
        ))
        positions = {ClauseKind.PREAMBULAR: 0, ClauseKind.OPERATIVE: 0}
        for kind, text in clauses or []:
            positions[kind] += 1
            self.clause(recommendation, kind=kind, text=text, position=positions[kind])
        return recommendation

    def clause(self, recommendation: Recommendation, *, kind: ClauseKind = ClauseKind.OPERATIVE,
               text: str = "Recommends co-operation;", position: int = 1) -> Clause:
        return self._make(Clause(recommendation_id=recommendation.id, kind=kind, text=text,
                                 position=position))

    def thread(self, clause: Clause, author: Participant, body: str = "Could we say *region*?",
               *replies: tuple[Participant, str]) -> CommentThread:
        """A thread on the whole clause: its first comment, then each (author, body) reply."""
        thread = self._make(CommentThread(clause_id=clause.id, created_by_id=author.id))
        for who, text in ((author, body), *replies):
            self._make(Comment(thread_id=thread.id, author_id=who.id, body=text))
        return thread

    def amendment(self, clause: Clause, proposer: Participant, *,
                  kind: AmendmentKind = AmendmentKind.REPLACE, text: str | None = None,
                  base_text: str | None = None, rationale: str = "Clearer.",
                  status: AmendmentStatus = AmendmentStatus.PROPOSED) -> Amendment:
        """An amendment written against the clause's text as the factory made it."""
        if text is None:
            text = "" if kind is AmendmentKind.DELETE else f"{clause.text} (amended)"
        if base_text is None:
            base_text = "" if kind is AmendmentKind.INSERT else clause.text
        return self._make(Amendment(clause_id=clause.id, kind=kind, text=text,
                                    base_text=base_text, rationale=rationale, status=status,
                                    proposer_id=proposer.id))

    def api_token(self, participant: Participant, name: str = "script") -> str:
        from drafting.auth.services import create_api_token

        if has_app_context():
            _token, secret = create_api_token(self._attached(participant), name)
            db.session.commit()
            return secret
        with self.app.test_request_context():
            _token, secret = create_api_token(db.session.get(Participant, participant.id), name)
            db.session.commit()
        return secret

    def cast(self) -> Cast:
        """Two groups of one conference, and one participant per role."""
        conference = self.conference()
        group = self.group(conference, name="Labour migration")
        other_group = self.group(conference, name="Ethnic migration")
        cast = Cast(
            conference=conference, group=group, other_group=other_group,
            secretariat=self.secretariat(name="Secretariat Person"),
            chair=self.member_of(group, GroupRole.CHAIR, name="Chair Person"),
            member=self.member_of(group, GroupRole.MEMBER, name="Member Person"),
            observer=self.member_of(group, GroupRole.OBSERVER, name="Observer Person",
                                    category=StakeholderCategory.NGO_REPRESENTATIVE),
            other_chair=self.member_of(other_group, GroupRole.CHAIR, name="Other Chair"),
            outsider=self.participant(name="Outsider Person"),
        )
        return cast


__all__ = ["PASSWORD", "ApiToken", "Cast", "Factories"]
