"""HTTP for retention rules."""

from crowd.core.openapi import CrowdBlueprint

blp = CrowdBlueprint(
    "privacy_retention", __name__, url_prefix="/api/v1", description="Privacy: retention rules"
)
