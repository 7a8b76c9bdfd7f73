"""Provider company rules (ORGANISATIONS_* environment variables)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from crowd.config import SettingsGroup, setting
from crowd.core.settings import current


class OrganisationRules(SettingsGroup):
    model_config = SettingsConfigDict(env_prefix="ORGANISATIONS_")

    invitation_days: int = setting(
        14, "an invitation to join a company can be accepted for this many days", ge=1, le=90
    )
    invitation_url: str = setting(
        "https://crowd.example/company-invitation",
        'the invitation email links to this URL + "?token=<token>"',
        form="an https:// URL",
        pattern=r"^https://\S{1,490}$",
    )


def organisation_rules() -> OrganisationRules:
    """The rules in force (ORGANISATIONS_* settings)."""
    return current(OrganisationRules)
