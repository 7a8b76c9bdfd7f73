"""Referrals follow the referred member's record: a confirmed job may reach the milestone."""

from __future__ import annotations

from crowd.core.events import Event, subscribe
from crowd.recruitment.hooks import queue_referral_check


@subscribe("job.confirmed")
def check_referral(event: Event) -> None:
    """Check the job's member's open referral after the commit (once per job)."""
    member_id = event.payload["member_id"]
    if member_id is not None:
        queue_referral_check(member_id, trigger=f"job:{event.subject_id}")
