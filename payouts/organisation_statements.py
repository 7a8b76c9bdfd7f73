"""A provider company's statement: its earnings per job, grouped by the technician who did it.

Read from the ledger, like a member's statement (payouts.statements): the postings on the
company's payable (organisation:{id}:payable) and receivable (what a refund took back beyond
the payable) in [from, to] (whole UTC days), as one: what the company is owed. A job's
settlement credited the company with the earning (price − commission, on the company's plan);
a refund or a lost chargeback of the job took part of it back; each job's row adds up what
touched the payable in the period. The technician is the member the job's payment settled
for (job_payments.member_id). Payouts in the period are the company's payout rows, and the
totals per currency add paid_out (sent, less what came back) and pending (its payable now).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import func, select

from crowd.core.auth import Principal
from crowd.core.errors import NotFound
from crowd.core.i18n import _
from crowd.extensions import db
from jobs.models import Job
from members.models import Member
from organisations.models import Organisation
from organisations.service import MANAGERS, own_organisation
from payouts.ledger import account_code_for_organisation
from payouts.models.job_payments import JobPayment
from payouts.models.ledger import LedgerAccount, LedgerEntry, LedgerTransaction
from payouts.models.payout_runs import Payout
from payouts.statements import (
    CURRENCIES,
    MAX_STATEMENT_DAYS,
    PAYOUT_KINDS,
    SETTLEMENT_KINDS,
    period_of,
)


def _organisation_for(actor: Principal, organisation_id: int | None) -> Organisation:
    """The company whose money `actor` may see: its owners and dispatchers their own, staff
    any (the route lets only staff name one)."""
    if organisation_id is None:
        organisation, _membership = own_organisation(actor, roles=MANAGERS)
        return organisation
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(_("No such company."))
    return organisation


def organisation_statement(
    *,
    actor: Principal,
    organisation_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> dict:
    """The company's earnings in a period: per technician their jobs (price, commission,
    earning, refunds, net), the totals per currency, and the payouts made in the period."""
    organisation = _organisation_for(actor, organisation_id)
    period = period_of(date_from, date_to, max_days=MAX_STATEMENT_DAYS)
    code = account_code_for_organisation(organisation.id)
    in_period = (
        LedgerTransaction.created_at >= period.start,
        LedgerTransaction.created_at < period.end,
    )
    rows = db.session.execute(
        select(
            LedgerTransaction.job_id,
            LedgerTransaction.kind,
            LedgerTransaction.currency,
            LedgerTransaction.created_at,
            -LedgerEntry.amount,
        )
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(
            LedgerAccount.code.in_([code, f"organisation:{organisation.id}:receivable"]),
            LedgerTransaction.job_id.is_not(None),
            *in_period,
        )
        .order_by(LedgerTransaction.id)
    ).all()
    job_ids = sorted({row.job_id for row in rows})
    jobs = {
        job.id: job
        for job in db.session.execute(
            select(
                Job.id,
                Job.title,
                JobPayment.member_id,
                JobPayment.commission_amount,
                JobPayment.member_earning,
                Member.display_name,
            )
            .join(JobPayment, JobPayment.job_id == Job.id)
            .outerjoin(Member, Member.id == JobPayment.member_id)
            .where(Job.id.in_(job_ids))
        )
    }
    lines: dict[int, dict] = {}
    for job_id, kind, currency, at, amount in rows:
        job = jobs[job_id]
        line = lines.setdefault(
            job_id,
            {
                "job_id": job_id,
                "title": job.title,
                "member_id": job.member_id,
                "currency": currency,
                "date": None,
                "price": 0,
                "commission": 0,
                "earning": 0,
                "refunds": 0,
                "net": 0,
            },
        )
        if kind in SETTLEMENT_KINDS:
            line["date"] = at
            line["earning"] += amount
            line["commission"] += job.commission_amount or 0
            line["price"] += amount + (job.commission_amount or 0)
        else:  # refunds, lost chargebacks, corrections: what came off the earning
            line["date"] = line["date"] or at
            line["refunds"] -= amount
        line["net"] += amount
    technicians: dict[int | None, dict] = {}
    for line in lines.values():
        job = jobs[line["job_id"]]
        technician = technicians.setdefault(
            job.member_id,
            {"member_id": job.member_id, "display_name": job.display_name, "jobs": []},
        )
        technician["jobs"].append(line)
    totals = {c: defaultdict(int) for c in CURRENCIES}
    for line in lines.values():
        for field in ("price", "commission", "earning", "refunds", "net"):
            totals[line["currency"]][field] += line[field]
        totals[line["currency"]]["jobs"] += 1
    for currency, paid in _paid_out(code, in_period):
        totals[currency]["paid_out"] += paid
    for currency, balance in db.session.execute(
        select(LedgerAccount.currency, LedgerAccount.balance).where(LedgerAccount.code == code)
    ):
        totals[currency]["pending"] = balance
    payouts = db.session.scalars(
        select(Payout)
        .where(
            Payout.organisation_id == organisation.id,
            Payout.created_at >= period.start,
            Payout.created_at < period.end,
        )
        .order_by(Payout.id)
    ).all()
    fields = ("jobs", "price", "commission", "earning", "refunds", "net", "paid_out", "pending")
    return {
        "organisation_id": organisation.id,
        "legal_name": organisation.legal_name,
        "date_from": period.first,
        "date_to": period.last,
        "technicians": sorted(
            technicians.values(), key=lambda t: (t["member_id"] is None, t["member_id"] or 0)
        ),
        "totals": [
            {"currency": c} | {f: totals[c][f] for f in fields}
            for c in CURRENCIES
            if any(totals[c].values())
        ],
        "payouts": payouts,
    }


def _paid_out(code: str, in_period) -> list:
    """Per currency: sent from the payable (payouts) less what came back (returns)."""
    return db.session.execute(
        select(LedgerTransaction.currency, func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerAccount.code == code, LedgerTransaction.kind.in_(PAYOUT_KINDS), *in_period)
        .group_by(LedgerTransaction.currency)
    ).all()
