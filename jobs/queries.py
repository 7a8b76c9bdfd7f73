"""Reading jobs: lookups that enforce ownership, listings for customers and staff, and the
shape a job is presented in.

A customer reaches only their own jobs (another's answers 404, so ids reveal nothing); staff
reach every job. Lists are keyset-paginated by (updated_at, id) so that clients can poll with
updated_since.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from crowd.core.auth import Principal
from crowd.core.errors import NotFound
from crowd.core.i18n import _
from crowd.core.pagination import paginate
from crowd.extensions import db
from customers.models import Customer
from customers.service import customer_id_for
from jobs.lifecycle import allowed_actions
from jobs.models import Job, JobEvent, JobSkill, Offer
from jobs.work_files import report_view
from members.models import Member, Skill, SkillCategory

# Statuses in which an escalated job still waits for a community manager.
UNASSIGNED = ("open", "offered")


def actor_kind(actor: Principal) -> str:
    """The state-machine actor a principal acts as: staff or customer."""
    return "staff" if actor.is_staff else actor.role


# --- loading ------------------------------------------------------------------------------


def lock_job(job_id: int, *, skip_locked: bool = False) -> Job | None:
    """The job with its row locked for this unit of work (fresh from the database)."""
    query = (
        select(Job)
        .where(Job.id == job_id)
        .with_for_update(skip_locked=skip_locked, key_share=True)
        .execution_options(populate_existing=True)
    )
    return db.session.scalar(query)


def job_for(actor: Principal, job_id: int, *, lock: bool = False) -> Job:
    """A job the actor may see: staff any, a customer only their own (else 404)."""
    customer_id = None if actor.is_staff else customer_id_for(actor)
    job = lock_job(job_id) if lock else db.session.get(Job, job_id)
    if job is None or (customer_id is not None and job.customer_id != customer_id):
        raise NotFound(_("No such job."))
    return job


# --- presenting ---------------------------------------------------------------------------


def _skill_slugs(job_ids: list[int]) -> dict[int, list[str]]:
    rows = db.session.execute(
        select(JobSkill.job_id, Skill.slug)
        .join(Skill, Skill.id == JobSkill.skill_id)
        .where(JobSkill.job_id.in_(job_ids))
        .order_by(Skill.slug)
    )
    slugs: dict[int, list[str]] = {job_id: [] for job_id in job_ids}
    for job_id, slug in rows:
        slugs[job_id].append(slug)
    return slugs


def _price(job: Job) -> dict:
    return {
        "kind": job.pricing,
        "amount": job.price_amount,
        "rate": job.hourly_rate_amount,
        "currency": job.currency,
    }


def _summary(job: Job) -> dict:
    return {
        "id": job.id,
        "status": job.status,
        "title": job.title,
        "category": job.category.slug,
        "city": job.city,
        "country": job.country,
        "price": _price(job),
        "first_window_starts_at": job.windows[0].starts_at if job.windows else None,
        "scheduled_start": job.scheduled_start,
        "escalated": job.escalated_at is not None and job.status in UNASSIGNED,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "customer_id": job.customer_id,
        "assigned_member_id": job.assigned_member_id,
    }


def _party(model, row_id: int | None) -> dict | None:
    if row_id is None:
        return None
    row = db.session.get(model, row_id)
    return {"id": row.id, "display_name": row.display_name} if row is not None else None


def present_job(job: Job, *, actor: str) -> dict:
    """The full view of a job for `actor` (customer or staff), as JobSchema dumps it."""
    view = _summary(job)
    view.update(
        skills=_skill_slugs([job.id])[job.id],
        description=job.description,
        device=job.device,
        address={
            "address_id": job.address_id,
            "street": job.street,
            "postcode": job.postcode,
            "city": job.city,
            "country": job.country,
            "lat": job.lat,
            "lon": job.lon,
        },
        windows=[{"starts_at": w.starts_at, "ends_at": w.ends_at} for w in job.windows],
        duration_minutes=job.duration_minutes,
        min_level=job.min_level_rank,
        preferred_member_id=job.preferred_member_id,
        status_changed_at=job.status_changed_at,
        scheduled_end=job.scheduled_end,
        assigned_member=_party(Member, job.assigned_member_id),
        assigned_at=job.assigned_at,
        started_at=job.started_at,
        completed_at=job.completed_at,
        confirmed_at=job.confirmed_at,
        closed_at=job.closed_at,
        cancellation=None
        if job.cancelled_at is None
        else {
            "cancelled_at": job.cancelled_at,
            "cancelled_by": job.cancelled_by,
            "reason": job.cancel_reason,
            "fee_amount": job.cancellation_fee_amount,
        },
        work_report=report_view(job),
        allowed_actions=allowed_actions(job.status, actor),
    )
    return view


def _present_page(page: dict) -> dict:
    return {"items": [_summary(job) for job in page["items"]], "page": page["page"]}


def _listing(status: str | None, updated_since: datetime | None) -> Select:
    query = select(Job).options(joinedload(Job.category, innerjoin=True), selectinload(Job.windows))
    if status:
        query = query.where(Job.status == status)
    if updated_since:
        query = query.where(Job.updated_at >= updated_since)
    return query


# --- customer views -----------------------------------------------------------------------


def list_own_jobs(
    *,
    actor: Principal,
    status: str | None = None,
    updated_since: datetime | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict:
    """One page of the calling customer's jobs, least recently changed first."""
    query = _listing(status, updated_since).where(Job.customer_id == customer_id_for(actor))
    page = paginate(query, {"limit": limit, "cursor": cursor}, order=[Job.updated_at, Job.id])
    return _present_page(page)


