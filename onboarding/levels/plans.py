"""The plan follows the level: what a level change does to a member's commission plan.

Each level offers plans (plan_codes) and names a default (default_plan_code). On every
recorded change, in its transaction (one member's: event "level.changed", `follow_level`; a
chunk of the crowd-wide run's: event "level.changes_recorded", `follow_levels`, the same rules
set-based):
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

from collections.abc import Sequence
from functools import cache

from sqlalchemy import or_, select

from crowd.core.db import commit, one_of, utcnow
from crowd.core.i18n import _l
from crowd.core.locking import lock_rows
from crowd.extensions import db
from members.models import Member
from notifications.service import notify, notify_many
from onboarding.levels.defaults import ensure_ladder_plan
from onboarding.levels.metrics import EVALUATED_STATUSES
from onboarding.models import Level, LevelChange, LevelRuleset
from payouts import level_plans, plans
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
    current = plans.plan_for(change.member_id, change.created_at)
    decided = _decide(change, level, current, _target_plan, plans.list_price)
    if decided is None:
        return None
    target, cause, why = decided
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


def _target_plan(code: str) -> CommissionPlan:
    return ensure_ladder_plan(code) or plans.standard_plan()


def _decide(
    change, level: Level, current: CommissionPlan, target_of, price
) -> tuple[CommissionPlan, str, str] | None:
    """The rules above for one change (anything with cause, from_rank and to_rank): the plan
    to move to, the cause and why as the member reads it; None when the plan stays.
    `target_of(code)` gives the plan of a code, `price(plan)` its list price."""
    offered = list(level.plan_codes or [])
    if change.cause == "approval" or change.to_rank > change.from_rank:
        default = level.default_plan_code
        if default is None or current.code == default:
            return None
        target = target_of(default)
        if current.code in offered and price(current) < price(target):
            return None  # a cheaper plan the level offers too: theirs to keep
        cause = "admission" if change.cause == "approval" else "promotion"
    else:
        if current.code in offered:
            return None
        target = target_of(level.default_plan_code or plans.STANDARD_CODE)
        # The same rank under new rules (a ruleset change) is not a demotion.
        cause = "demotion" if change.to_rank < change.from_rank else "level_rules"
    why = {
        "promotion": f"your promotion to {level.name} gives you its plan",
        "admission": f"{level.name} members start on it",
        "demotion": f"{level.name} does not offer the plan {current.name!r}",
        "level_rules": f"the plans of {level.name} changed and no longer include {current.name!r}",
    }[cause]
    return target, cause, why


def follow_levels(change_ids: Sequence[int]) -> int:
    """follow_level for a chunk of recorded changes (one per member: the crowd-wide run's), in
    a few statements whatever the chunk's size: the changes with their members' users in one
    query, their levels in one, the members' current plans in one (payouts.level_plans), the
    moves written in bulk and the notifications inserted per kind of message. The same plans,
    causes, reasons and notifications as follow_level change by change. Returns how many
    members moved."""
    if not change_ids:
        return 0
    changes = db.session.execute(
        select(
            LevelChange.id,
            LevelChange.member_id,
            LevelChange.from_rank,
            LevelChange.to_rank,
            LevelChange.cause,
            LevelChange.ruleset_version,
            LevelChange.created_at,
            Member.user_id,
        )
        .join(Member, Member.id == LevelChange.member_id)
        .where(one_of(LevelChange.id, sorted(change_ids)))
        .order_by(LevelChange.id)
    ).all()
    versions = sorted({change.ruleset_version for change in changes})
    levels = {
        (version, level.rank): level
        for level, version in db.session.execute(
            select(Level, LevelRuleset.version)
            .join(LevelRuleset, LevelRuleset.id == Level.ruleset_id)
            .where(LevelRuleset.version.in_(versions))
        )
    }
    current: dict[int, CommissionPlan] = {}
    for at in sorted({change.created_at for change in changes}):
        members = [change.member_id for change in changes if change.created_at == at]
        current |= level_plans.plans_at(members, at)
    target_of = cache(_target_plan)
    price = cache(plans.list_price)
    moves: list[level_plans.LevelMove] = []
    told: dict[int, tuple] = {}
    for change in changes:
        level = levels.get((change.ruleset_version, change.to_rank))
        if level is None:
            continue
        previous = current[change.member_id]
        decided = _decide(change, level, previous, target_of, price)
        if decided is None:
            continue
        target, cause, why = decided
        moves.append(
            level_plans.LevelMove(
                member_id=change.member_id,
                plan_code=target.code,
                cause=cause,
                level_change_id=change.id,
                reason=why,
            )
        )
        told[change.member_id] = (change, level, previous, cause, why)
    moved = level_plans.follow_levels(moves)
    # One notify_many per message (plan × reason): a handful per chunk.
    groups: dict[tuple[str, str], list[tuple[int, str, dict]]] = {}
    for made in moved:
        change, level, previous, cause, why = told[made.move.member_id]
        groups.setdefault((made.plan.name, why), []).append(
            (
                change.user_id,
                f"plan.changed:{made.assignment_id}",
                {
                    "plan_code": made.plan.code,
                    "previous_plan_code": previous.code,
                    "cause": cause,
                    "level_change_id": change.id,
                    "level_code": level.code,
                },
            )
        )
    for (plan_name, why), recipients in groups.items():
        notify_many("plan.changed", *_message(plan_name, why), recipients=recipients)
    return len(moved)


def _message(plan_name: str, why: str):
    """The plan.changed notification's title and body (lazy: rendered per recipient)."""
    return (
        _l("Your commission plan is now {plan_name}", plan_name=plan_name),
        _l(
            "From now on your jobs are charged by the plan {plan_name}: {why}.",
            plan_name=plan_name,
            why=why,
        ),
    )


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
        *_message(plan.name, why),
        dedupe_key=f"plan.changed:{assignment.id}",
        plan_code=plan.code,
        previous_plan_code=previous,
        cause=cause,
        level_change_id=change.id,
        level_code=level.code,
    )
