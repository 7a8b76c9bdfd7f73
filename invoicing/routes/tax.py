"""HTTP for the VAT rate table: staff read it, admins add dated changes."""

from crowd.core import audit
from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from invoicing import tax_rates
from invoicing.schemas.tax import TaxRateCreateSchema, TaxRateQueryArgsSchema, TaxRateSchema

blp = CrowdBlueprint(
    "invoicing_tax", __name__, url_prefix="/api/v1", description="Invoicing: VAT rates"
)

ADMIN = "admin"


@blp.route("/tax-rates", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(TaxRateQueryArgsSchema, location="query")
@blp.response(200, TaxRateSchema(many=True))
def list_tax_rates(args):
    """The VAT rate periods by country, category and first day; with `on`, only those in
    force that day."""
    return tax_rates.list_rates(actor=current_principal(), **args)


@blp.route("/tax-rates", methods=["POST"])
@blp.auth(ADMIN)
@blp.idempotent
@blp.arguments(TaxRateCreateSchema)
@blp.response(201, TaxRateSchema)
@blp.errors(409, 422)
def add_tax_rate(data):
    """A new VAT rate from valid_from (today or later; 422 before): the period in force that
    day ends the day before. 409 when a period starts on or after valid_from already."""
    change = tax_rates.add_rate(actor=current_principal(), **data)
    ended = change.ended
    audit.note_changes(
        {
            f"{change.rate.country} {change.rate.category} from {change.rate.valid_from}": {
                "old": ended.rate_bp if ended is not None else None,
                "new": change.rate.rate_bp,
            }
        }
    )
    return change.rate
