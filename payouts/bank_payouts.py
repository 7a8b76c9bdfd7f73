"""Bank payouts reconciled: which of our payouts a connected account's bank payout carried.

Our payout is paid when the member's bank got it. With Stripe, our transfer lands on the
member's connected account and Stripe pays the account's balance out to the bank on the
account's own schedule (automatic payouts), several transfers in one bank payout, or one
transfer over two when the balance is paid out in parts. Those bank payouts carry no metadata
of ours, so payout.paid / payout.failed cannot name our payout (only a bank payout we made
ourselves does: `metadata.payout_id`, handled in payouts.payout_run).

Why reconciliation rather than a manual payout schedule (creating each bank payout ourselves,
with our metadata): Stripe says that for manual payouts it "can't identify which transactions
are included in each payout" and leaves reconciling them to the platform, whereas automatic
payouts "maintain the association between each transaction and the payout they're included
in"; it recommends listing them with the balance transaction endpoint and its `payout`
parameter, asynchronously when payout.paid is received, with auto-pagination
(https://docs.stripe.com/payouts/reconciliation,
https://docs.stripe.com/plan-integration/get-started/reporting-reconciliation). A manual
schedule would also make us responsible for the timing, minimums and failures of every
member's bank payouts — the part Stripe already does.

So:
1. payout.paid / payout.failed of a connected account of ours (event.account) records the
   BankPayout (UNIQUE provider id; status only moves forward: paid → failed, as Stripe can fail
   a paid payout later; anything else is a duplicate or stale and ignored with the reason) and,
   the first time, queues `payouts.reconcile_bank_payout` (handlers make no provider calls).
2. The task lists the bank payout's balance transactions on the connected account
   (`GET /v1/balance_transactions?payout=po_…`, Stripe-Account, `expand[]=data.source`): each
   positive one whose source is the payment one of our transfers made there (`py_…`, whose
   `source_transfer` is our `tr_…`) becomes an item — UNIQUE (bank payout, balance
   transaction), so a re-run books nothing twice. An item names our payout once the transfer
   id is ours; a transfer we have not recorded yet (payout.paid before transfer.created or
   before our send committed) waits unlinked and is linked when the transfer becomes known
   (`link_transfer`, after the send and on transfer.created) or by the periodic
   `payouts.reconcile_bank_payouts`. What matches nothing is noted on the bank payout.
3. Each payout touched is settled from its items alone (`settle`): paid once the items on
   paid bank payouts cover its whole amount; back in transit (the lifecycle's `bank_failed`:
   the money went back to the connected account's balance, still the member's — never to
   their payable) when a bank payout carrying it failed and what is paid no longer covers it.
   The lifecycle posts each move once (payout-{id}-paid, -bank-return-n, -paid-n), so any
   order or repetition of events ends in the same state and the same ledger.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import String, func, select
from sqlalchemy.exc import IntegrityError

from crowd.core.background import enqueue
from crowd.core.db import one_of, utcnow
from crowd.core.locking import ROW_LOCK
from crowd.extensions import db
from payouts.models.bank_payouts import BankPayout, BankPayoutItem
from payouts.models.payments import ConnectedAccount, WebhookEvent
from payouts.models.payout_runs import Payout
from payouts.payout_lifecycle import transition
from payouts.providers import PaymentError, PaymentProviderUnavailable, get_provider
from payouts.webhooks import Ignored

log = logging.getLogger(__name__)

# A bank payout's status only moves forward: a paid payout may fail later, never the reverse.
_RANK = {"paid": 1, "failed": 2}
# The provider being down: the reconciliation is asked again after this long.
RETRY_DELAY = timedelta(minutes=10)
CURRENCIES = ("EUR", "CHF")


# --- the webhook ----------------------------------------------------------------------------


def _unix(value) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return datetime.fromtimestamp(value, UTC)


def _locked_bank_payout(provider_payout_id: str) -> BankPayout | None:
    return db.session.scalar(
        select(BankPayout)
        .where(BankPayout.provider_payout_id == provider_payout_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )


def record_bank_event(
    event: WebhookEvent, status: str, *, named_payout_id: int | None = None
) -> BankPayout | Ignored:
    """Record (or move on) the bank payout of a connected account's payout.* event; the locked
    row, or why the event changes nothing. Reconciliation is queued the first time."""
    obj = event.data_object
    po_id, amount = obj.get("id"), obj.get("amount")
    currency = str(obj.get("currency") or "").upper()
    if event.account is None:
        return Ignored(f"foreign: {event.type} names no connected account")
    if not isinstance(po_id, str) or not 0 < len(po_id) <= 255:
        return Ignored(f"inconsistent: {event.type} without a payout id")
    ours = db.session.scalar(
        select(ConnectedAccount.id).where(
            ConnectedAccount.provider_account_id == event.account,
            ConnectedAccount.provider == "stripe",
        )
    )
    if ours is None:
        return Ignored(f"foreign: {event.account} is not a connected account of ours ({po_id})")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        return Ignored(f"inconsistent: bank payout {po_id} of {amount!r}")
    if currency not in CURRENCIES:
        return Ignored(f"inconsistent: bank payout {po_id} in {currency or '?'}")
    at = event.created.replace(microsecond=0)
    fields = {
        "arrival_date": _unix(obj.get("arrival_date")),
        "failure_code": (str(obj["failure_code"])[:100] if obj.get("failure_code") else None),
        "failure_message": obj.get("failure_message") or None,
    }
    bank = _locked_bank_payout(po_id)
    if bank is None:
        bank = BankPayout(
            provider_payout_id=po_id,
            account=event.account,
            amount=amount,
            currency=currency,
            status=status,
            event_at=at,
            named_payout_id=named_payout_id,
            **fields,
        )
        try:
            with db.session.begin_nested():
                db.session.add(bank)
        except IntegrityError:
            # The other event of this bank payout, delivered at the same moment, recorded it.
            bank = _locked_bank_payout(po_id)
            if bank is None:
                raise
        else:
            if named_payout_id is None:
                enqueue("payouts.reconcile_bank_payout", bank_payout_id=bank.id)
            return bank
    if (bank.account, bank.amount, bank.currency) != (event.account, amount, currency):
        return Ignored(
            f"inconsistent: bank payout {po_id} is {bank.amount} {bank.currency} of "
            f"{bank.account}, not {amount} {currency} of {event.account}"
        )
    if _RANK[status] <= _RANK[bank.status]:
        return Ignored(f"bank payout {po_id} is {bank.status}: {event.type} changes nothing")
    bank.status, bank.event_at = status, max(at, bank.event_at)
    for name, value in fields.items():
        if value is not None:
            setattr(bank, name, value)
    if named_payout_id is not None and bank.named_payout_id is None:
        bank.named_payout_id = named_payout_id
    return bank


def apply_bank_event(event: WebhookEvent, status: str) -> Ignored | None:
    """A payout.* event of a bank payout that names none of our payouts: recorded, and our
    payouts it carried settled (once its items are known; else after the reconciliation)."""
    bank = record_bank_event(event, status)
    if isinstance(bank, Ignored):
        return bank
    if bank.reconciled_at is not None:
        settle(_payouts_of(bank.id))
    return None


# --- reconciliation (the task) --------------------------------------------------------------


def reconcile_bank_payout(bank_payout_id: int) -> dict:
    """Read the bank payout's balance transactions from the provider and book our transfers in
    it as items, then settle the payouts they carry. Idempotent; never commits."""
    bank = db.session.get(BankPayout, bank_payout_id)
    if bank is None:
        return {"items": 0}
    if bank.reconciled_at is None:
        try:
            transactions = get_provider().bank_payout_transactions(
                bank.provider_payout_id, account=bank.account
            )
        except PaymentProviderUnavailable as error:
            log.warning("bank payout %s: %s; asked again later", bank.provider_payout_id, error)
            enqueue("payouts.reconcile_bank_payout", delay=RETRY_DELAY, bank_payout_id=bank.id)
            return {"items": 0, "waiting": 1}
        except PaymentError as error:
            # Not readable (no such payout on the account?): noted, and left to people.
            bank.note = f"balance transactions not readable: {error.code}: {error.detail}"[:2000]
            return {"items": 0}
        # The provider was asked without a lock; the booking is done under it, once.
        bank = db.session.get(
            BankPayout, bank_payout_id, with_for_update=ROW_LOCK, populate_existing=True
        )
        if bank.reconciled_at is None:
            _book(bank, transactions)
    payout_ids = _payouts_of(bank.id)
    settle(payout_ids)
    return {"items": len(payout_ids)}


def _book(bank: BankPayout, transactions) -> None:
    unmatched = []
    for txn in transactions:
        if txn.amount <= 0 or txn.type == "payout":
            continue  # the bank payout itself, fees, refunds: not money we sent
        if not txn.transfer_id:
            unmatched.append(f"{txn.id} ({txn.type}, {txn.source_id or 'no source'})")
            continue
        if txn.currency != bank.currency:
            unmatched.append(f"{txn.id} (in {txn.currency}, not {bank.currency})")
            continue
        payout = db.session.scalar(
            select(Payout).where(Payout.provider_transfer_id == txn.transfer_id)
        )
        if payout is not None and (
            payout.destination_account != bank.account or payout.currency != bank.currency
        ):
            unmatched.append(f"{txn.id} (transfer {txn.transfer_id} is not to {bank.account})")
            continue
        item = BankPayoutItem(
            bank_payout_id=bank.id,
            balance_transaction_id=txn.id,
            source_id=txn.source_id,
            transfer_id=txn.transfer_id,
            payout_id=payout.id if payout is not None else None,
            amount=txn.amount,
            currency=txn.currency,
        )
        try:
            with db.session.begin_nested():
                db.session.add(item)
        except IntegrityError:
            pass  # booked before: nothing twice
    bank.reconciled_at = utcnow()
    if unmatched:
        bank.note = ("not our transfers: " + ", ".join(unmatched))[:2000]


def _payouts_of(bank_payout_id: int) -> list[int]:
    return sorted(
        set(
            db.session.scalars(
                select(BankPayoutItem.payout_id).where(
                    BankPayoutItem.bank_payout_id == bank_payout_id,
                    BankPayoutItem.payout_id.is_not(None),
                )
            )
        )
    )


# --- our payouts ----------------------------------------------------------------------------


def settle(payout_ids: Iterable[int]) -> None:
    """Bring each payout in line with the bank payouts carrying it (see the module); locked in
    id order. A payout paid or returned by the lifecycle already is left as it is."""
    for payout_id in sorted(set(payout_ids)):
        payout = db.session.get(Payout, payout_id, with_for_update=ROW_LOCK, populate_existing=True)
        if payout is not None:
            _settle_one(payout)


def _settle_one(payout: Payout) -> None:
    if payout.provider != "stripe" or payout.status not in ("in_transit", "paid"):
        return
    db.session.flush()
    covered = dict(
        db.session.execute(
            select(BankPayout.status, func.sum(BankPayoutItem.amount))
            .join(BankPayout, BankPayout.id == BankPayoutItem.bank_payout_id)
            .where(BankPayoutItem.payout_id == payout.id)
            .group_by(BankPayout.status)
        ).all()
    )
    paid = int(covered.get("paid") or 0)
    if paid >= payout.amount:
        if payout.status == "in_transit":
            transition(payout, "paid")
        return
    if "failed" not in covered:
        return  # partly paid out: it stays in transit until the rest is
    failed = db.session.scalar(
        select(BankPayout)
        .join(BankPayoutItem, BankPayoutItem.bank_payout_id == BankPayout.id)
        .where(BankPayoutItem.payout_id == payout.id, BankPayout.status == "failed")
        .order_by(BankPayout.event_at.desc(), BankPayout.id.desc())
        .limit(1)
    )
    why = failed.failure_message or failed.failure_code or "the bank payout failed"
    reason = f"bank payout {failed.provider_payout_id} failed: {why}"
    if payout.status == "paid" or payout.failure_reason != reason:
        transition(payout, "bank_failed", reason=reason)


def link_transfer(payout: Payout) -> int:
    """The (locked) payout's transfer is now known: bank payouts booked before that, carrying
    it, are linked to it and it is settled. Returns how many items were linked."""
    if not payout.provider_transfer_id:
        return 0
    items = db.session.scalars(
        select(BankPayoutItem)
        .join(BankPayout, BankPayout.id == BankPayoutItem.bank_payout_id)
        .where(
            BankPayoutItem.transfer_id == payout.provider_transfer_id,
            BankPayoutItem.payout_id.is_(None),
            BankPayout.account == payout.destination_account,
            BankPayoutItem.currency == payout.currency,
        )
        .order_by(BankPayoutItem.id)
        .with_for_update(of=BankPayoutItem, key_share=True)
    ).all()
    for item in items:
        item.payout_id = payout.id
    if items:
        _settle_one(payout)
    return len(items)


def link_transfers(payouts: list[Payout]) -> int:
    """`link_transfer` for many (locked) payouts whose transfers are now known, in one query
    (a payout run's batch: almost always nothing to link). Returns how many items were linked."""
    by_transfer = {p.provider_transfer_id: p for p in payouts if p.provider_transfer_id}
    if not by_transfer:
        return 0
    linked: dict[int, Payout] = {}
    count = 0
    transfer_ids = sorted(by_transfer)
    for start in range(0, len(transfer_ids), 1000):
        # Nothing the caller changed on the payouts bears on the items: no flush for it.
        with db.session.no_autoflush:
            rows = db.session.execute(
                select(BankPayoutItem, BankPayout.account)
                .join(BankPayout, BankPayout.id == BankPayoutItem.bank_payout_id)
                .where(
                    one_of(
                        BankPayoutItem.transfer_id, transfer_ids[start : start + 1000], String()
                    ),
                    BankPayoutItem.payout_id.is_(None),
                )
                .order_by(BankPayoutItem.id)
                .with_for_update(of=BankPayoutItem, key_share=True)
            ).all()
        for item, account in rows:
            payout = by_transfer[item.transfer_id]
            if account == payout.destination_account and item.currency == payout.currency:
                item.payout_id = payout.id
                linked[payout.id] = payout
                count += 1
    for payout_id in sorted(linked):
        _settle_one(linked[payout_id])
    return count


def reconcile_waiting() -> dict[str, int]:
    """The periodic safety net: bank payouts whose reconciliation never ran (queued again) and
    items whose transfer has since become one of our payouts (linked and settled)."""
    waiting = list(
        db.session.scalars(
            select(BankPayout.id)
            .where(BankPayout.reconciled_at.is_(None), BankPayout.named_payout_id.is_(None))
            .order_by(BankPayout.id)
        )
    )
    for bank_payout_id in waiting:
        enqueue("payouts.reconcile_bank_payout", bank_payout_id=bank_payout_id)
    known = list(
        db.session.scalars(
            select(Payout.id)
            .join(BankPayoutItem, BankPayoutItem.transfer_id == Payout.provider_transfer_id)
            .where(BankPayoutItem.payout_id.is_(None))
            .distinct()
            .order_by(Payout.id)
        )
    )
    linked = 0
    for payout_id in known:
        payout = db.session.get(Payout, payout_id, with_for_update=ROW_LOCK, populate_existing=True)
        linked += link_transfer(payout)
    return {"queued": len(waiting), "linked": linked}
