"""The ticket queue, a ticket's page and its resolutions, for community managers.

Thin views over the services the API routes call (support.tickets.queue/actions,
support.messages, support.resolutions, support.chargebacks, payouts' payment view): the
actions offered are the ticket's `allowed_actions`, forms are checked with the API's schemas,
and a proposal is previewed with the computation the proposal uses before it is confirmed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

import marshmallow as ma
from flask import redirect, request, url_for

from accounts.models import User
from console.csv_export import csv_response, rows
from console.web import CSP, ConsoleBlueprint, render, signed_in
from crowd.core.db import utcnow
from crowd.core.errors import NotFound, Unprocessable
from crowd.core.i18n import _
from crowd.extensions import db
from customers.models import Customer
from jobs.models import Job
from jobs.queries import get_job
from members.models import Member
from payouts import job_money, ledger
from support import attachments, chargebacks, messages, resolutions, sla
from support.config import support_rules
from support.models import CATEGORIES, PRIORITIES, STATUSES, Resolution
from support.resolutions.preview import shares
from support.schemas.chargebacks import ChargebackEvidenceSendSchema
from support.schemas.resolutions import AMOUNTS, ResolutionCreateSchema
from support.tickets import actions, queue

blp = ConsoleBlueprint("console_tickets", __name__, url_prefix="/console/tickets")

# The status actions of the API's POST /tickets/{id}/actions/{action}, in the order shown.
STATUS_ACTIONS = actions.ACTIONS
PAGE_SIZE = 25
MAX_PAGES = 20  # messages and resolutions: enough for any real thread (25 × 20)


def _form(name: str) -> str:
    return (request.form.get(name) or "").strip()


def _back(ticket_id: int, anchor: str = ""):
    return redirect(url_for(".show", ticket_id=ticket_id) + anchor, 303)


def _all(fetch, **kwargs) -> list:
    """Every item of a paginated service (oldest first), page by page."""
    items, cursor = [], None
    for _page in range(MAX_PAGES):
        page = fetch(limit=PAGE_SIZE, cursor=cursor, **kwargs)
        items.extend(page["items"])
        cursor = page["page"].get("next_cursor")
        if not cursor:
            break
    return items


# --- the queue --------------------------------------------------------------------------------


def _due_before(value: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Unprocessable(
            _("sla_due_before is not a date and time"),
            errors={"query": {"sla_due_before": ["not valid"]}},
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _queue_filters(args) -> dict:
    chosen = {
        "status": [s for s in args.getlist("status") if s in STATUSES] or None,
        "priority": [p for p in args.getlist("priority") if p in PRIORITIES] or None,
        "category": [c for c in args.getlist("category") if c in CATEGORIES] or None,
        "sla_due_before": _due_before(args.get("sla_due_before", "").strip()),
        "region": args.get("region", "").strip() or None,
        "search": args.get("q", "").strip() or None,
    }
    assignee = args.get("assignee", "").strip()
    if assignee in ("me", "none") or assignee.isdigit():
        chosen["assignee_id"] = assignee
    return chosen


@blp.page("/")
def index():
    """The queue, most urgent SLA deadline first, filtered; tickets can be assigned in bulk."""
    filters = _queue_filters(request.args)
    page = queue.list_tickets(
        actor=signed_in().principal,
        limit=PAGE_SIZE,
        cursor=request.args.get("cursor") or None,
        **filters,
    )
    now = utcnow()
    soon = sla.warning_cutoff(now)
    for ticket in page["items"]:
        due = ticket.get("sla_due_at")
        ticket["overdue"] = due is not None and due <= now
        ticket["due_soon"] = due is not None and now < due <= soon
    kept = request.args.to_dict(flat=False)
    kept.pop("cursor", None)
    return render(
        "tickets/index.html",
        page=page,
        args=request.args,
        statuses=STATUSES,
        priorities=PRIORITIES,
        categories=CATEGORIES,
        staff=actions.assignable_staff(),
        next_url=url_for(".index", **kept, cursor=page["page"]["next_cursor"])
        if page["page"]["next_cursor"]
        else None,
        first_url=url_for(".index", **kept) if request.args.get("cursor") else None,
        export_url=url_for(".export", **kept),
    )


@blp.page("/export.csv")
def export():
    """Every ticket the queue's filters match (not only one page), as a streamed CSV."""
    statement = queue.export_rows(actor=signed_in().principal, **_queue_filters(request.args))
    return csv_response("tickets", queue.EXPORT_COLUMNS, rows(statement))


