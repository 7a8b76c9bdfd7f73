"""Mentoring's reactions to other packages' events (crowd.core.events; `mentoring.events` is
the meetups' package): a mentee may graduate on their record of confirmed jobs."""

from __future__ import annotations

from crowd.core.events import Event, subscribe
from mentoring.programmes import queue_graduation_check


@subscribe("job.confirmed")
def check_graduation(event: Event) -> None:
    """Check the job's member's active mentorship for graduation after the commit."""
    member_id = event.payload["member_id"]
    if member_id is not None:
        queue_graduation_check(member_id)
