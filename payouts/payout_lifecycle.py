"""The payout state machine as data: (state, what happened) → next state, checked in one place.

A payout is written `pending` (or `held`, with the reason, moving no money) by a run
(payouts.payout_run); our transfer call and the provider's webhooks move it on. Where its money
is follows from the status alone, and every move posts the difference (MONEY_AT): see
payouts.payout_run for why each move is what it is. Every change of status emits
`payout.<new state>` (the written payout `payout.pending` or `payout.held`) with the payout's
member, run and money; a move to the same state (a late transfer.created, a bank failure of an
unpaid payout) is recorded on the row, not emitted. Anything else changes nothing.

A payout run moves its payouts a batch at a time (`transition_many`, `written`): the same moves,
their postings in one `ledger.post_many` and their events in one `emit_many`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import BigInteger, String, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm.attributes import set_committed_value

from crowd.core.db import UTCDateTime, is_postgres, one_of, utcnow
from crowd.core.events import Event, declare, emit_many, transition_event
from crowd.extensions import db
from payouts import ledger
from payouts.ledger import (
    Line,
    Posting,
    account_code_for_member,
    account_code_for_organisation,
)
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


@dataclass(frozen=True)
class Written:
    """A payout a run has just inserted (without loading it): what its event carries."""

    id: int
    run_id: int
    member_id: int | None
    amount: int
    currency: str
    status: str
    hold_reason: str | None = None
    failure_reason: str | None = None
    released_by_id: int | None = None
    organisation_id: int | None = None


def written(payouts: Iterable[Payout | Written]) -> None:
    """Emit `payout.pending` / `payout.held` for payouts a run has just written (flushed)."""
    now = utcnow()
    emit_many(_event(payout, "write", None, now) for payout in payouts)


def transition(
    payout: Payout, action: str, *, transfer_id=None, reason=None, released_by=None
) -> bool:
    """Move a (locked) payout by TRANSITIONS, post where its money goes (MONEY_AT) and emit
    `payout.<new state>`; False when the table has no such move (a replay, a late event):
    then nothing changes and nothing is emitted."""
    transfer_ids = {payout.id: transfer_id} if transfer_id else None
    moved = transition_many(
        [payout], action, transfer_ids=transfer_ids, reason=reason, released_by=released_by
    )
    return bool(moved)


def transition_many(
    payouts: Iterable[Payout],
    action: str,
    *,
    transfer_ids: Mapping[int, str] | None = None,
    reason=None,
    released_by=None,
    store: bool = True,
) -> list[Payout]:
    """`transition` for many (locked) payouts by one action: the rows changed, their postings
    made in one `ledger.post_many`, then their events emitted together. Returns the payouts
    that moved (those the table has no such move for are left as they are). Without `store`
    the rows are left to the session's flush or the next `transition_many` (a move followed at
    once by another: each row written once)."""
    now = utcnow()
    moved, postings, events = [], [], []
    for payout in payouts:
        target = TRANSITIONS.get((payout.status, action))
        if target is None:
            continue
        transfer_id = transfer_ids.get(payout.id) if transfer_ids else None
        was = _move(payout, action, target, now, transfer_id, reason, released_by)
        if was in MONEY_AT:
            posting = _money_posting(payout, was, target)
            if posting is not None:
                postings.append(posting)
        if target != was:
            events.append(_event(payout, action, was, now))
        moved.append(payout)
    if store:
        _store(moved)
    if postings:
        ledger.post_many(postings)
    emit_many(events)
    return moved


# What a move (and the sending around it) changes on a payout row.
_STORED = (
    ("status", String()),
    ("provider_transfer_id", String()),
    ("failure_reason", String()),
    ("last_error", String()),
    ("attempts", BigInteger()),
    ("bank_returns", BigInteger()),
    ("released_by_id", BigInteger()),
    ("sent_at", UTCDateTime()),
    ("paid_at", UTCDateTime()),
    ("failed_at", UTCDateTime()),
    ("released_at", UTCDateTime()),
)
_STORE = text(
    "UPDATE payouts SET "
    + ", ".join(f"{name} = v.{name}" for name, _type in _STORED)
    + ", updated_at = :now FROM unnest(:ids, "
    + ", ".join(f":{name}" for name, _type in _STORED)
    + ") AS v (id, "
    + ", ".join(name for name, _type in _STORED)
    + ") WHERE payouts.id = v.id"
).bindparams(
    bindparam("ids", type_=ARRAY(BigInteger())),
    bindparam("now", type_=UTCDateTime()),
    *(bindparam(name, type_=ARRAY(type_)) for name, type_ in _STORED),
)


def _store(payouts: list[Payout]) -> None:
    """PostgreSQL, a batch: the moved rows written by one UPDATE … FROM unnest and marked
    clean in the session, instead of one UPDATE per row at the next flush."""
    if len(payouts) < 2 or not is_postgres():
        return
    now = utcnow()
    values = {name: [getattr(p, name) for p in payouts] for name, _type in _STORED}
    db.session.execute(_STORE, {"ids": [p.id for p in payouts], "now": now, **values})
    for payout in payouts:
        for name, _type in _STORED:
            set_committed_value(payout, name, getattr(payout, name))
        set_committed_value(payout, "updated_at", now)


def _move(payout: Payout, action: str, target: str, now, transfer_id, reason, released_by) -> str:
    """Change the row for the move; the state it was in."""
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
    return was


def release_held(paying: Payout) -> int:
    """Mark the payee's earlier held payouts of the currency released by `paying`, which paid
    their money out (held payouts move none: it stayed payable). Returns how many."""
    if paying.organisation_id is not None:
        return release_held_by([(paying.id, None, paying.currency, paying.organisation_id)])
    return release_held_by([(paying.id, paying.member_id, paying.currency)])


def release_held_by(paying: Iterable[tuple]) -> int:
    """`release_held` for many paid payouts, (id, member id, currency) each — or (id, None,
    currency, organisation id) for a provider company's — in few queries: a held payout is
    released by the first of its payee's paid payouts in its currency made after it. Returns
    how many were released."""
    by_column: dict = {Payout.member_id: {}, Payout.organisation_id: {}}
    for payout_id, member_id, currency, *company in paying:
        organisation_id = company[0] if company else None
        column, payee = (
            (Payout.organisation_id, organisation_id)
            if organisation_id is not None
            else (Payout.member_id, member_id)
        )
        by_column[column].setdefault((payee, currency), []).append(payout_id)
    released = 0
    for column, paid_ids in by_column.items():
        payees = sorted({payee for payee, _currency in paid_ids})
        for start in range(0, len(payees), 1000):
            held = db.session.scalars(
                select(Payout)
                .where(one_of(column, payees[start : start + 1000]), Payout.status == "held")
                .order_by(Payout.id)
                .with_for_update(key_share=True)
            ).all()
            for payout in held:
                payee = getattr(payout, column.key)
                later = [i for i in paid_ids.get((payee, payout.currency), ()) if i > payout.id]
                if later:
                    released += transition(payout, "released", released_by=min(later))
    return released


def payable_of(payout: Payout) -> str:
    """The payable a payout was paid from (and a refused one returns to): the company's or
    the member's."""
    if payout.organisation_id is not None:
        return account_code_for_organisation(payout.organisation_id)
    return account_code_for_member(payout.member_id)


