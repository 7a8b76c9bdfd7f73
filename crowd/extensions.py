"""Unbound extensions; create_app() binds them to an app."""

from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from crowd.core.db import Base
from crowd.core.openapi import CrowdApi
from crowd.core.security import rate_limit_key

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = CrowdApi()
# Storage is Redis with REDIS_URL, process memory on the embedded default (see config).
# Limits are per signed-in user, else per client address (crowd.core.security).
limiter = Limiter(key_func=rate_limit_key)
