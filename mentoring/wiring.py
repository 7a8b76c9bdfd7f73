"""What mentoring plugs into the packages below it: holders of a valid top-performer badge rank
higher in matching (jobs.matching.ranking's programme component)."""

from __future__ import annotations

from collections.abc import Sequence

from jobs.matching.ranking import add_programme_boost
from mentoring.config import programme_rules
from mentoring.top_performers.holders import active_badge_member_ids


def top_performer_boosts(member_ids: Sequence[int]) -> dict[int, float]:
    """top_matching_boost_percent / 100 for badge holders among `member_ids` (one query)."""
    boost = programme_rules().top_matching_boost_percent / 100
    if boost <= 0:
        return {}
    return {member_id: boost for member_id in active_badge_member_ids(member_ids)}


add_programme_boost(top_performer_boosts)
