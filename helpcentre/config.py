"""Help centre search rules (HELPCENTRE_* environment variables)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from crowd.config import SettingsGroup, setting
from crowd.core.settings import current


class HelpCentreRules(SettingsGroup):
    model_config = SettingsConfigDict(env_prefix="HELPCENTRE_")

    search_max_terms: int = setting(8, "search: at most this many terms are used", ge=1)
    search_min_term_length: int = setting(
        2, "search: shorter terms are ignored (too common to narrow)", ge=1
    )
    # Score per term found: a title hit outweighs a summary hit outweighs a body hit.
    title_weight: int = setting(100, "search score of a term found in the title", ge=0)
    summary_weight: int = setting(10, "search score of a term found in the summary", ge=0)
    body_weight: int = setting(1, "search score of a term found in the body", ge=0)
    snippet_length: int = setting(200, "characters of body text shown around the first hit", ge=1)


def helpcentre_rules() -> HelpCentreRules:
    """The rules in force (HELPCENTRE_* settings)."""
    return current(HelpCentreRules)
