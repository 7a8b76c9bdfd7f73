"""Payout runs: each member's payable balance sent to their connected account, exactly once.

A run (the task payouts.run_payouts, weekly) works in two units of work so that a worker dying
anywhere makes exactly one transfer and one ledger posting per payout:

1. `run_payouts` locks, in one statement, every member payable of at least the minimum
   (PAYOUT_MINIMUM_AMOUNT, per currency) in account-code order like every posting, then reads
   them in keyset pages (RUN_PAGE) and writes each page set-based (`_write_page`).
   A member with an open dispute (a job of theirs in status `disputed`) or without a payout
   account that has payouts enabled gets a `held` payout with the reason, and no money moves.
   Everyone else first settles what they owe (`member:{id}:receivable`, e.g. a monthly fee
   their payable could not cover), then gets a `pending` Payout and its posting
   `payout-{id}-send` (payable → payouts:in_transit). Rows, postings and the messages that
   will send them commit together, before the provider is called at all.
2. `send_payouts(ids)` (the task payouts.send_payouts, SEND_CHUNK payouts a message) locks the
   pending payouts and asks the provider for their transfers in one `transfer_many` (Stripe:
   concurrent within its rate limit; offline: a few statements), each with
   `idempotency_key=f"payout-{id}"` and parameters taken only from the stored row, then
   records the outcomes a batch at a time (in_transit). A worker that dies after the calls and
   before its commit leaves the payouts pending; the outbox runs the message again and every
   later run resends pending payouts — with the same keys and bodies, so Stripe answers with
   the transfers it already made (the offline provider's transfers were rolled back with the
   unit of work and are made once). A transfer refused in a batch fails alone; one whose
   outcome is unknown (the provider unreachable) waits, pending, for its key.

An admin's run (`request_run`) waits as `requested` until the task starts it; the database
keeps at most one waiting (a partial unique index), so of simultaneous requests one makes the
run and the others get 409. The weekly run starts as `sending` and never stands in the way.

Afterwards the provider's webhooks move the payout on, each move through the one
`transition()` of payouts.payout_lifecycle (which emits `payout.<state>`). Where the money is
follows from the status alone, and every move posts the difference (its table TRANSITIONS):

    pending, in_transit  payouts:in_transit   our transfer is (being) made to the member's
                                              connected account; it is theirs, at Stripe
    paid                 clearing:payments    the money has left the platform: the offline
                                              provider's transfer (final), or Stripe's bank
                                              payout from the connected account was paid
    failed               the member's payable the money is ours again: the transfer was refused
                                              or reversed in full. Final.

- transfer.created confirms the transfer (pending → in_transit, with its id).
- payout.paid (the connected account's payout to the bank, naming our payout in its metadata)
  makes it paid: `payout-{id}-paid`, payouts:in_transit → clearing:payments. Stripe's
  automatic payouts name none of ours: payouts.bank_payouts reconciles them to our transfers
  through their balance transactions and moves the payouts by the same transitions.
- payout.failed means the bank sent the money back to the *connected account's* balance at
  Stripe, not to ours: it stays the member's, so it never returns to their payable (that would
  pay it a second time). A paid payout goes back to in_transit (`payout-{id}-bank-return-{n}`,
  clearing → in_transit), an unpaid one stays there; the bank's reason is kept.
- transfer.reversed in full is the only event that returns money: in_transit or paid → failed,
  `payout-{id}-return` credits the payable again, and the next run pays it. A partial reversal
  is left to people.

Each event is checked against the payout's own history before it may change anything, and
ignored with the reason otherwise (stored on the webhook event):
- only payouts made through Stripe: the offline provider sends no events, its paid is final;
- the right object: a transfer event is the platform's (no `account`) about a transfer to the
  payout's connected account with our transfer id; a payout.* event must come from that
  connected account (`account` missing or another one: foreign);
- the right money: the payout's amount and currency;
- the right time: nothing dated before the payout existed (CLOCK_SKEW allowed); bank events
  apply newest first (`bank_event_at`) — within one second a failure outranks a payment, as it
  can follow one but not precede it. A full reversal is a fact about the transfer, not about
  the bank payout: judged by the transfer's history (our transfer id, dated after the payout
  existed), it is final whenever it arrives. So any order of the same events ends in the same
  state and the same ledger (tests/payouts/test_payout_events.py).
No sequence pays twice: money returns to the payable only by a refused or fully reversed
transfer, once per payout (failed is final), and then the platform really has it back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import BigInteger, String, and_, bindparam, func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from crowd.core.auth import Principal
from crowd.core.background import enqueue
from crowd.core.db import UTCDateTime, is_postgres, one_of, utcnow
from crowd.core.errors import NotFound
from crowd.core.i18n import _
from crowd.core.locking import ROW_LOCK
from crowd.core.pagination import paginate
from crowd.extensions import db
from jobs.models import Job
from members.access import own_member
from payouts import bank_payouts, ledger
from payouts.config import payout_rules
from payouts.errors import RunAlreadyRequested
from payouts.ledger import Line, Posting, account_code_for_member
from payouts.models.ledger import LedgerAccount
from payouts.models.payments import ConnectedAccount, WebhookEvent
from payouts.models.payout_runs import Payout, PayoutRun
from payouts.payout_lifecycle import IN_TRANSIT, Written, transition, transition_many, written
from payouts.providers import (
    PaymentError,
    PaymentProviderUnavailable,
    TransferRequest,
    get_provider,
)
from payouts.webhooks import CLOCK_SKEW, Ignored, on_event

log = logging.getLogger(__name__)

CURRENCIES = ("EUR", "CHF")
DEFAULT_MINIMUM = 2000  # minor units, per currency
# Payouts per send message (one unit of work): a dying worker redoes at most this many
# provider calls (replays of the same keys). 500: the per-message cost (locks, commit, the
# run's completion check) spread thinner than at 100 — 9.3 → 6.8 s for the sending of 10,000
# offline; at Stripe's 25 transfers/s (test mode) a message lasts about 20 s.
SEND_CHUNK = 500
# Payables read, written and posted per page of a run: memory and statement size stay bounded.
RUN_PAGE = 1000
# A provider that is down is asked again after this long, this many times per run; after
# that the payout waits, pending, for the next run.
SEND_RETRY_DELAY = timedelta(minutes=10)
MAX_SEND_ATTEMPTS = 6


def payout_minimums() -> dict[str, int]:
    """The smallest payout per currency: the setting PAYOUT_MINIMUM_AMOUNT (one amount for both
    currencies or {"EUR": …, "CHF": …}), default 2000 minor units."""
    configured = payout_rules().minimum_amount
    if not isinstance(configured, dict):
        configured = dict.fromkeys(CURRENCIES, configured)
    return {c: configured.get(c, DEFAULT_MINIMUM) for c in CURRENCIES}


# --- the run --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    member_id: int
    currency: str
    payable: int
    owed: int  # what the member's receivable says they owe us
    provider: str | None
    destination: str | None
    payouts_enabled: bool | None
    disputed_job_id: int | None
    code: str = ""  # the payable's, for the keyset of the pages
    organisation_id: int | None = None  # a provider company's payable (member_id is None)


def request_run(*, actor: Principal) -> PayoutRun:
    """An admin asks for a run now: recorded, and the task started after the commit.

    409 while another requested run has not started: the partial unique index on requested
    runs decides between simultaneous requests, on PostgreSQL and SQLite alike."""
    run = PayoutRun(status="requested", requested_by_id=actor.user_id, minimums={}, totals={})
    try:
        with db.session.begin_nested():
            db.session.add(run)
    except IntegrityError:
        waiting = db.session.scalar(
            select(PayoutRun.id).where(PayoutRun.status == "requested").limit(1)
        )
        detail = (
            f"Payout run {waiting} is requested and has not started yet."
            if waiting is not None
            else "Another payout run was requested at the same moment."
        )
        raise RunAlreadyRequested(detail, state="requested", run_id=waiting) from None
    enqueue("payouts.run_payouts", run_id=run.id)
    return run


def run_payouts(run_id: int | None = None) -> PayoutRun | None:
    """Write the run's payouts and their postings and queue their sending (see the module).

    With `run_id` the requested run is carried out; a run already carried out (the message
    delivered twice) only has its pending payouts sent again. Never commits.

    Set-based, in keyset pages of RUN_PAGE payables (memory stays flat however many members):
    each page's fee collections and send postings are one `ledger.post_many` each, its payouts
    one multi-row INSERT, its events one `emit_many`, and its sending one message per SEND_CHUNK.
    """
    if run_id is None:
        # Started at once: never `requested`, so it does not stand in an admin's way.
        run = PayoutRun(status="sending", started_at=utcnow(), minimums={}, totals={})
        db.session.add(run)
        db.session.flush()
    else:
        run = db.session.get(PayoutRun, run_id, with_for_update=ROW_LOCK, populate_existing=True)
        if run is None:
            log.warning("payout run %s does not exist; nothing to do", run_id)
            return None
        if run.status != "requested":
            resend_pending()
            return run
        run.status, run.started_at = "sending", utcnow()
    minimums = payout_minimums()
    run.minimums = minimums
    provider_name = get_provider().name
    totals = {c: {"count": 0, "amount": 0, "held_count": 0, "held_amount": 0} for c in CURRENCIES}
    _lock_payables(minimums)
    sending = 0
    after: tuple[str, str] | None = None
    while True:
        page = _candidates(minimums, after=after, limit=RUN_PAGE)
        if page:
            after = (page[-1].code, page[-1].currency)
            sending += _write_page(run, page, minimums, provider_name, totals)
        if len(page) < RUN_PAGE:
            break
    sending += _pay_companies(run, minimums, provider_name, totals)
    run.totals = {c: t for c, t in totals.items() if any(t.values())}
    if not sending:
        run.status, run.finished_at = "completed", utcnow()
    resend_pending(exclude_run_id=run.id)
    db.session.flush()
    return run


def _write_page(
    run: PayoutRun, page: list[_Candidate], minimums: dict, provider_name: str, totals: dict
) -> int:
    """One page of the run: fees collected, payouts written (held or pending), the pending ones
    posted and queued for sending. Returns how many are to be sent."""
    collections, held, new = [], [], []
    for candidate in page:
        collect = min(candidate.owed, candidate.payable)
        amount = candidate.payable - collect
        reason = _hold_reason(candidate, provider_name)
        row = {
            "run_id": run.id,
            "member_id": candidate.member_id,
            "amount": amount,
            "currency": candidate.currency,
            "provider": candidate.provider,
            "destination_account": candidate.destination,
            "attempts": 0,
        }
        if reason is not None:
            if amount >= minimums[candidate.currency]:
                held.append({**row, "status": "held", "hold_reason": reason})
                totals[candidate.currency]["held_count"] += 1
                totals[candidate.currency]["held_amount"] += amount
            continue
        if collect:
            collections.append(_collection(run, candidate, collect))
        if amount >= minimums[candidate.currency]:
            new.append({**row, "status": "pending", "hold_reason": None})
            totals[candidate.currency]["count"] += 1
            totals[candidate.currency]["amount"] += amount
    if collections:
        ledger.post_many(collections)
    rows = held + new
    if not rows:
        return 0
    # The ids, which the postings' keys and the provider's key derive from; in the rows' order.
    if is_postgres():
        # The ids first (the sequence's), so the send postings come before the rows and each
        # row is inserted with its posting: written once, never updated for it.
        ids = list(db.session.scalars(_NEW_PAYOUT_IDS, {"n": len(rows)}))
        pending = list(zip(ids[len(held) :], new, strict=True))
        postings = _post_sends(run, pending)
        for payout_id, row in pending:
            row["send_transaction_id"] = postings[f"payout-{payout_id}-send"]
        _insert_payouts(ids, rows)
    else:
        # Matched back by member and currency (one payable each per page): asking for the
        # rows' order would make SQLite insert them one by one.
        found = db.session.execute(
            insert(Payout).returning(Payout.id, Payout.member_id, Payout.currency), rows
        )
        by_payable = {(member_id, currency): i for i, member_id, currency in found}
        ids = [by_payable[(r["member_id"], r["currency"])] for r in rows]
        pending = list(zip(ids[len(held) :], new, strict=True))
        postings = _post_sends(run, pending)
        db.session.execute(
            update(Payout),
            [
                {"id": payout_id, "send_transaction_id": postings[f"payout-{payout_id}-send"]}
                for payout_id, _row in pending
            ],
        )
    written(
        Written(id=i, **{f: row[f] for f in _WRITTEN_FIELDS})
        for i, row in zip(ids, rows, strict=True)
    )
    _enqueue_sends([payout_id for payout_id, _row in pending])
    return len(pending)


def _post_sends(run: PayoutRun, pending: list[tuple[int, dict]]) -> dict[str, int]:
    """The send postings of a page's pending payouts (payable → in transit), in one batch."""
    if not pending:
        return {}
    return ledger.post_many(
        [
            Posting(
                key=f"payout-{payout_id}-send",
                kind="payout",
                currency=row["currency"],
                lines=[
                    Line(account_code_for_member(row["member_id"]), row["amount"]),
                    Line(IN_TRANSIT, -row["amount"]),
                ],
                memo=f"Payout {payout_id} (run {run.id})",
                member_id=row["member_id"],
            )
            for payout_id, row in pending
        ]
    )


