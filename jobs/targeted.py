"""Staff offer a job to one member they chose: a wave of one, by the same rules as any wave.

The member must be eligible exactly as dispatch requires (jobs.matching: status, skills,
level, distance, capacity, calendar, not blocked) and never offered the job before (nor backed
out of it). The offer is an ordinary pending offer: the member accepts it through
POST /offers/{id}/accept, where the first accept wins (jobs.assignment), it expires after the
usual time, and any other offers still out stay out. Locks are taken in dispatch's order — job,
then member — so a targeted offer racing an accept or a direct assignment either lands before
it (and is then withdrawn with the others) or finds the job taken (409).
"""

from __future__ import annotations

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import NotFound, Unprocessable, field_error
from crowd.core.i18n import _
from crowd.extensions import db
from jobs.dispatch import (
    Pick,
    WaveOutcome,
    excluded_member_ids,
    hold_reason,
    offer_ttl,
    send_offer_wave,
)
from jobs.errors import AlreadyOffered, DispatchHeld
from jobs.lifecycle import next_status
from jobs.matching import eligibility_problems
from jobs.models import Offer
from jobs.queries import lock_job
from members.access import lock_member


def offer_to_member(*, actor: Principal, job_id: int, member_id: int) -> WaveOutcome:
    """Offer an open or offered job to `member_id` (staff); 422 lists why they may not take it."""
    job = lock_job(job_id)
    if job is None:
        raise NotFound(_("No such job."))
    # 409 with the job's state once it is past offering (assigned, started, finished).
    next_status(job, "offer", "staff")
    held = hold_reason(job)
    if held:
        raise DispatchHeld(held, state=job.status)
    member = lock_member(member_id)
    if member is None:
        raise field_error("member_id", _("no such member"))
    if member.id in excluded_member_ids(job.id):
        earlier = db.session.scalar(
            select(Offer.status).where(Offer.job_id == job.id, Offer.member_id == member.id)
        )
        raise AlreadyOffered(
            _("This member was offered the job before; a job is never offered twice."),
            state=earlier or "withdrawn",
        )
    problems = eligibility_problems(job, member.id)
    if problems:
        raise Unprocessable(
            _("The member is not eligible for this job."),
            errors={"json": {"member_id": problems}},
        )
    # The escalation is answered: if the offer lapses, dispatch goes on (and escalates again
    # once the round's waves are used up).
    job.escalated_at, job.escalation_reason = None, None
    return send_offer_wave(
        job,
        [Pick(member.id, member.user_id, 0.0)],
        ttl=offer_ttl(job, utcnow()),
        exclusive=False,
        actor="staff",
        actor_user_id=actor.user_id,
        action="offer",
    )