def _assignee_id(value: str) -> int:
    if value == "me":
        return signed_in().user.id
    if not value.isdigit():
        raise Unprocessable(
            _("choose whom to assign to"), errors={"json": {"assignee_id": ["required"]}}
        )
    return int(value)


@blp.page("/bulk-assign", methods=("POST",))
def bulk_assign():
    """Assign the ticked tickets at once (all or nothing, as the API's bulk assign)."""
    ids = [int(v) for v in request.form.getlist("ticket_ids") if v.isdigit()]
    if not ids:
        raise Unprocessable(
            _("tick at least one ticket"), errors={"json": {"ticket_ids": ["required"]}}
        )
    actions.bulk_assign(
        actor=signed_in().principal, ticket_ids=ids, assignee_id=_assignee_id(_form("assignee_id"))
    )
    back = request.form.get("back") or ""
    return redirect(back if back.startswith("/console/tickets") else url_for(".index"), 303)


# --- one ticket -------------------------------------------------------------------------------


def _person(model, row_id: int | None) -> dict | None:
    if row_id is None:
        return None
    row = db.session.get(model, row_id)
    if row is None:
        return None
    user = db.session.get(User, row.user_id)
    return {"id": row.id, "row": row, "email": user.email if user else None}


def _member_money(member_id: int | None, currency: str) -> dict | None:
    """The member's earnings on the books and whether payouts hold them (an open dispute)."""
    if member_id is None:
        return None
    return {
        "payable": ledger.balance(ledger.account_code_for_member(member_id), currency),
        "currency": currency,
        "held": member_id in job_money.open_dispute_member_ids([member_id]),
    }


def _context(ticket: dict) -> dict:
    actor = signed_in().principal
    job = money = evidence = member_money = None
    if ticket["job_id"] is not None:
        job = get_job(actor=actor, job_id=ticket["job_id"])
        money = job_money.payment_view(actor=actor, job_id=ticket["job_id"])
        if money.get("dispute"):
            evidence = chargebacks.evidence_draft(actor=actor, ticket_id=ticket["id"])
        member_money = _member_money(
            money.get("member_id") or job.get("assigned_member_id"), money["currency"]
        )
    others = {}
    for party in ("customer", "member"):
        if ticket[f"{party}_id"] is not None:
            others[party] = queue.list_tickets(
                actor=actor, limit=1, **{f"{party}_id": ticket[f"{party}_id"]}
            )["page"]["total"]
    return {
        "job": job,
        "payment": money,
        "evidence": evidence,
        "member_money": member_money,
        "customer": _person(Customer, ticket["customer_id"]),
        "member": _person(Member, ticket["member_id"]),
        "ticket_counts": others,
    }


@blp.page("/<int:ticket_id>")
def show(ticket_id):
    """The thread (shared and internal apart, with short-lived links to the messages' files),
    the actions its state allows, the job, the money and the parties beside it, and its
    resolutions."""
    actor = signed_in().principal
    ticket = queue.get_ticket(actor=actor, ticket_id=ticket_id)
    thread = _all(messages.list_messages, actor=actor, ticket_id=ticket_id)
    downloads = attachments.downloads(actor=actor, ticket_id=ticket_id)
    proposals = _all(resolutions.list_resolutions, actor=actor, ticket_id=ticket_id)
    allowed = set(ticket["allowed_actions"])
    html, status = render(
        "tickets/show.html",
        ticket=ticket,
        thread=thread,
        downloads=downloads,
        resolutions=proposals,
        live=next((r for r in proposals if r.status == "proposed"), None),
        allowed=allowed,
        status_actions=[a for a in STATUS_ACTIONS if a in allowed],
        staff=actions.assignable_staff(),
        priorities=PRIORITIES,
        kinds=tuple(AMOUNTS),
        response_hours=support_rules().proposal_response_hours,
        **_context(ticket),
    )
    return html, status, _images_from(downloads)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _images_from(downloads: dict) -> dict:
    """The page's policy lets in the thumbnails from their storage (S3 serves them from its
    own origin; the local storage from the console's, which the policy allows already)."""
    own = _origin(request.host_url)
    origins = {_origin(d.thumbnail_url) for d in downloads.values() if d.thumbnail_url} - {own}
    if not origins:
        return {}
    return {"Content-Security-Policy": f"{CSP}; img-src 'self' {' '.join(sorted(origins))}"}