_WRITTEN_FIELDS = ("run_id", "member_id", "amount", "currency", "status", "hold_reason")

_NEW_PAYOUT_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('payouts', 'id')) FROM generate_series(1, :n)"
)
_INSERT_PAYOUTS = text(
    "INSERT INTO payouts (id, run_id, member_id, amount, currency, status, hold_reason, "
    "provider, destination_account, send_transaction_id, attempts, bank_returns, created_at, "
    "updated_at) SELECT v.id, :run_id, v.member_id, v.amount, v.currency, v.status, "
    "v.hold_reason, v.provider, v.destination, v.send_transaction_id, 0, 0, :now, :now "
    "FROM unnest(:ids, :member_ids, :amounts, :currencies, :statuses, :hold_reasons, "
    ":providers, :destinations, :send_transaction_ids) AS v (id, member_id, amount, currency, "
    "status, hold_reason, provider, destination, send_transaction_id)"
).bindparams(
    bindparam("run_id", type_=BigInteger()),
    bindparam("now", type_=UTCDateTime()),
    *(bindparam(n, type_=ARRAY(BigInteger())) for n in ("ids", "member_ids", "amounts")),
    bindparam("send_transaction_ids", type_=ARRAY(BigInteger())),
    *(bindparam(n, type_=ARRAY(String())) for n in ("currencies", "statuses", "hold_reasons")),
    *(bindparam(n, type_=ARRAY(String())) for n in ("providers", "destinations")),
)


