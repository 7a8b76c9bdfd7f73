"""HTTP for members."""

from crowd.core.openapi import CrowdBlueprint

blp = CrowdBlueprint("members", __name__, url_prefix="/api/v1", description="members")
