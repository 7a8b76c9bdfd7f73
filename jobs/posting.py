"""Posting a job: the rules that need the database, then the order, its event and dispatch.

jobs.schemas.posting has already checked the shape. Here: the category and skills exist and
belong together, the address is the customer's own (or their default), the currency is the
one of the address's country, the preferred member is active and not blocked. Each refusal
is a 422 naming the field. The job starts `open`; `job.posted` is emitted and the first dispatch
wave is queued with it — unless a dispatch gate holds the job (its payment is authorised
first): then the gate's lifter sends the wave (see jobs.dispatch).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from crowd.core.auth import Principal
from crowd.core.background import enqueue
from crowd.core.errors import field_error
from crowd.core.events import Event, declare, emit
from crowd.core.i18n import _
from crowd.extensions import db
from customers.models import Customer, CustomerAddress
from customers.service import blocked_member_ids, customer_for_user
from jobs.dispatch import WAVE_TASK, hold_reason
from jobs.models import Job, JobEvent, JobSkill, JobWindow
from members.models import Member, Skill, SkillCategory

# A job is priced in the currency of the country it is done in.
COUNTRY_CURRENCY = {"DE": "EUR", "AT": "EUR", "CH": "CHF"}
PLACE = ("postcode", "city", "country", "lat", "lon")

# Posted: the order exists, open, its first wave queued (payouts authorises its payment).
declare("job.posted")


def hourly_estimate(rate: int, duration_minutes: int) -> int:
    """rate × duration / 60 in minor units, rounded half up (4500/h × 50 min → 3750)."""
    return (rate * duration_minutes * 2 + 60) // 120


def _category(slug: str) -> SkillCategory:
    category = db.session.scalar(select(SkillCategory).where(SkillCategory.slug == slug))
    if category is None:
        raise field_error("category", _("unknown category '{slug}'", slug=slug))
    return category


def _skills(slugs: list[str], category: SkillCategory) -> list[Skill]:
    found = {s.slug: s for s in db.session.scalars(select(Skill).where(Skill.slug.in_(slugs)))}
    unknown = [slug for slug in slugs if slug not in found]
    if unknown:
        raise field_error("skills", _("unknown skill(s): {value}", value=", ".join(unknown)))
    foreign = [slug for slug in slugs if found[slug].category_id != category.id]
    if foreign:
        raise field_error(
            "skills",
            _(
                "not in category '{category_slug}': {value}",
                category_slug=category.slug,
                value=", ".join(foreign),
            ),
        )
    return [found[slug] for slug in slugs]


def _place(customer: Customer, address_id: int | None, address: dict | None) -> dict:
    """The service address as job columns: inline, a saved address, or the default one."""
    if address is not None:
        return {"address_id": None, "street": address.get("street")} | {
            key: address[key] for key in PLACE
        }
    if address_id is not None:
        saved = db.session.get(CustomerAddress, address_id)
        if saved is None or saved.customer_id != customer.id:
            raise field_error("address_id", _("no such address among yours"))
    else:
        saved = db.session.scalar(
            select(CustomerAddress).where(
                CustomerAddress.customer_id == customer.id, CustomerAddress.is_default
            )
        )
        if saved is None:
            raise field_error("address", _("send address_id or an address (you have no default)"))
    return {"address_id": saved.id, "street": saved.street} | {
        key: getattr(saved, key) for key in PLACE
    }


def _preferred_member(customer: Customer, member_id: int | None) -> int | None:
    if member_id is None:
        return None
    member = db.session.get(Member, member_id)
    if member is None or member.status != "active":
        raise field_error("preferred_member_id", _("no active member with this id"))
    if member.id in blocked_member_ids(customer.id):
        raise field_error("preferred_member_id", _("you blocked this member"))
    return member.id


def post_job(
    *,
    actor: Principal,
    category: str,
    skills: list[str],
    title: str,
    description: str,
    device: dict,
    windows: list[dict],
    duration_minutes: int,
    pricing: dict,
    currency: str,
    min_level: int = 1,
    address_id: int | None = None,
    address: dict | None = None,
    preferred_member_id: int | None = None,
) -> Job:
    """Create an open job for the calling customer and queue its first dispatch wave."""
    customer = customer_for_user(actor.user_id)
    job_category = _category(category)
    job_skills = _skills(skills, job_category)
    place = _place(customer, address_id, address)
    if COUNTRY_CURRENCY[place["country"]] != currency:
        raise field_error(
            "currency",
            _(
                "jobs in {value} are priced in {value2}",
                value=place["country"],
                value2=COUNTRY_CURRENCY[place["country"]],
            ),
        )
    preferred = _preferred_member(customer, preferred_member_id)
    if pricing["kind"] == "fixed":
        price, rate = pricing["amount"], None
    else:
        rate = pricing["rate"]
        price = hourly_estimate(rate, duration_minutes)
        if price < 1:
            raise field_error("pricing", _("rate × duration rounds to nothing; raise the rate"))

    job = Job(
        customer_id=customer.id,
        category_id=job_category.id,
        title=title,
        description=description,
        device=device,
        duration_minutes=duration_minutes,
        pricing=pricing["kind"],
        currency=currency,
        price_amount=price,
        hourly_rate_amount=rate,
        min_level_rank=min_level,
        preferred_member_id=preferred,
        status="open",
        **place,
    )
    job.skills = [JobSkill(skill_id=skill.id) for skill in job_skills]
    job.windows = [
        JobWindow(starts_at=w["starts_at"], ends_at=w["ends_at"])
        for w in sorted(windows, key=lambda w: w["starts_at"])
    ]
    db.session.add(job)
    db.session.flush()
    # The category is at hand: the answer's view need not load it again.
    set_committed_value(job, "category", job_category)
    db.session.add(
        JobEvent(
            job_id=job.id,
            action="post",
            from_status=None,
            to_status="open",
            actor="customer",
            actor_user_id=actor.user_id,
            detail={},
        )
    )
    emit(Event("job.posted", "job", job.id, actor.user_id, payload={"customer_id": customer.id}))
    # Held by a gate (its payment is authorised first): the gate's lifter sends the wave, and
    # a wave queued now would only be skipped (bench/load.py: a wasted RQ job per posting).
    if hold_reason(job) is None:
        enqueue(WAVE_TASK, job_id=job.id)
    return job