def _insert_payouts(ids: list[int], rows: list[dict]) -> None:
    """PostgreSQL: a page's payouts with their ids and send postings, one INSERT … SELECT FROM
    unnest (a statement of fixed text whatever the page's size)."""
    db.session.execute(
        _INSERT_PAYOUTS,
        {
            "run_id": rows[0]["run_id"],
            "now": utcnow(),
            "ids": ids,
            "member_ids": [r["member_id"] for r in rows],
            "amounts": [r["amount"] for r in rows],
            "currencies": [r["currency"] for r in rows],
            "statuses": [r["status"] for r in rows],
            "hold_reasons": [r["hold_reason"] for r in rows],
            "providers": [r["provider"] for r in rows],
            "destinations": [r["destination_account"] for r in rows],
            "send_transaction_ids": [r.get("send_transaction_id") for r in rows],
        },
    )


def _payable_filter(payable, minimums: dict[str, int]):
    return and_(
        payable.member_id.is_not(None),
        payable.code.like("member:%:payable"),
        or_(*(and_(payable.currency == c, payable.balance >= m) for c, m in minimums.items())),
    )


def _company_payable_filter(payable, minimums: dict[str, int]):
    return and_(
        payable.code.like("organisation:%:payable"),
        or_(*(and_(payable.currency == c, payable.balance >= m) for c, m in minimums.items())),
    )


