"""Fixtures: one schema per run (built by the migrations), one rolled-back transaction per test.

The database and Redis come from CROWD_TEST_DATABASE_URL and CROWD_TEST_REDIS_URL; unset, the
suite runs on a temporary SQLite file with background work inline (the embedded default).
"""

from __future__ import annotations

import os
import secrets
import uuid

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.orm import Session as PlainSession

from crowd import create_app
from crowd.extensions import db
from invoicing.tax_rates import seed_default_rates
from onboarding.levels.defaults import LADDER_PLANS, default_ruleset, ensure_ladder_plan
from privacy.retention import seed_default_rules
from tests.event_recorder import Recorder


class _TestSession(PlainSession):
    """A plain Session bound to the test's connection (Flask-SQLAlchemy passes `db`)."""

    def __init__(self, db=None, **options):
        super().__init__(**options)


TEST_DATABASE_URL = os.environ.get("CROWD_TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("CROWD_TEST_REDIS_URL", "")
# Apps on PostgreSQL refuse to start without SECRET_KEY; every app a test builds gets this one.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(32))


def _fresh_postgres_database(url: str) -> str:
    """Create an empty database for this run next to the one named in the URL."""
    import psycopg

    parsed = make_url(url)
    name = f"crowd_test_{os.getpid()}"
    admin = parsed.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return parsed.set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(url: str) -> None:
    import psycopg

    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if TEST_DATABASE_URL.startswith("postgres"):
        url = _fresh_postgres_database(TEST_DATABASE_URL)
        yield url
        _drop_postgres_database(url)
    else:
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "crowd_test.db")


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    """The app on the test database, schema built by `flask db upgrade`."""
    config = {
        # Uploads (local storage) in this run's own folder, not the instance folder.
        "FILES_LOCAL_DIRECTORY": str(tmp_path_factory.mktemp("files")),
        "DATABASE_URL": database_url,
        "REDIS_URL": TEST_REDIS_URL,
        "STRIPE_API_KEY": "",
        "STRIPE_WEBHOOK_SECRET": "",
        "RQ_QUEUE": f"crowd-test-{uuid.uuid4().hex[:8]}",
        "TESTING": True,
        # The suite was written in English: a request that names no language, and a user who
        # chose none, get English here; German is asked for explicitly (tests/crowd/test_i18n.py).
        "DEFAULT_LOCALE": "en",
        "CROWD_FAST_HASHING": True,
        # Every response dump runs compiled and through marshmallow; a difference is an error.
        "CROWD_CHECK_DUMPER": True,
        # Limits get their own tests; elsewhere many requests come from one address.
        "RATE_LIMIT_SIGN_IN": "10000 per minute",
        "RATE_LIMIT_SIGN_UP": "10000 per minute",
        "RATE_LIMIT_TOKENS": "10000 per minute",
        "RATE_LIMIT_JOB_POSTING": "10000 per minute",
        "RATE_LIMIT_OFFER_ACCEPT": "10000 per minute",
        "RATE_LIMIT_PAYMENTS": "10000 per minute",
        # Check-in timing gets its own tests (tests/jobs/test_check_in.py); elsewhere members
        # start jobs booked days ahead.
        "JOBS_CHECK_IN_OPENS_MINUTES": 30 * 24 * 60,
        # Offers waiting for an authorised payment get their own tests
        # (tests/payouts/test_authorised_dispatch.py); elsewhere customers post without a card
        # and the payment is authorised on assignment, as before the rule.
        "JOB_PAYMENTS_AUTHORISE_BEFORE_DISPATCH": False,
        # Insight computes its figures on every request here; the cache has its own test
        # (tests/console/test_insight_cache.py).
        "CONSOLE_INSIGHT_CACHE_SECONDS": 0,
        # Counters in Redis are this run's own: parallel runs share the test Redis database.
        "RATE_LIMIT_KEY_PREFIX": f"crowd-test-{uuid.uuid4().hex[:8]}",
    }
    app = create_app(config)
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        from members.service import sync_catalogue

        sync_catalogue()
        db.session.commit()
    return app


@pytest.fixture(autouse=True)
def db_session(request, app):
    """Every test runs in a transaction that is rolled back; commits become savepoints."""
    if "committing" in request.keywords:
        with app.app_context():
            yield db.session
        _truncate(app)
        if TEST_REDIS_URL:
            # Ids restart after the truncate: a leftover job must not run a later test's message.
            _empty_queue(app)
        return
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {
                "bind": connection,
                "class_": _TestSession,
                "join_transaction_mode": "create_savepoint",
            }
        )
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()
    if TEST_REDIS_URL:
        _empty_queue(app)


def _truncate(app) -> None:
    """After a test that really committed (races): empty every table but the catalogue, and
    put back the data the migrations seed."""
    keep = {"skill_categories", "skills", "alembic_version"}
    with app.app_context():
        tables = [t.name for t in reversed(db.metadata.sorted_tables) if t.name not in keep]
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            # Some foreign keys go both ways (an article and its current version): checked at
            # the commit, when every row is gone.
            db.session.execute(text("PRAGMA defer_foreign_keys=ON"))
            # Issued documents refuse deletion (a trigger): lifted for the emptying only.
            guard = db.session.scalar(
                text("SELECT sql FROM sqlite_master WHERE name = 'documents_no_delete'")
            )
            db.session.execute(text("DROP TRIGGER IF EXISTS documents_no_delete"))
            for table in tables:
                db.session.execute(text(f"DELETE FROM {table}"))
            if guard:
                db.session.execute(text(guard))
        # What the migrations seed comes back: the default level ladder and its plans, the
        # VAT rates, the retention rules.
        db.session.add(default_ruleset())
        for code in LADDER_PLANS:
            ensure_ladder_plan(code)
        seed_default_rates()
        seed_default_rules()
        db.session.commit()


def _empty_queue(app) -> None:
    from rq import Queue

    from crowd.core.background import redis_connection

    with app.app_context():
        Queue(app.config["CROWD_SETTINGS"].rq_queue, connection=redis_connection()).empty()


@pytest.fixture
def client(app):
    # Sign-ups through it choose English (Accept-Language), as the suite's assertions expect.
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def on_postgres(app):
    if app.config["CROWD_SETTINGS"].database_url.startswith("sqlite"):
        pytest.skip("needs PostgreSQL (set CROWD_TEST_DATABASE_URL)")
    return True


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "committing: the test commits for real (e.g. races); tables are emptied after"
    )


pytest_plugins = ["tests.factories"]


@pytest.fixture
def recorded():
    """Events emitted during the test: `recorded.listen("ticket.opened", …)` first; the
    test-only subscriber goes when the test ends."""
    recorder = Recorder()
    yield recorder
    recorder.close()
