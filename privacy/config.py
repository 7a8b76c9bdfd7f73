"""Privacy settings (PRIVACY_*)."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from crowd.config import SettingsGroup, setting
from crowd.core.settings import current


class ExportRules(SettingsGroup):
    """How long a data export waits for its download, and how often a person may ask."""

    model_config = SettingsConfigDict(env_prefix="PRIVACY_")
    ADJUSTABLE: ClassVar[frozenset[str]] = frozenset({"export_days"})

    export_days: int = setting(
        7,
        "a data export waits this many days for its one download; then its archive is deleted",
        ge=1,
        le=90,
    )
    export_interval_hours: int = setting(
        24,
        "a person asks for a new data export at most once in this many hours (0: no limit; "
        "admins any time)",
        ge=0,
        le=24 * 30,
    )


def export_rules() -> ExportRules:
    """The export rules in force: PRIVACY_* settings, then the admins' changes."""
    return current(ExportRules)
