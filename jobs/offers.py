"""The offer state machine as data: (state, action) → next state, checked in one place.

An offer is sent `pending` (a dispatch wave, jobs.dispatch); then its member accepts or
declines it (jobs.assignment), it expires at `expires_at`, or it is withdrawn — another member
took the job, staff assigned it, it was cancelled, or its member was suspended. Every move
stamps the offer and emits `offer.<state>` (sending emits `offer.sent`) with the offer's job and
member; what follows in other packages is theirs, in their `events.py` (crowd.core.events).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crowd.core.db import utcnow
from crowd.core.events import Event, declare, emit
from crowd.extensions import db
from jobs.errors import offer_refusal
from jobs.models import Job, Offer

TRANSITIONS: dict[tuple[str, str], str] = {
    ("pending", "accept"): "accepted",
    ("pending", "decline"): "declined",
    ("pending", "expire"): "expired",
    ("pending", "withdraw"): "withdrawn",
}
# The member answered: the moment is kept (response time, the top-performer figures).
ANSWERED = frozenset({"accepted", "declined"})
EVENTS = ("offer.sent", "offer.accepted", "offer.declined", "offer.expired", "offer.withdrawn")
declare(*EVENTS)


def next_status(offer: Offer, action: str) -> str:
    """The state `action` leads to, or 409 with the offer's state (expired, withdrawn or
    already answered)."""
    target = TRANSITIONS.get((offer.status, action))
    if target is None:
        raise offer_refusal(offer.status)(
            f"This offer is {offer.status}; it can no longer be answered.", state=offer.status
        )
    return target


def send(
    job: Job,
    member_ids: list[int],
    *,
    exclusive: bool,
    scores: list[float],
    expires_at: datetime,
    now: datetime,
    by: str = "system",
    actor_user_id: int | None = None,
) -> list[Offer]:
    """Offer `job` (wave `job.wave`) to each member, pending until `expires_at`; one
    `offer.sent` each, in the caller's unit of work."""
    offers = [
        Offer(
            job_id=job.id,
            member_id=member_id,
            wave=job.wave,
            exclusive=exclusive,
            score=score,
            status="pending",
            sent_at=now,
            expires_at=expires_at,
            updated_at=now,
        )
        for member_id, score in zip(member_ids, scores, strict=True)
    ]
    db.session.add_all(offers)
    db.session.flush()  # the ids the events name
    for offer in offers:
        _emit(offer, "offer.sent", "send", None, by, actor_user_id, now, {})
    return offers


def transition(
    offer: Offer,
    action: str,
    *,
    by: str,
    actor_user_id: int | None = None,
    changes: dict[str, Any] | None = None,
    now: datetime | None = None,
    **detail,
) -> str:
    """Move a (locked) offer along the table, stamp it and emit `offer.<new state>`; refused
    moves raise the error of the offer's state (next_status) and change nothing. `by` is who
    moved it: member, staff, customer or system.

    `changes` (columns of the offer, e.g. the decline reason) are set before the subscribers
    run, so they see the offer as it now is."""
    target = next_status(offer, action)
    now = now or utcnow()
    from_status = offer.status
    offer.status, offer.updated_at = target, now
    if target in ANSWERED:
        offer.responded_at = now
    for column, value in (changes or {}).items():
        setattr(offer, column, value)
    _emit(offer, f"offer.{target}", action, from_status, by, actor_user_id, now, detail)
    return target


def _emit(
    offer: Offer,
    name: str,
    action: str,
    from_status: str | None,
    by: str,
    actor_user_id: int | None,
    now: datetime,
    detail: dict,
) -> None:
    payload = {
        "action": action,
        "by": by,
        "from_status": from_status,
        "to_status": offer.status,
        "job_id": offer.job_id,
        "member_id": offer.member_id,
        "wave": offer.wave,
        "exclusive": offer.exclusive,
        "detail": detail,
    }
    if offer.status in ANSWERED:
        payload["response_seconds"] = max(0, int((now - offer.sent_at).total_seconds()))
    emit(
        Event(
            name=name,
            subject_type="offer",
            subject_id=offer.id,
            actor=actor_user_id if actor_user_id is not None else "system",
            payload=payload,
            occurred_at=now,
        )
    )
