"""Crowd-health definitions (CROWD_HEALTH_* environment variables)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from crowd.config import SettingsGroup, setting
from crowd.core.settings import current


class HealthRules(SettingsGroup):
    model_config = SettingsConfigDict(env_prefix="CROWD_HEALTH_")

    default_days: int = setting(90, "the KPI period when a request gives none, days", ge=1)
    max_days: int = setting(1096, "the longest KPI period a request may ask for, days", ge=1)
    activation_days: int = setting(
        30, "activation counts a first confirmed job within this many days of approval", ge=1
    )
    retention_days: int = setting(
        90, "retention looks at each member's status this many days after approval", ge=1
    )
    top_skills: int = setting(20, "skills listed in the per-skill breakdown", ge=1)


def health_rules() -> HealthRules:
    """The definitions in force (CROWD_HEALTH_* settings)."""
    return current(HealthRules)
