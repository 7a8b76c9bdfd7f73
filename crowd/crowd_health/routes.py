"""HTTP for crowd.crowd_health (stub: the blueprint is filled in by the issue-8 work)."""

from crowd.core.openapi import CrowdBlueprint

blp = CrowdBlueprint("crowd_health", __name__, url_prefix="/api/v1", description="crowd_health")
