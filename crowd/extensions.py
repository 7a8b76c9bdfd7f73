"""Unbound extensions, in one place; create_app() binds them to an app. The database (`db`)
and the rate limiter are made where the core uses them (crowd.core.db, crowd.core.security)."""

from flask_migrate import Migrate

from crowd.core.db import db  # noqa: F401  (re-exported)
from crowd.core.openapi import CrowdApi
from crowd.core.security import limiter  # noqa: F401  (re-exported)

migrate = Migrate()
api = CrowdApi()
