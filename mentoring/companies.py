"""A provider company's levels view: its technicians' own standing side by side — level,
rating, jobs completed, top-performer badges — and the company's aggregates.

Levels and badges stay per person (onboarding's levels, this package's top performers): the
company view only reads them. The figures are each member's own, from before they joined too
(a technician's record is theirs), so the aggregates say what the team brings.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import NotFound
from crowd.core.i18n import _
from crowd.extensions import db
from members.models import Member, MemberStats, SkillCategory
from mentoring.models import TopPerformerBadge
from mentoring.top_performers.holders import valid_at
from onboarding.models import Level, LevelRuleset
from organisations.models import Organisation, OrganisationMembership
from organisations.service import MANAGERS, own_organisation, require_staff


def company_levels(*, actor: Principal, organisation_id: int) -> dict:
    """A company's levels view, for community managers and admins."""
    require_staff(actor)
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(_("No such company."))
    return levels_view(organisation)


def own_company_levels(*, actor: Principal) -> dict:
    """The caller's company's levels view, for its owners and dispatchers."""
    organisation, _membership = own_organisation(actor, roles=MANAGERS)
    return levels_view(organisation)


def _level_names() -> dict[int, str]:
    return dict(
        db.session.execute(
            select(Level.rank, Level.name)
            .join(LevelRuleset, LevelRuleset.id == Level.ruleset_id)
            .where(LevelRuleset.status == "active")
        ).all()
    )


def _badges(member_ids: list[int]) -> dict[int, list[dict]]:
    """The badges in force now of these members, by member."""
    if not member_ids:
        return {}
    rows = db.session.execute(
        select(TopPerformerBadge, SkillCategory.slug)
        .join(SkillCategory, SkillCategory.id == TopPerformerBadge.category_id)
        .where(TopPerformerBadge.member_id.in_(member_ids), valid_at(utcnow()))
        .order_by(TopPerformerBadge.member_id, TopPerformerBadge.id)
    ).all()
    found: dict[int, list[dict]] = {}
    for badge, slug in rows:
        found.setdefault(badge.member_id, []).append(
            {"category": slug, "region": badge.region, "valid_until": badge.valid_until}
        )
    return found


def levels_view(organisation: Organisation) -> dict:
    """Each member in the company now (every role: owners and dispatchers may work too) with
    their own level, rating, jobs and badges; counts per level, the rating averaged over the
    jobs (a member's average weighs as many jobs as they completed), the jobs in all."""
    rows = db.session.execute(
        select(
            OrganisationMembership.member_id,
            OrganisationMembership.role,
            Member.display_name,
            Member.status,
            Member.level_rank,
            MemberStats.jobs_completed,
            MemberStats.rating_count,
            MemberStats.rating_sum,
        )
        .join(Member, Member.id == OrganisationMembership.member_id)
        .outerjoin(MemberStats, MemberStats.member_id == Member.id)
        .where(
            OrganisationMembership.organisation_id == organisation.id,
            OrganisationMembership.status == "active",
        )
        .order_by(Member.level_rank.desc(), OrganisationMembership.joined_at, Member.id)
    ).all()
    names = _level_names()
    badges = _badges([row.member_id for row in rows])
    technicians, per_level = [], Counter()
    jobs_total, weighted_sum, weight = 0, 0.0, 0
    for row in rows:
        jobs = row.jobs_completed or 0
        rating = row.rating_sum / row.rating_count if row.rating_count else None
        technicians.append(
            {
                "member_id": row.member_id,
                "display_name": row.display_name,
                "role": row.role,
                "member_status": row.status,
                "level_rank": row.level_rank,
                "level_name": names.get(row.level_rank),
                "rating": round(rating, 2) if rating is not None else None,
                "rating_count": row.rating_count or 0,
                "jobs_completed": jobs,
                "top_performer": bool(badges.get(row.member_id)),
                "badges": badges.get(row.member_id, []),
            }
        )
        per_level[row.level_rank] += 1
        jobs_total += jobs
        if rating is not None and jobs:
            weighted_sum += rating * jobs
            weight += jobs
    return {
        "organisation_id": organisation.id,
        "technicians": technicians,
        "aggregates": {
            "technicians": len(technicians),
            "levels": [
                {"level_rank": rank, "level_name": names.get(rank), "count": count}
                for rank, count in sorted(per_level.items())
            ],
            "average_rating": round(weighted_sum / weight, 2) if weight else None,
            "jobs_completed": jobs_total,
            "top_performers": sum(1 for t in technicians if t["top_performer"]),
        },
    }
