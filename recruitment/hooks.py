"""The small hooks other domains call: admission issues a referral code, and admission or a
confirmed job checks the member's referral after the commit (task recruitment.check_referral).

They only record work in the caller's unit of work (never commit), and write nothing in the
common case: a member who was not referred, or whose referral is settled, queues no task.
"""

from __future__ import annotations

from sqlalchemy import select

from crowd.core.background import OutboxMessage, enqueue
from crowd.extensions import db
from recruitment.codes import issue_code
from recruitment.models import Referral


def _queued(dedupe_key: str) -> bool:
    for pending in db.session.new:
        if isinstance(pending, OutboxMessage) and pending.dedupe_key == dedupe_key:
            return True
    query = select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    return db.session.scalar(query) is not None


def queue_referral_check(member_id: int, *, trigger: str) -> None:
    """A referred member moved (approved, a job confirmed): check their referral after the
    commit, once per trigger (e.g. "job:42", "approved:7"), and only while it is open."""
    referral_id = db.session.scalar(
        select(Referral.id).where(
            Referral.referred_member_id == member_id,
            Referral.status.in_(("pending", "review")),
            Referral.milestone_reached_at.is_(None),
        )
    )
    if referral_id is None:
        return
    dedupe_key = f"recruitment.check_referral:{referral_id}:{trigger}"
    if not _queued(dedupe_key):
        enqueue("recruitment.check_referral", dedupe_key=dedupe_key, referred_member_id=member_id)


def on_admission(member_id: int, *, application_id: int) -> None:
    """An applicant was approved: their own referral code, and their referrer's milestone."""
    issue_code(member_id)
    queue_referral_check(member_id, trigger=f"approved:{application_id}")
