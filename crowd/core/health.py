"""Liveness and readiness probes, and the offline assets of the interactive API docs."""

import marshmallow as ma
from flask import Blueprint, current_app, send_from_directory
from sqlalchemy import text

from crowd.core.background import redis_connection
from crowd.core.db import db
from crowd.core.errors import ServiceUnavailable
from crowd.core.i18n import _
from crowd.core.openapi import CrowdBlueprint

blp = CrowdBlueprint("health", __name__, description="Health probes")


class HealthSchema(ma.Schema):
    status = ma.fields.String()
    checks = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())


@blp.route("/healthz", methods=["GET"])
@blp.response(200, HealthSchema)
def healthz():
    """Liveness: the process answers."""
    return {"status": "ok", "checks": {}}


@blp.route("/readyz", methods=["GET"])
@blp.response(200, HealthSchema)
@blp.errors(503)
def readyz():
    """Readiness: the database answers, and Redis when background work goes through it."""

    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:
        db.session.rollback()
        checks["database"] = "unreachable"
    settings = current_app.config["CROWD_SETTINGS"]
    if settings.inline_background:
        checks["redis"] = "not configured (background work runs inline)"
    else:
        try:
            redis_connection().ping()
            checks["redis"] = "ok"
        except Exception:
            checks["redis"] = "unreachable"
    failing = [name for name, state in checks.items() if state == "unreachable"]
    if failing:
        raise ServiceUnavailable(
            _("Not ready: {value} unreachable.", value=", ".join(failing)), checks=checks
        )
    return {"status": "ok", "checks": checks}


# A plain Flask blueprint: static files are not part of the documented API.
assets_blp = Blueprint("docs_assets", __name__)


@assets_blp.route("/api/v1/docs/assets/<path:filename>", methods=["GET"])
def docs_assets(filename):
    import swagger_ui_bundle

    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)
