"""A provider company's side of jobs, for its owners and dispatchers: the offers sent to its
members, the company's jobs, accepting an offer for the company and assigning a technician,
and giving an assigned job to another technician.

Offers go to members one by one (eligibility and ranking are the technician's); the company
sees the pending ones addressed to any of its active members, with the job as the addressee
sees it before accepting (no street, no customer) and who it was sent to. Its writes lock the
company's row first (its memberships hold still), then job → member → offer as every accept
(jobs.assignment, whose checks and consequences they share): first accept wins, whoever's.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import NotFound, Unprocessable, field_error
from crowd.core.i18n import _, _l
from crowd.core.pagination import paginate
from crowd.extensions import db
from jobs.assignment import (
    assign_to,
    fit_under_lock,
    lock_offer,
    require_pending,
    tell_assigned,
    tell_technician,
)
from jobs.dispatch import withdraw_pending_offers
from jobs.errors import OfferTaken
from jobs.lifecycle import next_status, transition
from jobs.models import Job, Offer
from jobs.offers import transition as offer_transition
from jobs.queries import list_jobs_of_company, lock_job
from jobs.work import offer_view
from members.access import lock_member
from members.models import Member
from notifications.service import notify
from organisations.errors import OrganisationStateConflict
from organisations.models import Organisation, OrganisationMembership
from organisations.service import MANAGERS, active_membership, own_organisation


def company_member_ids(organisation_id: int):
    """The company's active members, as a subquery: any role may do jobs (an owner of a
    one-person business too), and offers reach them one by one."""
    return select(OrganisationMembership.member_id).where(
        OrganisationMembership.organisation_id == organisation_id,
        OrganisationMembership.status == "active",
    )


# A vetted company's standing in ranking: half a top performer's programme boost.
COMPANY_STANDING_BOOST = 0.5


def company_standing_boosts(member_ids) -> dict[int, float]:
    """The company's standing, for ranking (jobs.matching.ranking's programme boost): members
    of an active provider company whose business checks a CM verified (trade register,
    insurance) rank a little higher; a suspended company's are not eligible at all."""
    if not member_ids:
        return {}
    vetted = db.session.scalars(
        select(OrganisationMembership.member_id)
        .join(Organisation, Organisation.id == OrganisationMembership.organisation_id)
        .where(
            OrganisationMembership.member_id.in_(member_ids),
            OrganisationMembership.status == "active",
            Organisation.status == "active",
            Organisation.checks_decision == "verified",
        )
    )
    return {member_id: COMPANY_STANDING_BOOST for member_id in vetted}


def _in_company(organisation_id: int, member_id: int) -> bool:
    membership = active_membership(member_id)
    return membership is not None and membership.organisation_id == organisation_id


def _refuse(problems: list[str]) -> Unprocessable:
    return Unprocessable(
        _("The technician cannot take this job."),
        errors={"json": {"technician_member_id": problems}},
    )


# --- reading --------------------------------------------------------------------------------


def list_offers(*, actor: Principal, limit: int | None = None, cursor: str | None = None) -> dict:
    """The pending offers sent to the company's active members, oldest change first; each with
    the member it was sent to and their distance to the job."""
    organisation, _membership = own_organisation(actor, roles=MANAGERS)
    query = (
        select(Offer)
        .where(
            Offer.member_id.in_(company_member_ids(organisation.id)),
            Offer.status == "pending",
            Offer.expires_at > utcnow(),
        )
        .options(
            joinedload(Offer.job).options(
                joinedload(Job.category, innerjoin=True), selectinload(Job.windows)
            )
        )
    )
    page = paginate(query, {"limit": limit, "cursor": cursor}, order=[Offer.updated_at, Offer.id])
    offers = page["items"]
    people = {}
    if offers:
        people = {
            row.id: row
            for row in db.session.execute(
                select(Member.id, Member.display_name, Member.lat, Member.lon).where(
                    Member.id.in_({offer.member_id for offer in offers})
                )
            )
        }
    page["items"] = [
        offer_view(offer, (people[offer.member_id].lat, people[offer.member_id].lon))
        | {
            "member_id": offer.member_id,
            "member_display_name": people[offer.member_id].display_name,
        }
        for offer in offers
    ]
    return page


