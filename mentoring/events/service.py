"""Staff manage events: create, edit, publish, cancel, list with invitation counts; past
events are closed by a periodic sweep."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import NotFound, field_error
from crowd.core.i18n import _, _l
from crowd.core.pagination import paginate
from crowd.extensions import db
from members.models import Member
from mentoring.events.lifecycle import event_target
from mentoring.models import INVITATION_STATUSES, Event, EventInvitation
from notifications.service import notify_many

# Invitees told when an event is cancelled: those who were asked and did not decline.
TOLD_OF_CANCELLATION = ("invited", "accepted")


def lock_event(event_id: int) -> Event:
    """The event with its row locked for this unit of work; 404 when there is none."""
    event = db.session.scalar(
        select(Event)
        .where(Event.id == event_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if event is None:
        raise NotFound(_("No such event."))
    return event


def invitation_counts(event_ids: list[int]) -> dict[int, dict[str, int]]:
    """Invitations per status for each event (every status present, zero when none)."""
    counts = {event_id: dict.fromkeys(INVITATION_STATUSES, 0) for event_id in event_ids}
    if not event_ids:
        return counts
    rows = db.session.execute(
        select(EventInvitation.event_id, EventInvitation.status, func.count())
        .where(EventInvitation.event_id.in_(event_ids))
        .group_by(EventInvitation.event_id, EventInvitation.status)
    )
    for event_id, status, count in rows:
        counts[event_id][status] = count
    return counts


def event_view(event: Event, counts: dict[str, int] | None = None) -> dict:
    """The event's columns with its invitation counts, as the API shows them."""
    view = {column.key: getattr(event, column.key) for column in Event.__table__.columns}
    view["counts"] = counts if counts is not None else invitation_counts([event.id])[event.id]
    return view


def _check_times(starts_at: datetime, ends_at: datetime, *, changed_start: bool) -> None:
    if changed_start and starts_at <= utcnow():
        raise field_error("starts_at", _("must be in the future"))
    if ends_at <= starts_at:
        raise field_error("ends_at", _("must be after starts_at"))


def create_event(*, actor: Principal, **fields) -> dict:
    """A new event in draft; it starts in the future and ends after it starts."""
    _check_times(fields["starts_at"], fields["ends_at"], changed_start=True)
    event = Event(**fields, status="draft", created_by_id=actor.user_id)
    db.session.add(event)
    db.session.flush()
    return event_view(event)


def update_event(*, actor: Principal, event_id: int, **changes) -> dict:
    """Edit a draft or published event; done and cancelled ones are final (409)."""
    event = lock_event(event_id)
    event_target(event.status, "edit")
    starts_at = changes.get("starts_at", event.starts_at)
    ends_at = changes.get("ends_at", event.ends_at)
    _check_times(starts_at, ends_at, changed_start="starts_at" in changes)
    if "capacity" in changes:
        accepted = invitation_counts([event.id])[event.id]["accepted"]
        if changes["capacity"] < accepted:
            raise field_error(
                "capacity", _("{accepted} invitees accepted already", accepted=accepted)
            )
    for name, value in changes.items():
        setattr(event, name, value)
    db.session.flush()
    return event_view(event)


def publish_event(*, actor: Principal, event_id: int) -> dict:
    """Publish a draft event: invitations may go out from now on."""
    event = lock_event(event_id)
    event.status = event_target(event.status, "publish")
    return event_view(event)


def cancel_event(*, actor: Principal, event_id: int) -> dict:
    """Cancel an event; everyone invited who has not declined is told."""
    event = lock_event(event_id)
    event.status = event_target(event.status, "cancel")
    invitees = db.session.execute(
        select(Member.id, Member.user_id)
        .join(EventInvitation, EventInvitation.member_id == Member.id)
        .where(
            EventInvitation.event_id == event.id,
            EventInvitation.status.in_(TOLD_OF_CANCELLATION),
        )
    )
    notify_many(
        "event.cancelled",
        _l("Cancelled: {event_title}", event_title=event.title),
        _l(
            "The {value} on {event_starts_at:%d.%m.%Y} in {event_city} will not take place.",
            value=event.kind.replace("_", " "),
            event_starts_at=event.starts_at,
            event_city=event.city,
        ),
        recipients=[
            (user_id, f"event:{event.id}:cancelled:{member_id}", {"event_id": event.id})
            for member_id, user_id in invitees
        ],
    )
    return event_view(event)


def get_event(*, actor: Principal, event_id: int) -> dict:
    """One event with its invitation counts by status."""
    event = db.session.get(Event, event_id)
    if event is None:
        raise NotFound(_("No such event."))
    return event_view(event)


def list_events(
    *,
    actor: Principal,
    status: str | None = None,
    kind: str | None = None,
    upcoming: bool = False,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict:
    """Events, soonest first, with their invitation counts; `upcoming` hides past ones."""
    query = select(Event)
    if status:
        query = query.where(Event.status == status)
    if kind:
        query = query.where(Event.kind == kind)
    if upcoming:
        query = query.where(Event.ends_at > utcnow())
    page = paginate(query, {"limit": limit, "cursor": cursor}, order=[Event.starts_at, Event.id])
    counts = invitation_counts([event.id for event in page["items"]])
    page["items"] = [event_view(event, counts[event.id]) for event in page["items"]]
    return page


def finish_past_events() -> int:
    """Close published events that have ended (periodic); attendance can still be marked."""
    result = db.session.execute(
        update(Event)
        .where(Event.status == "published", Event.ends_at < utcnow())
        .values(status=event_target("published", "finish", "system"), updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
