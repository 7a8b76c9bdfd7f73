"""Topic group rules (COMMUNITY_* environment variables)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from crowd.config import SettingsGroup, setting
from crowd.core.settings import current


class CommunityRules(SettingsGroup):
    model_config = SettingsConfigDict(env_prefix="COMMUNITY_")

    edit_window_minutes: int = setting(
        30, "the author may edit a post this long after writing it", ge=0
    )
    posts_per_member_hour: int = setting(
        20,
        "threads and replies one member may write per hour across all groups (0: no limit)",
        ge=0,
    )
    reply_notice_minutes: int = setting(
        60, "a thread's author hears of new replies at most once per thread in this time", ge=0
    )


def community_rules() -> CommunityRules:
    """The rules in force (COMMUNITY_* settings)."""
    return current(CommunityRules)
