"""What amendments add to the recommendation page: each clause's open amendments, with
their redlines against its current wording (``drafting.recommendations.page``)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drafting.amendments.services import recommendation_amendments, redline
from models import Participant, Recommendation


def recommendation_part(recommendation: Recommendation, _viewer: Participant,
                        _state: Mapping[str, Any]) -> dict[str, Any]:
    open_amendments = recommendation_amendments(recommendation, open_only=True)
    return {
        "open_amendments": open_amendments,
        "redlines": {amendment.id: redline(amendment)
                     for amendments in open_amendments.values() for amendment in amendments},
    }
