"""HTTP for money: members' statements and the revenue report, as JSON or CSV."""

from flask import Response, request

from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from payouts import organisation_statements, statements
from payouts.schemas.statements import (
    OrganisationStatementQueryArgsSchema,
    OrganisationStatementSchema,
    RevenueQueryArgsSchema,
    RevenueReportSchema,
    StatementQueryArgsSchema,
    StatementSchema,
)

blp = CrowdBlueprint(
    "payouts_statements", __name__, url_prefix="/api/v1", description="Money: statements"
)

CSV = "text/csv"
# The CSV rendering is the same 200 in another content type; documented next to the JSON one.
AS_CSV = {
    "schema": {"type": "string"},
    "content_type": CSV,
    "description": "OK: JSON, or CSV with `?format=csv` or `Accept: text/csv`",
    "success": True,
}


def _wants_csv(args: dict) -> bool:
    if args.get("format"):
        return args["format"] == "csv"
    return request.accept_mimetypes.best_match(["application/json", CSV]) == CSV


def _csv(text: str, filename: str) -> Response:
    response = Response(text, mimetype=CSV)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _statement(args: dict, member_id: int | None):
    statement = statements.member_statement(
        actor=current_principal(),
        member_id=member_id,
        date_from=args["date_from"],
        date_to=args["date_to"],
        currency=args["currency"],
    )
    if not _wants_csv(args):
        return statement
    name = f"statement-{statement['member_id']}-{statement['date_from']}-{statement['date_to']}"
    return _csv(statements.statement_csv(statement, args["currency"]), f"{name}.csv")


@blp.route("/me/statements", methods=["GET"])
@blp.auth("member")
@blp.arguments(StatementQueryArgsSchema, location="query")
@blp.response(200, StatementSchema)
@blp.alt_response(200, **AS_CSV)
@blp.errors(404, 422)
def my_statement(args):
    """Your earnings in a period, per currency: gross, commission, fees, refunds, net, paid
    out, and what is pending now. `?format=csv` or `Accept: text/csv`: as CSV, a line per
    ledger transaction and then the totals."""
    return _statement(args, None)


@blp.route("/members/<int:member_id>/statements", methods=["GET"])
@blp.auth("member", *STAFF)
@blp.arguments(StatementQueryArgsSchema, location="query")
@blp.response(200, StatementSchema)
@blp.alt_response(200, **AS_CSV)
@blp.errors(404, 422)
def member_statement(args, member_id):
    """A member's earnings in a period (staff; a member only their own). CSV as for
    /me/statements."""
    return _statement(args, member_id)


@blp.route("/me/organisation/statements", methods=["GET"])
@blp.auth("member")
@blp.arguments(OrganisationStatementQueryArgsSchema, location="query")
@blp.response(200, OrganisationStatementSchema)
@blp.errors(403, 404, 422)
def my_organisation_statement(args):
    """Your company's earnings in a period (owners and dispatchers): each technician's jobs
    (price, commission, earning, refunds), the totals per currency, the payouts made."""
    return organisation_statements.organisation_statement(actor=current_principal(), **args)


@blp.route("/organisations/<int:organisation_id>/statements", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(OrganisationStatementQueryArgsSchema, location="query")
@blp.response(200, OrganisationStatementSchema)
@blp.errors(404, 422)
def organisation_statement(args, organisation_id):
    """A provider company's earnings in a period (staff), as its owners see them."""
    return organisation_statements.organisation_statement(
        actor=current_principal(), organisation_id=organisation_id, **args
    )


@blp.route("/reports/revenue", methods=["GET"])
@blp.auth("admin")
@blp.arguments(RevenueQueryArgsSchema, location="query")
@blp.response(200, RevenueReportSchema)
@blp.alt_response(200, **AS_CSV)
@blp.errors(422)
def revenue_report(args):
    """The platform's revenue per currency and month: commission, fees, refunds, costs, net.
    `?format=csv` or `Accept: text/csv`: as CSV."""
    report = statements.revenue_report(
        actor=current_principal(), date_from=args["date_from"], date_to=args["date_to"]
    )
    if not _wants_csv(args):
        return report
    return _csv(
        statements.revenue_csv(report), f"revenue-{report['date_from']}-{report['date_to']}.csv"
    )
