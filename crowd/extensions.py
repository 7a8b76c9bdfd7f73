"""Unbound extensions; create_app() binds them to an app."""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from crowd.core.db import Base
from crowd.core.openapi import CrowdApi

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = CrowdApi()
