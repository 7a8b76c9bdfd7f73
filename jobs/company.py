"""A provider company's side of jobs, for its owners and dispatchers: the offers sent to its
members and the company's jobs. Accepting an offer for the company and assigning a technician
is in jobs.assignment (accept_for_company), with every other accept.

Offers go to members one by one (eligibility and ranking are the technician's); the company
sees the pending ones addressed to any of its active members, with the job as the addressee
sees it before accepting (no street, no customer) and who it was sent to.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.pagination import paginate
from crowd.extensions import db
from jobs.assignment import company_member_ids
from jobs.models import Job, Offer
from jobs.queries import list_jobs_of_company
from jobs.work import offer_view
from members.models import Member
from organisations.service import MANAGERS, own_organisation


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
