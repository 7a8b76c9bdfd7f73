"""People: the search over members, customers, jobs and tickets, a member's page and a
customer's page, with the forms staff act through (sanctions, contact history, billing).

Every form is loaded with the API's own schema and handed to the API's own service, so a
warning or a suspension from here is recorded exactly as POST /members/{id}/sanctions
records it. A form the schema or the service refuses shows the page again with the message
(and the request's unit of work rolls back)."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app, redirect, request, url_for

from console import profiles, search
from console.csv_export import csv_response, rows
from console.forms import fields as _form
from console.forms import problem as _problem
from console.forms import utc as _utc
from console.web import ConsoleBlueprint, render, signed_in
from crowd.core.errors import DomainError, Unprocessable
from crowd.core.i18n import _
from customers.schemas import CustomerBillingSetSchema
from customers.service import set_billing
from members.models import COUNTRIES, MEMBER_STATUSES
from members.schemas import MemberQueryArgsSchema
from members.service import EXPORT_COLUMNS as MEMBER_EXPORT_COLUMNS
from members.service import export_members, list_catalogue, list_members
from payouts.plans import list_plans, on_plan
from support.contacts import log_contact
from support.sanctions import sanction_member
from support.schemas.contacts import StaffContactCreateSchema
from support.schemas.sanctions import SanctionCreateSchema

blp = ConsoleBlueprint("console_people", __name__, url_prefix="/console/people")


@blp.context_processor
def _links() -> dict:
    def ticket_url(ticket_id: int) -> str | None:
        """The ticket's console page, once the tickets area has one."""
        if "console_tickets.show" not in current_app.view_functions:
            return None
        return url_for("console_tickets.show", ticket_id=ticket_id)

    return {"ticket_url": ticket_url}


@blp.page("/")
def index():
    """The search: members, customers, jobs and tickets by id, name, email or phone."""
    query = request.args.get("q", "")
    found = search.search(signed_in().principal, query) if query.strip() else None
    return render("people/index.html", query=query, found=found)


# --- members --------------------------------------------------------------------------------


def _member_page(member_id: int, *, status: int = 200, **extra):
    data = profiles.member_profile(signed_in().principal, member_id)
    return render("people/member.html", status=status, **data, **extra)


@blp.page("/members/<int:member_id>")
def member(member_id):
    return _member_page(member_id, done=request.args.get("done"))


@blp.page("/members/<int:member_id>/sanctions", methods=("POST",))
def sanction(member_id):
    """Warn, suspend or reinstate, with the reason (and the ticket, if one led to it)."""
    try:
        data = SanctionCreateSchema().load(_form("kind", "reason", "ticket_id"))
        sanction_member(actor=signed_in().principal, member_id=member_id, **data)
    except (ma.ValidationError, DomainError) as refused:
        status = refused.status if isinstance(refused, DomainError) else 422
        if status == 404:
            raise
        return _member_page(member_id, status=status, sanction_error=_problem(refused))
    return redirect(url_for(".member", member_id=member_id, done="sanction") + "#sanctions", 303)


@blp.page("/members/<int:member_id>/contacts", methods=("POST",))
def member_contact(member_id):
    """Log a note, call, conversation or email in the member's contact history."""
    return _log_contact("member", member_id)


# --- customers ------------------------------------------------------------------------------


def _customer_page(customer_id: int, *, status: int = 200, **extra):
    data = profiles.customer_profile(signed_in().principal, customer_id)
    return render("people/customer.html", status=status, **data, **extra)


@blp.page("/customers/<int:customer_id>")
def customer(customer_id):
    return _customer_page(customer_id, done=request.args.get("done"))


@blp.page("/customers/<int:customer_id>/contacts", methods=("POST",))
def customer_contact(customer_id):
    """Log a note, call, conversation or email in the customer's contact history."""
    return _log_contact("customer", customer_id)


