"""The member's side of a job: their offers and jobs as the mobile app shows them, and the work.

A member reaches only their own offers and the jobs assigned to them; anything else is a 404.
Before acceptance an offer shows where roughly (city, postcode, distance) but not the street or
the customer; once the job is theirs, the full address and the customer's first name appear.
Writes lock the job row first (as dispatch does) and move it through the state machine.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from crowd.core.auth import Principal
from crowd.core.background import enqueue
from crowd.core.db import utcnow
from crowd.core.errors import NotFound
from crowd.core.files.service import Download
from crowd.core.i18n import _, _l
from crowd.core.pagination import paginate
from crowd.extensions import db
from customers.models import Customer
from jobs import work_files
from jobs.config import job_rules
from jobs.dispatch import WAVE_TASK, customer_user_id
from jobs.errors import CheckInNotOpen
from jobs.lifecycle import allowed_actions, transition
from jobs.matching.eligibility import haversine_km
from jobs.models import Job, JobSkill, Offer, WorkReport
from jobs.queries import job_for, lock_job
from jobs.timers import schedule_after_completion
from members.models import Member, Skill
from members.service import record_job_cancelled_by_member, record_job_completed
from notifications.service import notify

# Which jobs each tab of the app shows.
SCOPES = {
    "upcoming": ("assigned",),
    "active": ("in_progress",),
    "past": ("completed", "confirmed", "closed", "cancelled", "disputed"),
}


# --- views ---------------------------------------------------------------------------------


def _price(job: Job) -> dict:
    return {
        "kind": job.pricing,
        "amount": job.price_amount,
        "rate": job.hourly_rate_amount,
        "currency": job.currency,
    }


def _windows(job: Job) -> list[dict]:
    return [{"starts_at": w.starts_at, "ends_at": w.ends_at} for w in job.windows]


def _home(member_id: int) -> tuple[float | None, float | None]:
    """Where the member starts from (distances to jobs are measured from here)."""
    return db.session.execute(select(Member.lat, Member.lon).where(Member.id == member_id)).one()


def offer_view(offer: Offer, home: tuple[float | None, float | None]) -> dict:
    """An offer with the job as a prospective member may see it: no street, no customer."""
    job = offer.job
    distance = None
    lat, lon = home
    if lat is not None and lon is not None:
        distance = round(haversine_km(lat, lon, job.lat, job.lon), 1)
    return {
        "id": offer.id,
        "status": offer.status,
        "wave": offer.wave,
        "exclusive": offer.exclusive,
        "sent_at": offer.sent_at,
        "expires_at": offer.expires_at,
        "responded_at": offer.responded_at,
        "decline_reason": offer.decline_reason,
        "updated_at": offer.updated_at,
        "job": {
            "id": job.id,
            "title": job.title,
            "category": job.category.slug,
            "device_kind": (job.device or {}).get("kind"),
            "city": job.city,
            "postcode": job.postcode,
            "country": job.country,
            "distance_km": distance,
            "windows": _windows(job),
            "duration_minutes": job.duration_minutes,
            "price": _price(job),
        },
    }


def _first_name(display_name: str | None) -> str | None:
    return display_name.split()[0] if display_name and display_name.split() else None


def _job_view(job: Job, customer_name: str | None) -> dict:
    """A job assigned to the member: where, for whom (first name), when, and what next."""
    return {
        "id": job.id,
        "status": job.status,
        "title": job.title,
        "category": job.category.slug,
        "street": job.street,
        "postcode": job.postcode,
        "city": job.city,
        "country": job.country,
        "lat": job.lat,
        "lon": job.lon,
        "customer_first_name": _first_name(customer_name),
        "duration_minutes": job.duration_minutes,
        "price": _price(job),
        "scheduled_start": job.scheduled_start,
        "scheduled_end": job.scheduled_end,
        "assigned_at": job.assigned_at,
        "started_at": job.started_at,
        "completed_at": job.completed_at,
        "cancelled_at": job.cancelled_at,
        "updated_at": job.updated_at,
        "allowed_actions": allowed_actions(job.status, "member"),
    }


def _job_detail(job: Job) -> dict:
    customer_name = db.session.scalar(
        select(Customer.display_name).where(Customer.id == job.customer_id)
    )
    view = _job_view(job, customer_name)
    skills = db.session.scalars(
        select(Skill.slug)
        .join(JobSkill, JobSkill.skill_id == Skill.id)
        .where(JobSkill.job_id == job.id)
        .order_by(Skill.slug)
    )
    view.update(
        description=job.description,
        device=job.device or {},
        skills=list(skills),
        windows=_windows(job),
        cancel_reason=job.cancel_reason if job.status == "cancelled" else None,
        work_report=work_files.report_view(job),
    )
    return view


# --- reading -------------------------------------------------------------------------------


def list_my_offers(
    *,
    actor: Principal,
    status: str | None = None,
    updated_since: datetime | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict:
    """The member's offers, oldest change first; pending (still answerable) by default.

    With `updated_since` and no `status`, every offer changed since then comes back, so a
    polling app also learns about offers withdrawn or expired meanwhile.
    """
    member_id = actor.require_member_id()
    query = (
        select(Offer)
        .where(Offer.member_id == member_id)
        .options(
            joinedload(Offer.job).options(
                joinedload(Job.category, innerjoin=True), selectinload(Job.windows)
            )
        )
    )
    if status is None and updated_since is None:
        status = "pending"
    if status not in (None, "all"):
        query = query.where(Offer.status == status)
        if status == "pending":
            query = query.where(Offer.expires_at > utcnow())
    if updated_since is not None:
        query = query.where(Offer.updated_at > updated_since)
    page = paginate(query, {"limit": limit, "cursor": cursor}, order=[Offer.updated_at, Offer.id])
    if page["items"]:
        home = _home(member_id)
        page["items"] = [offer_view(offer, home) for offer in page["items"]]
    return page


def get_my_offer(*, actor: Principal, offer_id: int) -> dict:
    """One of your offers (another member's: 404)."""
    member_id = actor.require_member_id()
    offer = db.session.get(Offer, offer_id)
    if offer is None or offer.member_id != member_id:
        raise NotFound(_("No such offer."))
    return offer_view(offer, _home(member_id))


def _my_jobs(member_id: int) -> Select:
    return select(Job).where(Job.assigned_member_id == member_id)


def _listed(query: Select) -> Select:
    """What a list shows of each job, loaded with the page."""
    return query.options(joinedload(Job.category, innerjoin=True), selectinload(Job.windows))


def list_my_jobs(
    *,
    actor: Principal,
    scope: str | None = None,
    updated_since: datetime | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict:
    """Jobs assigned to the member (upcoming, active or past; all without a scope)."""
    query = _listed(_my_jobs(actor.require_member_id()))
    if scope is not None:
        query = query.where(Job.status.in_(SCOPES[scope]))
    if updated_since is not None:
        query = query.where(Job.updated_at > updated_since)
    page = paginate(query, {"limit": limit, "cursor": cursor}, order=[Job.updated_at, Job.id])
    jobs = page["items"]
    names = {}
    if jobs:
        customers = select(Customer.id, Customer.display_name).where(
            Customer.id.in_({job.customer_id for job in jobs})
        )
        names = dict(db.session.execute(customers).all())
    page["items"] = [_job_view(job, names.get(job.customer_id)) for job in jobs]
    return page


def _own_job(actor: Principal, job_id: int, *, lock: bool) -> Job:
    member_id = actor.require_member_id()
    job = lock_job(job_id) if lock else db.session.get(Job, job_id)
    if job is None or job.assigned_member_id != member_id:
        raise NotFound(_("No such job among yours."))
    return job


def get_my_job(*, actor: Principal, job_id: int) -> dict:
    return _job_detail(_own_job(actor, job_id, lock=False))


def work_report_file(*, actor: Principal, job_id: int, file_id: int) -> Download:
    """Short-lived URLs of a photo or the signature of a job's work report, for whoever may
    read the job: its customer, its assigned member, staff (anyone else: 404)."""
    member = actor.role == "member"
    job = _own_job(actor, job_id, lock=False) if member else job_for(actor, job_id)
    return work_files.download(job.id, file_id)


# --- doing the work ------------------------------------------------------------------------


def _refuse_early_check_in(job: Job, now: datetime) -> None:
    """Check-in opens `check_in_opens_minutes` before the booked window; earlier is a 409."""
    if job.status != "assigned" or job.scheduled_start is None:
        return  # a job in another state gets the state machine's own answer
    lead = job_rules().check_in_opens_minutes
    opens_at = job.scheduled_start - timedelta(minutes=lead)
    if now < opens_at:
        raise CheckInNotOpen(
            _(
                "Check-in opens at {value}, {lead} minutes before the window.",
                value=opens_at.isoformat(),
                lead=lead,
            ),
            state=job.status,
            opens_at=opens_at.isoformat(),
            scheduled_start=job.scheduled_start.isoformat(),
        )


def start_job(*, actor: Principal, job_id: int) -> dict:
    """Check in on site: assigned → in progress, from shortly before the booked window."""
    job = _own_job(actor, job_id, lock=True)
    now = utcnow()
    _refuse_early_check_in(job, now)
    transition(job, "start", actor="member", actor_user_id=actor.user_id)
    job.started_at = now
    notify(
        customer_user_id(job),
        "job.started",
        _l("Work has started"),
        _l("{job_title}: the member has checked in.", job_title=job.title),
        dedupe_key=f"job.started:{job.id}",
        job_id=job.id,
    )
    return _job_detail(job)


def complete_job(
    *,
    actor: Principal,
    job_id: int,
    notes: str,
    minutes_spent: int,
    parts: list[dict] | None = None,
    photo_refs: list[str] | None = None,
    photo_file_ids: list[int] | None = None,
    signature_file_id: int | None = None,
) -> dict:
    """Finish the work with its report: in progress → completed; the customer confirms next.

    The photos and the customer's signature are the member's ready uploads (purposes
    work_photo and signature), each attached to this report only; `photo_refs` are the
    deprecated opaque references of photos stored elsewhere, kept as given.
    """
    job = _own_job(actor, job_id, lock=True)
    transition(job, "complete", actor="member", actor_user_id=actor.user_id)
    now = utcnow()
    job.completed_at = now
    db.session.add(
        WorkReport(
            job_id=job.id,
            notes=notes,
            minutes_spent=minutes_spent,
            parts=parts or [],
            photo_refs=photo_refs or [],
            created_at=now,
        )
    )
    work_files.attach(
        job_id=job.id,
        owner_user_id=actor.user_id,
        photo_file_ids=photo_file_ids or [],
        signature_file_id=signature_file_id,
    )
    record_job_completed(job.assigned_member_id, at=now)
    notify(
        customer_user_id(job),
        "job.completed",
        _l("Your job is done"),
        _l("{job_title}: please check the work report and confirm.", job_title=job.title),
        dedupe_key=f"job.completed:{job.id}",
        job_id=job.id,
    )
    schedule_after_completion(job)
    db.session.flush()
    return _job_detail(job)


def cancel_job(*, actor: Principal, job_id: int, reason: str) -> dict:
    """Back out of an assigned job: it returns to matching and counts against the member.

    The member keeps their offer row (or the withdraw event), so the next waves skip them.
    """
    job = _own_job(actor, job_id, lock=True)
    member_id = job.assigned_member_id
    event = transition(
        job,
        "withdraw",
        actor="member",
        actor_user_id=actor.user_id,
        member_id=member_id,
        reason=reason,
    )
    job.assigned_member_id = job.organisation_id = None
    job.scheduled_start = job.scheduled_end = job.assigned_at = None
    record_job_cancelled_by_member(member_id)
    db.session.flush()
    notify(
        customer_user_id(job),
        "job.member_withdrew",
        _l("Your member had to cancel"),
        _l("{job_title}: we are looking for another member.", job_title=job.title),
        dedupe_key=f"job.member_withdrew:{event.id}",
        job_id=job.id,
    )
    enqueue(WAVE_TASK, job_id=job.id, after_wave=job.wave)
    return {
        "job_id": job.id,
        "status": job.status,
        "reason": reason,
        "withdrawn_at": event.created_at,
    }