def _lock_payables(minimums: dict[str, int]) -> None:
    """Lock every payable (members' and provider companies') of at least its minimum in code
    order (the ledger's lock order), in one statement that returns a count, not the rows: the
    pages then read them locked, and the postings that follow lock payouts:in_transit after
    every payable, as every posting does."""
    payable = aliased(LedgerAccount)
    locked = (
        select(payable.id)
        .where(or_(_payable_filter(payable, minimums), _company_payable_filter(payable, minimums)))
        .order_by(payable.code, payable.currency)
        .with_for_update(key_share=True)
    )
    if is_postgres():
        db.session.execute(select(func.count()).select_from(locked.subquery()))
    # SQLite: the write lock taken at the unit's start holds the whole database.


def _candidates(
    minimums: dict[str, int], *, after: tuple[str, str] | None, limit: int
) -> list[_Candidate]:
    """A page of the members payable of at least their currency's minimum, after `after`
    (code, currency) in code order, with what decides the payout; locked again (a payable
    that rose above the minimum since `_lock_payables` is locked here)."""
    payable = aliased(LedgerAccount)
    receivable = aliased(LedgerAccount)
    disputed_job = (
        select(func.min(Job.id))
        .where(Job.assigned_member_id == payable.member_id, Job.status == "disputed")
        .scalar_subquery()
    )
    query = (
        select(
            payable.member_id,
            payable.currency,
            payable.balance,
            func.coalesce(receivable.balance, 0),
            ConnectedAccount.provider,
            ConnectedAccount.provider_account_id,
            ConnectedAccount.payouts_enabled,
            disputed_job,
            payable.code,
        )
        .outerjoin(
            receivable,
            and_(
                receivable.member_id == payable.member_id,
                receivable.currency == payable.currency,
                receivable.code.like("member:%:receivable"),
            ),
        )
        # Paid only to a connected account with payouts enabled (else held: payouts.accounts).
        .outerjoin(ConnectedAccount, ConnectedAccount.member_id == payable.member_id)
        .where(_payable_filter(payable, minimums))
        .order_by(payable.code, payable.currency)
        .limit(limit)
        .with_for_update(of=payable, key_share=True)
    )
    if after is not None:
        code, currency = after
        query = query.where(
            or_(payable.code > code, and_(payable.code == code, payable.currency > currency))
        )
    return [_Candidate(*row) for row in db.session.execute(query)]


