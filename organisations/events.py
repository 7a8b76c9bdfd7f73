"""What provider companies emit: a member joined a company, a member's membership ended.

Later slices (matching, money, levels) subscribe; nothing does yet."""

from __future__ import annotations

from crowd.core.events import Event, declare, emit

MEMBER_JOINED = "organisation.member_joined"
MEMBER_LEFT = "organisation.member_left"

declare(MEMBER_JOINED, MEMBER_LEFT)


def member_joined(membership, *, actor: int | str) -> None:
    """Emit organisation.member_joined for a new active membership."""
    emit(
        Event(
            MEMBER_JOINED,
            "organisation",
            membership.organisation_id,
            actor,
            payload={
                "organisation_id": membership.organisation_id,
                "member_id": membership.member_id,
                "role": membership.role,
            },
        )
    )


def member_left(membership, *, actor: int | str) -> None:
    """Emit organisation.member_left for a membership that ended (`status`: left or removed)."""
    emit(
        Event(
            MEMBER_LEFT,
            "organisation",
            membership.organisation_id,
            actor,
            payload={
                "organisation_id": membership.organisation_id,
                "member_id": membership.member_id,
                "role": membership.role,
                "status": membership.status,
            },
        )
    )
