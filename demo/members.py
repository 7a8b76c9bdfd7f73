"""Writing the demo members: users, profiles, stats, skills, slots, history, onboarding."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from accounts.models import User
from crowd.extensions import db
from demo.onboarding import OnboardingContent, write_onboarding
from demo.plans import MemberPlan
from members.models import (
    AvailabilitySlot,
    Member,
    MemberSkill,
    MemberStats,
    MemberStatusChange,
)


def _member_children(member_id: int, plan: MemberPlan, skill_ids: dict, cm_id: int) -> list:
    """Skills, availability and status history of one member (their stats are separate)."""
    rows: list = [
        MemberSkill(
            member_id=member_id,
            skill_id=skill_ids[slug],
            proficiency=proficiency,
            verified=verified,
            verified_by_id=cm_id if verified else None,
            verified_at=verified_at,
        )
        for slug, proficiency, verified, verified_at in plan.skills
    ]
    rows += [
        AvailabilitySlot(member_id=member_id, weekday=day, start_minute=start, end_minute=end)
        for day, start, end in plan.slots
    ]
    return rows


def _history_rows(member_id: int, user_id: int, plan: MemberPlan, cm_id: int) -> list:
    return [
        MemberStatusChange(
            member_id=member_id,
            from_status=before,
            to_status=after,
            reason=reason,
            changed_by_id=cm_id if by == "cm" else user_id,
            created_at=when,
        )
        for before, after, reason, when, by in plan.history
    ]


def _profile_fields(plan: MemberPlan) -> dict:
    return {
        "kind": plan.kind,
        "display_name": plan.display_name,
        "phone": plan.phone,
        "business_name": plan.business_name,
        "bio": plan.bio,
        "lat": plan.lat,
        "lon": plan.lon,
        "postcode": plan.postcode,
        "city": plan.city,
        "country": plan.country,
        "service_radius_km": plan.service_radius_km,
        "max_concurrent_jobs": plan.max_concurrent_jobs,
        "status": plan.status,
        "status_changed_at": plan.status_changed,
        "level_rank": plan.level_rank,
        "created_at": plan.joined,
        "updated_at": plan.status_changed,
    }


def write_members(
    plans: Sequence[MemberPlan],
    password_hash: str,
    skill_ids: dict,
    cm_id: int,
    content: OnboardingContent,
) -> list[int]:
    """Insert a batch of members with their users, stats, skills, slots, history and
    onboarding."""
    # Rows go in directly, not through accounts.register_member: that would hash the
    # password again for every user (see create_named_accounts) and write a history we
    # write here anyway.
    users = [
        User(
            email=p.email,
            password_hash=password_hash,
            role="member",
            display_name=p.display_name,
            created_at=p.joined,
            updated_at=p.joined,
        )
        for p in plans
    ]
    db.session.add_all(users)
    db.session.flush()
    members = [
        Member(user_id=u.id, **_profile_fields(p)) for u, p in zip(users, plans, strict=True)
    ]
    db.session.add_all(members)
    db.session.flush()
    rows: list = []
    for user, member, plan in zip(users, members, plans, strict=True):
        rows.append(MemberStats(member_id=member.id, **plan.stats))
        rows += _member_children(member.id, plan, skill_ids, cm_id)
        rows += _history_rows(member.id, user.id, plan, cm_id)
    db.session.add_all(rows)
    db.session.flush()
    write_onboarding(
        [(m.id, u.id, p) for u, m, p in zip(users, members, plans, strict=True)], content, cm_id
    )
    return [m.id for m in members]


def complete_named_member(
    user: User, plan: MemberPlan, skill_ids: dict, cm_id: int, content: OnboardingContent
) -> int:
    """Turn the freshly registered demo applicant into an onboarded member with a past."""
    member = db.session.scalar(select(Member).where(Member.user_id == user.id))
    for name, value in _profile_fields(plan).items():
        setattr(member, name, value)
    user.created_at = user.updated_at = plan.joined
    stats = db.session.get(MemberStats, member.id)
    for name, value in plan.stats.items():
        setattr(stats, name, value)
    registered = db.session.scalar(
        select(MemberStatusChange).where(MemberStatusChange.member_id == member.id)
    )
    registered.created_at = plan.joined
    db.session.add_all(_member_children(member.id, plan, skill_ids, cm_id))
    db.session.add_all(_history_rows(member.id, user.id, plan, cm_id)[1:])
    db.session.flush()
    write_onboarding([(member.id, user.id, plan)], content, cm_id)
    return member.id
