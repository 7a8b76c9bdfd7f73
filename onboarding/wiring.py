"""What onboarding plugs into the packages below it, which know nothing of levels or steps:

- jobs.matching: the requirement that the member's level takes the job's category;
- members: a member's own job cap stays within what their level allows;
- helpcentre: articles may be linked to onboarding steps and training modules, which must exist;
- organisations: a company's owner accepts the house rules in force for it (their number).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, select, true

from crowd.core.errors import field_error
from crowd.core.i18n import _
from crowd.extensions import db
from helpcentre.links import add_link_target
from jobs.matching.eligibility import Requirement, add_requirement
from jobs.matching.facts import JobFacts, SqlJob
from members.models import Member, SkillCategory
from members.service import add_profile_check
from onboarding.house_rules import current_version
from onboarding.levels.privileges import check_job_cap
from onboarding.models import Level, LevelCategory, LevelRuleset, TrainingModule
from onboarding.steps import STEP_NAMES
from organisations.checks import use_house_rules_source

# --- matching -------------------------------------------------------------------------------


def _level_allows_category(job: SqlJob) -> ColumnElement[bool]:
    """The member's rank is not one whose level (active rule set) keeps out the job's category.

    Uncorrelated: the few ranks barred from this category are found once per query and each
    member is checked against them, instead of a subquery per member.
    """
    listed = exists().where(
        LevelCategory.level_id == Level.id, LevelCategory.category_id == job.category_id
    )
    barred = (
        select(Level.rank)
        .join(LevelRuleset, LevelRuleset.id == Level.ruleset_id)
        .where(LevelRuleset.status == "active", Level.restricts_categories == true(), ~listed)
    )
    return Member.level_rank.not_in(barred)


def _category_barred(facts: JobFacts, row) -> str:
    level = db.session.execute(
        select(Level.name, Level.rank)
        .join(LevelRuleset, LevelRuleset.id == Level.ruleset_id)
        .where(LevelRuleset.status == "active", Level.rank == row.level_rank)
    ).one()
    category = db.session.scalar(
        select(SkillCategory.slug).where(SkillCategory.id == facts.category_id)
    )
    return f"Level {level.name} (rank {level.rank}) does not take jobs in the category {category}."


add_requirement(
    Requirement(
        "level_category",
        "The member's level takes jobs of the job's category (levels may be restricted).",
        where=_level_allows_category,
        reason=_category_barred,
    ),
    after="level",
)


# --- members --------------------------------------------------------------------------------

add_profile_check(check_job_cap)


# --- help centre links ----------------------------------------------------------------------


def _step_exists(target_key: str) -> None:
    if target_key not in STEP_NAMES:
        steps = ", ".join(STEP_NAMES)
        raise field_error("target_key", _("no such onboarding step; one of: {steps}", steps=steps))


def _training_module_exists(target_key: str) -> None:
    module = select(TrainingModule.id).where(TrainingModule.code == target_key)
    if db.session.scalar(module) is None:
        raise field_error("target_key", _("no such training module"))


add_link_target("onboarding_step", _step_exists)
add_link_target("training_module", _training_module_exists)


# --- organisations --------------------------------------------------------------------------


def _house_rules_in_force() -> int | None:
    current = current_version()
    return current.version if current is not None else None


use_house_rules_source(_house_rules_in_force)
