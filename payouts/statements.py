"""Statements from the ledger: a member's earnings per period, and the platform's revenue.

Everything is computed by aggregate SQL over ledger entries; nothing is stored twice.

A member's statement covers the transactions that touch their accounts (member:{id}:payable
and member:{id}:receivable) posted in [from, to] (whole UTC days), per currency:

- gross: what customers paid for their work: the prices of their jobs settled (kind
  job_settlement) and the late-cancellation fees that compensate them (kind cancellation_fee,
  also shown alone as cancellation_fees) — their earning plus the platform's share on
  platform:revenue / platform:fees;
- commission: the platform's share of their jobs' prices (kind job_settlement);
- fees: what the member was charged: monthly fees (kind monthly_fee) and any fee debited to
  them by kind cancellation_fee, and the platform's share of the late-cancellation fees (a fee
  the customer paid, not a commission on work done);
- refunds: earnings given back by refunds (kind job_refund, or refund);
- adjustments: everything else that changed what they are owed (reversals, other kinds), so
  that net = gross − commission − fees − refunds + adjustments exactly;
- net: the change of (payable − receivable) in the period, payouts aside;
- paid_out: sent to them (kind payout) less what came back (kind payout_return);
- pending: their payable now (earned, not paid out yet); owed: their receivable now.

The revenue report, per currency and UTC month: commission (platform:revenue), fees
(platform:fees), refunds (what refunds took back from both, plus platform:refunds), costs
(provider fees, goodwill, disputes lost) and net = commission + fees − refunds − costs.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case, func, select

from crowd.core.auth import Principal
from crowd.core.db import is_postgres, utcnow
from crowd.core.errors import Unprocessable
from crowd.extensions import db
from members.access import own_member, visible_member
from members.models import Member
from payouts.models.ledger import LedgerAccount, LedgerEntry, LedgerTransaction

CURRENCIES = ("EUR", "CHF")
MAX_STATEMENT_DAYS = 400
MAX_REPORT_DAYS = 3700
PLATFORM_INCOME = ("platform:revenue", "platform:fees")
COSTS = ("platform:provider_fees", "platform:goodwill", "platform:disputes")
# Kinds whose price is split between the platform and the member (late-cancellation fees
# compensate the member like a job, with the plan's commission).
SETTLEMENT_KINDS = ("job_settlement", "cancellation_fee")
FEE_KINDS = ("monthly_fee", "cancellation_fee")
REFUND_KINDS = ("job_refund", "refund")
PAYOUT_KINDS = ("payout", "payout_return")
STATEMENT_FIELDS = (
    "gross",
    "cancellation_fees",
    "commission",
    "fees",
    "refunds",
    "adjustments",
    "net",
    "paid_out",
    "pending",
    "owed",
)
REVENUE_FIELDS = ("commission", "fees", "refunds", "costs", "net")


@dataclass(frozen=True)
class Period:
    """Whole UTC days from `first` to `last`, inclusive; as instants [start, end)."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), tzinfo=UTC)


def period_of(first: date | None, last: date | None, *, max_days: int) -> Period:
    """The period asked for (default: this month so far); 422 naming the field at fault."""
    today = utcnow().date()
    first = first or today.replace(day=1)
    last = last or today
    if last < first:
        raise _query_error("to", "must not be before from")
    if (last - first).days + 1 > max_days:
        raise _query_error("to", f"a period spans at most {max_days} days")
    return Period(first, last)


def _query_error(field: str, message: str) -> Unprocessable:
    return Unprocessable(f"{field}: {message}", errors={"query": {field: [message]}})


def _member_for(actor: Principal, member_id: int | None) -> Member:
    """The member whose money `actor` may see: staff anyone's, a member only their own
    (anyone else's is a 404, as if it did not exist)."""
    if member_id is None:
        return own_member(actor)
    return visible_member(actor, member_id)


# --- a member's statement -------------------------------------------------------------------


