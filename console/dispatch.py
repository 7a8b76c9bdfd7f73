"""The dispatch board and a job's dispatch page, for community managers.

Thin views over the services the API routes call: the board is jobs.board (GET
/staff/dispatch-board), the candidates with their score breakdown are matching's
list_candidates (GET /jobs/{id}/candidates), the near misses with their reasons matching's
list_ineligible (GET /jobs/{id}/candidates/ineligible), and the actions are those of POST
/staff/jobs/{id}/dispatch, /offers and /assign, their forms loaded with the API's schemas. A
refusal (409, 422) shows the job's page again with the reason.
"""

from __future__ import annotations

import marshmallow as ma
from flask import redirect, request, url_for
from werkzeug.datastructures import MultiDict

from console.csv_export import csv_response, rows
from console.forms import fields, status, utc
from console.web import ConsoleBlueprint, render, signed_in
from crowd.core.errors import DomainError
from jobs import assignment, board, dispatch, queries, targeted
from jobs.matching import service as matching
from jobs.queries import UNASSIGNED
from jobs.schemas.board import BoardQueryArgsSchema
from jobs.schemas.offers import AssignSchema, OfferToMemberSchema
from members.service import list_catalogue

blp = ConsoleBlueprint("console_dispatch", __name__, url_prefix="/console/dispatch")

PAGE_SIZE = 25
CANDIDATES = 20
NEAR_MISSES = 10
HISTORY = 100
FILTERS = (
    "region",
    "category",
    "status",
    "escalated",
    "starts_from",
    "starts_until",
    "min_waves",
    "max_waves",
)
DATETIMES = ("starts_from", "starts_until")


def _problem(error: ma.ValidationError | DomainError) -> str:
    """The refusal in one line, with the field messages (e.g. every eligibility problem)."""
    if isinstance(error, ma.ValidationError):
        messages = error.normalized_messages()
    else:
        messages = (error.errors or {}).get("json") or (error.errors or {}).get("query") or {}
        if not messages:
            return str(error.detail)
    listed = "; ".join(
        f"{name}: {' '.join(map(str, text if isinstance(text, list) else [text]))}"
        for name, text in messages.items()
    )
    return f"{error.detail} {listed}" if isinstance(error, DomainError) else listed


def _filters(args: MultiDict) -> dict:
    """The board's filters from the query string, checked by the API's schema (422 if bad)."""
    chosen = {name: (args.get(name) or "").strip() for name in FILTERS}
    chosen = {name: value for name, value in chosen.items() if value}
    for name in DATETIMES:
        if name in chosen:
            chosen[name] = utc(chosen[name])
    loaded = BoardQueryArgsSchema().load(chosen)
    # The page's own paging (limit and cursor) is not a filter.
    return {name: value for name, value in loaded.items() if name in FILTERS}


def _board_page(args: MultiDict, *, cursor: str | None):
    kept = {name: args.get(name) for name in FILTERS if args.get(name)}
    context = {
        "args": args,
        "kept": kept,
        "categories": list_catalogue(),
        "statuses": UNASSIGNED,
        "page": None,
        "error": None,
    }
    try:
        filters = _filters(args)
        page = board.board(actor=signed_in().principal, limit=PAGE_SIZE, cursor=cursor, **filters)
    except (ma.ValidationError, DomainError) as refused:
        return render(
            "dispatch/index.html", status=status(refused), **{**context, "error": _problem(refused)}
        )
    next_cursor = page["page"]["next_cursor"]
    return render(
        "dispatch/index.html",
        **{**context, "page": page},
        next_url=url_for(".index", **kept, cursor=next_cursor) if next_cursor else None,
        first_url=url_for(".index", **kept) if cursor else None,
        csv_url=url_for(".board_csv", **kept),
    )


@blp.page("/")
def index():
    """The board: open and offered jobs without a member, escalated ones flagged, filtered."""
    return _board_page(request.args, cursor=request.args.get("cursor") or None)


@blp.page("/board.csv")
def board_csv():
    """The board with its filters applied, every page, as a streamed CSV download."""
    try:
        filters = _filters(request.args)
        statement = board.export_query(actor=signed_in().principal, **filters)
    except (ma.ValidationError, DomainError):
        return _board_page(request.args, cursor=None)  # the board says what is wrong
    return csv_response(
        "dispatch-board", board.EXPORT_COLUMNS, map(board.export_row, rows(statement))
    )


# --- one job --------------------------------------------------------------------------------


def _job_page(job_id: int, *, code: int = 200, **extra):
    actor = signed_in().principal
    job = queries.get_job(actor=actor, job_id=job_id)
    return render(
        "dispatch/job.html",
        status=code,
        job=job,
        figures=board.job_timing(queries.job_for(actor, job_id)),
        events=queries.list_events(actor=actor, job_id=job_id, limit=HISTORY)["items"],
        candidates=matching.list_candidates(actor=actor, job_id=job_id, limit=CANDIDATES),
        near_misses=matching.list_ineligible(actor=actor, job_id=job_id, limit=NEAR_MISSES),
        waiting=job["status"] in UNASSIGNED and job["assigned_member"] is None,
        done=request.args.get("done"),
        **extra,
    )


@blp.page("/jobs/<int:job_id>")
def job(job_id):
    """A job's dispatch: its waves and offers, the candidates with their score breakdown, the
    members who nearly fit with their reasons, and the actions."""
    return _job_page(job_id)


def _act(job_id: int, action, *, done: str):
    """Run a staff action; a refusal shows the page again with the reason and its status."""
    try:
        action()
    except (ma.ValidationError, DomainError) as refused:
        if isinstance(refused, DomainError) and refused.status in (403, 404):
            raise
        return _job_page(job_id, code=status(refused), error=_problem(refused))
    return redirect(url_for(".job", job_id=job_id, done=done) + "#actions", 303)


@blp.page("/jobs/<int:job_id>/dispatch", methods=("POST",))
def send_wave(job_id):
    """Send the next wave now (POST /staff/jobs/{id}/dispatch)."""
    return _act(
        job_id,
        lambda: dispatch.dispatch_now(actor=signed_in().principal, job_id=job_id),
        done="wave",
    )


@blp.page("/jobs/<int:job_id>/offers", methods=("POST",))
def offer(job_id):
    """Offer the job to the chosen member (POST /staff/jobs/{id}/offers)."""

    def run():
        data = OfferToMemberSchema().load(_numbers(fields("member_id")))
        targeted.offer_to_member(actor=signed_in().principal, job_id=job_id, **data)

    return _act(job_id, run, done="offer")


@blp.page("/jobs/<int:job_id>/assign", methods=("POST",))
def assign(job_id):
    """Assign the chosen member directly (POST /staff/jobs/{id}/assign); an ineligible one only
    with the override ticked and a reason."""

    def run():
        posted = _numbers(fields("member_id", "reason"))
        posted["override"] = request.form.get("override") == "yes"
        data = AssignSchema().load(posted)
        assignment.assign_member(actor=signed_in().principal, job_id=job_id, **data)

    return _act(job_id, run, done="assign")


def _numbers(posted: dict) -> dict:
    """Form fields are text; the API's schemas take ids as numbers (strict)."""
    value = posted.get("member_id")
    if value is not None:
        posted["member_id"] = int(value) if value.isdigit() else value
    return posted
