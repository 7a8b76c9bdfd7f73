"""Monthly fees: every member on a flat-fee plan during a month is billed its fee once.

Who: a member with a flat_fee plan assignment overlapping the month (UTC), found for all
members in one query; the fee is that of the first such assignment in the month (the plan in
effect at its start, or from when they joined it), in full — never prorated, never converted:
a CHF plan bills CHF. Members on the standard or any other plan pay no monthly fee, nor do
technicians for a month (any part of it) they spent in an active provider company: the
company is paid for their jobs, on its own plan. An active company on a flat-fee plan
(OrganisationPlan) is billed that fee once a month instead, key
`fee-organisation-{id}-{period}`, to its payable or `organisation:{id}:receivable`.

How: one MonthlyFee row per member and month (UNIQUE member_id + period) and one ledger
transaction with key `fee-{member_id}-{period}`, kind `monthly_fee`: the member's payable is
debited when it covers the whole fee, else the fee is booked to what the member owes us
(`member:{id}:receivable`, settled from earnings before their next payout); platform:fees is
credited. Running again changes nothing for a billed fee. A refused posting is kept on the row
(status failed, attempts, last_error) and retried by every later run, of any month, up to
MAX_ATTEMPTS times.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from crowd.core.background import enqueue
from crowd.core.db import utcnow
from crowd.core.errors import Conflict, DomainError, field_error
from crowd.core.events import Event, declare, emit
from crowd.core.i18n import _
from crowd.core.pagination import paginate
from crowd.extensions import db
from organisations.models import Organisation, OrganisationMembership
from payouts import ledger
from payouts.ledger import Line
from payouts.models.ledger import LedgerTransaction
from payouts.models.payout_runs import MonthlyFee
from payouts.models.plans import CommissionPlan, MemberPlan, OrganisationPlan

PERIOD_PATTERN = re.compile(r"\A(\d{4})-(0[1-9]|1[0-2])\Z")
MAX_ATTEMPTS = 10

# A monthly flat fee posted: invoicing makes the platform's invoice to the member.
declare("fee.billed")


@dataclass
class BillingSummary:
    """What one run did."""

    period: str
    billed: int = 0
    already_billed: int = 0
    failed: int = 0
    retried: int = 0
    to_payable: int = 0
    to_receivable: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def month_bounds(period: str) -> tuple[datetime, datetime]:
    """[start, end) of a "YYYY-MM" month in UTC; 422 naming `period` when malformed."""
    match = PERIOD_PATTERN.match(period) if isinstance(period, str) else None
    if match is None or int(match.group(1)) < 2000:
        raise field_error("period", _("must be a month YYYY-MM (from 2000-01)"))
    year, month = int(match.group(1)), int(match.group(2))
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def current_period(now: datetime | None = None) -> str:
    now = now or utcnow()
    return f"{now.year:04d}-{now.month:02d}"


def check_billable(period: str) -> tuple[datetime, datetime]:
    """The month's bounds, refusing (422) a month that has not begun."""
    start, end = month_bounds(period)
    if start > utcnow():
        raise field_error("period", _("that month has not begun"))
    return start, end


def bill_monthly_fees(*, period: str | None = None) -> BillingSummary:
    """Bill the month's flat-fee members not billed yet and retry failed fees. Never commits."""
    period = period or current_period()
    start, end = check_billable(period)
    summary = BillingSummary(period=period)
    existing = {
        fee.member_id: fee
        for fee in db.session.scalars(
            select(MonthlyFee).where(MonthlyFee.period == period, MonthlyFee.member_id.is_not(None))
        )
    }
    for member_id, (plan_id, amount, currency) in sorted(_flat_fee_members(start, end).items()):
        fee = existing.get(member_id)
        if fee is not None and fee.status == "billed":
            summary.already_billed += 1
            continue
        if fee is None:
            fee = _new_fee(member_id, period, plan_id, amount, currency)
        _count(summary, _attempt(fee))
    _bill_companies(period, summary)
    # Failures of earlier months are tried again by later runs.
    retry = db.session.scalars(
        select(MonthlyFee.id)
        .where(
            MonthlyFee.period != period,
            MonthlyFee.status.in_(("pending", "failed")),
            MonthlyFee.attempts < MAX_ATTEMPTS,
        )
        .order_by(MonthlyFee.id)
    ).all()
    for fee_id in retry:
        summary.retried += 1
        _count(summary, _attempt(db.session.get(MonthlyFee, fee_id)))
    return summary


