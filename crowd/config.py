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
# An origin is scheme://host[:port], nothing more; plain http only for local development.
_ORIGIN = re.compile(
    r"https://[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?"
    r"|http://(localhost|127\.0\.0\.1)(:[0-9]{1,5})?"
)
MIN_SECRET_KEY_LENGTH = 32
# Only ever used on the embedded SQLite default without payment keys (see _secret_key).
DEV_SECRET_KEY = "crowd-dev-only-secret-key-not-for-production"


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


def _origins(env: Mapping[str, str]) -> tuple[str, ...]:
    """CORS_ORIGINS: exact origins, https:// anywhere or http:// on this machine; no wildcard."""
    raw = env.get("CORS_ORIGINS", "").strip()
    origins = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        origin = item.lower().rstrip("/")
        if not _ORIGIN.fullmatch(origin):
            raise ConfigError(
                f"CORS_ORIGINS entries must be exact origins (https://host[:port], or "
                f"http://localhost[:port] / http://127.0.0.1[:port]), got {item[:80]!r}"
            )
        origins.append(origin)
    return tuple(dict.fromkeys(origins))


def _key_prefix(env: Mapping[str, str]) -> str:
    raw = env.get("RATE_LIMIT_KEY_PREFIX", "").strip() or "crowd-limits"
    if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", raw):
        raise ConfigError("RATE_LIMIT_KEY_PREFIX must be 1-64 letters, digits or _.:-")
    return raw


