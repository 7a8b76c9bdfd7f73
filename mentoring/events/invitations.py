"""Staff side of invitations: who is eligible, materialising them, inviting, the list, and
marking attendance after the event started."""

from __future__ import annotations

from sqlalchemy import or_, select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import NotFound, Unprocessable, field_error
from crowd.core.i18n import _, _l
from crowd.core.pagination import paginate
from crowd.extensions import db
from members.models import Member
from mentoring.errors import (
    EventNotStarted,
    EventStarted,
    EventStateConflict,
    InvitationNotAccepted,
)
from mentoring.events.lifecycle import invitation_target
from mentoring.events.service import invitation_counts, lock_event
from mentoring.models import Event, EventInvitation, MentorProfile, TopPerformerBadge
from notifications.service import notify_many

# Eligible members may be listed while the event is being prepared; invitations go out
# only once it is published.
LISTABLE = ("draft", "published")
# Attendance is marked once the event started, also after the sweep closed it.
ATTENDANCE_OPEN = ("published", "done")
# What each attendance action leaves an invitation as.
MARKED_AS = {"attend": "attended", "no_show": "no_show"}


def eligible_members(
    *, member_ids: list[int] | None = None, countries: list[str] | None = None
) -> dict[int, str]:
    """Active members who are top performers (a valid badge) or opted-in mentors, with why.

    One query; `qualifies_as` is "mentor", "top_performer" or "mentor,top_performer".
    """
    now = utcnow()
    badge = select(TopPerformerBadge.member_id).where(
        TopPerformerBadge.valid_until > now, TopPerformerBadge.revoked_at.is_(None)
    )
    mentor = select(MentorProfile.member_id).where(MentorProfile.opted_in.is_(True))
    is_top, is_mentor = Member.id.in_(badge), Member.id.in_(mentor)
    query = select(Member.id, is_top, is_mentor).where(
        Member.status == "active", or_(is_top, is_mentor)
    )
    if member_ids is not None:
        query = query.where(Member.id.in_(member_ids))
    if countries:
        query = query.where(Member.country.in_(countries))
    result = {}
    for member_id, top, mentoring in db.session.execute(query):
        reasons = [name for name, flag in (("mentor", mentoring), ("top_performer", top)) if flag]
        result[member_id] = ",".join(reasons)
    return result


def _listable(event: Event) -> None:
    if event.status not in LISTABLE:
        raise EventStateConflict(
            _("The event is {event_status}.", event_status=event.status), state=event.status
        )


def list_eligible(*, actor: Principal, event_id: int, countries: list[str] | None = None) -> dict:
    """Add an `eligible` invitation for every eligible member not listed yet (optionally only
    members living in `countries`); returns how many were added and the counts by status."""
    event = lock_event(event_id)
    _listable(event)
    listed = set(
        db.session.scalars(
            select(EventInvitation.member_id).where(EventInvitation.event_id == event.id)
        )
    )
    added = 0
    for member_id, reasons in eligible_members(countries=countries).items():
        if member_id in listed:
            continue
        db.session.add(
            EventInvitation(
                event_id=event.id, member_id=member_id, status="eligible", qualifies_as=reasons
            )
        )
        added += 1
    db.session.flush()
    return {"added": added, "counts": invitation_counts([event.id])[event.id]}


