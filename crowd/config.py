"""Settings: declared once, typed, read from the environment and validated once at start-up.

Every group of settings is a `SettingsGroup` (pydantic-settings): a typed class with defaults,
ranges and descriptions, read from environment variables named `<prefix><FIELD>`. The core's
own group is `Settings` below (no prefix); each domain declares its group in its own `config`
module (jobs: `JOBS_*`, support: `SUPPORT_*` …), which the app factory loads by name. A wrong
value stops start-up with one line naming the variable and the form it expects. The README's
settings table is generated from these classes (`flask crowd settings --markdown`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from limits import parse_many
from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError
from pydantic_settings.sources.utils import parse_env_vars
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


class ConfigError(Exception):
    """A setting is present but malformed; the message names it in one line."""

    def __init__(self, message: str, variable: str | None = None) -> None:
        super().__init__(message)
        self.variable = variable


_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
# An origin is scheme://host[:port], nothing more; plain http only for local development.
_ORIGIN = re.compile(
    r"https://[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?"
    r"|http://(localhost|127\.0\.0\.1)(:[0-9]{1,5})?"
)
MIN_SECRET_KEY_LENGTH = 32
# Only ever used on the embedded SQLite default without payment keys (see Settings.secret_key).
DEV_SECRET_KEY = "crowd-dev-only-secret-key-not-for-production"


def setting(default: Any, description: str, *, form: str = "", shown: str = "", **constraints):
    """A setting's declaration: its default, what it means, and (for the README and error
    messages) the form it takes and the default as shown, where the plain value says too little.
    """
    extra = {key: value for key, value in (("form", form), ("shown", shown)) if value}
    return Field(default, description=description, json_schema_extra=extra or None, **constraints)


class _MappingEnvSource(EnvSettingsSource):
    """pydantic-settings' environment source, reading a given mapping instead of os.environ
    (create_app's overrides and tests pass theirs)."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._env = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._env, self.case_sensitive, self.env_ignore_empty, None)


class SettingsGroup(BaseSettings):
    """A group of settings read from environment variables `<env_prefix><FIELD>`."""

    model_config = SettingsConfigDict(
        frozen=True, extra="forbid", env_ignore_empty=True, str_strip_whitespace=True
    )
    # Fields admins may change through the API (PATCH /api/v1/settings), effective at once.
    ADJUSTABLE: ClassVar[frozenset[str]] = frozenset()
    # Fields that hold secrets: masked when printed, never echoed in an error.
    SECRET: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ):
        # Only what `load` hands over: nothing is read from os.environ behind the caller's back.
        return (init_settings,)

    @classmethod
    def env_names(cls) -> dict[str, str]:
        """{field: environment variable}, in declaration order."""
        prefix = cls.model_config.get("env_prefix", "")
        return {name: f"{prefix}{name.upper()}" for name in cls.model_fields}

    @classmethod
    def load(cls, env: Mapping[str, str], given: Mapping[str, Any] | None = None):
        """The group from environment variables (strings) and typed values given by variable
        name (create_app's mapping); ConfigError names the first wrong variable."""
        names = cls.env_names()
        try:
            values = _MappingEnvSource(cls, env)()
        except SettingsError as error:
            # Raised for a structured value (JSON) that does not parse; it names the field.
            field = next((f for f in names if f'"{f}"' in str(error)), None)
            variable = names.get(field, cls.__name__)
            raise ConfigError(f"{variable} must be {expected_form(cls, field)}", variable) from None
        values.update({f: given[var] for f, var in names.items() if given and var in given})
        return cls.validated(values)

    @classmethod
    def validated(cls, values: Mapping[str, Any]):
        """The group from values by field name; ConfigError names the first wrong variable."""
        try:
            return cls.model_validate(dict(values))
        except ValidationError as error:
            raise ConfigError(*describe_error(cls, error.errors()[0])) from None


def expected_form(cls: type[SettingsGroup], name: str | None) -> str:
    """The form a setting's value takes, in words: "a whole number from 1 to 100"."""
    if name is None or name not in cls.model_fields:
        return "well-formed"
    field: FieldInfo = cls.model_fields[name]
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    if extra.get("form"):
        return str(extra["form"])
    if field.annotation is int:
        # The bounds pydantic keeps as annotated_types Ge / Le in the field's metadata.
        low = next((m.ge for m in field.metadata if hasattr(m, "ge")), None)
        high = next((m.le for m in field.metadata if hasattr(m, "le")), None)
        if low is not None and high is not None:
            return f"a whole number from {low} to {high}"
        if low is not None:
            return f"a whole number, at least {low}"
        return "a whole number"
    return "text"