def _bill_companies(period: str, summary: BillingSummary) -> None:
    """Each active provider company on a flat-fee plan is billed the plan's fee for the month,
    once (UNIQUE organisation_id + period), like a member. The plan is the company's at the
    time of billing (a company's plan is changed in place, not in periods)."""
    existing = {
        fee.organisation_id: fee
        for fee in db.session.scalars(
            select(MonthlyFee).where(
                MonthlyFee.period == period, MonthlyFee.organisation_id.is_not(None)
            )
        )
    }
    companies = db.session.execute(
        select(
            OrganisationPlan.organisation_id,
            CommissionPlan.id,
            CommissionPlan.monthly_fee_amount,
            CommissionPlan.fee_currency,
        )
        .join(CommissionPlan, CommissionPlan.id == OrganisationPlan.plan_id)
        .join(Organisation, Organisation.id == OrganisationPlan.organisation_id)
        .where(CommissionPlan.kind == "flat_fee", Organisation.status == "active")
        .order_by(OrganisationPlan.organisation_id)
    ).all()
    for organisation_id, plan_id, amount, currency in companies:
        fee = existing.get(organisation_id)
        if fee is not None and fee.status == "billed":
            summary.already_billed += 1
            continue
        if fee is None:
            fee = _new_fee(None, period, plan_id, amount, currency, organisation_id=organisation_id)
        _count(summary, _attempt(fee))


def _count(summary: BillingSummary, outcome: str) -> None:
    if outcome == "payable":
        summary.billed += 1
        summary.to_payable += 1
    elif outcome == "receivable":
        summary.billed += 1
        summary.to_receivable += 1
    elif outcome == "failed":
        summary.failed += 1
    else:
        summary.already_billed += 1


def _flat_fee_members(start: datetime, end: datetime) -> dict[int, tuple[int, int, str]]:
    """member_id → (plan id, fee, currency) of the first flat-fee assignment in [start, end);
    not for a technician of an active provider company during the month (some of it): their
    jobs then earn the company, on the company's plan, and their own plan bills nothing."""
    in_a_company = (
        select(OrganisationMembership.member_id)
        .join(Organisation, Organisation.id == OrganisationMembership.organisation_id)
        .where(
            Organisation.status == "active",
            OrganisationMembership.joined_at < end,
            or_(OrganisationMembership.left_at.is_(None), OrganisationMembership.left_at > start),
        )
    )
    rows = db.session.execute(
        select(
            MemberPlan.member_id,
            CommissionPlan.id,
            CommissionPlan.monthly_fee_amount,
            CommissionPlan.fee_currency,
        )
        .join(CommissionPlan, CommissionPlan.id == MemberPlan.plan_id)
        .where(
            CommissionPlan.kind == "flat_fee",
            MemberPlan.member_id.not_in(in_a_company),
            MemberPlan.effective_from < end,
            or_(MemberPlan.effective_to.is_(None), MemberPlan.effective_to > start),
        )
        .order_by(MemberPlan.member_id, MemberPlan.effective_from, MemberPlan.id)
    ).all()
    found: dict[int, tuple[int, int, str]] = {}
    for member_id, plan_id, amount, currency in rows:
        found.setdefault(member_id, (plan_id, amount, currency))
    return found