def _invitations_of(event_id: int, member_ids: list[int]) -> dict[int, EventInvitation]:
    rows = db.session.scalars(
        select(EventInvitation)
        .where(EventInvitation.event_id == event_id, EventInvitation.member_id.in_(member_ids))
        .order_by(EventInvitation.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    return {invitation.member_id: invitation for invitation in rows}


def invite(*, actor: Principal, event_id: int, member_ids: list[int]) -> dict:
    """Invite members of a published event: eligible → invited, each notified with how to
    answer. Members neither listed nor eligible now are a 422 naming them; members invited
    already (or further along) stay as they are."""
    event = lock_event(event_id)
    if event.status != "published":
        raise EventStateConflict(_("Publish the event before inviting."), state=event.status)
    if event.starts_at <= utcnow():
        raise EventStarted(_("The event has started."), state="started")
    member_ids = sorted(set(member_ids))
    existing = _invitations_of(event.id, member_ids)
    unlisted = [m for m in member_ids if m not in existing]
    eligible_now = eligible_members(member_ids=unlisted) if unlisted else {}
    refused = [m for m in unlisted if m not in eligible_now]
    if refused:
        names = ", ".join(map(str, refused))
        raise Unprocessable(
            _("Not eligible for this event: members {names}.", names=names),
            errors={"json": {"member_ids": [f"not eligible: {names}"]}},
            member_ids=refused,
        )
    for member_id in unlisted:
        invitation = EventInvitation(
            event_id=event.id,
            member_id=member_id,
            status="eligible",
            qualifies_as=eligible_now[member_id],
        )
        db.session.add(invitation)
        existing[member_id] = invitation
    invited, unchanged = [], []
    now = utcnow()
    for member_id in member_ids:
        invitation = existing[member_id]
        target = invitation_target(invitation.status, "invite", "staff")
        if target is None:
            unchanged.append(member_id)
            continue
        invitation.status, invitation.invited_at = target, now
        invitation.invited_by_id = actor.user_id
        invited.append(invitation)
    db.session.flush()
    _notify_invited(event, invited)
    return {"invited": [i.member_id for i in invited], "unchanged": unchanged}


def _notify_invited(event: Event, invitations: list[EventInvitation]) -> None:
    users = dict(
        db.session.execute(
            select(Member.id, Member.user_id).where(
                Member.id.in_([i.member_id for i in invitations])
            )
        ).all()
    )
    notify_many(
        "event.invitation",
        _l("You're invited: {event_title}", event_title=event.title),
        _l(
            "{value} on {event_starts_at:%d.%m.%Y %H:%M} UTC at "
            "{event_venue}, {event_city}. Accept or decline in the app "
            "(Invitations); you can change your answer until it starts.",
            value=event.kind.replace("_", " ").capitalize(),
            event_starts_at=event.starts_at,
            event_venue=event.venue,
            event_city=event.city,
        ),
        recipients=[
            (
                users[invitation.member_id],
                f"event:{event.id}:invited:{invitation.member_id}",
                {
                    "event_id": event.id,
                    "invitation_id": invitation.id,
                    "rsvp": f"/api/v1/me/invitations/{invitation.id}/rsvp",
                },
            )
            for invitation in invitations
        ],
    )


def invitation_view(invitation: EventInvitation, display_name: str | None) -> dict:
    view = {c.key: getattr(invitation, c.key) for c in EventInvitation.__table__.columns}
    view["display_name"] = display_name
    return view


def list_invitations(
    *,
    actor: Principal,
    event_id: int,
    status: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict:
    """An event's invitations in the order they were listed, optionally of one status."""
    if db.session.get(Event, event_id) is None:
        raise NotFound(_("No such event."))
    query = select(EventInvitation).where(EventInvitation.event_id == event_id)
    if status:
        query = query.where(EventInvitation.status == status)
    page = paginate(query, {"limit": limit, "cursor": cursor}, order=[EventInvitation.id])
    names = dict(
        db.session.execute(
            select(Member.id, Member.display_name).where(
                Member.id.in_([i.member_id for i in page["items"]])
            )
        ).all()
    )
    page["items"] = [invitation_view(i, names.get(i.member_id)) for i in page["items"]]
    return page


def mark_attendance(
    *, actor: Principal, event_id: int, attended: list[int], no_show: list[int]
) -> dict:
    """Record who came: accepted → attended or no_show (a mark may be corrected). Anyone
    else named is a 409 naming them; nothing is changed then."""
    both = sorted(set(attended) & set(no_show))
    if both:
        raise field_error(
            "no_show", _("members in both lists: {value}", value=", ".join(map(str, both)))
        )
    event = lock_event(event_id)
    if event.status not in ATTENDANCE_OPEN:
        raise EventStateConflict(
            _("The event is {event_status}.", event_status=event.status), state=event.status
        )
    if event.starts_at > utcnow():
        raise EventNotStarted(_("The event has not started yet."), state="not_started")
    wanted = {m: "attend" for m in attended} | {m: "no_show" for m in no_show}
    invitations = _invitations_of(event.id, sorted(wanted))
    changes, refused = [], []
    for member_id, action in sorted(wanted.items()):
        invitation = invitations.get(member_id)
        target = invitation and invitation_target(invitation.status, action, "staff")
        if invitation is not None and invitation.status == MARKED_AS[action]:
            continue  # marked so already
        if target is None:
            refused.append(member_id)
        else:
            changes.append((invitation, target))
    if refused:
        names = ", ".join(map(str, refused))
        raise InvitationNotAccepted(
            _("Only accepted invitations can be marked; not: members {names}.", names=names),
            state="not_accepted",
            member_ids=refused,
        )
    now = utcnow()
    for invitation, target in changes:
        invitation.status, invitation.attendance_marked_at = target, now
    db.session.flush()
    return {"changed": len(changes), "counts": invitation_counts([event.id])[event.id]}
