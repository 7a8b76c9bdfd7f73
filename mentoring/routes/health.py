"""HTTP for the programmes: health figures for community managers."""

from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from mentoring import health
from mentoring.schemas import health as schemas

blp = CrowdBlueprint(
    "mentoring_health", __name__, url_prefix="/api/v1", description="Programmes: health"
)


@blp.route("/programmes/health", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(schemas.HealthQueryArgsSchema, location="query")
@blp.response(200, schemas.ProgrammeHealthSchema)
def get_health(args):
    """Programme health over [from, to] (whole UTC days, default the last 90), optionally for
    one country: active mentorships, graduation rate of mentorships closed in the period,
    median days from admission to rank 2 for mentored vs. unmentored members admitted in it,
    top performers per region and category now, and attendance of events in the period."""
    return health.programme_health(
        actor=current_principal(),
        start=args.get("from_"),
        end=args.get("to"),
        country=args.get("country"),
    )