def _pay_companies(run: PayoutRun, minimums: dict, provider_name: str, totals: dict) -> int:
    """The provider companies' payables (organisation:{id}:payable), after the members': each
    company paid once to its own connected account by the rules of a member's payout — held
    with the reason (an open dispute on one of its jobs, no payout account), what it owes
    settled first, the row and its send posting written before the provider is called.
    Companies are few: their payouts are written row by row. Returns how many are to be sent."""
    payable = aliased(LedgerAccount)
    found = db.session.execute(
        select(payable.code, payable.currency, payable.balance)
        .where(_company_payable_filter(payable, minimums))
        .order_by(payable.code, payable.currency)
        .with_for_update(key_share=True)
    ).all()
    payouts, pending = [], []
    for code, currency, balance in found:
        candidate = _company_candidate(code, currency, balance)
        collect = min(candidate.owed, candidate.payable)
        amount = candidate.payable - collect
        reason = _hold_reason(candidate, provider_name)
        if reason is None and collect:
            ledger.post(**_arguments_of(_collection(run, candidate, collect)))
        if amount < minimums[currency]:
            continue
        payout = Payout(
            run_id=run.id,
            organisation_id=candidate.organisation_id,
            amount=amount,
            currency=currency,
            status="held" if reason else "pending",
            hold_reason=reason,
            provider=candidate.provider,
            destination_account=candidate.destination,
            attempts=0,
        )
        db.session.add(payout)
        db.session.flush()
        if reason is None:
            payout.send_transaction_id = ledger.post(
                key=f"payout-{payout.id}-send",
                kind="payout",
                currency=currency,
                lines=[Line(code, amount), Line(IN_TRANSIT, -amount)],
                memo=f"Payout {payout.id} (run {run.id})",
            ).id
            pending.append(payout.id)
        prefix = "held_" if reason else ""
        totals[currency][f"{prefix}count"] += 1
        totals[currency][f"{prefix}amount"] += amount
        payouts.append(payout)
    if payouts:
        db.session.flush()
        written(payouts)
        _enqueue_sends(pending)
    return len(pending)


def _company_candidate(code: str, currency: str, balance: int) -> _Candidate:
    organisation_id = int(code.split(":")[1])
    owed = ledger.balance(f"organisation:{organisation_id}:receivable", currency)
    account = db.session.execute(
        select(
            ConnectedAccount.provider,
            ConnectedAccount.provider_account_id,
            ConnectedAccount.payouts_enabled,
        ).where(ConnectedAccount.organisation_id == organisation_id)
    ).first()
    disputed = db.session.scalar(
        select(func.min(Job.id)).where(
            Job.organisation_id == organisation_id, Job.status == "disputed"
        )
    )
    return _Candidate(
        member_id=None,
        currency=currency,
        payable=balance,
        owed=owed,
        provider=account.provider if account else None,
        destination=account.provider_account_id if account else None,
        payouts_enabled=account.payouts_enabled if account else None,
        disputed_job_id=disputed,
        code=code,
        organisation_id=organisation_id,
    )


def _arguments_of(posting: Posting) -> dict:
    return {
        "key": posting.key,
        "kind": posting.kind,
        "currency": posting.currency,
        "lines": posting.lines,
        "memo": posting.memo,
        "member_id": posting.member_id,
    }


def _hold_reason(candidate: _Candidate, provider_name: str) -> str | None:
    if candidate.disputed_job_id is not None:
        return f"open dispute on job {candidate.disputed_job_id}"
    if candidate.destination is None:
        return "no payout account"
    if not candidate.payouts_enabled:
        return "payouts are not enabled on the payout account"
    if candidate.provider != provider_name:
        return f"the payout account was made with the {candidate.provider} provider"
    return None


def _held(run: PayoutRun, candidate: _Candidate, amount: int, reason: str) -> Payout:
    return Payout(
        run_id=run.id,
        member_id=candidate.member_id,
        amount=amount,
        currency=candidate.currency,
        status="held",
        hold_reason=reason,
        provider=candidate.provider,
        destination_account=candidate.destination,
        attempts=0,
    )


def _collection(run: PayoutRun, candidate: _Candidate, amount: int) -> Posting:
    """What the member owes us (unpaid fees) is settled from their payable before a payout."""
    member_id = candidate.member_id
    if candidate.organisation_id is not None:
        company = candidate.organisation_id
        return Posting(
            key=f"payout-run-{run.id}-collect-organisation-{company}-{candidate.currency}",
            kind="fee_collection",
            currency=candidate.currency,
            lines=[
                Line(candidate.code, amount),
                Line(f"organisation:{company}:receivable", -amount),
            ],
            memo=f"What the company owed settled from earnings before payout run {run.id}",
        )
    return Posting(
        key=f"payout-run-{run.id}-collect-{member_id}-{candidate.currency}",
        kind="fee_collection",
        currency=candidate.currency,
        lines=[
            Line(account_code_for_member(member_id), amount),
            Line(f"member:{member_id}:receivable", -amount),
        ],
        memo=f"Owed fees settled from earnings before payout run {run.id}",
        member_id=member_id,
    )


