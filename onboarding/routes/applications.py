"""HTTP for onboarding: applications."""

from crowd.core.openapi import CrowdBlueprint

blp = CrowdBlueprint(
    "onboarding_applications",
    __name__,
    url_prefix="/api/v1",
    description="Onboarding: applications",
)