def _secret_key(env: Mapping[str, str], *, embedded: bool) -> str:
    """SECRET_KEY from the environment; the built-in development key only on embedded SQLite."""
    raw = env.get("SECRET_KEY", "").strip()
    if raw and len(raw) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(f"SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters")
    if not raw and not embedded:
        raise ConfigError(
            "SECRET_KEY must be set (at least 32 random characters) with PostgreSQL or Stripe"
        )
    return raw or DEV_SECRET_KEY


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
    # Per signed-in user (see crowd.core.security.rate_limit_key).
    rate_limit_tokens: str = "10 per hour"
    rate_limit_job_posting: str = "60 per hour"
    rate_limit_offer_accept: str = "30 per minute"
    rate_limit_payments: str = "30 per hour"
    # Namespace of the counters in Redis (several deployments or test runs may share one).
    rate_limit_key_prefix: str = "crowd-limits"
    # Browser origins allowed to call the API cross-origin (empty: no CORS headers at all).
    cors_origins: tuple[str, ...] = ()
    max_request_bytes: int = 1024 * 1024
    # How many reverse proxies in front set X-Forwarded-For (0: trust none of it).
    trusted_proxies: int = 0
    # Where Stripe's hosted onboarding sends members back (https; the mobile app's pages).
    payout_onboarding_refresh_url: str | None = None
    payout_onboarding_return_url: str | None = None
    # Per-account sign-in throttling (accounts.throttle): after `threshold` wrong
    # passwords in a row the account is locked for `base` seconds, doubling with each further
    # failure up to `max`; a successful sign-in resets it.
    sign_in_lockout_threshold: int = 5
    sign_in_lockout_base_seconds: int = 60
    sign_in_lockout_max_seconds: int = 3600
    # Lifetime of a password-reset link (single use).
    password_reset_ttl_minutes: int = 30
    extra: dict = field(default_factory=dict)

    @property
    def inline_background(self) -> bool:
        return self.redis_url is None

    @property
    def offline_payments(self) -> bool:
        return self.stripe_api_key is None

    @classmethod
    def from_env(cls, env: Mapping[str, str], instance_path: str) -> Settings:
        database_url = _database_url(env, instance_path)
        stripe_api_key = _optional_secret(
            env, "STRIPE_API_KEY", r"(sk|rk)_(test|live)_[A-Za-z0-9]+", "expected sk_… or rk_…"
        )
        stripe_webhook_secret = _optional_secret(
            env, "STRIPE_WEBHOOK_SECRET", r"whsec_[A-Za-z0-9]+", "expected whsec_…"
        )
        # The development key is public (it is in this file): fine for a laptop's SQLite file,
        # never for a shared database or real money.
        embedded = database_url.startswith("sqlite") and not (
            stripe_api_key or stripe_webhook_secret
        )
        secret_key = _secret_key(env, embedded=embedded)
        api_base = env.get("STRIPE_API_BASE", "").strip() or None
        if api_base and not api_base.startswith(("http://", "https://")):
            raise ConfigError("STRIPE_API_BASE must be an http(s) URL")
        page_size_max = _int(env, "PAGE_SIZE_MAX", 100, minimum=1)
        lockout_base = _int(env, "SIGN_IN_LOCKOUT_BASE_SECONDS", 60, minimum=1)
        return cls(
            database_url=database_url,
            redis_url=_redis_url(env),
            stripe_api_key=stripe_api_key,
            stripe_webhook_secret=stripe_webhook_secret,
            stripe_api_base=api_base,
            # Only Flask's own signing uses it; auth tokens are random and stored hashed.
            secret_key=secret_key,
            session_token_ttl_hours=_int(env, "SESSION_TOKEN_TTL_HOURS", 24 * 14, minimum=1),
            api_key_ttl_days=_int(env, "API_KEY_TTL_DAYS", 365, minimum=1),
            idempotency_ttl_hours=_int(env, "IDEMPOTENCY_TTL_HOURS", 24, minimum=1),
            page_size_default=min(_int(env, "PAGE_SIZE_DEFAULT", 20, minimum=1), page_size_max),
            page_size_max=page_size_max,
            rq_queue=env.get("RQ_QUEUE", "crowd").strip() or "crowd",
            rate_limit_sign_in=_rate(env, "RATE_LIMIT_SIGN_IN", "10 per minute"),
            rate_limit_sign_up=_rate(env, "RATE_LIMIT_SIGN_UP", "30 per hour"),
            rate_limit_tokens=_rate(env, "RATE_LIMIT_TOKENS", "10 per hour"),
            rate_limit_job_posting=_rate(env, "RATE_LIMIT_JOB_POSTING", "60 per hour"),
            rate_limit_offer_accept=_rate(env, "RATE_LIMIT_OFFER_ACCEPT", "30 per minute"),
            rate_limit_payments=_rate(env, "RATE_LIMIT_PAYMENTS", "30 per hour"),
            rate_limit_key_prefix=_key_prefix(env),
            cors_origins=_origins(env),
            max_request_bytes=_int(env, "MAX_REQUEST_BYTES", 1024 * 1024, minimum=1024),
            trusted_proxies=_int(env, "TRUSTED_PROXIES", 0),
            payout_onboarding_refresh_url=_https_url(env, "PAYOUT_ONBOARDING_REFRESH_URL"),
            payout_onboarding_return_url=_https_url(env, "PAYOUT_ONBOARDING_RETURN_URL"),
            sign_in_lockout_threshold=_int(env, "SIGN_IN_LOCKOUT_THRESHOLD", 5, minimum=1),
            sign_in_lockout_base_seconds=lockout_base,
            sign_in_lockout_max_seconds=_int(
                env, "SIGN_IN_LOCKOUT_MAX_SECONDS", max(3600, lockout_base), minimum=lockout_base
            ),
            password_reset_ttl_minutes=_int(env, "PASSWORD_RESET_TTL_MINUTES", 30, minimum=1),
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
            # Werkzeug refuses larger bodies with 413; crowd.core.security checks it up front.
            "MAX_CONTENT_LENGTH": self.max_request_bytes,
            "RATELIMIT_STORAGE_URI": self.redis_url or "memory://",
            "RATELIMIT_STORAGE_OPTIONS": self._rate_limit_storage_options(),
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
            # No call to the public validator: the page works offline and under its CSP.
            "OPENAPI_SWAGGER_UI_CONFIG": {"validatorUrl": None},
        }

    def _rate_limit_storage_options(self) -> dict:
        if not self.redis_url:
            return {}
        # A slow or absent Redis must not hold requests up: short timeouts, then fail open.
        return {
            "key_prefix": self.rate_limit_key_prefix,
            "socket_connect_timeout": 0.5,
            "socket_timeout": 0.5,
        }
