"""HTTP for data exports (subject access, portability)."""

from crowd.core.openapi import CrowdBlueprint

blp = CrowdBlueprint(
    "privacy_exports", __name__, url_prefix="/api/v1", description="Privacy: data exports"
)
