"""Mentoring's reactions to other packages' events (crowd.core.events; `mentoring.events` is
the meetups' package): a new member gets a mentor; a mentee may graduate on their record of
confirmed jobs or on reaching a level; a top performer's new ticket gets priority support."""

from __future__ import annotations

from crowd.core.events import Event, subscribe
from mentoring.programmes import (
    queue_graduation_check,
    queue_graduation_checks,
    queue_mentor_assignment,
)
from mentoring.top_performers.holders import active_badge_member_ids
from support.tickets.opening import give_priority_support


@subscribe("job.confirmed")
def check_graduation(event: Event) -> None:
    """Check the job's member's active mentorship for graduation after the commit."""
    member_id = event.payload["member_id"]
    if member_id is not None:
        queue_graduation_check(member_id)


@subscribe("level.changed")
def check_graduation_on_promotion(event: Event) -> None:
    """A promoted mentee may graduate (an admission is no promotion: no mentorship yet)."""
    promoted = event.payload["to_rank"] > event.payload["from_rank"]
    if promoted and event.payload["cause"] != "approval":
        queue_graduation_check(event.subject_id)


@subscribe("level.changes_recorded")
def check_graduations_on_promotions(event: Event) -> None:
    """The same for a chunk of the crowd-wide run's changes: one query for the chunk."""
    queue_graduation_checks(
        change["member_id"]
        for change in event.payload["changes"]
        if change["to_rank"] > change["from_rank"] and change["cause"] != "approval"
    )


@subscribe("application.approved")
def find_mentor(event: Event) -> None:
    """The new Starter gets a mentor after the commit (mentoring.assign_mentor)."""
    queue_mentor_assignment(event.payload["member_id"])


@subscribe("ticket.opened")
def priority_support(event: Event) -> None:
    """A ticket a member opens while holding a valid top-performer badge goes one step up."""
    member_id = event.payload["member_id"]
    if event.payload["by"] != "member" or member_id is None:
        return
    if active_badge_member_ids([member_id]):
        give_priority_support(event.subject_id, programme="top_performer")
