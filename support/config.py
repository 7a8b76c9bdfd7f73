"""Support's clocks and deadlines, overridable through app config (SUPPORT_* keys)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import timedelta

from flask import current_app


@dataclass(frozen=True)
class SupportRules:
    # SLA targets per priority: first response (minutes) and resolution (hours).
    first_response_minutes_urgent: int = 30
    first_response_minutes_high: int = 120
    first_response_minutes_normal: int = 480
    first_response_minutes_low: int = 1440
    resolution_hours_urgent: int = 8
    resolution_hours_high: int = 24
    resolution_hours_normal: int = 72
    resolution_hours_low: int = 168
    # A proposed resolution nobody answered applies after this.
    proposal_response_hours: int = 72
    # resolved → closed without a reply from a party.
    auto_close_days: int = 4

    def first_response(self, priority: str) -> timedelta:
        return timedelta(minutes=getattr(self, f"first_response_minutes_{priority}"))

    def resolution(self, priority: str) -> timedelta:
        return timedelta(hours=getattr(self, f"resolution_hours_{priority}"))


def support_rules() -> SupportRules:
    """The rules in force: defaults, overridden by app config keys SUPPORT_<FIELD>."""
    overrides = {
        f.name: int(current_app.config[f"SUPPORT_{f.name.upper()}"])
        for f in fields(SupportRules)
        if f"SUPPORT_{f.name.upper()}" in current_app.config
    }
    return SupportRules(**overrides)