@blp.page("/<int:ticket_id>/assign", methods=("POST",))
def assign(ticket_id):
    actions.assign(
        actor=signed_in().principal,
        ticket_id=ticket_id,
        assignee_id=_assignee_id(_form("assignee_id")),
    )
    return _back(ticket_id)


@blp.page("/<int:ticket_id>/priority", methods=("POST",))
def priority(ticket_id):
    value = _form("priority")
    if value not in PRIORITIES:
        raise Unprocessable(
            _("choose a priority"), errors={"json": {"priority": [_("not a priority")]}}
        )
    actions.update_ticket(actor=signed_in().principal, ticket_id=ticket_id, priority=value)
    return _back(ticket_id)


@blp.page("/<int:ticket_id>/actions/<action>", methods=("POST",))
def act(ticket_id, action):
    """A status action (wait on a party, escalate, take over, close, reopen …): the service
    refuses one the ticket's state does not allow (409)."""
    actions.act(
        actor=signed_in().principal,
        ticket_id=ticket_id,
        action=action,
        note=_form("note") or None,
        reason=_form("reason") or None,
    )
    return _back(ticket_id)


@blp.page("/<int:ticket_id>/messages", methods=("POST",))
def post_message(ticket_id):
    """A reply (to both parties or one) or an internal note."""
    body = _form("body")
    if not body:
        raise Unprocessable(_("write a message"), errors={"json": {"body": ["required"]}})
    messages.post_message(
        actor=signed_in().principal,
        ticket_id=ticket_id,
        body=body,
        visibility=_form("visibility") or "parties",
    )
    return _back(ticket_id, "#thread")


# --- resolutions ------------------------------------------------------------------------------


def _minor_units(value: str, field: str) -> int | None:
    """'36.50' or '36,50' (the job's currency) → 3650 minor units."""
    if not value:
        return None
    try:
        amount = Decimal(value.replace(",", ".")) * 100
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount != amount.to_integral_value():
        raise Unprocessable(
            _("{field} is not an amount", field=field),
            errors={"json": {field: [_("an amount like 36.50")]}},
        )
    return int(amount)


def _proposal(values) -> dict:
    """The proposal form as the API's ResolutionCreateSchema loads it (the same rules)."""
    kind = (values.get("kind") or "").strip()
    data = {
        "kind": kind,
        "note": (values.get("note") or "").strip(),
        "member_at_fault": values.get("member_at_fault") == "yes",
    }
    if kind == "partial_refund":
        data["refund_amount"] = _minor_units(
            values.get("refund_amount", "").strip(), "refund_amount"
        )
    if kind == "goodwill":
        data["goodwill_amount"] = _minor_units(
            values.get("goodwill_amount", "").strip(), "goodwill_amount"
        )
    if kind == "split":
        percent = (values.get("customer_share_percent") or "").strip()
        data["customer_share_percent"] = int(percent) if percent.isdigit() else percent or None
    hours = (values.get("respond_within_hours") or "").strip()
    if hours:
        data["respond_within_hours"] = int(hours) if hours.isdigit() else hours
    data = {key: value for key, value in data.items() if value is not None}
    try:
        return ResolutionCreateSchema().load(data)
    except ma.ValidationError as error:
        raise Unprocessable(
            _("The proposal is not complete: {fields}.", fields=", ".join(sorted(error.messages))),
            errors={"json": error.messages},
        ) from None


