"""Transparency: a member's level, what keeps it, what the next one needs; choosing a plan.

The figures come from onboarding.levels.metrics (`load_figures`) and the comparisons from its
`meets`, so what a member reads here is exactly what the evaluation decides on.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import NotFound
from crowd.core.i18n import _
from crowd.extensions import db
from members.access import own_member
from onboarding.errors import PlanNotOffered
from onboarding.levels.metrics import EVALUATED_STATUSES, METRICS, load_figures, meets
from onboarding.levels.privileges import category_slugs, current_level, privileges_of
from onboarding.levels.rules import active_ruleset, level_at
from onboarding.models import Level, LevelRuleset, MemberLevel
from payouts import plans
from payouts.models.plans import CommissionPlan

# Figures are shown to this many decimals (rates have four, ratings three).
DIGITS = 4


def _number(value: float | int | None) -> float | int | None:
    """A figure for display: rounded, and whole numbers without a fraction."""
    if value is None or isinstance(value, int):
        return value
    value = round(value, DIGITS)
    return int(value) if value.is_integer() else value


def _bound(rule: dict) -> str:
    return "min" if "min" in rule else "max"


def _requirement(rule: dict) -> dict:
    """A rule as written, with what kind of figure its metric is."""
    bound = _bound(rule)
    metric = METRICS[rule["metric"]]
    return {
        "metric": metric.name,
        "kind": metric.kind,
        "description": metric.description,
        bound: rule[bound],
    }


# --- the ladder ----------------------------------------------------------------------------


def _level_summary(level: Level, slugs: dict[int, list[str]]) -> dict:
    return {
        "rank": level.rank,
        "code": level.code,
        "name": level.name,
        "privileges": privileges_of(level, slugs),
    }


def ladder_overview() -> dict:
    """The active rule set: every level with its requirements and privileges, lowest first."""
    ruleset = active_ruleset()
    slugs = category_slugs(ruleset.levels)
    return {
        "ruleset_version": ruleset.version,
        "demotion_tolerance_percent": ruleset.demotion_tolerance_percent,
        "grace_days": ruleset.grace_days,
        "activated_at": ruleset.activated_at,
        "levels": [
            _level_summary(level, slugs)
            | {"requirements": [_requirement(rule) for rule in level.requirements]}
            for level in ruleset.levels
        ],
    }


# --- one member ----------------------------------------------------------------------------


def _strictest(ruleset: LevelRuleset, rank: int) -> list[tuple[dict, Level]]:
    """The requirements that decide a member's standing at `rank`: every level up to it must
    be met, so per metric and bound the strictest among them (a weaker one is met whenever
    the strictest is, with or without the tolerance). The higher levels' order comes first."""
    strictest: dict[tuple[str, str], tuple[dict, Level]] = {}
    for level in sorted(ruleset.levels, key=lambda lvl: -lvl.rank):
        if level.rank > rank:
            continue
        for rule in level.requirements:
            bound = _bound(rule)
            key = (rule["metric"], bound)
            held = strictest.get(key)
            tighter = held is None or (
                rule[bound] > held[0][bound] if bound == "min" else rule[bound] < held[0][bound]
            )
            if tighter:
                strictest[key] = (rule, level)
    return list(strictest.values())


def _keep(ruleset: LevelRuleset, rank: int, metrics: dict) -> list[dict]:
    """What keeps the member at `rank`, each requirement met within the demotion tolerance.

    Nobody goes below the entry level, so nothing is needed to keep it.
    """
    if rank <= min(level.rank for level in ruleset.levels):
        return []
    tolerance = ruleset.demotion_tolerance_percent
    entries = []
    for rule, level in _strictest(ruleset, rank):
        bound, value = _bound(rule), metrics.get(rule["metric"])
        factor = tolerance / 100
        threshold = rule[bound] * factor if bound == "min" else rule[bound] / factor
        met = meets(value, rule)
        kept = meets(value, rule, tolerance_percent=tolerance)
        entries.append(
            {
                "level": level.code,
                "metric": rule["metric"],
                "kind": METRICS[rule["metric"]].kind,
                bound: rule[bound],
                "required": rule[bound],
                "keep_threshold": _number(threshold),
                "current": _number(value),
                "met": met,
                "kept": kept,
                "at_risk": kept and not met,
            }
        )
    return entries


