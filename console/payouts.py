"""Payouts for admins: the payout runs (payout_run.list_runs, as GET /api/v1/payouts/runs) and
the payouts of every run filtered by status, run, member and day (payouts.payout_listing), with
the same filters as a streamed CSV. Admins only, as the API's payout routes."""

from __future__ import annotations

import marshmallow as ma
from flask import request, url_for

from console.csv_export import csv_response, rows
from console.forms import problem, status
from console.web import ConsoleBlueprint, render
from crowd.core.errors import DomainError, Unprocessable
from payouts import payout_listing, payout_run
from payouts.models.payout_runs import PAYOUT_STATUSES
from payouts.schemas.payouts import PayoutListArgsSchema

blp = ConsoleBlueprint("console_payouts", __name__, url_prefix="/console/payouts")

ADMIN = ("admin",)
PAGE_SIZE = 50
RUNS_SHOWN = 10
FILTERS = ("status", "run_id", "member_id", "from", "to")


def _filters() -> dict:
    """The query's filters, loaded with the schema of payouts' listing (422 when refused)."""
    given = {name: request.args.get(name, "").strip() for name in FILTERS}
    try:
        loaded = PayoutListArgsSchema().load({k: v for k, v in given.items() if v})
    except ma.ValidationError as refused:
        raise Unprocessable(problem(refused)) from None
    return {k: v for k, v in loaded.items() if k not in ("limit", "cursor")}


def _kept() -> dict:
    return {name: request.args[name] for name in FILTERS if request.args.get(name, "").strip()}


@blp.page("/", roles=ADMIN)
def index():
    """The newest runs, and a page of payouts (newest first) with the filters applied."""
    runs = payout_run.list_runs(limit=RUNS_SHOWN)
    try:
        page = payout_listing.list_payouts(
            limit=PAGE_SIZE, cursor=request.args.get("cursor") or None, **_filters()
        )
    except DomainError as refused:
        if refused.status != 422:
            raise
        return render(
            "payouts/index.html",
            status=status(refused),
            runs=runs,
            page=None,
            error=problem(refused),
            args=request.args,
            statuses=PAYOUT_STATUSES,
        )
    kept = _kept()
    next_cursor = page["page"]["next_cursor"]
    return render(
        "payouts/index.html",
        runs=runs,
        page=page,
        args=request.args,
        statuses=PAYOUT_STATUSES,
        export_url=url_for(".export", **kept),
        next_url=url_for(".index", **kept, cursor=next_cursor) if next_cursor else None,
        first_url=url_for(".index", **kept) if request.args.get("cursor") else None,
    )


@blp.page("/export.csv", roles=ADMIN)
def export():
    """Every payout the filters match (not only one page), newest first, as a streamed CSV."""
    statement = payout_listing.export_payouts(**_filters())
    return csv_response("payouts", payout_listing.EXPORT_COLUMNS, rows(statement))