def _member_transactions(member_id: int, period: Period, currency: str | None):
    """Ids of the transactions in the period with an entry on one of the member's accounts."""
    query = (
        select(LedgerEntry.transaction_id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(
            LedgerAccount.member_id == member_id,
            LedgerTransaction.created_at >= period.start,
            LedgerTransaction.created_at < period.end,
        )
    )
    if currency:
        query = query.where(LedgerTransaction.currency == currency)
    return query


def _entry_class(member_id: int):
    return case(
        (LedgerAccount.member_id == member_id, "member"),
        (LedgerAccount.code.in_(PLATFORM_INCOME), "income"),
        else_="other",
    )


def member_statement(
    *,
    actor: Principal,
    member_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    currency: str | None = None,
) -> dict:
    """The member's statement per currency (see the module); `member_id` None: the caller's."""
    member = _member_for(actor, member_id)
    period = period_of(date_from, date_to, max_days=MAX_STATEMENT_DAYS)
    cls = _entry_class(member.id)
    rows = db.session.execute(
        select(
            LedgerTransaction.currency,
            LedgerTransaction.kind,
            cls,
            func.sum(LedgerEntry.amount),
            func.sum(case((LedgerEntry.amount > 0, LedgerEntry.amount), else_=0)),
            func.count(func.distinct(LedgerTransaction.id)),
        )
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerEntry.transaction_id.in_(_member_transactions(member.id, period, currency)))
        .group_by(LedgerTransaction.currency, LedgerTransaction.kind, cls)
    ).all()
    balances = {
        (cur, code): balance
        for cur, code, balance in db.session.execute(
            select(LedgerAccount.currency, LedgerAccount.code, LedgerAccount.balance).where(
                LedgerAccount.member_id == member.id
            )
        )
    }
    currencies = [currency] if currency else list(CURRENCIES)
    totals = {c: dict.fromkeys(STATEMENT_FIELDS, 0) | {"transactions": 0} for c in currencies}
    for cur, kind, klass, amount, debits, count in rows:
        t = totals[cur]
        amount, debits = int(amount or 0), int(debits or 0)
        if klass == "member":
            t["transactions"] += count  # each transaction has one kind: counted once
        if klass == "other":
            continue
        if kind in SETTLEMENT_KINDS:
            # What the member was credited plus the platform's share: what was paid.
            credits = debits - amount
            paid = credits if klass == "member" else -amount
            t["gross"] += paid
            if kind == "cancellation_fee":
                t["cancellation_fees"] += paid
            if klass == "income" and kind == "cancellation_fee":
                t["fees"] -= amount
            elif klass == "income":
                t["commission"] -= amount
        if klass != "member":
            continue
        if kind in PAYOUT_KINDS:
            t["paid_out"] += amount
            continue
        t["net"] -= amount
        if kind in FEE_KINDS:
            t["fees"] += debits
        elif kind in REFUND_KINDS:
            t["refunds"] += amount
    result = []
    for cur in currencies:
        t = totals[cur]
        t["adjustments"] = t["net"] - (t["gross"] - t["commission"] - t["fees"] - t["refunds"])
        t["pending"] = balances.get((cur, f"member:{member.id}:payable"), 0)
        t["owed"] = balances.get((cur, f"member:{member.id}:receivable"), 0)
        result.append({"currency": cur, **t})
    return {
        "member_id": member.id,
        "date_from": period.first,
        "date_to": period.last,
        "currencies": result,
    }