def _event(payout: Payout | Written, action: str, was: str | None, now) -> Event:
    return transition_event(
        "payout",
        payout.id,
        action=action,
        was=was,
        now=payout.status,
        actor=None,
        occurred_at=now,
        run_id=payout.run_id,
        member_id=payout.member_id,
        organisation_id=payout.organisation_id,
        amount=payout.amount,
        currency=payout.currency,
        reason=payout.hold_reason or payout.failure_reason,
        released_by_id=payout.released_by_id,
    )


def _money_posting(payout: Payout, was: str, target: str) -> Posting | None:
    """The posting that moves the payout's money where its new status says, if it moves."""
    source = MONEY_AT[was]
    destination = MONEY_AT.get(target) or payable_of(payout)
    if source == destination:
        return None
    kind = "payout"
    if target == "failed":
        step, kind = "return", "payout_return"
    elif target == "paid":
        # Paid again after the bank sent it back: a posting of its own.
        step = "paid" if payout.bank_returns == 0 else f"paid-{payout.bank_returns + 1}"
    else:
        payout.bank_returns += 1
        step = f"bank-return-{payout.bank_returns}"
    return Posting(
        key=f"payout-{payout.id}-{step}",
        kind=kind,
        currency=payout.currency,
        lines=[Line(source, payout.amount), Line(destination, -payout.amount)],
        memo=f"Payout {payout.id} {step}",
        member_id=payout.member_id,
    )
