"""HTTP for a provider company's levels view (levels and badges stay per person)."""

from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from mentoring import companies
from mentoring.schemas import companies as schemas

blp = CrowdBlueprint(
    "mentoring_companies",
    __name__,
    url_prefix="/api/v1",
    description="Programmes: a provider company's levels view",
)


@blp.route("/organisations/<int:organisation_id>/levels", methods=["GET"])
@blp.auth(*STAFF)
@blp.response(200, schemas.CompanyLevelsSchema)
@blp.errors(404)
def get_company_levels(organisation_id):
    """Each member of the company now with their own level, rating, jobs completed and
    top-performer badges, and the company's aggregates (count per level, the rating weighted
    by jobs, jobs in all)."""
    return companies.company_levels(actor=current_principal(), organisation_id=organisation_id)


@blp.route("/me/organisation/levels", methods=["GET"])
@blp.auth("member")
@blp.response(200, schemas.CompanyLevelsSchema)
@blp.errors(404)
def get_own_company_levels():
    """Your company's levels view: owners and dispatchers (a technician gets 403)."""
    return companies.own_company_levels(actor=current_principal())
