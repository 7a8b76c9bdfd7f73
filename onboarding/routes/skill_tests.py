"""HTTP for onboarding: skill tests."""

from crowd.core.openapi import CrowdBlueprint

blp = CrowdBlueprint(
    "onboarding_skill_tests", __name__, url_prefix="/api/v1", description="Onboarding: skill tests"
)
