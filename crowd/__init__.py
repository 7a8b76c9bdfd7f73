"""Crowd: the backend of a crowd workforce marketplace for technical device services."""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Mapping

from flask import Flask
from werkzeug.routing import IntegerConverter

from crowd.config import CORE_GROUPS, ConfigError, Settings, SettingsGroup

# The domain packages, lowest layer first (pyproject.toml's import-linter contract holds them
# to it). Each may contribute `config` (its settings: SettingsGroup classes, loaded and
# validated first), `models`, `routes` (a `blp` or `blueprints`), `tasks`, `errors`,
# `wiring` (what it plugs into a lower package's extension points: matching requirements,
# profile checks, the authenticator…) and `cli` (commands of `flask crowd`). The core imports
# none of them: it loads them by name here.
DOMAINS = (
    "notifications",
    "accounts",
    "members",
    "customers",
    "organisations",
    "helpcentre",
    "jobs",
    "payouts",
    "onboarding",
    "support",
    "invoicing",
    "crowd_health",
    "mentoring",
    "recruitment",
    "community",
    "registration",
    "privacy",
    "console",
    "demo",
)
CONTRIBUTIONS = ("models", "routes", "tasks", "errors", "wiring", "cli")

# The modules whose @subscribe calls wire the domain events (crowd.core.events), loaded at
# start in this order, which is the order subscribers of one event run in: the money first,
# then the member's record, then the messages. `flask crowd events` prints the result.
EVENT_SUBSCRIBERS = (
    "payouts.events",
    "support.events",
    "invoicing.events",
    "onboarding.events",
    "mentoring.subscribers",
    "recruitment.events",
    "jobs.events",
)