def _new_fee(
    member_id: int | None,
    period: str,
    plan_id: int,
    amount: int,
    currency: str,
    *,
    organisation_id: int | None = None,
) -> MonthlyFee:
    """The member's (or company's) fee row for the month; a concurrent run's row if it wrote
    one first."""
    fee = MonthlyFee(
        member_id=member_id,
        organisation_id=organisation_id,
        period=period,
        plan_id=plan_id,
        amount=amount,
        currency=currency,
        status="pending",
        attempts=0,
    )
    try:
        with db.session.begin_nested():
            db.session.add(fee)
    except IntegrityError:
        payer = (
            MonthlyFee.organisation_id == organisation_id
            if organisation_id is not None
            else MonthlyFee.member_id == member_id
        )
        fee = db.session.scalar(select(MonthlyFee).where(payer, MonthlyFee.period == period))
    return fee


def _attempt(fee: MonthlyFee) -> str:
    """Post the fee once: "payable" or "receivable" (where it was charged), "failed", or
    "billed" when it was billed already (by a concurrent run)."""
    fee = db.session.scalar(
        select(MonthlyFee)
        .where(MonthlyFee.id == fee.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if fee.status == "billed":
        return "billed"
    fee.attempts += 1
    try:
        with db.session.begin_nested():
            posting, charged_to = _post_fee(fee)
    except DomainError as error:
        fee.status = "failed"
        fee.last_error = f"{error.status} {error.title}: {error.detail}"[:2000]
        return "failed"
    fee.status, fee.charged_to, fee.transaction_id = "billed", charged_to, posting.id
    fee.billed_at, fee.last_error = utcnow(), None
    company = fee.member_id is None
    emit(
        Event(
            name="fee.billed",
            subject_type="organisation" if company else "member",
            subject_id=fee.organisation_id if company else fee.member_id,
            actor="system",
            payload={"fee_id": fee.id, "transaction_id": posting.id},
        )
    )
    return charged_to


def _post_fee(fee: MonthlyFee) -> tuple[LedgerTransaction, str]:
    posted = db.session.scalar(
        select(LedgerTransaction).where(LedgerTransaction.key == fee.ledger_key)
    )
    if posted is not None:
        # Posted before (its row update was lost): adopt it rather than post again.
        codes = {entry.account.code for entry in posted.entries}
        charged = "payable" if fee.accounts[0] in codes else "receivable"
        return posted, charged
    payable, receivable = fee.accounts
    if ledger.balance(payable, fee.currency) >= fee.amount:
        try:
            with db.session.begin_nested():
                return _post_to(fee, payable), "payable"
        except Conflict as error:
            # The payable shrank since it was read (a payout): the fee is owed instead.
            if error.extra.get("state") != "insufficient_balance":
                raise
    return _post_to(fee, receivable), "receivable"


def _post_to(fee: MonthlyFee, account: str) -> LedgerTransaction:
    return ledger.post(
        key=fee.ledger_key,
        kind="monthly_fee",
        currency=fee.currency,
        lines=[Line(account, fee.amount), Line("platform:fees", -fee.amount)],
        memo=f"Monthly fee {fee.period}",
        member_id=fee.member_id,
    )


def request_run(*, period: str | None) -> dict:
    """An admin bills a month now: checked here, carried out by the task after the commit."""
    period = period or current_period()
    check_billable(period)
    message = enqueue("payouts.bill_monthly_fees", period=period)
    db.session.flush()
    return {"period": period, "status": "queued", "task_id": message.id}


def list_fees(
    *,
    period: str | None = None,
    status: str | None = None,
    member_id: int | None = None,
    **page,
) -> dict:
    """Monthly fees, newest first, by month, status or member."""
    query = select(MonthlyFee)
    if period:
        month_bounds(period)
        query = query.where(MonthlyFee.period == period)
    if status:
        query = query.where(MonthlyFee.status == status)
    if member_id:
        query = query.where(MonthlyFee.member_id == member_id)
    return paginate(query, page, order=[MonthlyFee.id], descending=True)
