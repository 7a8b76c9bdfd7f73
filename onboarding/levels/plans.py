"""The plan follows the level: what a level change does to a member's commission plan.

Each level offers plans (plan_codes) and names a default (default_plan_code). On every
recorded change (event "level.changed", one member's or the bulk path's, same transaction):
- a promotion (or admission) moves the member to the new level's default plan, unless the plan
  they are on is one the level also offers and cheaper (payouts.plans.list_price: what it
  keeps of a 100.00 job) — then they keep it;
- a demotion moves a member off a plan the new level does not offer, to its default (the
  standard plan when it names none); a plan it offers stays;
- a level without a default moves nobody up; the member chooses (onboarding.levels.progress).
Each move is a MemberPlan from now with cause "promotion", "demotion" or "admission" and the
level change's id, and a "plan.changed" notification tells the member which plan and why.
"""

from __future__ import annotations

from sqlalchemy import select

from crowd.extensions import db
from members.models import Member
from notifications.service import notify
from onboarding.levels.defaults import ensure_ladder_plan
from onboarding.models import Level, LevelChange, LevelRuleset
from payouts import plans
from payouts.models.plans import MemberPlan


def level_of(change: LevelChange) -> Level | None:
    return db.session.scalar(
        select(Level)
        .join(LevelRuleset, LevelRuleset.id == Level.ruleset_id)
        .where(LevelRuleset.version == change.ruleset_version, Level.rank == change.to_rank)
    )


def follow_level(change: LevelChange) -> MemberPlan | None:
    """Move the member of `change` to the plan their new level gives them, if it changes."""
    level = level_of(change)
    if level is None:
        return None
    offered = list(level.plan_codes or [])
    current = plans.plan_for(change.member_id, change.created_at)
    if change.cause == "approval" or change.to_rank > change.from_rank:
        default = level.default_plan_code
        if default is None or current.code == default:
            return None
        target = ensure_ladder_plan(default) or plans.standard_plan()
        if current.code in offered and plans.list_price(current) < plans.list_price(target):
            return None  # a cheaper plan the level offers too: theirs to keep
        cause = "admission" if change.cause == "approval" else "promotion"
    else:
        if current.code in offered:
            return None
        target_code = level.default_plan_code or plans.STANDARD_CODE
        target = ensure_ladder_plan(target_code) or plans.standard_plan()
        cause = "demotion"
    assignment = plans.follow_level(
        member_id=change.member_id, plan_code=target.code, cause=cause, level_change_id=change.id
    )
    if assignment is not None:
        _tell(change, level, assignment, previous=current.code, cause=cause)
    return assignment


def _tell(change: LevelChange, level: Level, assignment: MemberPlan, *, previous, cause) -> None:
    plan = assignment.plan
    why = {
        "promotion": f"your promotion to {level.name} gives you its plan",
        "admission": f"{level.name} members start on it",
        "demotion": f"{level.name} does not offer the plan {previous!r}",
    }[cause]
    user_id = db.session.scalar(select(Member.user_id).where(Member.id == change.member_id))
    notify(
        user_id,
        "plan.changed",
        f"Your commission plan is now {plan.name}",
        f"From now on your jobs are charged by the plan {plan.name}: {why}.",
        dedupe_key=f"plan.changed:{assignment.id}",
        plan_code=plan.code,
        previous_plan_code=previous,
        cause=cause,
        level_change_id=change.id,
        level_code=level.code,
    )
