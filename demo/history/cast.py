"""Who takes part in the demo history: the seeded crowd and customers, read back once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from accounts.models import User
from crowd.core.auth import Principal
from crowd.extensions import db
from customers.models import Customer, CustomerAddress
from members.models import Member, MemberSkill, Skill, SkillCategory
from onboarding.models import Application


@dataclass
class CastMember:
    id: int
    user_id: int
    country: str
    city: str
    level: int
    kind: str
    approved_at: datetime
    skills: list[tuple[str, str]] = field(default_factory=list)  # (skill slug, category slug)

    @property
    def principal(self) -> Principal:
        return Principal(self.user_id, "member", 0, "demo", member_id=self.id)


@dataclass
class CastCustomer:
    id: int
    user_id: int
    kind: str
    addresses: list[tuple[int, str, str]]  # (address id, country, city)

    @property
    def principal(self) -> Principal:
        return Principal(self.user_id, "customer", 0, "demo", customer_id=self.id)


@dataclass
class Cast:
    members: list[CastMember]  # active ones, by id
    customers: list[CastCustomer]  # by id
    staff: list[Principal]  # the community managers
    users: dict[int, int]  # member id → user id, every member

    def member_principal(self, member_id: int) -> Principal:
        return Principal(self.users[member_id], "member", 0, "demo", member_id=member_id)


def load_cast(cm_emails: tuple[str, ...]) -> Cast:
    """The active members (with their approval and skills), customers and managers, by id."""
    approved = (
        select(Application.member_id, func.min(Application.decided_at).label("at"))
        .where(Application.status == "approved")
        .group_by(Application.member_id)
        .subquery()
    )
    members = {
        row.id: CastMember(
            row.id, row.user_id, row.country, row.city, row.level_rank, row.kind, row.at
        )
        for row in db.session.execute(
            select(
                Member.id,
                Member.user_id,
                Member.country,
                Member.city,
                Member.level_rank,
                Member.kind,
                approved.c.at,
            )
            .join(approved, approved.c.member_id == Member.id)
            .where(Member.status == "active")
            .order_by(Member.id)
        )
    }
    for member_id, skill, category in db.session.execute(
        select(MemberSkill.member_id, Skill.slug, SkillCategory.slug)
        .join(Skill, Skill.id == MemberSkill.skill_id)
        .join(SkillCategory, SkillCategory.id == Skill.category_id)
        .order_by(MemberSkill.member_id, Skill.slug)
    ):
        if member_id in members:
            members[member_id].skills.append((skill, category))
    addresses: dict[int, list] = {}
    for row in db.session.execute(
        select(
            CustomerAddress.customer_id,
            CustomerAddress.id,
            CustomerAddress.country,
            CustomerAddress.city,
        ).order_by(CustomerAddress.id)
    ):
        addresses.setdefault(row.customer_id, []).append((row.id, row.country, row.city))
    customers = [
        CastCustomer(row.id, row.user_id, row.kind, addresses.get(row.id, []))
        for row in db.session.execute(
            select(Customer.id, Customer.user_id, Customer.kind).order_by(Customer.id)
        )
    ]
    staff = [
        Principal(user_id, "community_manager", 0, "demo")
        for user_id in db.session.scalars(
            select(User.id).where(User.email.in_(cm_emails)).order_by(User.id)
        )
    ]
    users = dict(db.session.execute(select(Member.id, Member.user_id)).all())
    return Cast(
        [m for m in members.values() if m.skills],
        [c for c in customers if c.addresses],
        staff,
        users,
    )
