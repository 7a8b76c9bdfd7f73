"""SLA clocks of support tickets: due times, breach detection with escalation, auto-close.

A ticket opens with two deadlines from its priority's targets (support.config): the first
response and the resolution. While it waits on a party the clocks are paused and, when they
resume, support.lifecycle moves both deadlines later by the pause; a priority change re-aims
them from the opening time plus the time spent paused. The periodic `check_sla` marks each
breach once (its stamp is the proof), escalates the ticket and tells its assignee and the
admins; `close_resolved` closes resolved tickets nobody answered within the auto-close period.
Both lock what they change and skip rows another worker holds, so they may run concurrently.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, case, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from accounts.staff_alerts import alert_staff
from crowd.core.db import UTCDateTime, utcnow
from crowd.core.i18n import _l
from crowd.extensions import db
from support.config import support_rules
from support.lifecycle import record, transition
from support.models import FIXED_DEADLINE_CATEGORIES, Ticket
from support.tickets.access import notify_status, watchers

# In these statuses there is nothing left to be late for.
STOPPED = ("resolved", "closed")
# Sorts tickets without a running clock after every real deadline.
NO_DEADLINE = datetime(9999, 12, 31, tzinfo=UTC)
BREACHES = {"first_response": "first response", "resolution": "resolution"}


def due_times(priority: str, start: datetime, paused_seconds: int = 0) -> tuple[datetime, datetime]:
    """(first response due, resolution due) for a ticket of `priority` opened at `start`."""
    rules = support_rules()
    paused = timedelta(seconds=paused_seconds)
    return start + rules.first_response(priority) + paused, start + rules.resolution(
        priority
    ) + paused


def retarget(ticket: Ticket) -> None:
    """Re-aim both deadlines after a priority change: opening time + target + time paused.

    A deadline set outside (FIXED_DEADLINE_CATEGORIES: a chargeback's evidence deadline)
    stays. A pause still running is added by the lifecycle when the clocks resume. Breach stamps
    stay: they record what happened under the old target.
    """
    first, resolution = due_times(ticket.priority, ticket.created_at, ticket.sla_paused_seconds)
    if ticket.first_response_at is None:
        ticket.first_response_due_at = first
    if ticket.category not in FIXED_DEADLINE_CATEGORIES:
        ticket.resolution_due_at = resolution


# --- what is due ------------------------------------------------------------------------------


def running() -> ColumnElement[bool]:
    """The clocks run: not resolved or closed, and not waiting on a party."""
    return and_(Ticket.status.notin_(STOPPED), Ticket.sla_paused_at.is_(None))


def due_expression() -> ColumnElement:
    """The ticket's next deadline in SQL (NO_DEADLINE when its clocks do not run)."""
    first_pending = and_(
        Ticket.first_response_at.is_(None),
        Ticket.first_response_due_at < Ticket.resolution_due_at,
    )
    deadline = case((first_pending, Ticket.first_response_due_at), else_=Ticket.resolution_due_at)
    return case((running(), deadline), else_=literal(NO_DEADLINE, UTCDateTime()))


def next_due(ticket: Ticket) -> datetime | None:
    """The ticket's next deadline, or None while its clocks do not run."""
    if ticket.status in STOPPED or ticket.sla_paused_at is not None:
        return None
    if ticket.first_response_at is None:
        return min(ticket.first_response_due_at, ticket.resolution_due_at)
    return ticket.resolution_due_at


def due_before(when: datetime) -> ColumnElement[bool]:
    """Running tickets whose first response or resolution is due before `when`."""
    first = and_(Ticket.first_response_at.is_(None), Ticket.first_response_due_at < when)
    return and_(running(), or_(first, Ticket.resolution_due_at < when))


def breached() -> ColumnElement[bool]:
    return or_(
        Ticket.first_response_breached_at.is_not(None),
        Ticket.resolution_breached_at.is_not(None),
    )


def _late(now: datetime) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(first response late, resolution late) and not yet marked — breach exactly at due."""
    first = and_(
        Ticket.first_response_at.is_(None),
        Ticket.first_response_breached_at.is_(None),
        Ticket.first_response_due_at <= now,
    )
    resolution = and_(Ticket.resolution_breached_at.is_(None), Ticket.resolution_due_at <= now)
    return first, resolution


# --- the periodic jobs ------------------------------------------------------------------------


def check_sla(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Mark, escalate and announce every breach not marked yet; a second run does nothing.

    One query finds and locks the late tickets (skipping rows another worker holds); each
    breach is stamped once, the ticket escalated unless it already is, and its assignee and
    the admins notified once per breach.
    """
    now = now or utcnow()
    first_late, resolution_late = _late(now)
    late = db.session.scalars(
        select(Ticket)
        .where(running(), or_(first_late, resolution_late))
        .order_by(Ticket.id)
        .limit(limit)
        .with_for_update(skip_locked=True, key_share=True)
        .execution_options(populate_existing=True)
    ).all()
    counts = {"first_response": 0, "resolution": 0, "escalated": 0}
    for ticket in late:
        kinds = _mark(ticket, now)
        for kind in kinds:
            counts[kind] += 1
        reason = "SLA breached: " + " and ".join(BREACHES[kind] for kind in kinds) + " overdue"
        if ticket.status != "escalated":
            transition(ticket, "escalate", actor="system", now=now, reason=reason, breaches=kinds)
            ticket.escalation_reason = reason
            counts["escalated"] += 1
        else:
            record(ticket, "sla_breached", actor="system", actor_id=None, breaches=kinds)
        _announce(ticket, kinds)
    db.session.flush()
    return counts


def _mark(ticket: Ticket, now: datetime) -> list[str]:
    kinds = []
    if (
        ticket.first_response_at is None
        and ticket.first_response_breached_at is None
        and ticket.first_response_due_at <= now
    ):
        ticket.first_response_breached_at = now
        kinds.append("first_response")
    if ticket.resolution_breached_at is None and ticket.resolution_due_at <= now:
        ticket.resolution_breached_at = now
        kinds.append("resolution")
    return kinds


def warning_cutoff(now: datetime | None = None) -> datetime:
    """Deadlines before this are about to breach (SUPPORT_SLA_WARNING_MINUTES from now)."""
    return (now or utcnow()) + timedelta(minutes=support_rules().sla_warning_minutes)


def warn_due_soon(*, now: datetime | None = None, limit: int = 500) -> int:
    """Alert the assignee and the CMs responsible for tickets of each running ticket whose
    deadline falls within SUPPORT_SLA_WARNING_MINUTES (once per deadline: a moved deadline
    warns again); returns how many deadlines were announced."""
    now = now or utcnow()
    soon = warning_cutoff(now)
    first_late, resolution_late = _late(now)
    tickets = db.session.scalars(
        select(Ticket)
        .where(due_before(soon), ~or_(first_late, resolution_late))
        .order_by(Ticket.id)
        .limit(limit)
    ).all()
    for ticket in tickets:
        due = next_due(ticket)
        kind = (
            "first_response"
            if ticket.first_response_at is None and due == ticket.first_response_due_at
            else "resolution"
        )
        minutes = max(1, int((due - now).total_seconds() // 60))
        alert_staff(
            "support.sla_due_soon",
            _l("Support SLA about to breach"),
            _l(
                "Ticket #{ticket_id} “{ticket_subject}”: {value} due in {minutes} min.",
                ticket_id=ticket.id,
                ticket_subject=ticket.subject,
                value=BREACHES[kind],
                minutes=minutes,
            ),
            queue="tickets",
            key=f"support.due_soon:{ticket.id}:{kind}:{due.isoformat()}",
            extra_recipients=[ticket.assignee_id] if ticket.assignee_id else [],
            ticket_id=ticket.id,
            due_at=due.isoformat(),
            breach=kind,
        )
    return len(tickets)


def _announce(ticket: Ticket, kinds: list[str]) -> None:
    """The assignee and the admins (watchers), and the CMs responsible for tickets."""
    for kind in kinds:
        alert_staff(
            "support.sla_breached",
            _l("Support SLA breached"),
            _l(
                "Ticket #{ticket_id} “{ticket_subject}”: {value} overdue; it is escalated.",
                ticket_id=ticket.id,
                ticket_subject=ticket.subject,
                value=BREACHES[kind],
            ),
            queue="tickets",
            # A breach is stamped once, so this key names exactly one event.
            key=f"support.breach:{ticket.id}:{kind}",
            extra_recipients=sorted(watchers(ticket)),
            ticket_id=ticket.id,
            breach=kind,
        )


def close_resolved(*, now: datetime | None = None, limit: int = 500) -> int:
    """Close resolved tickets past their auto-close time; the parties are asked to rate."""
    now = now or utcnow()
    due = db.session.scalars(
        select(Ticket)
        .where(Ticket.status == "resolved", Ticket.auto_close_at <= now)
        .order_by(Ticket.id)
        .limit(limit)
        .with_for_update(skip_locked=True, key_share=True)
        .execution_options(populate_existing=True)
    ).all()
    for ticket in due:
        event = transition(ticket, "close", actor="system", now=now, reason="auto_close")
        notify_status(ticket, event)
    db.session.flush()
    return len(due)
