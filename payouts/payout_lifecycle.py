"""The payout state machine as data: (state, what happened) → next state, checked in one place.

A payout is written `pending` (or `held`, with the reason, moving no money) by a run
(payouts.payout_run); our transfer call and the provider's webhooks move it on. Where its money
is follows from the status alone, and every move posts the difference (MONEY_AT): see
payouts.payout_run for why each move is what it is. Every change of status emits
`payout.<new state>` (the written payout `payout.pending` or `payout.held`) with the payout's
member, run and money; a move to the same state (a late transfer.created, a bank failure of an
unpaid payout) is recorded on the row, not emitted. Anything else changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from crowd.core.db import utcnow
from crowd.core.events import declare, emit_transition
from crowd.extensions import db
from payouts import ledger
from payouts.ledger import Line, account_code_for_member
from payouts.models.payout_runs import Payout

IN_TRANSIT = "payouts:in_transit"
CLEARING = "clearing:payments"

TRANSITIONS: dict[tuple[str, str], str] = {
    ("pending", "sent"): "in_transit",  # our transfer call returned
    ("pending", "confirmed"): "in_transit",  # transfer.created came before our record
    ("in_transit", "confirmed"): "in_transit",  # transfer.created after it: nothing to do
    ("pending", "refused"): "failed",  # the provider refused the transfer: nothing was sent
    ("pending", "paid"): "paid",  # offline at once; a bank payout paid before our record
    ("in_transit", "paid"): "paid",
    ("pending", "bank_failed"): "in_transit",  # the transfer exists; its money is at Stripe
    ("in_transit", "bank_failed"): "in_transit",
    ("paid", "bank_failed"): "in_transit",  # the bank sent it back to the connected account
    ("pending", "reversed"): "failed",  # the transfer was taken back: the money is ours again
    ("in_transit", "reversed"): "failed",
    ("paid", "reversed"): "failed",
    # A held payout moved no money; its money stayed payable and a later payout paid it out.
    ("held", "released"): "released",
}
# Where a payout's money is in the ledger, by status (its payable for failed).
MONEY_AT = {"pending": IN_TRANSIT, "in_transit": IN_TRANSIT, "paid": CLEARING}

EVENTS = (
    "payout.pending",
    "payout.held",
    "payout.in_transit",
    "payout.paid",
    "payout.failed",
    "payout.released",
)
declare(*EVENTS)


def written(payouts: Iterable[Payout]) -> None:
    """Emit `payout.pending` / `payout.held` for payouts a run has just written (flushed)."""
    now = utcnow()
    for payout in payouts:
        _emit(payout, "write", None, now)


def transition(
    payout: Payout, action: str, *, transfer_id=None, reason=None, released_by=None
) -> bool:
    """Move a (locked) payout by TRANSITIONS, post where its money goes (MONEY_AT) and emit
    `payout.<new state>`; False when the table has no such move (a replay, a late event):
    then nothing changes and nothing is emitted."""
    target = TRANSITIONS.get((payout.status, action))
    if target is None:
        return False
    now = utcnow()
    was = payout.status
    # The row first, then the posting: the posting's own flush writes both in one go.
    payout.status = target
    if transfer_id and not payout.provider_transfer_id:
        payout.provider_transfer_id = transfer_id
    if target == "in_transit":
        payout.sent_at = payout.sent_at or now
        payout.last_error = None
        if action == "bank_failed":
            payout.failure_reason = reason or "the bank payout failed"
    elif target == "paid":
        payout.paid_at = now
        payout.failure_reason = None
    elif target == "failed":
        payout.failed_at = now
        payout.failure_reason = reason or action
    elif target == "released":
        payout.released_at, payout.released_by_id = now, released_by
    if was in MONEY_AT:
        _move_money(payout, was, target)
    if target != was:
        _emit(payout, action, was, now)
    return True


def release_held(paying: Payout) -> int:
    """Mark the member's earlier held payouts of the currency released by `paying`, which paid
    their money out (held payouts move none: it stayed payable). Returns how many."""
    held = db.session.scalars(
        select(Payout)
        .where(
            Payout.member_id == paying.member_id,
            Payout.currency == paying.currency,
            Payout.status == "held",
            Payout.id < paying.id,
        )
        .order_by(Payout.id)
        .with_for_update(key_share=True)
    ).all()
    for payout in held:
        transition(payout, "released", released_by=paying.id)
    return len(held)


def _emit(payout: Payout, action: str, was: str | None, now) -> None:
    emit_transition(
        "payout",
        payout.id,
        action=action,
        was=was,
        now=payout.status,
        actor=None,
        occurred_at=now,
        run_id=payout.run_id,
        member_id=payout.member_id,
        amount=payout.amount,
        currency=payout.currency,
        reason=payout.hold_reason or payout.failure_reason,
        released_by_id=payout.released_by_id,
    )


def _move_money(payout: Payout, was: str, target: str) -> None:
    source = MONEY_AT[was]
    destination = MONEY_AT.get(target) or account_code_for_member(payout.member_id)
    if source == destination:
        return
    kind = "payout"
    if target == "failed":
        step, kind = "return", "payout_return"
    elif target == "paid":
        # Paid again after the bank sent it back: a posting of its own.
        step = "paid" if payout.bank_returns == 0 else f"paid-{payout.bank_returns + 1}"
    else:
        payout.bank_returns += 1
        step = f"bank-return-{payout.bank_returns}"
    ledger.post(
        key=f"payout-{payout.id}-{step}",
        kind=kind,
        currency=payout.currency,
        lines=[Line(source, payout.amount), Line(destination, -payout.amount)],
        memo=f"Payout {payout.id} {step}",
        member_id=payout.member_id,
    )
