"""HTTP for onboarding: training."""

from crowd.core.openapi import CrowdBlueprint

blp = CrowdBlueprint(
    "onboarding_training", __name__, url_prefix="/api/v1", description="Onboarding: training"
)