def get_job(*, actor: Principal, job_id: int) -> dict:
    """One job in full: the customer's own, or any for staff (then with offers)."""
    job = job_for(actor, job_id)
    if actor.is_staff:
        return present_staff_job(job)
    return present_job(job, actor=actor_kind(actor))


def list_events(
    *, actor: Principal, job_id: int, limit: int | None = None, cursor: str | None = None
) -> dict:
    """The job's audit trail, oldest first; a customer sees it without the crowd's side."""
    job = job_for(actor, job_id)
    query = select(JobEvent).where(JobEvent.job_id == job.id)
    page = paginate(query, {"limit": limit, "cursor": cursor}, order=[JobEvent.id])
    if not actor.is_staff:
        page["items"] = [_customer_event(event, actor) for event in page["items"]]
    return page


# What a customer sees of an event's detail. Not who was offered the job (dispatch member_ids),
# offer ids or a staff assignment's eligibility notes: only the assigned member is theirs to
# know (member_id on assign and withdraw). A new detail key stays hidden until it is listed.
CUSTOMER_EVENT_DETAIL = frozenset(
    {"wave", "exclusive", "reason", "fee", "member_id", "ticket_id", "resolution", "dispute_id"}
)


def _customer_event(event: JobEvent, actor: Principal) -> dict:
    """`event` as its job's customer sees it: other users' ids and the crowd's side left out."""
    return {
        "id": event.id,
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "actor": event.actor,
        # Their own user id only: members' and staff's user ids are nothing to a customer.
        "actor_user_id": event.actor_user_id if event.actor_user_id == actor.user_id else None,
        "detail": {k: v for k, v in event.detail.items() if k in CUSTOMER_EVENT_DETAIL},
        "created_at": event.created_at,
    }


# --- staff views --------------------------------------------------------------------------


def list_jobs_for_staff(
    *,
    actor: Principal,
    status: str | None = None,
    updated_since: datetime | None = None,
    escalated: bool | None = None,
    customer_id: int | None = None,
    member_id: int | None = None,
    category: str | None = None,
    country: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict:
    """One page of all jobs for community managers, filtered, least recently changed first."""
    query = _listing(status, updated_since)
    if escalated is not None:
        waiting = Job.escalated_at.is_not(None) & Job.status.in_(UNASSIGNED)
        query = query.where(waiting if escalated else ~waiting)
    if customer_id is not None:
        query = query.where(Job.customer_id == customer_id)
    if member_id is not None:
        query = query.where(Job.assigned_member_id == member_id)
    if category:
        slug = select(SkillCategory.id).where(SkillCategory.slug == category).scalar_subquery()
        query = query.where(Job.category_id == slug)
    if country:
        query = query.where(Job.country == country)
    page = paginate(query, {"limit": limit, "cursor": cursor}, order=[Job.updated_at, Job.id])
    return _present_page(page)


def list_jobs_of_company(
    *,
    organisation_id: int,
    status: str | None = None,
    updated_since: datetime | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict:
    """One page of a provider company's jobs (done or being done by its technicians: the
    job's organisation_id), least recently changed first; the caller checked who asks."""
    query = _listing(status, updated_since).where(Job.organisation_id == organisation_id)
    page = paginate(query, {"limit": limit, "cursor": cursor}, order=[Job.updated_at, Job.id])
    return _present_page(page)


def _offers_overview(job_id: int) -> dict:
    rows = db.session.execute(
        select(Offer, Member.display_name)
        .join(Member, Member.id == Offer.member_id)
        .where(Offer.job_id == job_id)
        .order_by(Offer.wave, Offer.id)
    ).all()
    items = [
        {
            "id": offer.id,
            "member_id": offer.member_id,
            "member_display_name": name,
            "wave": offer.wave,
            "exclusive": offer.exclusive,
            "score": offer.score,
            "status": offer.status,
            "sent_at": offer.sent_at,
            "expires_at": offer.expires_at,
            "responded_at": offer.responded_at,
            "decline_reason": offer.decline_reason,
        }
        for offer, name in rows
    ]
    return {"counts": dict(Counter(item["status"] for item in items)), "items": items}


def present_staff_job(job: Job) -> dict:
    """The full view for staff: the customer's view plus customer, escalation and offers."""
    view = present_job(job, actor="staff")
    view.update(
        customer=_party(Customer, job.customer_id),
        wave=job.wave,
        escalated_at=job.escalated_at,
        escalation_reason=job.escalation_reason,
        offers=_offers_overview(job.id),
    )
    return view


def present_for(actor: Principal, job: Job) -> dict:
    """The full view of a job for the caller: the staff view for staff, else the customer's."""
    return present_staff_job(job) if actor.is_staff else present_job(job, actor="customer")
