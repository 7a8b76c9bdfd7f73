"""Reading runs and decisions (staff), badge holders (staff), and a member's own standing."""

from __future__ import annotations

from sqlalchemy import case, func, select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import NotFound, Unprocessable
from crowd.core.i18n import _
from crowd.core.pagination import paginate
from crowd.extensions import db
from members.access import own_member, visible_member
from members.models import Member, SkillCategory
from mentoring.models import TopPerformerBadge, TopPerformerDecision, TopPerformerRun
from mentoring.top_performers.holders import valid_at
from payouts.models.plans import MemberCommissionPerk
from payouts.plans import perk_for

HISTORY_MAX = 100


def _slugs() -> dict[int, str]:
    return dict(db.session.execute(select(SkillCategory.id, SkillCategory.slug)).all())


def category_id(slug: str) -> int:
    """The id of a category slug given as a query filter (422 naming `category` otherwise)."""
    found = db.session.scalar(select(SkillCategory.id).where(SkillCategory.slug == slug))
    if found is None:
        message = f"unknown category '{slug}'"
        raise Unprocessable(message, errors={"query": {"category": [message]}})
    return found


def _run(run_id: int) -> TopPerformerRun:
    run = db.session.get(TopPerformerRun, run_id)
    if run is None:
        raise NotFound(_("No such top-performer run."))
    return run


def list_runs(*, actor: Principal, limit=None, cursor=None) -> dict:
    """Every run, newest first."""
    args = {"limit": limit, "cursor": cursor}
    return paginate(select(TopPerformerRun), args, order=[TopPerformerRun.id], descending=True)


def show_run(*, actor: Principal, run_id: int) -> dict:
    """A run with its counts per cell (category × region): evaluated, passed, awarded."""
    run = _run(run_id)
    d = TopPerformerDecision
    passed = func.sum(case((d.rank.is_not(None), 1), else_=0))
    awarded = func.sum(case((d.awarded.is_(True), 1), else_=0))
    rows = db.session.execute(
        select(d.category_id, d.region, func.count(), passed, awarded)
        .where(d.run_id == run.id)
        .group_by(d.category_id, d.region)
        .order_by(d.category_id, d.region)
    )
    slugs = _slugs()
    cells = [
        {
            "category": slugs.get(category), "region": region, "evaluated": evaluated,
            "passed": int(passed or 0), "awarded": int(awarded or 0),
        }
        for category, region, evaluated, passed, awarded in rows
    ]  # fmt: skip
    return {"run": run, "cells": cells}


def decision_view(decision: TopPerformerDecision, slugs: dict[int, str], period=None) -> dict:
    return {
        "id": decision.id,
        "run_id": decision.run_id,
        "period": period,
        "member_id": decision.member_id,
        "category": slugs.get(decision.category_id),
        "region": decision.region,
        "figures": decision.figures,
        "failed_gates": decision.failed_gates,
        "score": decision.score,
        "rank": decision.rank,
        "cell_size": decision.cell_size,
        "awarded": decision.awarded,
    }


def list_decisions(
    *,
    actor: Principal,
    run_id: int,
    member_id: int | None = None,
    category: str | None = None,
    region: str | None = None,
    awarded: bool | None = None,
    limit=None,
    cursor=None,
) -> dict:
    """A run's decisions matching every given filter, in id order."""
    run = _run(run_id)
    d = TopPerformerDecision
    query = select(d).where(d.run_id == run.id)
    if member_id is not None:
        query = query.where(d.member_id == member_id)
    if category is not None:
        query = query.where(d.category_id == category_id(category))
    if region is not None:
        query = query.where(d.region == region)
    if awarded is not None:
        query = query.where(d.awarded.is_(awarded))
    page = paginate(query, {"limit": limit, "cursor": cursor}, order=[d.id])
    slugs = _slugs()
    page["items"] = [decision_view(item, slugs, run.period) for item in page["items"]]
    return page


def badge_view(badge: TopPerformerBadge, slugs: dict[int, str], period: str | None) -> dict:
    return {
        "id": badge.id,
        "run_id": badge.run_id,
        "period": period,
        "member_id": badge.member_id,
        "category": slugs.get(badge.category_id),
        "region": badge.region,
        "valid_from": badge.valid_from,
        "valid_until": badge.valid_until,
        "revoked_at": badge.revoked_at,
        "revoke_reason": badge.revoke_reason,
        "perk_id": badge.perk_id,
    }


def _periods(run_ids) -> dict[int, str]:
    query = select(TopPerformerRun.id, TopPerformerRun.period)
    return dict(db.session.execute(query.where(TopPerformerRun.id.in_(set(run_ids)))).all())


def list_holders(*, actor: Principal, region=None, category=None, limit=None, cursor=None) -> dict:
    """Badges in force now (a member with badges in several categories is listed per badge)."""
    b = TopPerformerBadge
    query = select(b).where(valid_at(utcnow()))
    if region is not None:
        query = query.where(b.region == region)
    if category is not None:
        query = query.where(b.category_id == category_id(category))
    page = paginate(query, {"limit": limit, "cursor": cursor}, order=[b.id])
    slugs, periods = _slugs(), _periods(item.run_id for item in page["items"])
    page["items"] = [badge_view(i, slugs, periods.get(i.run_id)) for i in page["items"]]
    return page


def my_top_performer(*, actor: Principal) -> dict:
    """The caller's badges in force, perks in force, and every decision about them."""
    return _standing(own_member(actor))


def member_top_performer(*, actor: Principal, member_id: int) -> dict:
    """A member's top-performer standing as the member sees it (staff, or the member)."""
    return _standing(visible_member(actor, member_id))


def _standing(member: Member) -> dict:
    now = utcnow()
    slugs = _slugs()
    badges = db.session.scalars(
        select(TopPerformerBadge)
        .where(TopPerformerBadge.member_id == member.id, valid_at(now))
        .order_by(TopPerformerBadge.id)
    ).all()
    perk_ids = {badge.perk_id for badge in badges if badge.perk_id is not None}
    perks = db.session.scalars(
        select(MemberCommissionPerk)
        .where(MemberCommissionPerk.id.in_(perk_ids))
        .order_by(MemberCommissionPerk.id)
    ).all()
    decisions = db.session.execute(
        select(TopPerformerDecision, TopPerformerRun.period)
        .join(TopPerformerRun, TopPerformerRun.id == TopPerformerDecision.run_id)
        .where(TopPerformerDecision.member_id == member.id)
        .order_by(TopPerformerDecision.run_id.desc(), TopPerformerDecision.id)
        .limit(HISTORY_MAX)
    ).all()
    periods = _periods(badge.run_id for badge in badges)
    return {
        "member_id": member.id,
        "top_performer": bool(badges),
        "badges": [badge_view(b, slugs, periods.get(b.run_id)) for b in badges],
        "perks": {
            "commission": perks,
            "commission_perk_in_force": perk_for(member.id, now),
            "matching_boost": bool(badges),
            "priority_support": bool(badges),
        },
        "history": [decision_view(d, slugs, period) for d, period in decisions],
    }