def statement_lines(*, member_id: int, date_from: date, date_to: date, currency: str | None):
    """One row per transaction of the statement: when, what, and its effect on what the member
    is owed (credits to them > 0, charges and payouts < 0), oldest first."""
    period = Period(date_from, date_to)
    member_amount = func.sum(
        case((LedgerAccount.member_id == member_id, LedgerEntry.amount), else_=0)
    )
    return db.session.execute(
        select(
            LedgerTransaction.created_at,
            LedgerTransaction.id,
            LedgerTransaction.kind,
            LedgerTransaction.job_id,
            LedgerTransaction.currency,
            LedgerTransaction.memo,
            -member_amount,
        )
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerTransaction.id.in_(_member_transactions(member_id, period, currency)))
        .group_by(
            LedgerTransaction.id,
            LedgerTransaction.created_at,
            LedgerTransaction.kind,
            LedgerTransaction.job_id,
            LedgerTransaction.currency,
            LedgerTransaction.memo,
        )
        .order_by(LedgerTransaction.created_at, LedgerTransaction.id)
    ).all()


def statement_csv(statement: dict, currency: str | None = None) -> str:
    """The statement as CSV: a line per transaction, then a line per total and currency."""
    lines = statement_lines(
        member_id=statement["member_id"],
        date_from=statement["date_from"],
        date_to=statement["date_to"],
        currency=currency,
    )
    out, writer = _writer()
    writer.writerow(["date", "transaction_id", "kind", "job_id", "currency", "memo", "amount"])
    for created_at, tid, kind, job_id, cur, memo, amount in lines:
        writer.writerow(
            [_iso(created_at), tid, _cell(kind), job_id or "", cur, _cell(memo), int(amount)]
        )
    for totals in statement["currencies"]:
        for name in STATEMENT_FIELDS:
            writer.writerow(["", "", f"total:{name}", "", totals["currency"], "", totals[name]])
    return out.getvalue()


# --- the revenue report ---------------------------------------------------------------------


def _month(column):
    if is_postgres():
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def revenue_report(
    *, actor: Principal, date_from: date | None = None, date_to: date | None = None
) -> dict:
    """The platform's revenue per currency and month (see the module)."""
    period = period_of(date_from, date_to, max_days=MAX_REPORT_DAYS)
    month = _month(LedgerTransaction.created_at)
    is_refund = LedgerTransaction.kind.in_(REFUND_KINDS)
    rows = db.session.execute(
        select(
            month,
            LedgerTransaction.currency,
            LedgerAccount.code,
            is_refund,
            func.sum(LedgerEntry.amount),
        )
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(
            LedgerAccount.code.in_((*PLATFORM_INCOME, "platform:refunds", *COSTS)),
            LedgerTransaction.created_at >= period.start,
            LedgerTransaction.created_at < period.end,
        )
        .group_by(month, LedgerTransaction.currency, LedgerAccount.code, is_refund)
    ).all()
    table: dict[tuple[str, str], dict] = defaultdict(lambda: dict.fromkeys(REVENUE_FIELDS, 0))
    for month_, cur, code, refund, amount in rows:
        t, amount = table[(month_, cur)], int(amount or 0)
        if code in PLATFORM_INCOME and refund:
            t["refunds"] += amount
        elif code == "platform:revenue":
            t["commission"] -= amount
        elif code == "platform:fees":
            t["fees"] -= amount
        elif code == "platform:refunds":
            t["refunds"] += amount
        else:
            t["costs"] += amount
    result = []
    for (month_, cur), t in sorted(table.items()):
        t["net"] = t["commission"] + t["fees"] - t["refunds"] - t["costs"]
        result.append({"month": month_, "currency": cur, **t})
    return {"date_from": period.first, "date_to": period.last, "rows": result}


def revenue_csv(report: dict) -> str:
    out, writer = _writer()
    writer.writerow(["month", "currency", *REVENUE_FIELDS])
    for row in report["rows"]:
        writer.writerow([row["month"], row["currency"], *(row[f] for f in REVENUE_FIELDS)])
    return out.getvalue()


# --- CSV ------------------------------------------------------------------------------------


def _writer():
    out = io.StringIO()
    return out, csv.writer(out, lineterminator="\r\n")


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _cell(text: str | None) -> str:
    """Text as a spreadsheet shows it, never as a formula (CSV injection)."""
    text = text or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
