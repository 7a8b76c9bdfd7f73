"""Settings come from the environment; malformed ones are refused with the name of the setting."""

import pytest

from crowd.config import ConfigError, Settings


def _settings(**env):
    return Settings.from_env(env, "/tmp/crowd-instance")


def test_defaults_are_the_embedded_setup():
    settings = _settings()
    assert settings.database_url == "sqlite:////tmp/crowd-instance/crowd.db"
    assert settings.inline_background and settings.offline_payments


def test_postgres_urls_are_normalised_to_psycopg():
    assert _settings(DATABASE_URL="postgres://u@h/db").database_url == "postgresql+psycopg://u@h/db"
    assert (
        _settings(DATABASE_URL="postgresql://u@h/db").database_url == "postgresql+psycopg://u@h/db"
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL"),
        ({"DATABASE_URL": "::::"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql+psycopg2://u@h/db"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://localhost:6379"}, "REDIS_URL"),
        ({"STRIPE_API_KEY": "pk_test_abc"}, "STRIPE_API_KEY"),
        ({"STRIPE_WEBHOOK_SECRET": "secret"}, "STRIPE_WEBHOOK_SECRET"),
        ({"STRIPE_API_BASE": "ftp://x"}, "STRIPE_API_BASE"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"PAGE_SIZE_MAX": "many"}, "PAGE_SIZE_MAX"),
        ({"PAGE_SIZE_MAX": "0"}, "PAGE_SIZE_MAX"),
        ({"SESSION_TOKEN_TTL_HOURS": "-1"}, "SESSION_TOKEN_TTL_HOURS"),
        ({"PAYOUT_ONBOARDING_RETURN_URL": "http://plain.example"}, "PAYOUT_ONBOARDING_RETURN_URL"),
        ({"RATE_LIMIT_SIGN_IN": "lots"}, "RATE_LIMIT_SIGN_IN"),
    ],
)
def test_malformed_setting_is_refused_by_name(env, named):
    with pytest.raises(ConfigError) as error:
        _settings(**env)
    assert str(error.value).startswith(named)
    assert "\n" not in str(error.value)


def test_well_formed_production_settings():
    settings = _settings(
        DATABASE_URL="postgresql+psycopg://crowd@db:5432/crowd",
        REDIS_URL="redis://cache:6379/0",
        STRIPE_API_KEY="sk_live_abc123",
        STRIPE_WEBHOOK_SECRET="whsec_abc123",
        SECRET_KEY="x" * 32,
        PAGE_SIZE_MAX="50",
        PAGE_SIZE_DEFAULT="80",
    )
    assert not settings.inline_background and not settings.offline_payments
    assert settings.page_size_max == 50
    assert settings.page_size_default == 50  # never above the cap
