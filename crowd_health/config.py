"""Crowd-health definitions, overridable through app config (CROWD_HEALTH_* keys)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from flask import current_app


@dataclass(frozen=True)
class HealthRules:
    # The period when none is given, and the longest one a request may ask for (days).
    default_days: int = 90
    max_days: int = 1096
    # Activation counts a first confirmed job within this many days of approval.
    activation_days: int = 30
    # Retention looks at each member's status this many days after approval.
    retention_days: int = 90
    # The per-skill breakdown of active members lists this many skills.
    top_skills: int = 20


def health_rules() -> HealthRules:
    """The definitions in force: defaults, overridden by app config CROWD_HEALTH_<FIELD>."""
    overrides = {
        f.name: int(current_app.config[f"CROWD_HEALTH_{f.name.upper()}"])
        for f in fields(HealthRules)
        if f"CROWD_HEALTH_{f.name.upper()}" in current_app.config
    }
    return HealthRules(**overrides)
