"""Topic group rules, overridable through app config (COMMUNITY_* keys)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from flask import current_app


@dataclass(frozen=True)
class CommunityRules:
    # The author may edit a post this long after writing it.
    edit_window_minutes: int = 30
    # Threads and replies one member may write per hour across all groups (0: no limit).
    posts_per_member_hour: int = 20
    # A thread's author hears of new replies at most once per thread in this many minutes.
    reply_notice_minutes: int = 60


def community_rules() -> CommunityRules:
    """The rules in force: defaults, overridden by app config keys COMMUNITY_<FIELD>."""
    overrides = {
        f.name: int(current_app.config[f"COMMUNITY_{f.name.upper()}"])
        for f in fields(CommunityRules)
        if f"COMMUNITY_{f.name.upper()}" in current_app.config
    }
    return CommunityRules(**overrides)
