"""HTTP for onboarding: levels."""

from crowd.core.openapi import CrowdBlueprint

blp = CrowdBlueprint(
    "onboarding_levels", __name__, url_prefix="/api/v1", description="Onboarding: levels"
)
