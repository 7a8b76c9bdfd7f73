"""Settings read from the environment, validated once at start-up."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


class ConfigError(Exception):
    """A setting is present but malformed; the message names it in one line."""


_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _database_url(env: Mapping[str, str], instance_path: str) -> str:
    raw = env.get("DATABASE_URL", "").strip()
    if not raw:
        return "sqlite:///" + os.path.join(instance_path, "crowd.db")
    # Platforms hand out postgres:// URLs; we speak psycopg 3.
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://") :]
    if raw.startswith("postgresql://"):
        raw = "postgresql+psycopg://" + raw[len("postgresql://") :]
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError("DATABASE_URL is not a database URL") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"DATABASE_URL must point to PostgreSQL or SQLite, not {url.get_backend_name()!r}"
        )
    if url.get_backend_name() == "postgresql" and url.get_driver_name() != "psycopg":
        raise ConfigError("DATABASE_URL must use the psycopg driver (postgresql+psycopg://)")
    return raw


def _redis_url(env: Mapping[str, str]) -> str | None:
    raw = env.get("REDIS_URL", "").strip()
    if not raw:
        return None
    if not raw.startswith(_REDIS_SCHEMES):
        raise ConfigError("REDIS_URL must start with redis://, rediss:// or unix://")
    return raw


def _optional_secret(env: Mapping[str, str], name: str, pattern: str, hint: str) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not re.fullmatch(pattern, raw):
        raise ConfigError(f"{name} is malformed: {hint}")
    return raw


def _https_url(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not raw.startswith("https://") or len(raw) > 500:
        raise ConfigError(f"{name} must be an https:// URL")
    return raw


def _rate(env: Mapping[str, str], name: str, default: str) -> str:
    from limits import parse_many

    raw = env.get(name, "").strip() or default
    try:
        parse_many(raw)
    except ValueError:
        raise ConfigError(f"{name} must look like '10 per minute', got {raw!r}") from None
    return raw


@dataclass(frozen=True)
class Settings:
    """Everything the app reads from outside; see the settings table in README.md."""

    database_url: str
    redis_url: str | None
    stripe_api_key: str | None
    stripe_webhook_secret: str | None
    stripe_api_base: str | None
    secret_key: str
    session_token_ttl_hours: int = 24 * 14
    api_key_ttl_days: int = 365
    idempotency_ttl_hours: int = 24
    page_size_default: int = 20
    page_size_max: int = 100
    rq_queue: str = "crowd"
    rate_limit_sign_in: str = "10 per minute"
    rate_limit_sign_up: str = "30 per hour"
    # How many reverse proxies in front set X-Forwarded-For (0: trust none of it).
    trusted_proxies: int = 0
    # Where Stripe's hosted onboarding sends members back (https; the mobile app's pages).
    payout_onboarding_refresh_url: str | None = None
    payout_onboarding_return_url: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def inline_background(self) -> bool:
        return self.redis_url is None

    @property
    def offline_payments(self) -> bool:
        return self.stripe_api_key is None

    @classmethod
    def from_env(cls, env: Mapping[str, str], instance_path: str) -> Settings:
        secret_key = env.get("SECRET_KEY", "").strip()
        if secret_key and len(secret_key) < 16:
            raise ConfigError("SECRET_KEY must be at least 16 characters")
        api_base = env.get("STRIPE_API_BASE", "").strip() or None
        if api_base and not api_base.startswith(("http://", "https://")):
            raise ConfigError("STRIPE_API_BASE must be an http(s) URL")
        page_size_max = _int(env, "PAGE_SIZE_MAX", 100, minimum=1)
        return cls(
            database_url=_database_url(env, instance_path),
            redis_url=_redis_url(env),
            stripe_api_key=_optional_secret(
                env, "STRIPE_API_KEY", r"(sk|rk)_(test|live)_[A-Za-z0-9]+", "expected sk_… or rk_…"
            ),
            stripe_webhook_secret=_optional_secret(
                env, "STRIPE_WEBHOOK_SECRET", r"whsec_[A-Za-z0-9]+", "expected whsec_…"
            ),
            stripe_api_base=api_base,
            # Only Flask's own signing uses it; auth tokens are random and stored hashed.
            secret_key=secret_key or "crowd-dev-only-secret-key",
            session_token_ttl_hours=_int(env, "SESSION_TOKEN_TTL_HOURS", 24 * 14, minimum=1),
            api_key_ttl_days=_int(env, "API_KEY_TTL_DAYS", 365, minimum=1),
            idempotency_ttl_hours=_int(env, "IDEMPOTENCY_TTL_HOURS", 24, minimum=1),
            page_size_default=min(_int(env, "PAGE_SIZE_DEFAULT", 20, minimum=1), page_size_max),
            page_size_max=page_size_max,
            rq_queue=env.get("RQ_QUEUE", "crowd").strip() or "crowd",
            rate_limit_sign_in=_rate(env, "RATE_LIMIT_SIGN_IN", "10 per minute"),
            rate_limit_sign_up=_rate(env, "RATE_LIMIT_SIGN_UP", "30 per hour"),
            trusted_proxies=_int(env, "TRUSTED_PROXIES", 0),
            payout_onboarding_refresh_url=_https_url(env, "PAYOUT_ONBOARDING_REFRESH_URL"),
            payout_onboarding_return_url=_https_url(env, "PAYOUT_ONBOARDING_RETURN_URL"),
        )

    def flask_config(self) -> dict:
        """The Flask config keys these settings turn into."""
        engine_options: dict = {"pool_pre_ping": True}
        if self.database_url.startswith("sqlite"):
            engine_options = {"connect_args": {"timeout": 30}}
        return {
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
            "CROWD_SETTINGS": self,
            "MAX_CONTENT_LENGTH": 1024 * 1024,
            "RATELIMIT_STORAGE_URI": self.redis_url or "memory://",
            "RATELIMIT_HEADERS_ENABLED": True,
            # Counting must not take the API down with Redis: fail open, log, keep serving.
            "RATELIMIT_SWALLOW_ERRORS": True,
            "API_TITLE": "Crowd API",
            "API_VERSION": "v1",
            "OPENAPI_VERSION": "3.0.3",
            "OPENAPI_URL_PREFIX": "/api/v1",
            "OPENAPI_JSON_PATH": "openapi.json",
            "OPENAPI_SWAGGER_UI_PATH": "docs",
            # Served from the swagger-ui-bundle package: the docs page needs no internet.
            "OPENAPI_SWAGGER_UI_URL": "/api/v1/docs/assets/",
        }
