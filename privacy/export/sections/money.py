"""Sections: payments, refunds, earnings, payouts, fees, plans and invoicing documents."""

from __future__ import annotations

from sqlalchemy import Select, and_, select

from crowd.core.i18n import _l
from privacy.export.sections.base import Person, Section, columns, member_table, only, t


def _payments(person: Person) -> Select | None:
    payments = t("job_payments")
    if person.customer_id is not None:
        wanted = (
            "id",
            "job_id",
            "status",
            "currency",
            "amount_authorized",
            "amount_captured",
            "amount_refunded",
            "payment_method",
            "authorized_at",
            "captured_at",
            "cancelled_at",
            "failed_at",
            "invoice_due_at",
            "created_at",
        )
        where = payments.c.customer_id == person.customer_id
    elif person.member_id is not None:
        # The member's side of a job's money: what the job brought and what they earned.
        wanted = (
            "id",
            "job_id",
            "status",
            "currency",
            "amount_captured",
            "commission_amount",
            "member_earning",
            "plan_code",
            "captured_at",
            "created_at",
        )
        where = payments.c.member_id == person.member_id
    else:
        return None
    return select(*only(*wanted, table=payments)).where(where).order_by(payments.c.id)


def _refunds(person: Person) -> Select | None:
    if person.customer_id is None:
        return None
    payments, refunds = t("job_payments"), t("job_refunds")
    return (
        select(
            *only(
                "id",
                "job_id",
                "amount",
                "currency",
                "reason",
                "status",
                "refunded_at",
                "created_at",
                table=refunds,
            )
        )
        .join(payments, payments.c.id == refunds.c.job_payment_id)
        .where(payments.c.customer_id == person.customer_id)
        .order_by(refunds.c.id)
    )


def _payment_methods(person: Person) -> Select | None:
    if person.customer_id is None:
        return None
    table = t("customer_payment_methods")
    return (
        select(*only("id", "payment_method", "created_at", "updated_at", table=table))
        .where(table.c.customer_id == person.customer_id)
        .order_by(table.c.id)
    )


def _ledger(person: Person) -> Select | None:
    """The lines of the member's own ledger accounts (earnings, payouts, fees, rewards)."""
    if person.member_id is None:
        return None
    accounts, entries, transactions = (
        t("ledger_accounts"),
        t("ledger_entries"),
        t("ledger_transactions"),
    )
    return (
        select(
            entries.c.id,
            transactions.c.id.label("transaction_id"),
            transactions.c.kind,
            transactions.c.memo,
            transactions.c.job_id,
            accounts.c.code.label("account"),
            entries.c.amount,
            accounts.c.currency,
            transactions.c.created_at,
        )
        .join(accounts, accounts.c.id == entries.c.account_id)
        .join(transactions, transactions.c.id == entries.c.transaction_id)
        .where(accounts.c.member_id == person.member_id)
        .order_by(entries.c.id)
    )


def _plans(person: Person) -> Select | None:
    if person.member_id is None:
        return None
    assigned, plans = t("member_plans"), t("commission_plans")
    return (
        select(
            *columns(assigned, without=("assigned_by_id", "member_id", "plan_id")),
            plans.c.code.label("plan_code"),
            plans.c.name.label("plan_name"),
            plans.c.percent_bp.label("plan_percent_bp"),
            plans.c.monthly_fee_amount.label("plan_monthly_fee_amount"),
            plans.c.fee_currency.label("plan_fee_currency"),
        )
        .join(plans, plans.c.id == assigned.c.plan_id)
        .where(assigned.c.member_id == person.member_id)
        .order_by(assigned.c.id)
    )


def their_documents(person: Person) -> Select | None:
    """The ids and numbers of the invoicing documents addressed to the person."""
    documents = t("documents")
    if person.customer_id is not None:
        where = and_(
            documents.c.recipient_type == "customer",
            documents.c.customer_id == person.customer_id,
        )
    elif person.member_id is not None:
        where = and_(
            documents.c.recipient_type == "member", documents.c.member_id == person.member_id
        )
    else:
        return None
    return select(documents.c.id, documents.c.number).where(where).order_by(documents.c.id)


def _documents(person: Person) -> Select | None:
    ids = their_documents(person)
    if ids is None:
        return None
    documents = t("documents")
    wanted = (
        "id",
        "number",
        "kind",
        "job_id",
        "corrects_id",
        "language",
        "currency",
        "net_total",
        "vat_total",
        "gross_total",
        "issue_date",
        "service_date",
        "created_at",
    )
    return (
        select(*only(*wanted, table=documents))
        .where(documents.c.id.in_(ids.with_only_columns(documents.c.id).order_by(None)))
        .order_by(documents.c.id)
    )


SECTIONS = (
    Section("payments", _l("payments of your jobs (and your earnings from them)"), _payments),
    Section("refunds", _l("refunds to you"), _refunds),
    Section("payment_methods", _l("how you pay"), _payment_methods),
    Section("ledger", _l("the lines of your earnings account"), _ledger),
    Section(
        "payouts",
        _l("payouts to you"),
        member_table(
            "payouts",
            without=("member_id", "run_id", "last_error", "released_by_id", "send_transaction_id"),
        ),
    ),
    Section(
        "monthly_fees",
        _l("monthly fees of your plan"),
        member_table("monthly_fees", without=("member_id", "last_error", "transaction_id")),
    ),
    Section("plans", _l("your commission plans"), _plans),
    Section(
        "commission_perks",
        _l("your commission discounts"),
        member_table("member_commission_perks", without=("member_id",)),
    ),
    Section(
        "documents", _l("invoices and credit notes addressed to you (PDFs in files/)"), _documents
    ),
)
