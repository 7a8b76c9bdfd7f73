"""Payouts across runs, for admins: a filtered page (newest first) and the same filters as plain
columns for a download. A run's own view (its counts and payouts) is payout_run.get_run."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, select

from crowd.core.errors import field_error
from crowd.core.i18n import _
from crowd.core.pagination import paginate
from crowd.extensions import db
from members.models import Member
from payouts.models.payout_runs import Payout

EXPORT_COLUMNS = (
    "id",
    "run_id",
    "member_id",
    "member",
    "amount_minor",
    "currency",
    "status",
    "hold_reason",
    "failure_reason",
    "created_at",
    "sent_at",
    "paid_at",
    "failed_at",
)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _filtered(
    query: Select,
    *,
    status: str | None = None,
    run_id: int | None = None,
    member_id: int | None = None,
    since: date | None = None,
    until: date | None = None,
) -> Select:
    """Payouts of a status, a run, a member, written from `since` to `until` (UTC days, both
    included)."""
    if since is not None and until is not None and until < since:
        raise field_error("to", _("must not be before from"))
    if status is not None:
        query = query.where(Payout.status == status)
    if run_id is not None:
        query = query.where(Payout.run_id == run_id)
    if member_id is not None:
        query = query.where(Payout.member_id == member_id)
    if since is not None:
        query = query.where(Payout.created_at >= _start_of(since))
    if until is not None:
        query = query.where(Payout.created_at < _start_of(until + timedelta(days=1)))
    return query


def list_payouts(*, limit: int | None = None, cursor: str | None = None, **filters) -> dict:
    """A page of payouts of every run, newest first, filtered (see `_filtered`); with the
    display names of the page's members."""
    page = paginate(
        _filtered(select(Payout), **filters),
        {"limit": limit, "cursor": cursor},
        order=[Payout.id],
        descending=True,
    )
    ids = {payout.member_id for payout in page["items"]} - {None}
    names = db.session.execute(select(Member.id, Member.display_name).where(Member.id.in_(ids)))
    page["members"] = dict(names.all()) if ids else {}
    return page


def export_payouts(**filters) -> Select:
    """Every payout the filters match, newest first, as plain columns (EXPORT_COLUMNS; the
    amount in minor units) for a download read in batches."""
    query = select(
        Payout.id,
        Payout.run_id,
        Payout.member_id,
        Member.display_name,
        Payout.amount,
        Payout.currency,
        Payout.status,
        Payout.hold_reason,
        Payout.failure_reason,
        Payout.created_at,
        Payout.sent_at,
        Payout.paid_at,
        Payout.failed_at,
    ).outerjoin(Member, Member.id == Payout.member_id)  # a company's payout names no member
    return _filtered(query, **filters).order_by(Payout.id.desc())