def _enqueue_sends(payout_ids: list[int], *, delay: timedelta | None = None) -> None:
    for start in range(0, len(payout_ids), SEND_CHUNK):
        enqueue(
            "payouts.send_payouts", delay=delay, payout_ids=payout_ids[start : start + SEND_CHUNK]
        )


def resend_pending(*, exclude_run_id: int | None = None) -> int:
    """Queue sending again for every payout still pending (a run that died after writing
    them, a provider that was down); the same keys make it safe. Returns how many."""
    query = select(Payout.id).where(Payout.status == "pending").order_by(Payout.id)
    if exclude_run_id is not None:
        query = query.where(Payout.run_id != exclude_run_id)
    ids = list(db.session.scalars(query))
    _enqueue_sends(ids)
    return len(ids)


# --- sending --------------------------------------------------------------------------------


def send_payouts(payout_ids: list[int]) -> dict[str, int]:
    """Make the transfer of each pending payout in `payout_ids` (see the module). Never commits.

    Set-based: the batch's transfers go to the provider in one `transfer_many` (concurrent
    within its rate limit, PAYOUT_TRANSFER_CONCURRENCY and PAYOUT_TRANSFERS_PER_SECOND), then
    the outcomes are recorded by outcome: one `transition_many` for those sent (and, offline,
    one for paid), each refusal on its own. A transfer that fails leaves the others sent; one
    whose outcome is unknown (the provider unreachable) waits, pending, for the same key."""
    provider = get_provider()
    payouts = db.session.scalars(
        select(Payout)
        .where(one_of(Payout.id, payout_ids), Payout.status == "pending")
        .order_by(Payout.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).all()
    waiting, ours = [], []
    for payout in payouts:
        if payout.provider != provider.name:
            payout.attempts += 1  # retried a few times (a config slip?), then left to people
            payout.last_error = (
                f"made for the {payout.provider} provider; the {provider.name} provider is in use"
            )
            waiting.append(payout)
        else:
            ours.append(payout)
    sent, refused = [], []
    for payout, result in zip(ours, _transfers(provider, ours), strict=True):
        # Counted after the call, as the call's outcome is recorded.
        payout.attempts += 1
        if isinstance(result, PaymentProviderUnavailable):
            # Whether the transfer was made is unknown: only the same key may ask again.
            payout.last_error = result.detail
            waiting.append(payout)
        elif isinstance(result, PaymentError):
            if result.code == "idempotency_error":
                # Our key was used with other parameters: a transfer may exist; never refund it.
                payout.last_error = f"{result.code}: {result.detail}"
                log.error("payout %s: %s", payout.id, payout.last_error)
                waiting.append(payout)
            else:
                refused.append((payout, f"{result.code or 'refused'}: {result.detail}"))
        else:
            sent.append((payout, result.id))
    if sent:
        offline = provider.name == "offline"
        moved = transition_many(
            [p for p, _id in sent],
            "sent",
            transfer_ids={p.id: i for p, i in sent},
            store=not offline,  # offline, paid follows at once: each row written once
        )
        # A bank payout of the member's account may have carried the transfer already.
        bank_payouts.link_transfers(moved)
        if offline:
            # The offline provider has no bank leg and sends no webhooks: its transfer is final.
            transition_many([p for p in moved if p.status == "in_transit"], "paid")
    for payout, reason in refused:
        transition(payout, "refused", reason=reason)
    retry = [p.id for p in waiting if p.attempts < MAX_SEND_ATTEMPTS]
    if retry:
        _enqueue_sends(retry, delay=SEND_RETRY_DELAY)
    for run_id in sorted({p.run_id for p in payouts}):
        complete_run_if_done(run_id)
    return {"sent": len(sent), "failed": len(refused), "waiting": len(waiting)}


def _transfers(provider, payouts: list[Payout]) -> list:
    """The provider's outcome of each payout's transfer, asked with parameters taken only
    from the stored row and the key derived from the payout. A provider unreachable for the
    whole batch leaves each of them waiting."""
    if not payouts:
        return []
    rules = payout_rules()
    requests = [
        TransferRequest(
            amount=payout.amount,
            currency=payout.currency,
            destination_account=payout.destination_account,
            transfer_group=None,
            idempotency_key=payout.idempotency_key,
            metadata={"payout_id": payout.id, "run_id": payout.run_id}
            | (
                {"organisation_id": payout.organisation_id}
                if payout.organisation_id is not None
                else {"member_id": payout.member_id}
            ),
        )
        for payout in payouts
    ]
    try:
        return provider.transfer_many(
            requests,
            concurrency=rules.transfer_concurrency,
            per_second=rules.transfers_per_second,
        )
    except PaymentProviderUnavailable as error:
        return [error] * len(payouts)


def complete_run_if_done(run_id: int) -> None:
    """Mark the run completed once none of its payouts is pending (checked under its lock)."""
    run = db.session.get(PayoutRun, run_id, with_for_update=ROW_LOCK, populate_existing=True)
    if run is None or run.status != "sending":
        return
    db.session.flush()
    pending = db.session.scalar(
        select(Payout.id).where(Payout.run_id == run_id, Payout.status == "pending").limit(1)
    )
    if pending is None:
        run.status, run.finished_at = "completed", utcnow()


# --- webhooks -------------------------------------------------------------------------------


def _locked_payout(payout_id) -> Payout | None:
    try:
        payout_id = int(payout_id)
    except (TypeError, ValueError):
        return None
    if not 0 < payout_id < 2**63:
        return None
    return db.session.get(Payout, payout_id, with_for_update=ROW_LOCK, populate_existing=True)


def _history_problem(payout: Payout, event: WebhookEvent, obj: dict) -> str | None:
    """Why the event cannot be about this payout as we made it: provider, time, money."""
    if payout.provider != "stripe":
        # The offline provider sends no events: its transfers are final.
        return f"payout {payout.id} was not made through Stripe"
    if event.created < payout.created_at.replace(microsecond=0) - CLOCK_SKEW:
        return f"stale: dated {event.created:%Y-%m-%d %H:%M:%S}, before payout {payout.id} existed"
    amount, currency = obj.get("amount"), str(obj.get("currency", "")).upper()
    if amount != payout.amount or currency != payout.currency:
        return (
            f"inconsistent: {amount} {currency or '?'} is not payout {payout.id}'s "
            f"{payout.amount} {payout.currency}"
        )
    return None


def _payout_of_transfer(event: WebhookEvent) -> Payout | Ignored:
    """The locked payout a platform transfer event is about, or why the event is not ours."""
    obj = event.data_object
    transfer_id = obj.get("id")
    if not isinstance(transfer_id, str) or not transfer_id:
        return Ignored(f"not one of our payouts ({event.type} without a transfer id)")
    if event.account is not None:
        return Ignored(f"foreign: an event of connected account {event.account}, not ours")
    known = db.session.scalar(select(Payout.id).where(Payout.provider_transfer_id == transfer_id))
    named = (obj.get("metadata") or {}).get("payout_id")
    payout = _locked_payout(known if known is not None else named)
    if payout is None:
        return Ignored(f"not one of our payouts ({event.type})")
    if known is not None and named is not None and str(named) != str(known):
        return Ignored(f"inconsistent: transfer {transfer_id} is payout {known}'s, not {named}'s")
    if payout.provider_transfer_id not in (None, transfer_id):
        return Ignored(
            f"foreign: payout {payout.id} was sent by transfer {payout.provider_transfer_id}"
        )
    if obj.get("destination") != payout.destination_account:
        return Ignored(f"foreign: the transfer is not to payout {payout.id}'s connected account")
    problem = _history_problem(payout, event, obj)
    return payout if problem is None else Ignored(problem)


def _payout_of_bank_payout(event: WebhookEvent) -> Payout | Ignored:
    """The locked payout a connected account's bank payout names, or why it is not ours."""
    obj = event.data_object
    payout = _locked_payout((obj.get("metadata") or {}).get("payout_id"))
    if payout is None:
        return Ignored(f"not one of our payouts ({event.type})")
    # Paid out from the member's connected account, which the event must name.
    if event.account is None:
        return Ignored(f"foreign: the event names no connected account (payout {payout.id})")
    if event.account != payout.destination_account:
        return Ignored(f"foreign: a payout of {event.account}, not of payout {payout.id}'s account")
    problem = _history_problem(payout, event, obj)
    return payout if problem is None else Ignored(problem)


def _apply_webhook(payout: Payout, action: str, what: str, **details) -> Ignored | None:
    if not transition(payout, action, **details):
        return Ignored(f"payout {payout.id} is {payout.status}: {what} changes nothing")
    complete_run_if_done(payout.run_id)
    return None


@on_event("transfer.created")
def transfer_created(event: WebhookEvent) -> Ignored | None:
    """Our transfer exists at the provider: the payout is in transit (with its transfer id)."""
    payout = _payout_of_transfer(event)
    if isinstance(payout, Ignored):
        return payout
    outcome = _apply_webhook(
        payout, "confirmed", event.type, transfer_id=str(event.data_object["id"])
    )
    # A bank payout reported before the transfer was ours to know waits for it.
    bank_payouts.link_transfer(payout)
    return outcome


@on_event("transfer.reversed")
def transfer_reversed(event: WebhookEvent) -> Ignored | None:
    """The transfer was taken back from the member's account in full: the money is ours again
    and returns to their payable (the only event that does; it is final)."""
    obj = event.data_object
    payout = _payout_of_transfer(event)
    if isinstance(payout, Ignored):
        return payout
    reversed_amount = obj.get("amount_reversed")
    if not isinstance(reversed_amount, int) or not 0 < reversed_amount <= payout.amount:
        return Ignored(f"inconsistent: {reversed_amount!r} reversed of payout {payout.id}")
    if reversed_amount < payout.amount:
        return Ignored(f"payout {payout.id}: a partial reversal is reconciled by hand")
    return _apply_webhook(
        payout, "reversed", event.type, transfer_id=str(obj["id"]), reason="transfer reversed"
    )


def _bank_news(payout: Payout, event: WebhookEvent, action: str) -> Ignored | None:
    """None when the bank event is newer than the bank state applied, else why it is not."""
    at, last = event.created.replace(microsecond=0), payout.bank_event_at
    if last is None or at > last:
        return None
    if at < last:
        return Ignored(f"stale: payout {payout.id} has bank news of {last:%Y-%m-%d %H:%M:%S}")
    # The same second: a failure can follow a payment (a bank returns it), never precede it.
    if action == "bank_failed" and payout.status == "paid":
        return None
    return Ignored(f"payout {payout.id}: nothing newer than the bank news applied")


def _apply_bank_event(event: WebhookEvent, action: str, reason: str | None) -> Ignored | None:
    """A bank payout naming our payout in its metadata (one we made ourselves) moves it;
    Stripe's automatic payouts name none and are reconciled by payouts.bank_payouts."""
    status = "paid" if action == "paid" else "failed"
    if (event.data_object.get("metadata") or {}).get("payout_id") is None:
        return bank_payouts.apply_bank_event(event, status)
    payout = _payout_of_bank_payout(event)
    if isinstance(payout, Ignored):
        return payout
    ignored = _bank_news(payout, event, action)
    if ignored is not None:
        return ignored
    if (payout.status, action) == ("paid", "paid"):
        outcome = None  # newer news of the same: later events are judged by it
    else:
        outcome = _apply_webhook(payout, action, event.type, reason=reason)
    if outcome is None:
        payout.bank_event_at = event.created.replace(microsecond=0)
        # Kept with the others; this one needs no reconciliation (its metadata named it).
        bank_payouts.record_bank_event(event, status, named_payout_id=payout.id)
    return outcome


@on_event("payout.paid")
def bank_payout_paid(event: WebhookEvent) -> Ignored | None:
    """The connected account paid out to the member's bank: the payout it names is paid; one
    naming none (Stripe's automatic payouts) is reconciled to the transfers it carried."""
    return _apply_bank_event(event, "paid", None)


@on_event("payout.failed")
def bank_payout_failed(event: WebhookEvent) -> Ignored | None:
    """The bank sent the payout back to the connected account: the money is the member's at
    Stripe, not ours — the payouts it carried are in transit again and their payable stays as
    it is."""
    obj = event.data_object
    reason = obj.get("failure_message") or obj.get("failure_code") or "the bank payout failed"
    return _apply_bank_event(event, "bank_failed", f"bank payout failed: {reason}")


# --- reading --------------------------------------------------------------------------------


def list_runs(**page) -> dict:
    """Payout runs, newest first."""
    return paginate(select(PayoutRun), page, order=[PayoutRun.id], descending=True)


def get_run(run_id: int, *, status: str | None = None, **page) -> dict:
    """A run, how its payouts stand (count and amount per status and currency), and a page of
    its payouts (optionally of one status)."""
    run = db.session.get(PayoutRun, run_id)
    if run is None:
        raise NotFound(_("No such payout run."))
    rows = db.session.execute(
        select(Payout.currency, Payout.status, func.count(), func.sum(Payout.amount))
        .where(Payout.run_id == run_id)
        .group_by(Payout.currency, Payout.status)
        .order_by(Payout.currency, Payout.status)
    ).all()
    query = select(Payout).where(Payout.run_id == run_id)
    if status:
        query = query.where(Payout.status == status)
    return {
        "run": run,
        "by_status": [
            {"currency": c, "status": s, "count": n, "amount": int(a or 0)} for c, s, n, a in rows
        ],
        "payouts": paginate(query, page, order=[Payout.id]),
    }


def list_my_payouts(*, actor: Principal, status: str | None = None, **page) -> dict:
    """The calling member's payouts, newest first."""
    member = own_member(actor)
    query = select(Payout).where(Payout.member_id == member.id)
    if status:
        query = query.where(Payout.status == status)
    return paginate(query, page, order=[Payout.id], descending=True)
