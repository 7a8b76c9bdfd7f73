"""HTTP for retention rules: staff read them and the runs' log, admins change a period."""

from crowd.core import audit
from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from crowd.core.pagination import page_of
from privacy import retention
from privacy.schemas.retention import (
    RetentionRuleSchema,
    RetentionRuleUpdateSchema,
    RetentionRunQueryArgsSchema,
    RetentionRunSchema,
)

blp = CrowdBlueprint(
    "privacy_retention", __name__, url_prefix="/api/v1", description="Privacy: retention rules"
)

ADMIN = "admin"


@blp.route("/retention-rules", methods=["GET"])
@blp.auth(*STAFF)
@blp.response(200, RetentionRuleSchema(many=True))
def list_retention_rules():
    """Every kind of personal data with how long it is kept, from when, and why."""
    return retention.list_rules(actor=current_principal())


@blp.route("/retention-rules/<kind>", methods=["PUT"])
@blp.auth(ADMIN)
@blp.arguments(RetentionRuleUpdateSchema)
@blp.response(200, RetentionRuleSchema)
@blp.errors(404, 422)
def update_retention_rule(data, kind):
    """A rule's period, within its min_days and max_days (422 naming keep_days otherwise);
    the next run follows it. The change is in the audit log with the old and new values."""
    change = retention.update_rule(actor=current_principal(), kind=kind, **data)
    changes = {"keep_days": {"old": change.old_keep_days, "new": change.rule.keep_days}}
    if change.old_legal_basis != change.rule.legal_basis:
        changes["legal_basis"] = {"old": change.old_legal_basis, "new": change.rule.legal_basis}
    audit.note_changes(changes)
    return change.rule


@blp.route("/retention-runs", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(RetentionRunQueryArgsSchema, location="query")
@blp.response(200, page_of(RetentionRunSchema))
def list_retention_runs(args):
    """The enforcement runs, newest first: when, the instant judged by, what each deleted."""
    return retention.list_runs(actor=current_principal(), **args)