@blp.page("/customers/<int:customer_id>/billing", methods=("POST",))
def billing(customer_id):
    """Agree how the customer pays: card, or invoice with payment terms (business only)."""
    try:
        data = CustomerBillingSetSchema().load(_form("billing", "payment_terms_days"))
        set_billing(actor=signed_in().principal, customer_id=customer_id, **data)
    except (ma.ValidationError, DomainError) as refused:
        status = refused.status if isinstance(refused, DomainError) else 422
        if status == 404:
            raise
        return _customer_page(customer_id, status=status, billing_error=_problem(refused))
    return redirect(url_for(".customer", customer_id=customer_id, done="billing") + "#billing", 303)


# --- the contact history of either ----------------------------------------------------------


def _log_contact(subject: str, subject_id: int):
    fields = _form("kind", "channel", "summary", "happened_at")
    if "happened_at" in fields:
        fields["happened_at"] = _utc(fields["happened_at"])
    try:
        data = StaffContactCreateSchema().load(fields)
        log_contact(actor=signed_in().principal, subject=subject, subject_id=subject_id, **data)
    except (ma.ValidationError, DomainError) as refused:
        status = refused.status if isinstance(refused, DomainError) else 422
        if status == 404:
            raise
        page = _member_page if subject == "member" else _customer_page
        return page(subject_id, status=status, contact_error=_problem(refused))
    endpoint = ".member" if subject == "member" else ".customer"
    target = url_for(endpoint, **{f"{subject}_id": subject_id, "done": "contact"})
    return redirect(target + "#contacts", 303)


# --- the members list and its download ------------------------------------------------------

MEMBER_FILTERS = ("status", "country", "postcode_prefix", "skill", "min_level", "q")
MEMBERS_PAGE = 50


def _member_filters(plans: list) -> dict:
    """The list's filters: the API's (GET /members, loaded with its schema) and the plan
    (payouts' plans.on_plan); refused → Unprocessable with the fields at fault."""
    given = {name: request.args.get(name, "").strip() for name in MEMBER_FILTERS}
    try:
        loaded = MemberQueryArgsSchema().load({k: v for k, v in given.items() if v})
    except ma.ValidationError as refused:
        raise Unprocessable(_problem(refused)) from None
    filters = {k: v for k, v in loaded.items() if k not in ("limit", "cursor")}
    plan = request.args.get("plan", "").strip()
    if plan:
        if plan not in {p.code for p in plans}:
            raise Unprocessable(_("plan: no such plan"))
        filters["where"] = (on_plan(plan),)
    return filters


def _kept_filters() -> dict:
    names = (*MEMBER_FILTERS, "plan")
    return {name: request.args[name] for name in names if request.args.get(name, "").strip()}


@blp.page("/members")
def members():
    """Members by status, place (country, postcode prefix), skill, level and plan, in id order,
    keyset pages of 50 (members.service.list_members, as GET /api/v1/members)."""
    actor = signed_in().principal
    plans = list_plans(actor=actor)
    context = {
        "args": request.args,
        "plans": plans,
        "statuses": MEMBER_STATUSES,
        "countries": COUNTRIES,
        "catalogue": list_catalogue(),
    }
    try:
        filters = _member_filters(plans)
        page = list_members(
            actor=actor,
            limit=MEMBERS_PAGE,
            cursor=request.args.get("cursor") or None,
            **filters,
        )
    except DomainError as refused:
        if refused.status != 422:
            raise
        return render("people/members.html", status=422, page=None, error=_problem(refused),
                      **context)  # fmt: skip
    kept = _kept_filters()
    next_cursor = page["page"]["next_cursor"]
    return render(
        "people/members.html",
        page=page,
        export_url=url_for(".members_csv", **kept),
        next_url=url_for(".members", **kept, cursor=next_cursor) if next_cursor else None,
        first_url=url_for(".members", **kept) if request.args.get("cursor") else None,
        **context,
    )


@blp.page("/members.csv")
def members_csv():
    """Every member the list's filters match (not only one page), as a streamed CSV."""
    actor = signed_in().principal
    filters = _member_filters(list_plans(actor=actor))
    statement = export_members(actor=actor, **filters)
    return csv_response("members", MEMBER_EXPORT_COLUMNS, rows(statement))
