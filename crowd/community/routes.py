"""HTTP for crowd.community (stub: the blueprint is filled in by the issue-8 work)."""

from crowd.core.openapi import CrowdBlueprint

blp = CrowdBlueprint("community", __name__, url_prefix="/api/v1", description="community")