@blp.page("/<int:ticket_id>/resolutions/preview")
def preview(ticket_id):
    """What each party would get, computed as the proposal computes it; confirm to propose."""
    actor = signed_in().principal
    proposal = _proposal(request.args)
    amounts = {
        key: proposal.get(key)
        for key in ("refund_amount", "customer_share_percent", "goodwill_amount")
    }
    result = resolutions.preview(actor=actor, ticket_id=ticket_id, kind=proposal["kind"], **amounts)
    return render(
        "tickets/preview.html",
        ticket=queue.get_ticket(actor=actor, ticket_id=ticket_id),
        proposal=proposal,
        form=request.args,
        shares=result,
        hours=proposal.get("respond_within_hours") or support_rules().proposal_response_hours,
    )


@blp.page("/<int:ticket_id>/resolutions", methods=("POST",))
def propose(ticket_id):
    proposal = _proposal(request.form)
    resolutions.propose(actor=signed_in().principal, ticket_id=ticket_id, **proposal)
    return _back(ticket_id, "#resolutions")


@blp.page("/<int:ticket_id>/resolutions/<int:resolution_id>/withdraw", methods=("POST",))
def withdraw(ticket_id, resolution_id):
    resolutions.withdraw(
        actor=signed_in().principal, ticket_id=ticket_id, resolution_id=resolution_id
    )
    return _back(ticket_id, "#resolutions")


def _resolution(ticket_id: int, resolution_id: int) -> Resolution:
    found = [
        r
        for r in _all(
            resolutions.list_resolutions, actor=signed_in().principal, ticket_id=ticket_id
        )
        if r.id == resolution_id
    ]
    if not found:
        raise NotFound(_("No such resolution on this ticket."))
    return found[0]


@blp.page("/<int:ticket_id>/resolutions/<int:resolution_id>/impose", methods=("GET", "POST"))
def impose(ticket_id, resolution_id):
    """Impose a live proposal: a confirmation page first (what each party gets), then POST."""
    actor = signed_in().principal
    if request.method == "POST":
        if request.form.get("confirm") != "yes":
            raise Unprocessable(
                _("confirm that the proposal applies now"),
                errors={"json": {"confirm": ["required"]}},
            )
        resolutions.impose(actor=actor, ticket_id=ticket_id, resolution_id=resolution_id)
        return _back(ticket_id, "#resolutions")
    resolution = _resolution(ticket_id, resolution_id)
    ticket = queue.get_ticket(actor=actor, ticket_id=ticket_id)
    stored = _stored_shares(resolution)
    return render("tickets/impose.html", ticket=ticket, resolution=resolution, shares=stored)


def _stored_shares(resolution: Resolution) -> dict:
    """Each party's money under a proposal's amounts as proposed (imposing checks them again)."""
    job = db.session.get(Job, resolution.job_id)
    return shares(
        resolution.kind,
        job,
        job_money.payment_of(job.id),
        refund=resolution.refund_amount,
        goodwill=resolution.goodwill_amount,
    )


# --- chargeback evidence ----------------------------------------------------------------------


@blp.page("/<int:ticket_id>/chargeback-evidence", methods=("GET", "POST"))
def chargeback_evidence(ticket_id):
    """The evidence draft built from the job, to edit and send (or submit) to the provider."""
    actor = signed_in().principal
    if request.method == "POST":
        data = {
            "evidence": {
                name: request.form.get(name, "")
                for name in chargebacks.EVIDENCE_FIELDS
                if request.form.get(name, "").strip()
            },
            "submit": request.form.get("submit") == "yes",
        }
        try:
            loaded = ChargebackEvidenceSendSchema().load(data)
        except ma.ValidationError as error:
            raise Unprocessable(
                _("The evidence is not complete."), errors={"json": error.messages}
            ) from None
        chargebacks.send_evidence(actor=actor, ticket_id=ticket_id, **loaded)
        return _back(ticket_id, "#money")
    draft = chargebacks.evidence_draft(actor=actor, ticket_id=ticket_id)
    return render(
        "tickets/evidence.html",
        ticket=queue.get_ticket(actor=actor, ticket_id=ticket_id),
        draft=draft,
        fields=chargebacks.EVIDENCE_FIELDS,
    )
