"""Escalated jobs for the console's dispatch board on the first visit, with candidates left.

Two customers of the city with the most active members post a job needing the skill most of
them hold; each job's first wave goes out, nobody answers, the offers lapse and the system
escalates the job to the community managers — as it does when nobody accepts within
JOBS_MAX_WAVES waves. For this step only, dispatch runs with one wave of two offers per round
(a small demo crowd would otherwise be used up by the default 3 waves of 5), so members are
left to offer the job to from its dispatch page. Everything goes through the services.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from crowd.core.auth import Principal
from crowd.core.db import commit, utcnow
from crowd.extensions import db
from customers.models import Customer, CustomerAddress
from jobs.dispatch import expire_job_offers, send_wave
from jobs.models import Offer
from jobs.posting import post_job
from members.models import Member, MemberSkill, Skill, SkillCategory

JOBS = 2
SHORT_ROUND = {"JOBS_MAX_WAVES": 1, "JOBS_WAVE_SIZE": 2}
CURRENCY = {"DE": "EUR", "AT": "EUR", "CH": "CHF"}


@contextmanager
def _short_round() -> Iterator[None]:
    config = current_app.config
    saved = {key: config.get(key) for key in SHORT_ROUND}
    config.update(SHORT_ROUND)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value


def escalate_waiting_jobs() -> str:
    active = Member.status == "active"
    city = db.session.scalar(
        select(Member.city).where(active).group_by(Member.city).order_by(func.count().desc())
    )
    skill = db.session.execute(
        select(Skill.slug, SkillCategory.slug)
        .join(SkillCategory, SkillCategory.id == Skill.category_id)
        .join(MemberSkill, MemberSkill.skill_id == Skill.id)
        .join(Member, Member.id == MemberSkill.member_id)
        .where(active, Member.city == city)
        .group_by(Skill.slug, SkillCategory.slug)
        .order_by(func.count().desc(), Skill.slug)
    ).first()
    places = db.session.execute(
        select(CustomerAddress, Customer.user_id)
        .join(Customer, Customer.id == CustomerAddress.customer_id)
        .where(CustomerAddress.city == city)
        .order_by(CustomerAddress.id)
        .limit(JOBS)
    ).all()
    if skill is None or not places:
        return "dispatch: no job escalated (no customer or skill in the busiest city)"
    escalated = 0
    with _short_round():
        for number, (address, user_id) in enumerate(places):
            starts = (utcnow() + timedelta(days=2 + number)).replace(
                hour=9, minute=0, second=0, microsecond=0
            )
            job = post_job(
                actor=Principal(user_id, "customer", 0, "demo", customer_id=address.customer_id),
                category=skill[1],
                skills=[skill[0]],
                title="Bitte dringend: Hilfe bei der Einrichtung",
                description=f"Bitte Hilfe bei: {skill[0].replace('_', ' ')} in {city}.",
                device={"notes": "Details telefonisch"},
                windows=[{"starts_at": starts, "ends_at": starts + timedelta(hours=6)}],
                duration_minutes=90,
                pricing={"kind": "fixed", "amount": 9000},
                currency=CURRENCY[address.country],
                address_id=address.id,
            )
            # Committed, posting authorises the payment and sends the first wave (inline on the
            # embedded default; with RQ workers they may not have run yet: then it is sent here).
            commit()
            offered = db.session.scalar(
                select(func.count()).select_from(Offer).where(Offer.job_id == job.id)
            )
            if not offered and send_wave(job.id).outcome != "offers":
                continue
            # Nobody answers: the wave's offers lapse, and the round is over.
            db.session.execute(
                update(Offer)
                .where(Offer.job_id == job.id, Offer.status == "pending")
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
            expire_job_offers(job.id)
            db.session.refresh(job)
            if job.escalated_at is None:
                send_wave(job.id)
                db.session.refresh(job)
            escalated += job.escalated_at is not None
    return f"dispatch: {escalated} jobs escalated to the community managers ({city})"
