"""Evaluation of members against the active rule set: on events, daily, and as a dry run."""

from __future__ import annotations

from onboarding.models import LevelChange


def promote_on_event(member_id: int, *, cause: str) -> LevelChange | None:
    """Cheap check after an event (job confirmed, review published, training done): promote
    at once if the member now meets a higher level; never demotes."""
    return None  # STUB: helper B implements


def admit_member(member_id: int, *, actor_user_id: int) -> LevelChange:
    """An approved applicant gets the first level: members.level_rank 1, a MemberLevel row
    (active_since now), a LevelChange with cause 'approval', and a notification."""
    raise NotImplementedError  # STUB: helper B implements
