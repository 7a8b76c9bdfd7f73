"""Sanctions ("house rules"): warn, suspend and reinstate members, with a reason and an audit.

Every sanction is a Sanction row (who, why, which ticket); suspending and reinstating also
move the member's status through members.service (a MemberStatusChange). A suspended
member is out of matching at once (eligibility requires an active member, re-checked under
the member's lock when an offer is accepted), and their pending offers are withdrawn: each of
those jobs goes on to its next wave when none of its offers is left pending.

Jobs already assigned to the member stay assigned (a decision): a suspension is often an
investigation, the customer has a confirmed appointment, and the jobs lifecycle has no staff
"unassign"; the response lists them (`assigned_job_ids`) for the community manager to settle
one by one (e.g. cancel, and post again). A reinstated member is offered jobs again.

Every sanction emits an event (crowd.core.events): `sanction.imposed` (a warning or a
suspension) or `sanction.lifted` (a reinstatement); the member's notice is support.events'.
"""

from __future__ import annotations

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.errors import Forbidden, NotFound, field_error
from crowd.core.events import Event, declare, emit
from crowd.core.i18n import N_, _
from crowd.core.pagination import paginate
from crowd.extensions import db
from jobs.dispatch import withdraw_member_offers
from jobs.models import Job, Offer
from jobs.queries import lock_job
from members.models import Member
from members.service import change_member_status
from support.lifecycle import record
from support.models import Sanction, Ticket

# Jobs the member is booked for: a suspension leaves them with the member (see the module).
BOOKED = ("assigned", "in_progress")
# Titles and bodies of the member's notice, as msgids (support.events renders them).
MESSAGES = {
    "warn": (N_("A warning about our house rules"), N_("You have been warned: {reason}")),
    "suspend": (
        N_("Your membership is suspended"),
        N_("You are suspended and receive no job offers until you are reinstated: {reason}"),
    ),
    "reinstate": (
        N_("You are reinstated"),
        N_("You are active again and receive job offers: {reason}"),
    ),
}


# What a sanction is, as an event: a warning or a suspension is imposed, a reinstatement lifts.
EVENTS = {"warn": "sanction.imposed", "suspend": "sanction.imposed", "reinstate": "sanction.lifted"}
declare(*EVENTS.values())


def _member(member_id: int) -> Member:
    member = db.session.get(Member, member_id)
    if member is None:
        raise NotFound(_("No such crowd member."))
    return member


def _ticket(ticket_id: int | None, member_id: int) -> Ticket | None:
    if ticket_id is None:
        return None
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or ticket.member_id != member_id:
        raise field_error("ticket_id", _("no ticket about this member"))
    return ticket


def sanction_member(
    *, actor: Principal, member_id: int, kind: str, reason: str, ticket_id: int | None = None
) -> dict:
    """Warn, suspend or reinstate a member (staff). 404: no such member; 409: the member's
    status does not allow it (`state`); 422: a ticket that is not about this member."""
    if not actor.is_staff:
        raise Forbidden(_("Only community managers and admins sanction members."))
    member = _member(member_id)
    ticket = _ticket(ticket_id, member.id)
    withdrawn = 0
    if kind == "suspend":
        # Lock order of dispatch: the jobs first, then the member, then the offers.
        jobs = [lock_job(job_id) for job_id in _jobs_with_pending_offers(member.id)]
        change_member_status(actor=actor, member_id=member.id, action="suspend", reason=reason)
        withdrawn = withdraw_member_offers(member.id, jobs, actor_user_id=actor.user_id)
    elif kind == "reinstate":
        change_member_status(actor=actor, member_id=member.id, action="reinstate", reason=reason)
    sanction = Sanction(
        member_id=member.id,
        kind=kind,
        reason=reason,
        ticket_id=ticket.id if ticket else None,
        created_by_id=actor.user_id,
    )
    db.session.add(sanction)
    db.session.flush()
    if ticket is not None:
        record(
            ticket,
            "sanction",
            actor="staff",
            actor_id=actor.user_id,
            sanction_id=sanction.id,
            kind=kind,
        )
    emit(
        Event(
            name=EVENTS[kind],
            subject_type="sanction",
            subject_id=sanction.id,
            actor=actor.user_id,
            payload={
                "kind": kind,
                "member_id": member.id,
                "member_user_id": member.user_id,
                "reason": reason,
                "ticket_id": sanction.ticket_id,
                "member_status": member.status,
            },
        )
    )
    return _present(sanction, member, offers_withdrawn=withdrawn)


def _jobs_with_pending_offers(member_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(Offer.job_id)
            .where(Offer.member_id == member_id, Offer.status == "pending")
            .distinct()
            .order_by(Offer.job_id)
        )
    )


def _present(sanction: Sanction, member: Member, *, offers_withdrawn: int | None = None) -> dict:
    view = {
        "id": sanction.id,
        "member_id": sanction.member_id,
        "kind": sanction.kind,
        "reason": sanction.reason,
        "ticket_id": sanction.ticket_id,
        "created_by_id": sanction.created_by_id,
        "created_at": sanction.created_at,
        "member_status": member.status,
    }
    if offers_withdrawn is not None:
        view["offers_withdrawn"] = offers_withdrawn
        view["assigned_job_ids"] = list(
            db.session.scalars(
                select(Job.id)
                .where(Job.assigned_member_id == member.id, Job.status.in_(BOOKED))
                .order_by(Job.id)
            )
        )
    return view


def list_sanctions(
    *, actor: Principal, member_id: int, limit: int | None = None, cursor: str | None = None
) -> dict:
    """A member's sanctions, oldest first: staff see anyone's, a member only their own."""
    member = db.session.get(Member, member_id)
    if member is None or (not actor.is_staff and member.user_id != actor.user_id):
        raise NotFound(_("No such crowd member."))
    page = paginate(
        select(Sanction).where(Sanction.member_id == member.id),
        {"limit": limit, "cursor": cursor},
        order=[Sanction.id],
    )
    page["items"] = [_present(sanction, member) for sanction in page["items"]]
    return page
