"""What a level gives: concurrent jobs, job levels and categories it may take, commission plans.

Read by members (the profile's job cap) and jobs.matching (categories), so this module
imports only models, extensions and rule sets — nothing that imports those domains back.
"""

from __future__ import annotations

from sqlalchemy import select

from crowd.core.errors import field_error
from crowd.core.i18n import _
from crowd.extensions import db
from members.models import Member, SkillCategory
from onboarding.levels.rules import find_active_ruleset, level_at
from onboarding.models import Level, LevelCategory


def current_level(member_id: int) -> Level | None:
    """The member's level in the active rule set (None at rank 0 or when it has no such rank)."""
    rank = db.session.scalar(select(Member.level_rank).where(Member.id == member_id))
    # No rule set at all (a database emptied since the migrations): no level, no limits.
    ruleset = find_active_ruleset() if rank else None
    return level_at(ruleset, rank) if ruleset is not None else None


def category_slugs(levels: list[Level]) -> dict[int, list[str]]:
    """For each level that restricts categories, the slugs of those it may take (one query)."""
    restricting = [level.id for level in levels if level.restricts_categories]
    slugs: dict[int, list[str]] = {level_id: [] for level_id in restricting}
    if restricting:
        rows = db.session.execute(
            select(LevelCategory.level_id, SkillCategory.slug)
            .join(SkillCategory, SkillCategory.id == LevelCategory.category_id)
            .where(LevelCategory.level_id.in_(restricting))
            .order_by(SkillCategory.slug)
        )
        for level_id, slug in rows:
            slugs[level_id].append(slug)
    return slugs


def privileges_of(level: Level, slugs: dict[int, list[str]]) -> dict:
    """A level's privileges as the API shows them; `slugs` from `category_slugs`."""
    return {
        "max_concurrent_jobs": level.max_concurrent_jobs,
        # Jobs carry a minimum level rank; this level takes those up to its own rank.
        "job_min_level_up_to": level.rank,
        "categories": slugs.get(level.id) if level.restricts_categories else None,
        "plan_codes": list(level.plan_codes or []),
    }


def check_job_cap(member: Member, changes: dict) -> None:
    """Members take at most as many jobs at once as their level allows (no level: no cap)."""
    wanted = changes.get("max_concurrent_jobs")
    level = current_level(member.id) if wanted is not None else None
    if level is not None and wanted > level.max_concurrent_jobs:
        raise field_error(
            "max_concurrent_jobs",
            _(
                "your level {level_name} allows at most {level_max_concurrent_jobs} jobs at once",
                level_name=level.name,
                level_max_concurrent_jobs=level.max_concurrent_jobs,
            ),
        )
