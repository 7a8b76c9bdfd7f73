"""Referrals follow the referred member's record: an approval or a confirmed job may reach the
milestone, and an approved member gets their own referral code."""

from __future__ import annotations

from crowd.core.events import Event, subscribe
from recruitment.hooks import on_admission, queue_referral_check


@subscribe("job.confirmed")
def check_referral(event: Event) -> None:
    """Check the job's member's open referral after the commit (once per job)."""
    member_id = event.payload["member_id"]
    if member_id is not None:
        queue_referral_check(member_id, trigger=f"job:{event.subject_id}")


@subscribe("application.approved")
def admitted(event: Event) -> None:
    """The new member's own referral code; their referrer's milestone checked after the commit."""
    on_admission(event.payload["member_id"], application_id=event.subject_id)