class BoundedIntConverter(IntegerConverter):
    """<int:…> limited to the BIGINT range of our primary keys."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(config: Mapping | None = None) -> Flask:
    """Build the app: load config → init extensions → register blueprints → error handlers."""
    app = Flask(__name__, instance_relative_config=True)
    _load_config(app, config)
    _use_strict_json(app)
    _init_extensions(app)
    _register_domains(app)
    _register_error_handlers(app)
    _register_cli(app)
    return app


def _load_config(app: Flask, overrides: Mapping | None) -> None:
    """Read and validate every setting (the core's and each domain's `config` module's) from
    the environment; `overrides` (tests) stand in for environment variables: strings as if
    from the environment, other values as typed values, validated alike."""
    from crowd.core.settings import EXTENSION, Registry, declared_names

    env = dict(os.environ)
    env.update({k: v for k, v in (overrides or {}).items() if isinstance(v, str) and k.isupper()})
    given = {k: v for k, v in (overrides or {}).items() if not isinstance(v, str)}
    os.makedirs(app.instance_path, exist_ok=True)
    groups = _setting_groups()
    declared = set(declared_names((Settings, *groups)))
    try:
        settings = Settings.from_env(env, app.instance_path, given)
        loaded = [group.load(env, given) for group in groups]
    except ConfigError as error:
        # One line naming the setting, no traceback: start-up stops here.
        sys.stderr.write(f"crowd: invalid setting: {error}\n")
        raise SystemExit(2) from None
    app.config.update(settings.flask_config())
    for values in loaded:
        app.config.update({var: getattr(values, f) for f, var in type(values).env_names().items()})
    app.extensions[EXTENSION] = Registry(
        groups=(Settings, *groups),
        sources={
            name: "environment" if name in given or str(env.get(name) or "").strip() else "default"
            for name in declared
        },
    )
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Client addresses (rate limits, idempotency scope) come from the proxies' headers.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    if overrides:
        app.config.update(
            {k: v for k, v in overrides.items() if not isinstance(v, str) and k not in declared}
        )
    from crowd.core.security import install_request_id_logging

    install_request_id_logging()
    logging.basicConfig(
        level=logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s",
    )
    for package in ("crowd", *DOMAINS):
        logging.getLogger(package).setLevel(logging.INFO)


def _setting_groups() -> list[type[SettingsGroup]]:
    """The core's further groups, then every domain's: the SettingsGroup classes its `config`
    module defines."""
    groups = list(CORE_GROUPS)
    for name in DOMAINS:
        module = _optional_module(f"{name}.config")
        if module is not None:
            groups.extend(
                value
                for value in vars(module).values()
                if isinstance(value, type)
                and issubclass(value, SettingsGroup)
                and value.__module__ == module.__name__
            )
    return groups


def _use_strict_json(app: Flask) -> None:
    """Request bodies read by Flask itself (request.get_json) follow crowd.core.jsonio too."""
    from crowd.core.jsonio import StrictJSONProvider

    app.json = StrictJSONProvider(app)


def _init_extensions(app: Flask) -> None:
    from crowd.core import audit
    from crowd.core.db import configure_engine
    from crowd.core.i18n import init_i18n
    from crowd.core.security import install_security
    from crowd.core.unit_of_work import install_unit_of_work
    from crowd.extensions import api, db, limiter, migrate

    db.init_app(app)
    migrations = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")
    # Batch mode lets SQLite alter tables; compare_type makes `flask db check` catch type drift.
    migrate.init_app(app, db, directory=migrations, render_as_batch=True, compare_type=True)
    api.init_app(
        app,
        spec_kwargs={
            "info": {
                "description": "Crowd marketplace API. Every error is application/problem+json. "
                "Authenticate with `Authorization: Bearer <token>` from POST /api/v1/auth/tokens "
                "or an API key."
            }
        },
    )
    limiter.init_app(app)
    init_i18n(app)
    api.spec.components.security_scheme(
        "bearerAuth",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "Session token, or API key (also as X-API-Key): an API key reaches "
            "only the operations marked x-api-key-scope, and only with that scope",
        },
    )
    with app.app_context():
        configure_engine(db.engine)
    # after_request hooks run in reverse order of registration: a refused staff attempt is
    # recorded after the unit of work rolled back, a successful one staged before it commits.
    app.after_request(audit.record_refused_attempt)
    install_unit_of_work(app)
    app.after_request(audit.stage_staff_action)
    install_security(app)


def _register_domains(app: Flask) -> None:
    from crowd.core import (  # noqa: F401  (idempotency registers its model)
        audit,
        background,  # noqa: F401  (registers the outbox model and core tasks)
        events,
        health,
        idempotency,
        settings_api,
    )
    from crowd.core.errors import problem_types
    from crowd.core.files import models as _files_models  # noqa: F401  (its table)
    from crowd.core.files import routes as files_routes
    from crowd.core.files import tasks as _files_tasks  # noqa: F401  (thumbnails, deletions)
    from crowd.core.settings import registry
    from crowd.extensions import api

    # Ids in URLs are BIGINTs: a larger number can name nothing, so it does not match (404).
    app.url_map.converters["int"] = BoundedIntConverter
    api.register_blueprint(health.blp)
    api.register_blueprint(audit.blp)
    api.register_blueprint(files_routes.blp)
    app.register_blueprint(files_routes.local_blp)
    with app.app_context():
        api.register_blueprint(settings_api.blueprint(registry().adjustable()))
    app.register_blueprint(health.assets_blp)
    for name in DOMAINS:
        # Models first, explicitly: migrations autogenerate from what is imported here.
        for part in CONTRIBUTIONS:
            module = _optional_module(f"{name}.{part}")
            if part == "routes" and module is not None:
                # `web_blueprints`: server-rendered pages (the console), outside the API.
                pages = getattr(module, "web_blueprints", ())
                for blueprint in pages:
                    app.register_blueprint(blueprint)
                api_blueprints = getattr(module, "blueprints", None)
                if api_blueprints is None:
                    api_blueprints = () if pages else (module.blp,)
                for blueprint in api_blueprints:
                    api.register_blueprint(blueprint)
    # Every error class is imported now: the document lists each problem type clients may get.
    api.spec.options["x-problem-types"] = problem_types()
    events.load_subscribers(EVENT_SUBSCRIBERS)


def _optional_module(name: str):
    """The module `name`, or None when the package does not have it."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name != name:
            raise
        return None


def _register_error_handlers(app: Flask) -> None:
    from crowd.core.errors import register_error_handlers

    register_error_handlers(app)


def _register_cli(app: Flask) -> None:
    from crowd.cli import crowd_cli

    app.cli.add_command(crowd_cli)
