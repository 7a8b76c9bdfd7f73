"""The resolution state machine as data, and the one function that moves a proposal along it.

    proposed ──reject (a party)──▶ rejected
             ──withdraw (staff)──▶ withdrawn
             ──apply (both parties, the deadline, staff)──▶ applied

The ticket's own move that goes with each (reject_proposal, withdraw_proposal, apply) records
it in the ticket's audit trail. `proposed` announces a new proposal; every move emits
`resolution.<new state>` (crowd.core.events).
"""

from __future__ import annotations

from datetime import datetime

from crowd.core.db import utcnow
from crowd.core.events import declare, emit_transition
from crowd.core.i18n import _
from support.errors import ResolutionNotOpen
from support.models import Resolution

TRANSITIONS: dict[tuple[str, str], str] = {
    ("proposed", "reject"): "rejected",
    ("proposed", "withdraw"): "withdrawn",
    ("proposed", "apply"): "applied",
}
STAMPS = {"applied": "applied_at"}

declare("resolution.proposed", *{f"resolution.{state}" for state in TRANSITIONS.values()})


def proposed(resolution: Resolution, *, actor_id: int) -> None:
    """Announce a new proposal (in the session, with its id): `resolution.proposed`."""
    _emit(resolution, "propose", by="staff", actor_id=actor_id, before=None, now=utcnow())


def transition(
    resolution: Resolution,
    action: str,
    *,
    by: str,
    actor_id: int | None = None,
    now: datetime | None = None,
) -> str:
    """Move `resolution` by `action` (its ticket is locked): 409 with its state when the
    proposal is not open any more."""
    target = TRANSITIONS.get((resolution.status, action))
    if target is None:
        raise ResolutionNotOpen(
            _("This proposal is {resolution_status}.", resolution_status=resolution.status),
            state=resolution.status,
        )
    now = now or utcnow()
    before = resolution.status
    resolution.status = target
    stamp = STAMPS.get(target)
    if stamp is not None:
        setattr(resolution, stamp, now)
    _emit(resolution, action, by=by, actor_id=actor_id, before=before, now=now)
    return target


def _emit(
    resolution: Resolution,
    action: str,
    *,
    by: str,
    actor_id: int | None,
    before: str | None,
    now: datetime,
) -> None:
    emit_transition(
        "resolution",
        resolution.id,
        action=action,
        was=before,
        now=resolution.status,
        actor=actor_id,
        occurred_at=now,
        by=by,
        ticket_id=resolution.ticket_id,
        job_id=resolution.job_id,
        kind=resolution.kind,
        refund_amount=resolution.refund_amount,
        goodwill_amount=resolution.goodwill_amount,
        member_at_fault=resolution.member_at_fault,
        applied_by=resolution.applied_by,
    )
