"""Settings as configuration: read from the environment, validated at start, listed in the
README from the code, printed masked, and the operations' subset changed by admins at once."""

from __future__ import annotations

import pathlib
import re

import pytest
from sqlalchemy import select

from crowd import create_app
from crowd.config import Settings
from crowd.core import settings as settings_service
from crowd.core.audit import AuditEntry
from crowd.core.settings import Declared, SettingOverride, mask
from crowd.extensions import db
from jobs.config import JobRules, job_rules
from jobs.models import Offer
from payouts.config import PayoutRules
from payouts.payout_run import payout_minimums
from support.config import support_rules
from tests.jobs.conftest import active_member, drain_background, post_job_via_api
from tests.payouts.test_payout_run import payee, payouts_of, run_now

SETTINGS = "/api/v1/settings"
README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def _app_with(app, **env):
    """Another app on the test database, these settings given as environment strings."""
    return create_app({"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], **env})


# --- from the environment, validated at start ---------------------------------------------


def test_domain_settings_are_read_from_the_environment(app, monkeypatch):
    monkeypatch.setenv("PAYOUT_MINIMUM_AMOUNT", "2500")
    monkeypatch.setenv("PAYOUT_INTERVAL_HOURS", "24")
    monkeypatch.setenv("JOBS_WAVE_SIZE", "7")
    monkeypatch.setenv("SUPPORT_RESOLUTION_HOURS_LOW", "200")
    monkeypatch.setenv("RECRUITMENT_FREEMAIL_DOMAINS", "Example.org, mail.example")
    other = create_app({"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]})
    with other.app_context():
        assert payout_minimums() == {"EUR": 2500, "CHF": 2500}
        assert settings_service.current(PayoutRules).interval_hours == 24
        assert job_rules().wave_size == 7
        assert support_rules().resolution_hours_low == 200
        assert other.config["RECRUITMENT_FREEMAIL_DOMAINS"] == ("example.org", "mail.example")
        sources = settings_service.registry().sources
        assert sources["PAYOUT_MINIMUM_AMOUNT"] == "environment"
        assert sources["JOBS_MAX_WAVES"] == "default"


def test_a_per_currency_minimum_is_json(app):
    other = _app_with(app, PAYOUT_MINIMUM_AMOUNT='{"EUR": 3000, "CHF": 500}')
    with other.app_context():
        assert payout_minimums() == {"EUR": 3000, "CHF": 500}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"PAYOUT_MINIMUM_AMOUNT": "0"}, "PAYOUT_MINIMUM_AMOUNT must be a whole number of minor"),
        ({"PAYOUT_MINIMUM_AMOUNT": '{"USD": 5}'}, "PAYOUT_MINIMUM_AMOUNT must be"),
        ({"PAYOUT_INTERVAL_HOURS": "weekly"}, "PAYOUT_INTERVAL_HOURS must be a whole number"),
        ({"JOBS_WAVE_SIZE": "0"}, "JOBS_WAVE_SIZE must be a whole number from 1 to 100"),
        ({"JOBS_LATE_CANCEL_FEE_PERCENT": "120"}, "JOBS_LATE_CANCEL_FEE_PERCENT must be"),
        ({"SUPPORT_AUTO_CLOSE_DAYS": "x"}, "SUPPORT_AUTO_CLOSE_DAYS must be a whole number"),
        ({"MENTORING_TOP_PERCENT": "0"}, "MENTORING_TOP_PERCENT must be"),
        ({"RECRUITMENT_REFERRAL_MILESTONE": "hired"}, "RECRUITMENT_REFERRAL_MILESTONE must be"),
        ({"COMMUNITY_EDIT_WINDOW_MINUTES": "-1"}, "COMMUNITY_EDIT_WINDOW_MINUTES must be"),
    ],
)
def test_a_wrong_value_stops_start_up_naming_the_variable(app, capsys, env, expected):
    with pytest.raises(SystemExit) as stop:
        _app_with(app, **env)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"crowd: invalid setting: {expected}")
    assert err.count("\n") == 1


