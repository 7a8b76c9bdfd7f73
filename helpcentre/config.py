"""Help centre rules (search), overridable through app config (HELPCENTRE_* keys)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from flask import current_app


@dataclass(frozen=True)
class HelpCentreRules:
    # Search: at most this many terms; shorter terms are ignored (too common to narrow).
    search_max_terms: int = 8
    search_min_term_length: int = 2
    # Score per term found: a title hit outweighs a summary hit outweighs a body hit.
    title_weight: int = 100
    summary_weight: int = 10
    body_weight: int = 1
    # Characters of body text shown around the first hit.
    snippet_length: int = 200


def helpcentre_rules() -> HelpCentreRules:
    """The rules in force: defaults, overridden by app config keys HELPCENTRE_<FIELD>."""
    overrides = {
        f.name: int(current_app.config[f"HELPCENTRE_{f.name.upper()}"])
        for f in fields(HelpCentreRules)
        if f"HELPCENTRE_{f.name.upper()}" in current_app.config
    }
    return HelpCentreRules(**overrides)
