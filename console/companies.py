"""People: provider companies — the list (status, name) and a company's page with its
particulars, its onboarding checks (house rules, insurance certificate, the decision), its
members with their own standing, its open invitations, and the forms staff act through
(the checks' decision, activate, suspend).

Each form goes to the API's own service (organisations.service.decide, organisations.onboarding.
decide_checks), so what a click here does is what the API's POST does; a refusal (409 with
the checks still missing, a state that does not allow it) shows the page again with the
message and its status."""

from __future__ import annotations

import marshmallow as ma
from flask import redirect, request, url_for

from console.forms import fields as _form
from console.forms import problem as _problem
from console.forms import status as _status
from console.web import ConsoleBlueprint, render, signed_in
from crowd.core.errors import DomainError
from mentoring.companies import company_levels
from organisations import invitations, onboarding, service
from organisations.models import ORGANISATION_STATUSES
from organisations.schemas import ChecksDecisionCreateSchema, OrganisationQueryArgsSchema

blp = ConsoleBlueprint("console_companies", __name__, url_prefix="/console/people/companies")

PAGE = 50
ACTIONS = ("activate", "suspend")


@blp.page("/")
def index():
    """Companies by status and name (legal or trade name contains), in id order, keyset pages
    of 50 (organisations.service.search, as GET /api/v1/organisations)."""
    given = {name: request.args.get(name, "").strip() for name in ("status", "q")}
    kept = {k: v for k, v in given.items() if v}
    context = {"args": request.args, "statuses": ORGANISATION_STATUSES}
    try:
        filters = OrganisationQueryArgsSchema().load(kept)
    except ma.ValidationError as refused:
        return render("people/companies.html", status=422, page=None, error=_problem(refused),
                      **context)  # fmt: skip
    page = service.search(
        actor=signed_in().principal,
        limit=PAGE,
        cursor=request.args.get("cursor") or None,
        **{k: v for k, v in filters.items() if k not in ("limit", "cursor")},
    )
    next_cursor = page["page"]["next_cursor"]
    return render(
        "people/companies.html",
        page=page,
        next_url=url_for(".index", **kept, cursor=next_cursor) if next_cursor else None,
        first_url=url_for(".index", **kept) if request.args.get("cursor") else None,
        **context,
    )


def _company_page(organisation_id: int, *, status: int = 200, **extra):
    actor = signed_in().principal
    company = service.staff_view(actor=actor, organisation_id=organisation_id)
    levels = company_levels(actor=actor, organisation_id=organisation_id)
    return render(
        "people/company.html",
        status=status,
        company=company,
        levels=levels,
        standing={row["member_id"]: row for row in levels["technicians"]},
        invitations=invitations.list_open_for_staff(actor=actor, organisation_id=organisation_id),
        **extra,
    )


@blp.page("/<int:organisation_id>")
def show(organisation_id):
    return _company_page(organisation_id, done=request.args.get("done"))


@blp.page("/<int:organisation_id>/insurance-certificate")
def insurance_certificate(organisation_id):
    """The certificate, through its short-lived URL (as GET /organisations/{id}/insurance-
    certificate gives it)."""
    found = onboarding.insurance_certificate(
        actor=signed_in().principal, organisation_id=organisation_id
    )
    return redirect(found.url, 303)


@blp.page("/<int:organisation_id>/checks/decision", methods=("POST",))
def decide_checks(organisation_id):
    """Record the decision on the business checks: verified or rejected, with a note."""
    try:
        data = ChecksDecisionCreateSchema().load(_form("decision", "note"))
        onboarding.decide_checks(
            actor=signed_in().principal, organisation_id=organisation_id, **data
        )
    except (ma.ValidationError, DomainError) as refused:
        if _status(refused) == 404:
            raise
        return _company_page(
            organisation_id, status=_status(refused), checks_error=_problem(refused)
        )
    return redirect(url_for(".show", organisation_id=organisation_id, done="checks"), 303)


@blp.page("/<int:organisation_id>/<any(activate, suspend):action>", methods=("POST",))
def decide(organisation_id, action):
    """Activate (the checks done) or suspend the company (POST /organisations/{id}/<action>)."""
    try:
        service.decide(actor=signed_in().principal, organisation_id=organisation_id, action=action)
    except DomainError as refused:
        if refused.status == 404:
            raise
        return _company_page(organisation_id, status=refused.status, status_error=refused.detail)
    return redirect(url_for(".show", organisation_id=organisation_id, done=action), 303)
