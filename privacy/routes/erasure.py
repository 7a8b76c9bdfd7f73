"""HTTP for erasure requests."""

from crowd.core.openapi import CrowdBlueprint

blp = CrowdBlueprint(
    "privacy_erasure", __name__, url_prefix="/api/v1", description="Privacy: erasure"
)