def _progress(rule: dict, level: Level, value: float | int | None) -> dict:
    """How far `value` is from a requirement: the gap, and a percentage for a progress bar."""
    bound, required = _bound(rule), rule[_bound(rule)]
    met = meets(value, rule)
    if met:
        gap, percent = 0, 100
    elif value is None:  # only a minimum fails on no data
        gap, percent = None, 0
    elif bound == "min":
        gap, percent = required - value, math.floor(value / required * 100)
    else:
        gap, percent = value - required, math.floor(required / value * 100)
    return {
        "level": level.code,
        "metric": rule["metric"],
        "kind": METRICS[rule["metric"]].kind,
        bound: required,
        "required": required,
        "current": _number(value),
        "met": met,
        "gap": _number(gap),
        # Never a full bar for a requirement not met yet.
        "progress_percent": percent if met else max(0, min(99, percent)),
    }


def _next_level(ruleset: LevelRuleset, rank: int, metrics: dict) -> dict | None:
    above = [level for level in ruleset.levels if level.rank > rank]
    if not above:
        return None
    level = min(above, key=lambda lvl: lvl.rank)
    # A promotion needs every level up to the next one met in full, hence all their rules.
    requirements = [
        _progress(rule, source, metrics.get(rule["metric"]))
        for rule, source in _strictest(ruleset, level.rank)
    ]
    return {
        "rank": level.rank,
        "code": level.code,
        "name": level.name,
        "requirements": requirements,
        "met_count": sum(entry["met"] for entry in requirements),
        "total": len(requirements),
    }


def _hint(status: str, rank: int, level: Level | None, ruleset: LevelRuleset) -> str | None:
    if rank == 0:
        first = ruleset.levels[0].name if ruleset.levels else "the first level"
        return f"Your first level, {first}, comes with the approval of your application."
    if level is None:
        return (
            f"Rank {rank} is not part of rule set version {ruleset.version}; "
            "the next evaluation places you on its ladder."
        )
    if status not in EVALUATED_STATUSES:
        return f"Your level is kept as it is while you are {status}; it is not evaluated."
    return None


def level_overview(member_id: int, *, now: datetime | None = None) -> dict:
    """A member's level in the active rule set, what keeps it and what the next level needs.

    Callers check who may see it (the member themself, staff).
    """
    now = now or utcnow()
    figures = next(load_figures(now, [member_id]), None)
    if figures is None:
        raise NotFound(_("No such crowd member."))
    ruleset = active_ruleset()
    rank = figures.level_rank
    level = level_at(ruleset, rank) if rank else None
    standing = db.session.get(MemberLevel, member_id)
    slugs = category_slugs(ruleset.levels)
    promoted_at = standing.promoted_at if standing else None
    return {
        "member_id": member_id,
        "ruleset_version": ruleset.version,
        "status": figures.status,
        "level": _level_summary(level, slugs) if level is not None else None,
        "hint": _hint(figures.status, rank, level, ruleset),
        "locked": bool(standing and standing.locked),
        "lock_reason": standing.lock_reason if standing else None,
        "level_since": standing.level_since if standing else None,
        "promoted_at": promoted_at,
        "grace_until": promoted_at + timedelta(days=ruleset.grace_days) if promoted_at else None,
        "metrics": {name: _number(value) for name, value in figures.metrics.items()},
        "keep": _keep(ruleset, rank, figures.metrics) if level is not None else [],
        "next_level": _next_level(ruleset, rank, figures.metrics),
        "ladder": [
            {"rank": lvl.rank, "code": lvl.code, "name": lvl.name} for lvl in ruleset.levels
        ],
    }


def my_level(*, actor: Principal) -> dict:
    """The calling member's level overview."""
    return level_overview(actor.require_member_id())


# --- privileges: commission plans ----------------------------------------------------------


def choose_plan(*, actor: Principal, plan_code: str) -> dict:
    """The member picks one of the commission plans their level offers, from now on.

    Choosing the plan they are on already changes nothing.
    """
    # The member row lock lets one choice at a time see the plan in force.
    member_id = own_member(actor, lock=True).id
    if plan_code == plans.STANDARD_CODE:
        # Everyone's default exists even before anyone stored it.
        plans.sync_default_plans()
    if db.session.scalar(select(CommissionPlan.id).where(CommissionPlan.code == plan_code)) is None:
        raise NotFound(_("No commission plan {plan_code!r}.", plan_code=plan_code))
    level = current_level(member_id)
    offered = list(level.plan_codes or []) if level is not None else []
    if plan_code not in offered:
        where = f"your level {level.name}" if level is not None else "members without a level"
        choices = ", ".join(offered) or "none"
        raise PlanNotOffered(
            _(
                "Plan {plan_code!r} is not offered to {where} (offered: {choices}).",
                plan_code=plan_code,
                where=where,
                choices=choices,
            ),
            state="not_offered",
        )
    if plans.plan_for(member_id, utcnow()).code != plan_code:
        plans.assign_plan(actor=actor, member_id=member_id, plan_code=plan_code)
    return plans.my_plan(actor=actor)
