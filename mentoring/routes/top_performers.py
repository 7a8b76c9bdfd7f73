"""HTTP for the programmes: top performers — runs, decisions, badges and a member's standing."""

from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from crowd.core.pagination import PageArgsSchema
from mentoring.schemas import top_performers as schemas
from mentoring.top_performers import badges, queries, runs

blp = CrowdBlueprint(
    "mentoring_top_performers",
    __name__,
    url_prefix="/api/v1",
    description="Programmes: top performers",
)

RUN = "/top-performer-runs/<int:run_id>"


@blp.route("/top-performer-runs", methods=["POST"])
@blp.auth(*STAFF)
@blp.idempotent
@blp.arguments(schemas.RunCreateSchema)
@blp.response(201, schemas.RunSchema)
@blp.errors(409)
def create_run(data):
    """Run the evaluation now for the latest ended period (or a named one that has ended).

    Every (member, category) with activity in the window (`top_window_months` ending with the
    period) gets a decision with its figures; the top of each category × region cell get a
    badge and its perks, valid through the next period and the one after. A period is
    evaluated once it has ended: the current one is a 409 (state "not_over", `ends_at`). A
    period runs once: a second run is a 409 (state "exists"); a period older than one already
    run is a 409 (state "superseded").
    """
    return runs.run_period(actor=current_principal(), **data)


@blp.route("/top-performer-runs", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, schemas.RunPageSchema)
def list_runs(args):
    """Every run, newest first."""
    return queries.list_runs(actor=current_principal(), **args)


@blp.route(RUN, methods=["GET"])
@blp.auth(*STAFF)
@blp.response(200, schemas.RunDetailSchema)
@blp.errors(404)
def get_run(run_id):
    """A run with its criteria and counts per cell (evaluated, passed, awarded)."""
    return queries.show_run(actor=current_principal(), run_id=run_id)


@blp.route(f"{RUN}/decisions", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(schemas.DecisionQueryArgsSchema, location="query")
@blp.response(200, schemas.DecisionPageSchema)
@blp.errors(404)
def list_decisions(args, run_id):
    """A run's decisions with figures, failed gates and rank (filter member, category slug,
    region, awarded)."""
    return queries.list_decisions(actor=current_principal(), run_id=run_id, **args)


@blp.route("/top-performers", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(schemas.HolderQueryArgsSchema, location="query")
@blp.response(200, schemas.BadgePageSchema)
def list_holders(args):
    """Badges in force now, grace included (filter region, category slug)."""
    return queries.list_holders(actor=current_principal(), **args)


@blp.route("/top-performer-badges/<int:badge_id>/revoke", methods=["POST"])
@blp.auth(*STAFF)
@blp.arguments(schemas.RevokeSchema)
@blp.response(200, schemas.BadgeSchema)
@blp.errors(404, 409)
def revoke_badge(data, badge_id):
    """Revoke a badge in force: its boost and priority support stop at once, and its
    commission perk ends (unless another badge of the same run keeps it). The member is
    notified. Revoked or expired badges are a 409."""
    badge = badges.revoke_badge(actor=current_principal(), badge_id=badge_id, **data)
    return queries.badge_view(badge, queries._slugs(), None)


@blp.route("/me/top-performer", methods=["GET"])
@blp.auth("member")
@blp.response(200, schemas.MyTopPerformerSchema)
@blp.errors(404)
def my_top_performer():
    """Your top-performer badges in force (with validity), the perks they give you, and every
    decision about you with its figures."""
    return queries.my_top_performer(actor=current_principal())
