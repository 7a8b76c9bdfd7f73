"""Referrals follow the referred member's record: an approval or a confirmed job may reach the
milestone, and an approved member gets their own referral code. A member's sign-in device is
noted for the fraud signals."""

from __future__ import annotations

from sqlalchemy import select

from crowd.core.events import Event, subscribe
from crowd.extensions import db
from members.models import Member
from recruitment.hooks import on_admission, queue_referral_check
from recruitment.intake import record_device


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


@subscribe("account.signed_in")
def note_device(event: Event) -> None:
    """A member signed in from a device: kept (hashed) for the fraud signals."""
    member_id = db.session.scalar(select(Member.id).where(Member.user_id == event.subject_id))
    if member_id is not None:
        record_device(member_id, event.payload["device_id"])
