"""Assignment: a member accepts or declines an offer, staff assign directly — one winner (a
provider company's dispatcher accepting for one of its technicians is jobs.company, with the
same locks and the same helpers).

Accepting locks the job row, then the member's, then the offer (the fixed lock order of
jobs.dispatch), so of any number of simultaneous accepts of one job exactly one finds it still
offered; the rest answer 409 with the offer's state. Under the member's lock the calendar is
checked again, so one member's simultaneous accepts of overlapping jobs cannot both succeed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import NotFound, Unprocessable, field_error
from crowd.core.i18n import _, _l
from crowd.extensions import db
from jobs.dispatch import (
    customer_user_id,
    next_wave_if_idle,
    withdraw_pending_offers,
)
from jobs.errors import (
    DispatcherAccepts,
    NoLongerEligible,
    OfferExpired,
    OfferTaken,
    ScheduleClash,
)
from jobs.lifecycle import next_status, transition
from jobs.matching import Fit, eligibility_and_window
from jobs.models import Job, JobEvent, Offer
from jobs.offers import next_status as next_offer_status
from jobs.offers import transition as offer_transition
from jobs.queries import lock_job
from jobs.timers import schedule_after_assignment
from members.access import lock_member
from members.models import Member
from notifications.service import notify
from organisations.models import Organisation, OrganisationMembership
from organisations.service import active_membership

DECLINE_REASONS = ("too_far", "not_available", "price_too_low", "lacks_skill", "other")
# Statuses in which a job takes up its member's time (double-booking and load checks).
BUSY = ("assigned", "in_progress")


# --- answering offers ----------------------------------------------------------------------


def _own_offer(actor: Principal, offer_id: int) -> tuple[int, Offer]:
    member_id = actor.require_member_id()
    offer = db.session.get(Offer, offer_id)
    if offer is None or offer.member_id != member_id:
        raise NotFound(_("No such offer."))
    return member_id, offer


def lock_offer(offer_id: int) -> Offer:
    return db.session.execute(
        select(Offer)
        .where(Offer.id == offer_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).scalar_one()


def require_pending(offer: Offer, action: str, now: datetime) -> None:
    """409 unless the offer may still be answered: pending (the table says) and not overdue."""
    next_offer_status(offer, action)
    if offer.expires_at <= now:
        raise OfferExpired(_("This offer has expired."), state="expired")


def dispatcher_accepts(member_id: int) -> bool:
    """Whether the member is a technician of an active company whose dispatcher accepts its
    offers (allow_direct_accept off): they may decline, not accept."""
    row = db.session.execute(
        select(Organisation.status, Organisation.allow_direct_accept)
        .join(OrganisationMembership, OrganisationMembership.organisation_id == Organisation.id)
        .where(
            OrganisationMembership.member_id == member_id,
            OrganisationMembership.status == "active",
            OrganisationMembership.role == "technician",
        )
    ).one_or_none()
    return row is not None and row.status == "active" and not row.allow_direct_accept


def accept_offer(*, actor: Principal, offer_id: int) -> Job:
    """Accept one's own pending offer: the first accept wins the job, any other gets 409."""
    member_id, offer = _own_offer(actor, offer_id)
    # An offer answered, withdrawn or expired never turns pending again: refuse on this read,
    # before queueing for the job's lock behind the accept that won it (bench/load.py's mix:
    # most accepts lose; each waited for the winner's commit and took three locks to say 409).
    require_pending(offer, "accept", utcnow())
    if dispatcher_accepts(member_id):
        raise DispatcherAccepts(
            _("Your company's dispatcher accepts its jobs and assigns a technician."),
            state=offer.status,
        )
    job = lock_job(offer.job_id)
    member = lock_member(member_id)
    offer = lock_offer(offer_id)
    now = utcnow()
    require_pending(offer, "accept", now)
    if job.status != "offered" or job.assigned_member_id is not None:
        raise OfferTaken(
            _("This job is {value} now.", value=job.status.replace("_", " ")), state=job.status
        )
    problems, fit = eligibility_and_window(job, member.id)
    if problems:
        raise NoLongerEligible(
            "You can no longer take this job: " + "; ".join(problems), state=job.status
        )
    if fit is None:
        raise ScheduleClash(
            _("None of the job's windows fits your calendar any more."), state=job.status
        )
    # Matching checked the calendar; this re-check under the member lock is what makes two
    # simultaneous accepts of overlapping jobs by one member impossible.
    clash = schedule_conflict(member, fit.starts_at, fit.ends_at, job_id=job.id)
    if clash:
        raise ScheduleClash(clash, state=job.status)

    # offer.accepted counts the answer in the member's stats (jobs.events).
    offer_transition(offer, "accept", by="member", actor_user_id=actor.user_id, now=now)
    assign_to(job, member, start=fit.starts_at, end=fit.ends_at, now=now)
    event = transition(
        job, "accept", actor="member", actor_user_id=actor.user_id, offer_id=offer.id
    )
    withdraw_pending_offers(job, reason="taken", by="member", actor_user_id=actor.user_id)
    tell_assigned(job, member, event)
    return job


def decline_offer(
    *, actor: Principal, offer_id: int, reason: str, note: str | None = None
) -> Offer:
    """Decline one's own pending offer with a reason; the last decline of a wave starts the next."""
    _, offer = _own_offer(actor, offer_id)
    require_pending(offer, "decline", utcnow())  # as in accept_offer: no lock to refuse
    job = lock_job(offer.job_id)
    offer = lock_offer(offer_id)
    now = utcnow()
    require_pending(offer, "decline", now)
    # offer.declined counts the answer in the member's stats (jobs.events).
    offer_transition(
        offer,
        "decline",
        by="member",
        actor_user_id=actor.user_id,
        now=now,
        changes={"decline_reason": (f"{reason}: {note}" if note else reason)[:200]},
    )
    db.session.flush()
    next_wave_if_idle(job)
    return offer


