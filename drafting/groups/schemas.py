"""Working groups and memberships on the wire."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from drafting.delegations.schemas import DelegationBrief, delegation_brief
from drafting.markup import render_markdown
from drafting.participants.schemas import ParticipantBrief, participant_brief
from models import (
    Delegation,
    GroupRole,
    Membership,
    Participant,
    Recommendation,
    RecommendationStatus,
    WorkingGroup,
    delegation_of,
    delegations_of,
    visible_recommendations,
)


class MemberOut(BaseModel):
    membership_id: int
    role: GroupRole
    participant: ParticipantBrief
    delegation: DelegationBrief | None = Field(description="The delegation the participant sits "
                                               "in at the group's conference, if any.")


class RecommendationBrief(BaseModel):
    """A recommendation as its group lists it (and the API's list of recommendations)."""

    id: int
    group_id: int
    title: str
    status: RecommendationStatus
    updated_at: datetime


class GroupOut(BaseModel):
    id: int
    conference_id: int
    name: str
    mandate: str
    mandate_html: str
    position: int
    observers_may_comment: bool = Field(description="Observers take part in the discussion of "
                                        "clauses; false: they only read it.")
    my_role: GroupRole | None
    members: list[MemberOut]
    recommendations: list[RecommendationBrief]


class GroupWrite(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str
    mandate: str = ""
    observers_may_comment: bool = True


class GroupPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str | None = None
    mandate: str | None = None
    observers_may_comment: bool | None = None


class MemberAdd(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    participant_id: int
    role: GroupRole


class MemberRoleChange(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    role: GroupRole


def member_out(membership: Membership, delegation: Delegation | None = None) -> MemberOut:
    """``delegation``: the member's, when the caller has looked it up with the others'."""
    delegation = delegation or delegation_of(membership.group.conference_id,
                                             membership.participant_id)
    return MemberOut(membership_id=membership.id, role=membership.role,
                     participant=participant_brief(membership.participant),
                     delegation=delegation_brief(delegation) if delegation else None)


def group_out(group: WorkingGroup, viewer: Participant) -> GroupOut:
    members = sorted(group.memberships, key=lambda m: (list(GroupRole).index(m.role),
                                                       m.participant.name.lower()))
    delegations = delegations_of(group.conference_id, [m.participant_id for m in members])
    return GroupOut(
        id=group.id, conference_id=group.conference_id, name=group.name,
        mandate=group.mandate, mandate_html=render_markdown(group.mandate),
        position=group.position, observers_may_comment=group.observers_may_comment,
        my_role=group.role_of(viewer),
        members=[member_out(m, delegations.get(m.participant_id)) for m in members],
        recommendations=[recommendation_brief(r) for r in visible_recommendations(viewer, group)],
    )


def recommendation_brief(recommendation: Recommendation) -> RecommendationBrief:
    return RecommendationBrief(
        id=recommendation.id, group_id=recommendation.group_id, title=recommendation.title,
        status=recommendation.status, updated_at=recommendation.updated_at,
    )
