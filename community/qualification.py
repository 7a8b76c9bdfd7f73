"""Who qualifies for a topic group: the rules as SQL conditions over a group and a member.

Every rule is a condition over the columns of `TopicGroup` and `Member`, so the same rules
answer "which groups may this member join" (discovery), "may this member join this group"
(with the rule that failed, for the refusal) and "which members qualify for this group"
(counts, demo data) — each in one query:

- status: the member is active;
- level: the member's level rank is at least the group's `min_level_rank`;
- skill groups: the member has the skill, verified when the group requires it;
- region groups: the member lives in the country, and where the group names them, in a
  postcode starting with its prefix and in its city (case-insensitive);
- programme groups: mentors are members with an opted-in mentor profile (the rule of
  mentoring.programmes.is_mentor), mentees have an active mentorship, top performers hold a
  badge in force (mentoring.top_performers.holders.valid_at).

Qualification is checked when a member joins. Members keep their membership when they stop
qualifying later (a badge lapses, a skill is removed); community managers mute members who
should not post.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, true

from community.models import GroupMembership, TopicGroup
from crowd.core.db import utcnow
from crowd.extensions import db
from members.models import Member, MemberSkill, Skill
from mentoring.models import MentorProfile, Mentorship, TopPerformerBadge
from mentoring.top_performers.holders import valid_at

RULES = ("status", "level", "skill", "region", "programme")


def _has_skill() -> ColumnElement[bool]:
    return exists(
        select(MemberSkill.member_id).where(
            MemberSkill.member_id == Member.id,
            MemberSkill.skill_id == TopicGroup.skill_id,
            or_(TopicGroup.requires_verified_skill.is_(False), MemberSkill.verified.is_(True)),
        )
    )


def _in_region() -> ColumnElement[bool]:
    return and_(
        Member.country == TopicGroup.country,
        or_(
            TopicGroup.postcode_prefix.is_(None),
            Member.postcode.like(TopicGroup.postcode_prefix + "%"),
        ),
        or_(TopicGroup.city.is_(None), func.lower(Member.city) == func.lower(TopicGroup.city)),
    )


def _in_programme(at: datetime) -> ColumnElement[bool]:
    mentor = exists(
        select(MentorProfile.member_id).where(
            MentorProfile.member_id == Member.id, MentorProfile.opted_in.is_(True)
        )
    )
    mentee = exists(
        select(Mentorship.id).where(
            Mentorship.mentee_id == Member.id, Mentorship.status == "active"
        )
    )
    top = exists(
        select(TopPerformerBadge.id).where(TopPerformerBadge.member_id == Member.id, valid_at(at))
    )
    return or_(
        and_(TopicGroup.programme == "mentors", mentor),
        and_(TopicGroup.programme == "mentees", mentee),
        and_(TopicGroup.programme == "top_performers", top),
    )


def criteria(at: datetime | None = None) -> dict[str, ColumnElement[bool]]:
    """Each rule by name, as a condition over TopicGroup and Member (both in the query)."""
    at = at or utcnow()
    return {
        "status": Member.status == "active",
        "level": Member.level_rank >= TopicGroup.min_level_rank,
        "skill": or_(TopicGroup.kind != "skill", _has_skill()),
        "region": or_(TopicGroup.kind != "region", _in_region()),
        "programme": or_(TopicGroup.kind != "programme", _in_programme(at)),
    }


def qualifies(at: datetime | None = None) -> ColumnElement[bool]:
    """The member qualifies for the group: every rule holds (NULLs count as not holding)."""
    return and_(*criteria(at).values())


def belongs(member_id: int) -> ColumnElement[bool]:
    """The member `member_id` belongs to the group (correlated on TopicGroup)."""
    return exists(
        select(GroupMembership.group_id).where(
            GroupMembership.group_id == TopicGroup.id, GroupMembership.member_id == member_id
        )
    )


def groups_with_member(member_id: int):
    """SELECT of TopicGroup joined to the one member, so member rules can be applied."""
    return select(TopicGroup).join(Member, Member.id == member_id)


def flags(member_id: int, group_ids: list[int]) -> dict[int, tuple[bool, bool]]:
    """group id → (the member belongs, the member qualifies), for `group_ids`; one query."""
    if not group_ids:
        return {}
    rows = db.session.execute(
        select(TopicGroup.id, belongs(member_id), qualifies())
        .join(Member, Member.id == member_id)
        .where(TopicGroup.id.in_(group_ids))
    )
    return {group_id: (bool(joined), bool(ok)) for group_id, joined, ok in rows}


def failed_rules(group_id: int, member_id: int) -> list[str]:
    """The rules (names from RULES) the member fails for the group; empty when they qualify."""
    checks = criteria()
    row = db.session.execute(
        select(*[condition.label(name) for name, condition in checks.items()])
        .select_from(TopicGroup)
        .join(Member, true())
        .where(TopicGroup.id == group_id, Member.id == member_id)
    ).one()
    # A NULL (a member without a country, say) fails the rule like a false does.
    return [name for name in checks if not row._mapping[name]]


def qualifying_member_ids(group_id: int) -> list[int]:
    """Every member who qualifies for the group now, lowest id first."""
    return list(
        db.session.scalars(
            select(Member.id)
            .join(TopicGroup, TopicGroup.id == group_id)
            .where(qualifies())
            .order_by(Member.id)
        )
    )


PROGRAMME_NAMES = {
    "mentors": "mentors",
    "mentees": "members with a mentor",
    "top_performers": "top performers",
}


def refusal(group: TopicGroup, member: Member, rule: str) -> str:
    """Why the member may not join the group, in words, for the failed `rule`."""
    if rule == "status":
        return f"Only active members join topic groups; your membership is {member.status}."
    if rule == "level":
        return (
            f"This group is for level rank {group.min_level_rank} and up; "
            f"yours is {member.level_rank}."
        )
    if rule == "skill":
        skill = db.session.get(Skill, group.skill_id)
        verified = "verified " if group.requires_verified_skill else ""
        return f"This group is for members with the {verified}skill {skill.name}."
    if rule == "region":
        parts = [group.country]
        if group.postcode_prefix:
            parts.append(f"postcode {group.postcode_prefix}…")
        if group.city:
            parts.append(group.city)
        return f"This group is for members living in {', '.join(parts)}."
    return f"This group is for {PROGRAMME_NAMES[group.programme]}."
