"""The member's side: their invitations (upcoming first) and answering them from the app.

A member reaches only their own invitations, and only once invited (an `eligible` listing is
staff's working list): anything else is 404.
"""

from __future__ import annotations

from sqlalchemy import func, select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import NotFound
from crowd.core.i18n import _
from crowd.extensions import db
from mentoring.errors import EventFull, EventStarted, EventStateConflict, InvitationStateConflict
from mentoring.events.lifecycle import allowed_invitation_actions, invitation_target
from mentoring.events.service import lock_event
from mentoring.models import Event, EventInvitation

PAST_SHOWN = 50


def _visible(member_id: int):
    return (
        select(EventInvitation, Event)
        .join(Event, Event.id == EventInvitation.event_id)
        .where(EventInvitation.member_id == member_id, EventInvitation.status != "eligible")
    )


def _view(invitation: EventInvitation, event: Event) -> dict:
    answerable = event.status == "published" and event.starts_at > utcnow()
    return {
        "id": invitation.id,
        "status": invitation.status,
        "qualifies_as": invitation.qualifies_as,
        "invited_at": invitation.invited_at,
        "responded_at": invitation.responded_at,
        "actions": allowed_invitation_actions(invitation.status, "member") if answerable else [],
        "event": event,
    }


def my_invitations(*, actor: Principal) -> dict:
    """Your invitations: upcoming events soonest first, then the last past ones."""
    member_id = actor.require_member_id()
    now = utcnow()
    upcoming = db.session.execute(
        _visible(member_id).where(Event.ends_at >= now).order_by(Event.starts_at, Event.id)
    ).all()
    past = db.session.execute(
        _visible(member_id)
        .where(Event.ends_at < now)
        .order_by(Event.starts_at.desc(), Event.id.desc())
        .limit(PAST_SHOWN)
    ).all()
    return {"items": [_view(invitation, event) for invitation, event in [*upcoming, *past]]}


def rsvp(*, actor: Principal, invitation_id: int, answer: str) -> dict:
    """Accept or decline; you may switch until the event starts. Accepting a full event is a
    409 with state "full": the event row is locked while the accepted ones are counted."""
    member_id = actor.require_member_id()
    found = db.session.execute(
        _visible(member_id).where(EventInvitation.id == invitation_id)
    ).first()
    if found is None:
        raise NotFound(_("No such invitation."))
    # Event first, then the invitation: the same order as staff invitations take.
    event = lock_event(found.Event.id)
    invitation = db.session.scalar(
        select(EventInvitation)
        .where(EventInvitation.id == invitation_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if event.status != "published":
        raise EventStateConflict(
            _("The event is {event_status}.", event_status=event.status), state=event.status
        )
    if event.starts_at <= utcnow():
        raise EventStarted(_("The event has started; answers are closed."), state="started")
    wanted = "accepted" if answer == "accept" else "declined"
    if invitation.status == wanted:
        return _view(invitation, event)  # the same answer again changes nothing
    target = invitation_target(invitation.status, answer, "member")
    if target is None:
        raise InvitationStateConflict(
            _(
                "Cannot {answer} an invitation that is {invitation_status}.",
                answer=answer,
                invitation_status=invitation.status,
            ),
            state=invitation.status,
        )
    if target == "accepted":
        accepted = db.session.scalar(
            select(func.count()).where(
                EventInvitation.event_id == event.id, EventInvitation.status == "accepted"
            )
        )
        if accepted >= event.capacity:
            raise EventFull(_("The event is full."), state="full")
    invitation.status, invitation.responded_at = target, utcnow()
    db.session.flush()
    return _view(invitation, event)