def test_every_setting_is_listed_in_the_readme(app):
    """The README's table is `flask crowd settings --markdown`: regenerate it when this fails."""
    with app.app_context():
        table = settings_service.markdown_table(settings_service.registry().groups)
    section = README.read_text().split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    start = section.index("| setting |")
    in_readme = re.match(r"(\|.*\|\n)+", section[start:]).group(0)
    assert in_readme == table


# --- flask crowd settings -----------------------------------------------------------------


def test_the_cli_prints_every_setting_with_its_source_and_secrets_masked(app):
    result = app.test_cli_runner().invoke(args=["crowd", "settings"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()}
    with app.app_context():
        names = [d.variable for d in settings_service.registry().declared()]
    assert set(names) <= set(lines)
    assert "JOBS_WAVE_SIZE" in names and "PAYOUT_MINIMUM_AMOUNT" in names
    assert app.config["SECRET_KEY"] not in result.output
    assert "********" in lines["SECRET_KEY"]
    assert lines["RATE_LIMIT_SIGN_IN"].endswith("[environment]")
    assert lines["JOBS_MAX_WAVES"].split()[1:] == ["3", "[default]"]


def test_passwords_in_urls_are_masked():
    database = Declared(Settings, "database_url", "DATABASE_URL")
    redis = Declared(Settings, "redis_url", "REDIS_URL")
    stripe = Declared(Settings, "stripe_api_key", "STRIPE_API_KEY")
    shown = mask(database, "postgresql+psycopg://crowd:s3cret@db/crowd")
    assert "s3cret" not in shown and shown.startswith("postgresql+psycopg://crowd:")
    assert "s3cret" not in mask(redis, "redis://:s3cret@cache:6379/0")
    assert mask(stripe, "sk_live_abc") == "********"


def test_the_cli_shows_an_admin_override(app, admin, client):
    _patch(client, admin, {"JOBS_WAVE_SIZE": 4})
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["crowd", "settings"])
    line = next(x for x in result.output.splitlines() if x.startswith("JOBS_WAVE_SIZE "))
    assert line.split()[1:] == ["4", "[admin]"]


# --- the admins' API --------------------------------------------------------------------------


def _patch(client, actor, body):
    return client.patch(SETTINGS, json=body, headers=actor.headers)


def _by_key(response) -> dict:
    assert response.status_code == 200, response.get_json()
    return {item["key"]: item for item in response.get_json()}


def test_staff_read_the_adjustable_settings(client, cm):
    items = _by_key(client.get(SETTINGS, headers=cm.headers))
    assert set(items) == {
        "PAYOUT_MINIMUM_AMOUNT",
        "PAYOUT_INTERVAL_HOURS",
        "JOBS_WAVE_SIZE",
        "JOBS_OFFER_TTL_SAME_DAY_MINUTES",
        "JOBS_OFFER_TTL_LATER_MINUTES",
        "JOBS_LATE_CANCEL_WINDOW_HOURS",
        "JOBS_LATE_CANCEL_FEE_PERCENT",
        "ONBOARDING_BILLING_REQUIRED",
        "ONBOARDING_IDENTITY_IMAGES_REQUIRED",
        "INVOICING_MODEL",
        "INVOICING_E_INVOICE_COUNTRIES",
        "PRIVACY_EXPORT_DAYS",
        *(
            f"SUPPORT_{clock}_{p}"
            for clock in ("FIRST_RESPONSE_MINUTES", "RESOLUTION_HOURS")
            for p in ("URGENT", "HIGH", "NORMAL", "LOW")
        ),
    }
    wave = items["JOBS_WAVE_SIZE"]
    assert (wave["value"], wave["configured"], wave["source"]) == (5, 5, "default")
    assert wave["form"] == "a whole number from 1 to 100"
    assert wave["changed_at"] is None


@pytest.mark.parametrize("role", ["cm", "member", "customer"])
def test_only_admins_change_settings(client, request, role):
    actor = request.getfixturevalue(role)
    response = _patch(client, actor, {"JOBS_WAVE_SIZE": 2})
    assert response.status_code == 403
    assert db.session.scalars(select(SettingOverride)).all() == []


