"""Retention rules: how long each kind of personal data is kept, read by staff and changed by
admins within each rule's bounds; and the log of the runs that enforce them
(privacy.enforcement, the daily task privacy.enforce_retention)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.db import db, utcnow
from crowd.core.errors import NotFound, field_error
from crowd.core.i18n import _
from crowd.core.locking import ROW_LOCK
from crowd.core.pagination import paginate
from privacy.models import RetentionRule, RetentionRun

# The rules the platform comes with (the migration i25_retention seeds its own frozen copy;
# this one puts them back after a test emptied the tables):
# (kind, action, keep_days, min_days, max_days, starts_from, legal_basis).
DEFAULT_RULES = (
    (
        "identity_document_images",
        "delete",
        30,
        1,
        365,
        "The check's decision (verified or rejected). The images go; the decision, who made "
        "it and when, and the document's metadata (type, issuer, country, the last characters "
        "of its number, expiry) are kept, and images_deleted_at records the deletion.",
        "Art. 5(1)(c) and (e) GDPR (data minimisation, storage limitation): the images serve "
        "the check only; the decision is the proof of it.",
    ),
    (
        "work_report_files",
        "delete",
        120,
        30,
        3650,
        "The job's end: closed (JOBS_CLOSE_AFTER_DAYS after its confirmation, when it can no "
        "longer be disputed) or cancelled. Never while the job is disputed, its payment has "
        "an open chargeback or a ticket about it is open.",
        "Evidence for disputes and card chargebacks, which a customer's bank may raise up to "
        "120 days after the charge (Art. 6(1)(f) GDPR).",
    ),
    (
        "ticket_attachments",
        "delete",
        365,
        30,
        3650,
        "The ticket's closing (closed is final). Never while a follow-up of the ticket is open.",
        "Evidence of the mediation for follow-ups and complaints (Art. 6(1)(f) GDPR).",
    ),
    (
        "data_exports",
        "delete",
        7,
        1,
        90,
        "The export's creation.",
        "The person's copy of their data (Art. 15, 20 GDPR): kept only for its download.",
    ),
    (
        "abandoned_uploads",
        "delete",
        1,
        1,
        30,
        "The upload's start: files never confirmed (pending) or refused (rejected).",
        "Never used for anything: nothing justifies keeping them (Art. 5(1)(e) GDPR).",
    ),
    (
        "notifications",
        "delete",
        730,
        30,
        3650,
        "The inbox entry's creation; its email and push deliveries (and the emails kept by "
        "the offline provider) go with it.",
        "The inbox is a convenience, not a record: what it told of is kept where it belongs.",
    ),
    (
        "background_work",
        "anonymise",
        30,
        1,
        365,
        "The background task's completion (done). Its arguments are emptied; the row stays, "
        "its dedupe key keeping the work from running twice. Failed tasks keep theirs for a retry.",
        "A task's arguments may quote a person (the address an invitation is emailed to); once "
        "the work is done they serve nothing (Art. 5(1)(c) and (e) GDPR).",
    ),
    (
        "ledger_entries",
        "keep",
        3650,
        3650,
        36500,
        "The end of the calendar year of the booking.",
        "§ 147 AO, § 257 HGB: books and accounting records are kept for 10 years. Nothing is "
        "deleted before; no run deletes them (reported as kept).",
    ),
    (
        "documents",
        "keep",
        3650,
        3650,
        36500,
        "The end of the calendar year of issue.",
        "§ 14b UStG, § 147 AO: invoices, credit notes and their corrections are kept for 10 "
        "years; issued documents are immutable (a database trigger refuses their deletion). "
        "No run deletes them (reported as kept).",
    ),
)


def seed_default_rules() -> None:
    """Store DEFAULT_RULES (the tests' reset after emptying the tables)."""
    now = utcnow()
    db.session.add_all(
        RetentionRule(
            kind=kind,
            action=action,
            keep_days=keep_days,
            min_days=min_days,
            max_days=max_days,
            starts_from=starts_from,
            legal_basis=legal_basis,
            updated_at=now,
        )
        for kind, action, keep_days, min_days, max_days, starts_from, legal_basis in DEFAULT_RULES
    )


def list_rules(*, actor: Principal) -> list[RetentionRule]:
    """Every retention rule, by kind."""
    return list(db.session.scalars(select(RetentionRule).order_by(RetentionRule.kind)))


@dataclass(frozen=True)
class RuleChange:
    rule: RetentionRule
    old_keep_days: int
    old_legal_basis: str


def update_rule(
    *, actor: Principal, kind: str, keep_days: int, legal_basis: str | None = None
) -> RuleChange:
    """A rule's period (within its bounds: 422 naming keep_days) and, when given, its legal
    basis; the next run follows it. 404 for an unknown kind."""
    rule = db.session.get(RetentionRule, kind, with_for_update=ROW_LOCK, populate_existing=True)
    if rule is None:
        raise NotFound(_("No retention rule of this kind."))
    if not rule.min_days <= keep_days <= rule.max_days:
        raise field_error(
            "keep_days",
            _(
                "must be between {min_days} and {max_days} days for {kind}",
                min_days=rule.min_days,
                max_days=rule.max_days,
                kind=kind,
            ),
        )
    change = RuleChange(rule, rule.keep_days, rule.legal_basis)
    rule.keep_days = keep_days
    if legal_basis is not None:
        rule.legal_basis = legal_basis
    rule.updated_at = utcnow()
    rule.updated_by_id = actor.user_id
    db.session.flush()
    return change


def list_runs(*, actor: Principal, limit: int | None = None, cursor: str | None = None) -> dict:
    """A page of the enforcement runs, newest first."""
    return paginate(
        select(RetentionRun),
        {"limit": limit, "cursor": cursor},
        order=[RetentionRun.started_at, RetentionRun.id],
        descending=True,
    )
