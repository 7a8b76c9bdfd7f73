"""The console's settings (CONSOLE_* environment variables)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from crowd.config import SettingsGroup, setting
from crowd.core.settings import current


class ConsoleSettings(SettingsGroup):
    model_config = SettingsConfigDict(env_prefix="CONSOLE_")

    idle_timeout_minutes: int = setting(
        30, "a console session unused for this long is signed out", ge=1, le=24 * 60
    )
    absolute_timeout_hours: int = setting(
        12, "a console session ends this long after sign-in, used or not", ge=1, le=7 * 24
    )
    require_2fa_for_cms: bool = setting(
        True,
        "community managers need TOTP two-factor to use the console (admins always do)",
    )
    cookie_secure: bool = setting(
        True,
        "the console's cookies are Secure (HTTPS only); plain HTTP to a loopback address "
        "(make run) is exempt so that local development works",
    )
    insight_cache_seconds: int = setting(
        300,
        "Insight keeps each source's figures this long per filter set, for the dashboard and "
        "its charts (0: computed on every request); in Redis with REDIS_URL, else in memory",
        ge=0,
        le=24 * 60 * 60,
    )
    two_factor_issuer: str = setting(
        "Crowd", "the issuer name authenticator apps show next to the account", min_length=1
    )


def console_settings() -> ConsoleSettings:
    return current(ConsoleSettings)