# --- assignment ----------------------------------------------------------------------------


def working_for(member_id: int) -> int | None:
    """The active company the member does their jobs for (it is paid), or None."""
    membership = active_membership(member_id)
    if membership is None:
        return None
    company = db.session.get(Organisation, membership.organisation_id)
    return company.id if company is not None and company.status == "active" else None


def schedule_conflict(member: Member, start: datetime, end: datetime, *, job_id: int) -> str | None:
    """Why `member` cannot take another job from `start` to `end`, checked under their lock."""
    busy = db.session.execute(
        select(Job.id, Job.scheduled_start, Job.scheduled_end).where(
            Job.assigned_member_id == member.id, Job.status.in_(BUSY), Job.id != job_id
        )
    ).all()
    if len(busy) >= member.max_concurrent_jobs:
        return f"You already have {len(busy)} active jobs, your maximum at once."
    for other_id, other_start, other_end in busy:
        if other_start is not None and other_start < end and other_end > start:
            return f"You already have job {other_id} at that time."
    return None


def fit_under_lock(job: Job, member: Member) -> tuple[list[str], Fit | None]:
    """Why the (locked) member cannot take `job` — the matching rules, no window fitting their
    calendar, a clash with their other jobs — and, when nothing stops them, where they fit."""
    problems, fit = eligibility_and_window(job, member.id)
    if problems:
        return problems, None
    if fit is None:
        return ["None of the job's windows fits the member's calendar."], None
    clash = schedule_conflict(member, fit.starts_at, fit.ends_at, job_id=job.id)
    return ([clash], None) if clash else ([], fit)


def assign_to(job: Job, member: Member, *, start: datetime, end: datetime, now: datetime) -> None:
    """Give `job` to `member` from `start` to `end`; the company they work for, if any."""
    job.assigned_member_id = member.id
    job.organisation_id = working_for(member.id)
    job.scheduled_start, job.scheduled_end = start, end
    job.assigned_at = now
    # The escalation, if any, is resolved.
    job.escalated_at, job.escalation_reason = None, None


def tell_assigned(job: Job, member: Member, event: JobEvent) -> None:
    """Tell the customer who comes, and schedule the job's reminders."""
    db.session.flush()
    notify(
        customer_user_id(job),
        "job.assigned",
        _l("A member takes your job"),
        _l(
            "{member_display_name} will come on {job_scheduled_start:%Y-%m-%d %H:%M} UTC.",
            member_display_name=member.display_name,
            job_scheduled_start=job.scheduled_start,
        ),
        dedupe_key=f"job.assigned:{event.id}",
        job_id=job.id,
    )
    schedule_after_assignment(job)


def tell_technician(job: Job, member: Member, event: JobEvent) -> None:
    """The member a job was given to (by staff or their company's dispatcher) hears of it."""
    notify(
        member.user_id,
        "job.assigned",
        _l("You have a new job"),
        _l(
            "{job_title} on {start:%Y-%m-%d %H:%M} UTC.",
            job_title=job.title,
            start=job.scheduled_start,
        ),
        dedupe_key=f"job.assigned.member:{event.id}",
        job_id=job.id,
    )


def assign_member(
    *,
    actor: Principal,
    job_id: int,
    member_id: int,
    window_id: int | None = None,
    override: bool = False,
    reason: str | None = None,
) -> Job:
    """Staff assign a member directly; an ineligible one only with `override` and a reason."""
    job = lock_job(job_id)
    if job is None:
        raise NotFound(_("No such job."))
    next_status(job, "assign", "staff")  # 409 with the state when the job is past assignment
    member = lock_member(member_id)
    if member is None:
        raise field_error("member_id", _("no such member"))
    problems, fit = eligibility_and_window(job, member.id)
    start = _chosen_start(job, window_id, fit)
    end = start + timedelta(minutes=job.duration_minutes)
    if not override:
        clash = schedule_conflict(member, start, end, job_id=job.id)
        if problems or clash:
            raise Unprocessable(
                _(
                    "The member is not eligible for this job; send override with "
                    "a reason to assign anyway."
                ),
                errors={"json": {"member_id": problems or [clash]}},
            )
    now = utcnow()
    assign_to(job, member, start=start, end=end, now=now)
    event = transition(
        job,
        "assign",
        actor="staff",
        actor_user_id=actor.user_id,
        member_id=member.id,
        override=override,
        reason=reason,
        problems=problems,
    )
    db.session.flush()
    withdraw_pending_offers(
        job,
        reason="a community manager assigned the job.",
        by="staff",
        actor_user_id=actor.user_id,
    )
    tell_technician(job, member, event)
    tell_assigned(job, member, event)
    return job


def _chosen_start(job: Job, window_id: int | None, fit: Fit | None) -> datetime:
    """Where a direct assignment starts: the window staff chose, the member's fit, or the next."""
    if window_id is not None:
        window = next((w for w in job.windows if w.id == window_id), None)
        if window is None:
            raise field_error("window_id", _("not a window of this job"))
        # Inside the chosen window, start where the member is free if matching found that.
        return fit.starts_at if fit is not None and fit.window_id == window.id else window.starts_at
    if fit is not None:
        return fit.starts_at
    now = utcnow()
    upcoming = [w for w in job.windows if w.starts_at > now]
    return (upcoming or job.windows)[0].starts_at
