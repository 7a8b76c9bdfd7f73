"""HTTP for crowd health: the figures community managers watch the crowd by."""

from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from crowd_health import schemas, service, service_figures

blp = CrowdBlueprint("crowd_health", __name__, url_prefix="/api/v1", description="Crowd health")


@blp.route("/crowd-health", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(schemas.HealthQueryArgsSchema, location="query")
@blp.response(200, schemas.CrowdHealthSchema)
@blp.errors(422)
def get_crowd_health(args):
    """Crowd health over [from, to] (whole UTC days, default the last 90), for members and jobs
    in a region (country, postcode prefix, city) and of a skill or category: active and
    working members per region and skill, active members per region and skill at the end of
    each week (each month for periods over 183 days), activation and 90-day retention of members
    approved in the period, levels and level changes, and the dispute rate and resolution
    times. Every definition: README, section "Crowd health"."""
    return service.crowd_health(
        actor=current_principal(),
        start=args.get("from_"),
        end=args.get("to"),
        country=args.get("country"),
        postcode_prefix=args.get("postcode_prefix"),
        city=args.get("city"),
        skill_id=args.get("skill_id"),
        category_id=args.get("category_id"),
    )


@blp.route("/crowd-health/service", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(schemas.HealthQueryArgsSchema, location="query")
@blp.response(200, schemas.ServiceFiguresSchema)
@blp.errors(422)
def get_service_figures(args):
    """How the crowd serves customers over [from, to] (whole UTC days, default the last 90),
    for jobs in a region and of a skill or category: minutes from posting to the first offer
    (p50, p90), jobs filled within 1 h and 24 h, the share escalated to staff, customers'
    average rating per region and skill, SLA compliance of tickets (first response,
    resolution) and ticket satisfaction. Definitions: crowd_health.service_figures."""
    return service_figures.service_figures(
        actor=current_principal(),
        start=args.get("from_"),
        end=args.get("to"),
        country=args.get("country"),
        postcode_prefix=args.get("postcode_prefix"),
        city=args.get("city"),
        skill_id=args.get("skill_id"),
        category_id=args.get("category_id"),
    )
