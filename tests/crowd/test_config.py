"""Settings come from the environment; malformed ones are refused with the name of the setting."""

import pytest

from crowd.config import ConfigError, Settings


def _settings(**env):
    return Settings.from_env(env, "/tmp/crowd-instance")


def test_defaults_are_the_embedded_setup():
    settings = _settings()
    assert settings.database_url == "sqlite:////tmp/crowd-instance/crowd.db"
    assert settings.inline_background and settings.offline_payments


KEY = "k" * 32


def test_postgres_urls_are_normalised_to_psycopg():
    normalised = "postgresql+psycopg://u@h/db"
    assert _settings(DATABASE_URL="postgres://u@h/db", SECRET_KEY=KEY).database_url == normalised
    assert _settings(DATABASE_URL="postgresql://u@h/db", SECRET_KEY=KEY).database_url == normalised


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
        ({"RATE_LIMIT_SIGN_UP": "1 per fortnight"}, "RATE_LIMIT_SIGN_UP"),
        ({"RATE_LIMIT_TOKENS": "ten"}, "RATE_LIMIT_TOKENS"),
        ({"RATE_LIMIT_JOB_POSTING": "60 per"}, "RATE_LIMIT_JOB_POSTING"),
        ({"RATE_LIMIT_OFFER_ACCEPT": "-1 per minute"}, "RATE_LIMIT_OFFER_ACCEPT"),
        ({"RATE_LIMIT_PAYMENTS": "fast"}, "RATE_LIMIT_PAYMENTS"),
        ({"RATE_LIMIT_KEY_PREFIX": "has space"}, "RATE_LIMIT_KEY_PREFIX"),
        ({"RATE_LIMIT_KEY_PREFIX": "x" * 65}, "RATE_LIMIT_KEY_PREFIX"),
        ({"MAX_REQUEST_BYTES": "big"}, "MAX_REQUEST_BYTES"),
        ({"MAX_REQUEST_BYTES": "100"}, "MAX_REQUEST_BYTES"),
        ({"TRUSTED_PROXIES": "-1"}, "TRUSTED_PROXIES"),
        ({"CORS_ORIGINS": "*"}, "CORS_ORIGINS"),
        ({"CORS_ORIGINS": "http://app.example"}, "CORS_ORIGINS"),
        ({"CORS_ORIGINS": "https://app.example/path"}, "CORS_ORIGINS"),
        ({"CORS_ORIGINS": "https://*.example"}, "CORS_ORIGINS"),
        ({"CORS_ORIGINS": "https://ok.example, ftp://x"}, "CORS_ORIGINS"),
        ({"SECRET_KEY": "x" * 31}, "SECRET_KEY"),
        ({"DATABASE_URL": "postgresql://u@h/db"}, "SECRET_KEY"),
        ({"STRIPE_API_KEY": "sk_test_abc123"}, "SECRET_KEY"),
        ({"STRIPE_WEBHOOK_SECRET": "whsec_abc123"}, "SECRET_KEY"),
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


def test_the_development_secret_key_only_serves_the_embedded_default():
    assert _settings().secret_key  # SQLite without payment keys: the built-in key
    assert _settings(DATABASE_URL="postgresql://u@h/db", SECRET_KEY=KEY).secret_key == KEY


def test_rate_limits_have_defaults_and_can_be_set():
    defaults = _settings()
    assert defaults.rate_limit_tokens == "10 per hour"
    assert defaults.rate_limit_job_posting == "60 per hour"
    assert defaults.rate_limit_offer_accept == "30 per minute"
    assert defaults.rate_limit_payments == "30 per hour"
    custom = _settings(RATE_LIMIT_PAYMENTS="5 per minute;100 per day")
    assert custom.rate_limit_payments == "5 per minute;100 per day"


def test_redis_counters_are_namespaced_and_fail_fast():
    settings = _settings(REDIS_URL="redis://cache:6379/0", RATE_LIMIT_KEY_PREFIX="run-1")
    config = settings.flask_config()
    assert config["RATELIMIT_STORAGE_URI"] == "redis://cache:6379/0"
    assert config["RATELIMIT_STORAGE_OPTIONS"]["key_prefix"] == "run-1"
    assert config["RATELIMIT_STORAGE_OPTIONS"]["socket_timeout"] <= 1
    assert config["RATELIMIT_SWALLOW_ERRORS"] is True
    assert _settings().flask_config()["RATELIMIT_STORAGE_URI"] == "memory://"


def test_cors_origins_are_exact_and_normalised():
    settings = _settings(
        CORS_ORIGINS="https://App.example, https://app.example/, http://localhost:5173,"
    )
    assert settings.cors_origins == ("https://app.example", "http://localhost:5173")
    assert _settings().cors_origins == ()


def test_request_size_limit_becomes_max_content_length():
    assert _settings().flask_config()["MAX_CONTENT_LENGTH"] == 1024 * 1024
    assert _settings(MAX_REQUEST_BYTES="2048").flask_config()["MAX_CONTENT_LENGTH"] == 2048
