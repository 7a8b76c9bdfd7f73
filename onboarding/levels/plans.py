"""The plan follows the level: what a level change does to a member's commission plan.

Each level offers plans (plan_codes) and names a default (default_plan_code). On every
recorded change (event "level.changed", one member's or the bulk path's, same transaction):
- a promotion (or admission) moves the member to the new level's default plan, unless the plan
  they are on is one the level also offers and cheaper (payouts.plans.list_price: what it
  keeps of a 100.00 job) — then they keep it;
- a demotion moves a member off a plan the new level does not offer, to its default (the
  standard plan when it names none); a plan it offers stays;
- a level without a default moves nobody up; the member chooses (onboarding.levels.progress);
- the same rank under a newly activated rule set (no LevelChange is recorded for it):
  `follow_rules`, run after the activation's evaluation, moves a member off a plan their level
  no longer offers, or onto a default cheaper than what they pay, with cause "level_rules".
Each move is a MemberPlan from now with cause "promotion", "demotion" or "admission" and the
level change's id, and a "plan.changed" notification tells the member which plan and why.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from crowd.core.db import commit, utcnow
from crowd.core.i18n import _l
from crowd.core.locking import lock_rows
from crowd.extensions import db
from members.models import Member
from notifications.service import notify
from onboarding.levels.defaults import ensure_ladder_plan
from onboarding.levels.metrics import EVALUATED_STATUSES
from onboarding.models import Level, LevelChange, LevelRuleset
from payouts import plans
from payouts.models.plans import CommissionPlan, MemberPlan


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
        # The same rank under new rules (a ruleset change) is not a demotion.
        cause = "demotion" if change.to_rank < change.from_rank else "level_rules"
    why = {
        "promotion": f"your promotion to {level.name} gives you its plan",
        "admission": f"{level.name} members start on it",
        "demotion": f"{level.name} does not offer the plan {current.name!r}",
        "level_rules": f"the plans of {level.name} changed and no longer include {current.name!r}",
    }[cause]
    assignment = plans.follow_level(
        member_id=change.member_id,
        plan_code=target.code,
        cause=cause,
        level_change_id=change.id,
        reason=why,
    )
    if assignment is not None:
        _tell(change, level, assignment, previous=current.code, cause=cause, why=why)
    return assignment


# --- same rank, new rules ---------------------------------------------------------------------


def _rules_target(current: CommissionPlan, level: Level) -> CommissionPlan | None:
    """The plan a member on `current` should move to when `level`'s rules changed while they
    kept their rank: off a plan it no longer offers (to its default, else the standard plan),
    or to a default cheaper than what they pay (new rules never make a kept level dearer for
    a member who may stay on an offered plan). None: they stay."""
    offered = list(level.plan_codes or [])
    if current.code not in offered:
        target_code = level.default_plan_code or plans.STANDARD_CODE
    elif level.default_plan_code and level.default_plan_code != current.code:
        target_code = level.default_plan_code
    else:
        return None
    target = ensure_ladder_plan(target_code) or plans.standard_plan()
    if target.code == current.code:
        return None
    if current.code in offered and plans.list_price(target) >= plans.list_price(current):
        return None
    return target


def follow_rules(chunk: int = 500) -> int:
    """After a rule set's activation (and its evaluation), move every member whose rank stayed
    but whose plan their level no longer offers — or whose level now defaults to a cheaper
    plan — with cause "level_rules"; commits per chunk; running it twice moves nobody twice.
    Returns how many members moved."""
    ruleset = db.session.scalar(select(LevelRuleset).where(LevelRuleset.status == "active"))
    if ruleset is None:
        return 0
    levels = {level.rank: level for level in ruleset.levels}
    now = utcnow()
    current = (
        select(MemberPlan.member_id, CommissionPlan.code)
        .join(CommissionPlan, CommissionPlan.id == MemberPlan.plan_id)
        .where(
            MemberPlan.effective_from <= now,
            or_(MemberPlan.effective_to.is_(None), MemberPlan.effective_to > now),
        )
        .subquery()
    )
    rows = db.session.execute(
        select(Member.id, Member.level_rank, current.c.code)
        .outerjoin(current, current.c.member_id == Member.id)
        .where(Member.level_rank.in_(list(levels)), Member.status.in_(EVALUATED_STATUSES))
        .order_by(Member.id)
    ).all()
    standard = plans.standard_plan()
    plan_by_code: dict[str, CommissionPlan | None] = {}

    def moves(rank: int, code: str | None) -> bool:
        code = code or standard.code
        if code not in plan_by_code:
            plan_by_code[code] = db.session.scalar(
                select(CommissionPlan).where(CommissionPlan.code == code)
            )
        plan = plan_by_code[code] or standard
        return _rules_target(plan, levels[rank]) is not None

    candidates = [member_id for member_id, rank, code in rows if moves(rank, code)]
    moved = 0
    for start in range(0, len(candidates), chunk):
        for member_id in lock_rows(Member, candidates[start : start + chunk]):
            member = db.session.get(Member, member_id, populate_existing=True)
            level = levels.get(member.level_rank)
            if level is None or member.status not in EVALUATED_STATUSES:
                continue
            moved += _follow_rules_of(member, level) is not None
        commit()
    return moved


def _follow_rules_of(member: Member, level: Level) -> MemberPlan | None:
    current = plans.plan_for(member.id, utcnow())
    target = _rules_target(current, level)
    if target is None:
        return None
    offered = current.code in (level.plan_codes or [])
    why = (
        f"{level.name} now starts on the cheaper plan {target.name!r}"
        if offered
        else f"the plans of {level.name} changed and no longer include {current.name!r}"
    )
    assignment = plans.follow_level(
        member_id=member.id, plan_code=target.code, cause="level_rules", reason=why
    )
    if assignment is not None:
        notify(
            member.user_id,
            "plan.changed",
            _l("Your commission plan is now {target_name}", target_name=target.name),
            _l(
                "From now on your jobs are charged by the plan {target_name}: {why}.",
                target_name=target.name,
                why=why,
            ),
            dedupe_key=f"plan.changed:{assignment.id}",
            plan_code=target.code,
            previous_plan_code=current.code,
            cause="level_rules",
            level_change_id=None,
            level_code=level.code,
        )
    return assignment


def _tell(
    change: LevelChange, level: Level, assignment: MemberPlan, *, previous, cause, why
) -> None:
    plan = assignment.plan
    user_id = db.session.scalar(select(Member.user_id).where(Member.id == change.member_id))
    notify(
        user_id,
        "plan.changed",
        _l("Your commission plan is now {plan_name}", plan_name=plan.name),
        _l(
            "From now on your jobs are charged by the plan {plan_name}: {why}.",
            plan_name=plan.name,
            why=why,
        ),
        dedupe_key=f"plan.changed:{assignment.id}",
        plan_code=plan.code,
        previous_plan_code=previous,
        cause=cause,
        level_change_id=change.id,
        level_code=level.code,
    )
