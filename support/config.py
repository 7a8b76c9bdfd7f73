"""Support's clocks and deadlines (SUPPORT_* environment variables)."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from crowd.config import SettingsGroup, setting
from crowd.core.settings import current

_WEEK_MINUTES = 7 * 24 * 60
_QUARTER_HOURS = 90 * 24


class SupportRules(SettingsGroup):
    model_config = SettingsConfigDict(env_prefix="SUPPORT_")
    # The SLA targets: operations change them without a release (PATCH /api/v1/settings).
    ADJUSTABLE: ClassVar[frozenset[str]] = frozenset(
        {
            f"{clock}_{priority}"
            for clock in ("first_response_minutes", "resolution_hours")
            for priority in ("urgent", "high", "normal", "low")
        }
    )

    # SLA targets per priority: first response (minutes) and resolution (hours).
    first_response_minutes_urgent: int = setting(
        30, "SLA: first response to an urgent ticket, minutes", ge=1, le=_WEEK_MINUTES
    )
    first_response_minutes_high: int = setting(
        120, "SLA: first response to a high-priority ticket, minutes", ge=1, le=_WEEK_MINUTES
    )
    first_response_minutes_normal: int = setting(
        480, "SLA: first response to a normal ticket, minutes", ge=1, le=_WEEK_MINUTES
    )
    first_response_minutes_low: int = setting(
        1440, "SLA: first response to a low-priority ticket, minutes", ge=1, le=_WEEK_MINUTES
    )
    resolution_hours_urgent: int = setting(
        8, "SLA: resolution of an urgent ticket, hours", ge=1, le=_QUARTER_HOURS
    )
    resolution_hours_high: int = setting(
        24, "SLA: resolution of a high-priority ticket, hours", ge=1, le=_QUARTER_HOURS
    )
    resolution_hours_normal: int = setting(
        72, "SLA: resolution of a normal ticket, hours", ge=1, le=_QUARTER_HOURS
    )
    resolution_hours_low: int = setting(
        168, "SLA: resolution of a low-priority ticket, hours", ge=1, le=_QUARTER_HOURS
    )
    sla_warning_minutes: int = setting(
        30,
        "community managers are alerted this long before a ticket's SLA deadline",
        ge=1,
        le=_WEEK_MINUTES,
    )
    proposal_response_hours: int = setting(
        72, "a proposed resolution nobody answered applies after this", ge=1
    )
    auto_close_days: int = setting(
        4, "a resolved ticket closes after this without a reply from a party", ge=1
    )

    def first_response(self, priority: str) -> timedelta:
        return timedelta(minutes=getattr(self, f"first_response_minutes_{priority}"))

    def resolution(self, priority: str) -> timedelta:
        return timedelta(hours=getattr(self, f"resolution_hours_{priority}"))


def support_rules() -> SupportRules:
    """The rules in force: SUPPORT_* settings, then the admins' changes (SLA targets)."""
    return current(SupportRules)
