"""The job state machine as data: (state, action, actor) → next state, checked in one place.

Actors: customer, member (the assigned one, or one holding an offer), dispatcher (an owner
or dispatcher of the provider company whose job it is), staff (community managers and admins)
and system (timed transitions run by background jobs).
"""

from __future__ import annotations

from typing import Any

from crowd.core.db import utcnow
from crowd.core.events import Event, declare, emit
from crowd.extensions import db
from jobs.errors import refused_transition
from jobs.models import Job, JobEvent

ACTORS = ("customer", "member", "dispatcher", "staff", "system")

TRANSITIONS: dict[tuple[str, str, str], str] = {
    # dispatch: the first wave goes out; later waves keep the job offered
    ("open", "dispatch", "system"): "offered",
    ("open", "dispatch", "staff"): "offered",
    ("offered", "dispatch", "system"): "offered",
    # staff offer the job to one member they chose (alongside any offers still out)
    ("open", "offer", "staff"): "offered",
    ("offered", "offer", "staff"): "offered",
    # no candidate left, or waves exhausted: back to open and escalated to staff
    ("offered", "escalate", "system"): "open",
    ("open", "escalate", "system"): "open",
    # first accept wins; staff may assign directly
    ("offered", "accept", "member"): "assigned",
    ("open", "assign", "staff"): "assigned",
    ("offered", "assign", "staff"): "assigned",
    # the work
    ("assigned", "start", "member"): "in_progress",
    ("in_progress", "complete", "member"): "completed",
    ("completed", "confirm", "customer"): "confirmed",
    ("completed", "confirm", "system"): "confirmed",
    ("completed", "confirm", "staff"): "confirmed",
    ("confirmed", "close", "system"): "closed",
    # cancellation: free before assignment, a fee may apply after (see jobs.service)
    ("open", "cancel", "customer"): "cancelled",
    ("offered", "cancel", "customer"): "cancelled",
    ("assigned", "cancel", "customer"): "cancelled",
    ("open", "cancel", "staff"): "cancelled",
    ("offered", "cancel", "staff"): "cancelled",
    ("assigned", "cancel", "staff"): "cancelled",
    ("in_progress", "cancel", "staff"): "cancelled",
    # the company whose job it is gives it to another of its technicians before it starts
    ("assigned", "reassign", "dispatcher"): "assigned",
    # a member backing out sends the job back to matching and counts against them
    ("assigned", "withdraw", "member"): "open",
    # disputes (settled by support mediation)
    ("completed", "dispute", "customer"): "disputed",
    ("confirmed", "dispute", "customer"): "disputed",
    ("completed", "dispute", "member"): "disputed",
    ("disputed", "resolve", "staff"): "confirmed",
    ("disputed", "resolve_cancel", "staff"): "cancelled",
    # the customer's bank decided a chargeback: the job is confirmed again, on a loss with the
    # money taken back as the platform's policy allocates it (payouts.job_money.chargebacks)
    ("disputed", "chargeback_won", "system"): "confirmed",
    ("disputed", "chargeback_lost", "system"): "confirmed",
}

# The moment a job first reached a state, stamped by transition() (kept on a later return).
STAMPS = {"confirmed": "confirmed_at", "cancelled": "cancelled_at", "closed": "closed_at"}

FINAL = frozenset({"closed", "cancelled"})

# Every job.<state> transition() can emit, listed by `flask crowd events` subscribed to or not.
declare(*sorted({f"job.{state}" for state in TRANSITIONS.values()}))


def allowed_actions(status: str, actor: str) -> list[str]:
    """What `actor` may do to a job in `status` (for clients to show the right buttons)."""
    return sorted(
        {action for (state, action, who) in TRANSITIONS if state == status and who == actor}
    )


def next_status(job: Job, action: str, actor: str) -> str:
    """The state `action` by `actor` leads to, or 409 with the current state."""
    target = TRANSITIONS.get((job.status, action, actor))
    if target is None:
        raise refused_transition(action)(
            f"Cannot {action.replace('_', ' ')} a job that is {job.status.replace('_', ' ')}.",
            state=job.status,
        )
    return target


def transition(
    job: Job,
    action: str,
    *,
    actor: str,
    actor_user_id: int | None = None,
    changes: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    **detail,
) -> JobEvent:
    """Move `job` along the table, record the event and emit `job.<new state>`.

    The caller holds the job's row lock. `changes` (columns of the job, e.g. the cancel
    reason) are set before the subscribers run, so they see the job as it now is; whatever
    follows from the change in other packages is theirs, in their `events.py` (see
    crowd.core.events). `context` goes into the event's payload only, not the timeline (what
    the subscribers need to know of the path, e.g. a dispute's). A same-state move (a new
    dispatch wave) is recorded, not emitted.
    """
    target = next_status(job, action, actor)
    from_status = job.status
    event = JobEvent(
        job_id=job.id,
        action=action,
        from_status=from_status,
        to_status=target,
        actor=actor,
        actor_user_id=actor_user_id,
        detail=detail,
    )
    now = utcnow()
    first = False
    if target != from_status:
        job.status = target
        job.status_changed_at = now
        stamp = STAMPS.get(target)
        if stamp is not None and getattr(job, stamp) is None:
            setattr(job, stamp, now)
            first = True
    for column, value in (changes or {}).items():
        setattr(job, column, value)
    # Polling clients use updated_at; a same-state event (a new wave) is news too.
    job.updated_at = now
    db.session.add(event)
    if target != from_status:
        emit(
            Event(
                name=f"job.{target}",
                subject_type="job",
                subject_id=job.id,
                actor=actor_user_id if actor_user_id is not None else "system",
                payload={
                    "action": action,
                    "by": actor,
                    "from_status": from_status,
                    "to_status": target,
                    # False when the job comes back to a state it had (confirmed after a
                    # dispute): what followed the first time is not done twice.
                    "first": first,
                    "customer_id": job.customer_id,
                    "member_id": job.assigned_member_id,
                    "detail": detail,
                    **(context or {}),
                },
                occurred_at=now,
            )
        )
    return event