def describe_error(cls: type[SettingsGroup], error: Mapping[str, Any]) -> tuple[str, str]:
    """(message, variable): one line naming the variable, what is wrong or the form expected,
    and (unless secret) the value that was given."""
    name = str(error["loc"][0]) if error.get("loc") else None
    variable = cls.env_names().get(name, cls.__name__)
    if error.get("type") == "value_error":
        return f"{variable} {error['ctx']['error']}", variable
    message = f"{variable} must be {expected_form(cls, name)}"
    if name not in cls.SECRET and error.get("input") is not None:
        message += f", got {str(error['input'])[:80]!r}"
    return message, variable


def _rate(value: str) -> str:
    try:
        parse_many(value)
    except ValueError:
        raise ValueError(f"must look like '10 per minute', got {value[:80]!r}") from None
    return value


RATE_FORM = "'N per second/minute/hour/day', several separated by ';'"


class Settings(SettingsGroup):
    """Everything the core reads from outside; see the settings table in README.md."""

    SECRET: ClassVar[frozenset[str]] = frozenset(
        {"secret_key", "stripe_api_key", "stripe_webhook_secret"}
    )

    # Field order matters: a validator sees the fields declared before its own (info.data).
    database_url: str = setting(
        "",
        "PostgreSQL (`postgres://`, `postgresql://`, `postgresql+psycopg://`) or SQLite "
        "(`sqlite:///path`); nothing else",
        shown="`sqlite:///instance/crowd.db`",
        validate_default=True,
    )
    redis_url: str | None = setting(
        None,
        "`redis://`, `rediss://` or `unix://`. Set: background work goes through RQ workers and "
        "rate-limit counters live in Redis. Unset: background work runs inline after each commit",
    )
    stripe_api_key: str | None = setting(
        None, "`sk_test_…`, `sk_live_…` or `rk_…`; unset: payments offline"
    )
    stripe_webhook_secret: str | None = setting(
        None, "`whsec_…`, to verify Stripe's webhook signatures"
    )
    stripe_api_base: str | None = setting(
        None,
        "an `http(s)://` URL for the Stripe client, e.g. a mock server",
        shown="unset (Stripe's API)",
    )
    # Only Flask's own signing uses it; auth tokens are random and stored hashed.
    secret_key: str = setting(
        "",
        "at least 32 characters; required with PostgreSQL or any Stripe key (start-up refuses "
        "without it). Only Flask's own signing uses it (tokens are random and stored hashed)",
        shown="a fixed development key, only on the embedded SQLite default",
        validate_default=True,
    )
    session_token_ttl_hours: int = setting(
        24 * 14, "lifetime of a session token from `POST /api/v1/auth/tokens`", ge=1
    )
    api_key_ttl_days: int = setting(
        365, "lifetime of an API key unless the request gives `expires_in_days` (1–730)", ge=1
    )
    idempotency_ttl_hours: int = setting(
        24, "how long an `Idempotency-Key` and its stored response are kept", ge=1
    )
    page_size_max: int = setting(
        100, "largest page a client can ask for; larger `limit`s are capped", ge=1
    )
    page_size_default: int = setting(
        20, "page size when `?limit=` is not given (at most `PAGE_SIZE_MAX`)", ge=1
    )
    rq_queue: str = setting("crowd", "name of the RQ queue (with `REDIS_URL`)", min_length=1)
    rate_limit_sign_in: str = setting(
        "10 per minute", "sign-in attempts per client address", form=RATE_FORM
    )
    rate_limit_sign_up: str = setting(
        "30 per hour", "registrations per client address", form=RATE_FORM
    )
    # Per signed-in user (see crowd.core.security.rate_limit_key).
    rate_limit_tokens: str = setting(
        "10 per hour", "API keys a user may create (`POST /auth/api-keys`)", form=RATE_FORM
    )
    rate_limit_job_posting: str = setting("60 per hour", "jobs a customer may post", form=RATE_FORM)
    rate_limit_offer_accept: str = setting(
        "30 per minute", "offer acceptances a member may attempt", form=RATE_FORM
    )
    rate_limit_payments: str = setting(
        "30 per hour",
        "calls per user to the money endpoints together: payment method, payout account, "
        "refunds, payout and monthly-fee runs",
        form=RATE_FORM,
    )
    # Namespace of the counters in Redis (several deployments or test runs may share one).
    rate_limit_key_prefix: str = setting(
        "crowd-limits",
        "prefix of the rate-limit counters in Redis, for deployments sharing one Redis",
        form="1-64 letters, digits or _.:-",
        pattern=r"^[A-Za-z0-9_.:-]{1,64}$",
    )
    # Browser origins allowed to call the API cross-origin (empty: no CORS headers at all).
    cors_origins: Annotated[tuple[str, ...], NoDecode] = setting(
        (),
        "comma-separated exact origins allowed to call the API from a browser: "
        "`https://host[:port]`, or `http://localhost[:port]` / `http://127.0.0.1[:port]`; "
        "no wildcards",
        shown="empty (no CORS)",
    )
    max_request_bytes: int = setting(
        1024 * 1024,
        "largest request body; larger ones get 413",
        shown="`1048576` (1 MiB)",
        ge=1024,
    )
    # How many reverse proxies in front set X-Forwarded-For (0: trust none of it).
    trusted_proxies: int = setting(
        0,
        "reverse proxies in front that set `X-Forwarded-For`; set it behind a load balancer so "
        "limits see client addresses",
        ge=0,
    )
    # Where Stripe's hosted onboarding sends members back (https; the mobile app's pages).
    payout_onboarding_refresh_url: str | None = setting(
        None,
        "https page Stripe onboarding returns to when its link expired (else the client sends it)",
    )
    payout_onboarding_return_url: str | None = setting(
        None, "https page Stripe onboarding returns to when done (else the client sends it)"
    )
    # Per-account sign-in throttling (accounts.throttle): after `threshold` wrong passwords in
    # a row the account is locked for `base` seconds, doubling with each further failure up to
    # `max`; a successful sign-in resets it.
    sign_in_lockout_threshold: int = setting(
        5,
        "wrong passwords in a row before sign-in for that email address is locked",
        ge=1,
    )
    sign_in_lockout_base_seconds: int = setting(
        60, "the first lock; it doubles with each further wrong password", ge=1
    )
    sign_in_lockout_max_seconds: int = setting(
        None,
        "the longest lock (at least the base)",
        shown="`3600`",
        form="a whole number of seconds, at least SIGN_IN_LOCKOUT_BASE_SECONDS",
        validate_default=True,
    )
    password_reset_ttl_minutes: int = setting(30, "lifetime of a password-reset code", ge=1)
    default_locale: str = setting(
        "de",
        "language of the texts for a request that asks for none (`Accept-Language`) from a "
        "user who chose none, and of the notifications of users who chose none",
        form="`de` or `en`",
        pattern=r"^(de|en)$",
    )

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_url(cls, value: Any) -> str:
        raw = str(value or "").strip()
        if not raw:
            return "sqlite:///" + os.path.join("instance", "crowd.db")
        # Platforms hand out postgres:// URLs; we speak psycopg 3.
        if raw.startswith("postgres://"):
            raw = "postgresql://" + raw[len("postgres://") :]
        if raw.startswith("postgresql://"):
            raw = "postgresql+psycopg://" + raw[len("postgresql://") :]
        try:
            url = make_url(raw)
        except ArgumentError:
            raise ValueError("is not a database URL") from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError(f"must point to PostgreSQL or SQLite, not {url.get_backend_name()!r}")
        if url.get_backend_name() == "postgresql" and url.get_driver_name() != "psycopg":
            raise ValueError("must use the psycopg driver (postgresql+psycopg://)")
        return raw

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(_REDIS_SCHEMES):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("stripe_api_key")
    @classmethod
    def _stripe_api_key(cls, value: str | None) -> str | None:
        if value and not re.fullmatch(r"(sk|rk)_(test|live)_[A-Za-z0-9]+", value):
            raise ValueError("is malformed: expected sk_… or rk_…")
        return value

    @field_validator("stripe_webhook_secret")
    @classmethod
    def _stripe_webhook_secret(cls, value: str | None) -> str | None:
        if value and not re.fullmatch(r"whsec_[A-Za-z0-9]+", value):
            raise ValueError("is malformed: expected whsec_…")
        return value

    @field_validator("stripe_api_base")
    @classmethod
    def _stripe_api_base(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value

    @field_validator("secret_key", mode="before")
    @classmethod
    def _secret_key(cls, value: Any, info: ValidationInfo) -> str:
        raw = str(value or "").strip()
        if raw and len(raw) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(f"must be at least {MIN_SECRET_KEY_LENGTH} characters")
        # The development key is public (it is in this file): fine for a laptop's SQLite file,
        # never for a shared database or real money.
        data = info.data
        embedded = str(data.get("database_url", "")).startswith("sqlite") and not (
            data.get("stripe_api_key") or data.get("stripe_webhook_secret")
        )
        if not raw and not embedded:
            raise ValueError(
                "must be set (at least 32 random characters) with PostgreSQL or Stripe"
            )
        return raw or DEV_SECRET_KEY

    @field_validator("page_size_default")
    @classmethod
    def _page_size_default(cls, value: int, info: ValidationInfo) -> int:
        return min(value, info.data.get("page_size_max", value))

    @field_validator(*(f"rate_limit_{n}" for n in ("sign_in", "sign_up", "tokens")))
    @classmethod
    def _rate_a(cls, value: str) -> str:
        return _rate(value)

    @field_validator(*(f"rate_limit_{n}" for n in ("job_posting", "offer_accept", "payments")))
    @classmethod
    def _rate_b(cls, value: str) -> str:
        return _rate(value)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _cors_origins(cls, value: Any) -> tuple[str, ...]:
        """Exact origins, https:// anywhere or http:// on this machine; no wildcard."""
        items = value.split(",") if isinstance(value, str) else list(value or ())
        origins = []
        for item in filter(None, (str(part).strip() for part in items)):
            origin = item.lower().rstrip("/")
            if not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    "entries must be exact origins (https://host[:port], or "
                    f"http://localhost[:port] / http://127.0.0.1[:port]), got {item[:80]!r}"
                )
            origins.append(origin)
        return tuple(dict.fromkeys(origins))

    @field_validator("payout_onboarding_refresh_url", "payout_onboarding_return_url")
    @classmethod
    def _https_url(cls, value: str | None) -> str | None:
        if value and (not value.startswith("https://") or len(value) > 500):
            raise ValueError("must be an https:// URL")
        return value

    @field_validator("sign_in_lockout_max_seconds", mode="before")
    @classmethod
    def _lockout_max(cls, value: Any, info: ValidationInfo) -> Any:
        base = info.data.get("sign_in_lockout_base_seconds", 1)
        if value is None:
            return max(3600, base)
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"must be a whole number of seconds, got {str(value)[:80]!r}"
            ) from None
        if number < base:
            raise ValueError(f"must be at least {base} (SIGN_IN_LOCKOUT_BASE_SECONDS)")
        return number

    @property
    def inline_background(self) -> bool:
        return self.redis_url is None

    @property
    def offline_payments(self) -> bool:
        return self.stripe_api_key is None

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], instance_path: str, given: Mapping[str, Any] | None = None
    ) -> Settings:
        given = dict(given or {})
        if not str(env.get("DATABASE_URL") or given.get("DATABASE_URL") or "").strip():
            # The embedded default: a SQLite file in the app's instance folder.
            given["DATABASE_URL"] = "sqlite:///" + os.path.join(instance_path, "crowd.db")
        return cls.load(env, given)

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
            "DEFAULT_LOCALE": self.default_locale,
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


