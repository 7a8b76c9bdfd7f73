"""`flask crowd …` commands, and start-up refusing malformed settings."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from accounts.models import User
from members.models import Member

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "admin-password-1"


def _create_admin(app, email, password=PASSWORD):
    return app.test_cli_runner().invoke(
        args=["crowd", "create-admin", "--email", email, "--password", password]
    )


def test_create_admin_makes_an_admin_who_can_sign_in(app, client, db_session):
    result = _create_admin(app, "boss@example.test")
    assert result.exit_code == 0, result.output
    assert "admin boss@example.test created" in result.output

    response = client.post(
        "/api/v1/auth/tokens", json={"email": "boss@example.test", "password": PASSWORD}
    )
    assert response.status_code == 201
    assert response.json["user"]["role"] == "admin"


def test_create_admin_with_a_taken_email_fails_with_one_line(app, db_session):
    assert _create_admin(app, "boss@example.test").exit_code == 0
    result = _create_admin(app, "Boss@Example.test")
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "exists" in lines[0], result.stderr
    count = select(func.count()).select_from(User).where(User.email == "boss@example.test")
    assert db_session.scalar(count) == 1


def test_create_admin_refuses_a_short_password(app, db_session):
    result = _create_admin(app, "short@example.test", password="short")
    assert result.exit_code != 0
    assert "at least 10 characters" in result.stderr


def test_tick_runs_the_periodic_jobs(app, db_session):
    result = app.test_cli_runner().invoke(args=["crowd", "tick"])
    assert result.exit_code == 0, result.output
    assert "relay-outbox" in result.output


def test_seed_demo_command_loads_a_small_crowd(app, db_session):
    args = ["crowd", "seed-demo", "--members", "6", "--customers", "2", "--seed", "1"]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "admin@crowd.example" in result.output
    assert db_session.scalar(select(func.count()).select_from(Member)) == 6

    again = app.test_cli_runner().invoke(args=args)
    assert again.exit_code == 0 and "demo data already present" in again.output


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://x"),
        ("REDIS_URL", "http://x"),
        ("PAGE_SIZE_MAX", "abc"),
        ("SECRET_KEY", "too-short"),
        ("STRIPE_API_KEY", "pk_live_oops"),
    ],
)
def test_malformed_setting_stops_start_up_with_one_line(tmp_path, name, value):
    env = {k: v for k, v in os.environ.items() if k not in _SETTINGS}
    env[name] = value
    result = subprocess.run(
        [sys.executable, "-c", "from crowd import create_app; create_app()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0], result.stderr


_SETTINGS = {
    "DATABASE_URL",
    "REDIS_URL",
    "STRIPE_API_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
    "SECRET_KEY",
    "SESSION_TOKEN_TTL_HOURS",
    "API_KEY_TTL_DAYS",
    "IDEMPOTENCY_TTL_HOURS",
    "PAGE_SIZE_DEFAULT",
    "PAGE_SIZE_MAX",
    "RQ_QUEUE",
}
