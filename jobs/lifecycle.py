"""The job state machine as data: (state, action, actor) → next state, checked in one place.

Actors: customer, member (the assigned one, or one holding an offer), staff (community
managers and admins) and system (timed transitions run by background jobs).
"""

from __future__ import annotations

from crowd.core.db import utcnow
from crowd.extensions import db
from jobs.errors import refused_transition
from jobs.models import Job, JobEvent

ACTORS = ("customer", "member", "staff", "system")

TRANSITIONS: dict[tuple[str, str, str], str] = {
    # dispatch: the first wave goes out; later waves keep the job offered
    ("open", "dispatch", "system"): "offered",
    ("open", "dispatch", "staff"): "offered",
    ("offered", "dispatch", "system"): "offered",
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
    # a member backing out sends the job back to matching and counts against them
    ("assigned", "withdraw", "member"): "open",
    # disputes (settled by support mediation)
    ("completed", "dispute", "customer"): "disputed",
    ("confirmed", "dispute", "customer"): "disputed",
    ("completed", "dispute", "member"): "disputed",
    ("disputed", "resolve", "staff"): "confirmed",
    ("disputed", "resolve_cancel", "staff"): "cancelled",
}

FINAL = frozenset({"closed", "cancelled"})


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
    job: Job, action: str, *, actor: str, actor_user_id: int | None = None, **detail
) -> JobEvent:
    """Move `job` along the table and record the event; the caller holds the job's row lock."""
    target = next_status(job, action, actor)
    event = JobEvent(
        job_id=job.id,
        action=action,
        from_status=job.status,
        to_status=target,
        actor=actor,
        actor_user_id=actor_user_id,
        detail=detail,
    )
    if target != job.status:
        job.status = target
        job.status_changed_at = utcnow()
    # Polling clients use updated_at; a same-state event (a new wave) is news too.
    job.updated_at = utcnow()
    db.session.add(event)
    return event
