"""HTTP for customers."""

from crowd.core.openapi import CrowdBlueprint

blp = CrowdBlueprint("customers", __name__, url_prefix="/api/v1", description="customers")