def test_members_and_customers_cannot_read_them(client, member, customer):
    assert client.get(SETTINGS, headers=member.headers).status_code == 403
    assert client.get(SETTINGS, headers=customer.headers).status_code == 403
    assert client.get(SETTINGS).status_code == 401


def test_an_admin_change_is_in_force_at_once_and_audited(client, admin):
    response = _patch(client, admin, {"JOBS_WAVE_SIZE": 2, "SUPPORT_RESOLUTION_HOURS_LOW": 100})
    items = _by_key(response)
    assert (items["JOBS_WAVE_SIZE"]["value"], items["JOBS_WAVE_SIZE"]["source"]) == (2, "admin")
    assert items["JOBS_WAVE_SIZE"]["configured"] == 5
    assert items["JOBS_WAVE_SIZE"]["changed_by"] == admin.user_id
    assert job_rules().wave_size == 2
    assert support_rules().resolution_hours_low == 100
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.endpoint == "settings.change_settings")
    ).one()
    assert entry.status_code == 200 and entry.actor_user_id == admin.user_id
    assert entry.changes == {
        "JOBS_WAVE_SIZE": {"old": 5, "new": 2},
        "SUPPORT_RESOLUTION_HOURS_LOW": {"old": 168, "new": 100},
    }
    log = client.get("/api/v1/audit-log", headers=admin.headers).get_json()["items"][0]
    assert log["changes"]["JOBS_WAVE_SIZE"] == {"old": 5, "new": 2}


def test_null_puts_the_configured_value_back(client, admin):
    _by_key(_patch(client, admin, {"JOBS_WAVE_SIZE": 2}))
    items = _by_key(_patch(client, admin, {"JOBS_WAVE_SIZE": None}))
    assert (items["JOBS_WAVE_SIZE"]["value"], items["JOBS_WAVE_SIZE"]["source"]) == (5, "default")
    assert db.session.get(SettingOverride, "JOBS_WAVE_SIZE") is None
    assert job_rules().wave_size == 5


@pytest.mark.parametrize(
    "body",
    [
        {"JOBS_WAVE_SIZE": 0},
        {"JOBS_WAVE_SIZE": 101},
        {"JOBS_WAVE_SIZE": "3"},
        {"JOBS_WAVE_SIZE": 2.5},
        {"JOBS_WAVE_SIZE": True},
        {"JOBS_MAX_WAVES": 2},  # a setting, but not one admins change
        {"NO_SUCH_SETTING": 1},
        {"PAYOUT_MINIMUM_AMOUNT": {"USD": 100}},
        {"PAYOUT_MINIMUM_AMOUNT": {"EUR": 0}},
        {"JOBS_LATE_CANCEL_FEE_PERCENT": 101},
    ],
)
def test_a_wrong_value_is_refused_naming_the_setting(client, admin, body):
    response = _patch(client, admin, body)
    assert response.status_code == 422, response.get_json()
    [name] = body
    assert name in response.get_json()["errors"]["json"]
    assert db.session.scalars(select(SettingOverride)).all() == []
    assert job_rules() == JobRules.validated(settings_service.configured(JobRules))


def test_the_payout_minimum_set_by_an_admin_decides_the_next_run(app, client, admin):
    small = payee(client, 2500)
    _by_key(_patch(client, admin, {"PAYOUT_MINIMUM_AMOUNT": {"EUR": 3000}}))
    db.session.commit()
    run_now(app)
    assert payouts_of(small.profile_id) == []
    _by_key(_patch(client, admin, {"PAYOUT_MINIMUM_AMOUNT": 2500}))
    db.session.commit()
    run_now(app)
    assert [p.amount for p in payouts_of(small.profile_id)] == [2500]


def test_the_wave_size_set_by_an_admin_decides_the_next_dispatch(app, client, admin, customer):
    for _ in range(4):
        active_member()
    _by_key(_patch(client, admin, {"JOBS_WAVE_SIZE": 2}))
    response = post_job_via_api(client, customer)
    assert response.status_code == 201, response.get_json()
    drain_background(app)
    offers = db.session.scalars(select(Offer).where(Offer.job_id == response.get_json()["id"]))
    assert len(list(offers)) == 2