class FileStorageSettings(SettingsGroup):
    """Where uploaded files live (crowd.core.files): a folder of the instance, or S3."""

    model_config = SettingsConfigDict(env_prefix="FILES_")
    SECRET: ClassVar[frozenset[str]] = frozenset({"s3_secret_access_key"})

    storage: Literal["local", "s3"] = setting(
        "local",
        "`local` (a folder, see `FILES_LOCAL_DIRECTORY`) or `s3` (any S3-compatible object "
        "storage: AWS, or a self-hosted one such as MinIO or Garage)",
    )
    local_directory: str = setting(
        "",
        "the folder `local` storage keeps files in",
        shown="`instance/files`",
    )
    s3_bucket: str | None = setting(
        None, "the bucket, with `FILES_STORAGE=s3`", validate_default=True
    )
    s3_endpoint_url: str | None = setting(
        None,
        "an `http(s)://` URL of a self-hosted or non-AWS S3 service (addressed path-style)",
        shown="unset (AWS)",
    )
    s3_region: str = setting("eu-central-1", "the bucket's region", min_length=1)
    s3_access_key_id: str | None = setting(
        None, "the access key id; unset: boto3's own lookup (instance role …)"
    )
    s3_secret_access_key: str | None = setting(None, "the secret access key for the id")
    url_ttl_seconds: int = setting(
        300, "how long an upload or download URL we hand out stays valid", ge=10, le=3600
    )
    max_image_bytes: int = setting(
        10 * 1024 * 1024,
        "largest image upload (a profile photo); larger ones are refused",
        shown="`10485760` (10 MiB)",
        ge=1024,
        le=100 * 1024 * 1024,
    )
    max_document_bytes: int = setting(
        20 * 1024 * 1024,
        "largest PDF upload (a ticket attachment); larger ones are refused",
        shown="`20971520` (20 MiB)",
        ge=1024,
        le=200 * 1024 * 1024,
    )

    @field_validator("s3_endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("an http(s):// URL")
        return value

    @field_validator("s3_bucket")
    @classmethod
    def _bucket(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("storage") == "s3" and not value:
            raise ValueError("a bucket name (required with FILES_STORAGE=s3)")
        return value


# The core's settings groups besides `Settings`, loaded like a domain's.
CORE_GROUPS: tuple[type[SettingsGroup], ...] = (FileStorageSettings,)
