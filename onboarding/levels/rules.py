"""Rule sets: the active ladder, drafts, validation, activation."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crowd.extensions import db
from onboarding.models import Level, LevelRuleset


def active_ruleset() -> LevelRuleset:
    """The rule set in force (the migration installs version 1; there is always one)."""
    ruleset = db.session.scalar(
        select(LevelRuleset)
        .where(LevelRuleset.status == "active")
        .options(selectinload(LevelRuleset.levels).selectinload(Level.categories))
    )
    if ruleset is None:
        raise RuntimeError("no active level rule set: run the migrations")
    return ruleset


def level_at(ruleset: LevelRuleset, rank: int) -> Level | None:
    """The level of `ruleset` with `rank`, if it has one."""
    return next((level for level in ruleset.levels if level.rank == rank), None)
