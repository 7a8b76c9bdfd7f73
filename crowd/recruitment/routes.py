"""HTTP for crowd.recruitment (stub: the blueprint is filled in by the issue-8 work)."""

from crowd.core.openapi import CrowdBlueprint

blp = CrowdBlueprint("recruitment", __name__, url_prefix="/api/v1", description="recruitment")
