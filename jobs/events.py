"""What the jobs package itself does after a job's or an offer's state changes, whatever moved
it: the closing timer, withdrawing open offers, telling the parties, counting a member's
answers to offers in their stats, and new ETags for members' offer lists (see
crowd.core.events)."""

from __future__ import annotations

from sqlalchemy import select

from accounts.staff_alerts import alert_staff
from crowd.core.events import Event, subscribe
from crowd.core.i18n import _l
from crowd.extensions import db
from customers.models import Customer
from jobs.dispatch import withdraw_pending_offers
from jobs.models import Job
from jobs.offers import EVENTS as OFFER_EVENTS
from jobs.polling import touch_members
from jobs.timers import schedule_close
from members.models import Member
from members.service import record_offer_answered
from notifications.service import notify

# States in which the member has been working on (or holding) the job: they hear of a cancel.
MEMBER_ENGAGED = ("assigned", "in_progress", "disputed")


def _user_of(model, row_id: int) -> int:
    return db.session.scalar(select(model.user_id).where(model.id == row_id))


def _job(event: Event) -> Job:
    return db.session.get(Job, event.subject_id)


def _parties(job: Job, event: Event, *, member: bool) -> list[int]:
    """Whom to tell: the member when `member`, the customer unless they did it themselves."""
    recipients = [_user_of(Member, job.assigned_member_id)] if member else []
    if event.payload["by"] != "customer":
        recipients.append(_user_of(Customer, job.customer_id))
    return recipients


@subscribe("job.confirmed")
def schedule_closing(event: Event) -> None:
    """A confirmed job closes close_after_days later (jobs.close)."""
    schedule_close(_job(event))


@subscribe("job.confirmed")
def tell_confirmed(event: Event) -> None:
    """Tell the member, and the customer unless they confirmed it themselves."""
    job = _job(event)
    by = event.payload["by"]
    title = _l("Job confirmed") if by != "system" else _l("Job confirmed automatically")
    stamp = int(job.confirmed_at.timestamp())
    for user_id in _parties(job, event, member=job.assigned_member_id is not None):
        notify(
            user_id,
            "job.confirmed",
            title,
            job.title,
            dedupe_key=f"job.confirmed:{job.id}:{user_id}:{stamp}",
            job_id=job.id,
            by=by,
        )


@subscribe("job.cancelled")
def withdraw_offers(event: Event) -> None:
    """Offers still out for a cancelled job are withdrawn."""
    withdraw_pending_offers(
        _job(event),
        reason="the job was cancelled.",
        by=event.payload["by"],
        actor_user_id=event.actor if isinstance(event.actor, int) else None,
    )


@subscribe("job.cancelled")
def tell_cancelled(event: Event) -> None:
    """Tell the member who held the job, and the customer unless they cancelled it."""
    job = _job(event)
    engaged = event.payload["from_status"] in MEMBER_ENGAGED and job.assigned_member_id
    for user_id in _parties(job, event, member=bool(engaged)):
        notify(
            user_id,
            "job.cancelled",
            _l("Job cancelled"),
            _l(
                "“{job_title}” was cancelled: {job_cancel_reason}",
                job_title=job.title,
                job_cancel_reason=job.cancel_reason,
            ),
            dedupe_key=f"job.cancelled:{job.id}:{user_id}",
            job_id=job.id,
        )


@subscribe("offer.accepted", "offer.declined")
def count_answer(event: Event) -> None:
    """The member's accepted/declined counters and response time (members.service)."""
    record_offer_answered(
        event.payload["member_id"],
        accepted=event.name == "offer.accepted",
        response_seconds=event.payload["response_seconds"],
    )


@subscribe("job.escalated")
def tell_staff_escalated(event: Event) -> None:
    """The community managers responsible for dispatch in the job's region hear of a job no
    member took (accounts.staff_alerts: else every CM, else the admins)."""
    job = _job(event)
    alert_staff(
        "job.escalated",
        _l("Job needs a member"),
        _l(
            "“{job_title}” was escalated: {value}",
            job_title=job.title,
            value=event.payload["reason"],
        ),
        queue="dispatch",
        key=f"job.escalated:{job.id}:{event.occurred_at.isoformat()}",
        country=job.country,
        postcode=job.postcode,
        job_id=job.id,
    )


@subscribe(*OFFER_EVENTS)
def offer_list_changed(event: Event) -> None:
    """The member's offer list changed: its ETag with the commit (jobs.polling)."""
    touch_members([event.payload["member_id"]])


@subscribe("member.profile_updated")
def offer_distances_changed(event: Event) -> None:
    """A member who moved sees other distances to their offers' jobs (jobs.polling)."""
    if {"lat", "lon"} & set(event.payload["fields"]):
        touch_members([event.payload["member_id"]])