def list_jobs(
    *,
    actor: Principal,
    status: str | None = None,
    updated_since: datetime | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict:
    """The company's jobs (done or being done by its technicians for it), least recently
    changed first, with the technician of each."""
    organisation, _membership = own_organisation(actor, roles=MANAGERS)
    page = list_jobs_of_company(
        organisation_id=organisation.id,
        status=status,
        updated_since=updated_since,
        limit=limit,
        cursor=cursor,
    )
    assigned = {item["assigned_member_id"] for item in page["items"]} - {None}
    names = {}
    if assigned:
        names = dict(
            db.session.execute(
                select(Member.id, Member.display_name).where(Member.id.in_(assigned))
            ).all()
        )
    for item in page["items"]:
        item["assigned_member_display_name"] = names.get(item["assigned_member_id"])
    return page


# --- dispatching ----------------------------------------------------------------------------


def _technicians_pending_offer(job: Job, member_id: int, offer: Offer, now: datetime) -> Offer:
    """The offer the accept answers: the chosen technician's own pending offer of the job when
    they hold one (theirs is taken, the others' are withdrawn), else `offer`."""
    own_id = db.session.scalar(
        select(Offer.id).where(
            Offer.job_id == job.id, Offer.member_id == member_id, Offer.status == "pending"
        )
    )
    if own_id is None or own_id == offer.id:
        return offer
    own = lock_offer(own_id)  # under the job's lock, as withdrawing the others would
    return own if own.status == "pending" and own.expires_at > now else offer


def accept_for_company(*, actor: Principal, offer_id: int, technician_member_id: int) -> Job:
    """A company's owner or dispatcher accepts a pending offer sent to one of its members and
    gives the job to `technician_member_id`: that member or another of the company, eligible
    for the job (skills, distance, calendar) — else 422 naming the field. Of simultaneous
    accepts of the job, whoever's, exactly one finds it offered; the rest answer 409."""
    organisation, _own = own_organisation(actor, roles=MANAGERS, lock=True)
    offer = db.session.get(Offer, offer_id)
    if offer is None or not _in_company(organisation.id, offer.member_id):
        raise NotFound(_("No such offer among your company's."))
    if organisation.status != "active":
        raise OrganisationStateConflict(
            _("Only an active company takes jobs."), state=organisation.status
        )
    require_pending(offer, "accept", utcnow())  # as in accept_offer: no lock to refuse
    if not _in_company(organisation.id, technician_member_id):
        raise field_error("technician_member_id", _("not an active member of your company"))
    job = lock_job(offer.job_id)
    member = lock_member(technician_member_id)
    offer = lock_offer(offer_id)
    now = utcnow()
    require_pending(offer, "accept", now)
    if job.status != "offered" or job.assigned_member_id is not None:
        raise OfferTaken(
            _("This job is {value} now.", value=job.status.replace("_", " ")), state=job.status
        )
    problems, fit = fit_under_lock(job, member)
    if problems:
        raise _refuse(problems)
    taken = _technicians_pending_offer(job, member.id, offer, now)
    # offer.accepted counts the answer in the addressee's stats (jobs.events).
    offer_transition(
        taken,
        "accept",
        by="member",
        actor_user_id=actor.user_id,
        now=now,
        organisation_id=organisation.id,
        assigned_member_id=member.id,
    )
    assign_to(job, member, start=fit.starts_at, end=fit.ends_at, now=now)
    event = transition(
        job,
        "accept",
        actor="member",
        actor_user_id=actor.user_id,
        offer_id=taken.id,
        member_id=member.id,
        organisation_id=organisation.id,
    )
    withdraw_pending_offers(job, reason="taken", by="member", actor_user_id=actor.user_id)
    tell_technician(job, member, event)
    tell_assigned(job, member, event)
    return job


def reassign_for_company(*, actor: Principal, job_id: int, technician_member_id: int) -> Job:
    """A company's owner or dispatcher gives one of its assigned jobs, not yet started, to
    another of its members, eligible for it (else 422 naming the field), scheduled where the
    new technician fits; both technicians and the customer are told."""
    organisation, _own = own_organisation(actor, roles=MANAGERS, lock=True)
    job = lock_job(job_id)
    if job is None or job.organisation_id != organisation.id:
        raise NotFound(_("No such job among your company's."))
    next_status(job, "reassign", "dispatcher")  # 409 with the state once started or done
    if technician_member_id == job.assigned_member_id:
        raise field_error("technician_member_id", _("already the job's technician"))
    if not _in_company(organisation.id, technician_member_id):
        raise field_error("technician_member_id", _("not an active member of your company"))
    member = lock_member(technician_member_id)
    problems, fit = fit_under_lock(job, member)
    if problems:
        raise _refuse(problems)
    previous = db.session.get(Member, job.assigned_member_id)
    assign_to(job, member, start=fit.starts_at, end=fit.ends_at, now=utcnow())
    event = transition(
        job,
        "reassign",
        actor="dispatcher",
        actor_user_id=actor.user_id,
        member_id=member.id,
        previous_member_id=previous.id,
        organisation_id=organisation.id,
    )
    db.session.flush()
    notify(
        previous.user_id,
        "job.reassigned",
        _l("Job given to a colleague"),
        _l("Your company gave “{job_title}” to another technician.", job_title=job.title),
        dedupe_key=f"job.reassigned:{event.id}",
        job_id=job.id,
    )
    tell_technician(job, member, event)
    tell_assigned(job, member, event)
    return job
