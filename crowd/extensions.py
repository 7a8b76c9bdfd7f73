"""Unbound extensions; create_app() binds them to an app."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from crowd.core.db import Base
from crowd.core.openapi import CrowdApi

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = CrowdApi()
# Storage is Redis with REDIS_URL, process memory on the embedded default (see config).
limiter = Limiter(key_func=get_remote_address)
