"""Sections: the account, the profile and what a member offers."""

from __future__ import annotations

from sqlalchemy import Select, func, select

from crowd.core.i18n import _l
from privacy.export.sections.base import Person, Section, columns, member_table, t


def _account(person: Person) -> Select:
    users = t("users")
    return select(*columns(users, without=("password_hash", "created_by_id"))).where(
        users.c.id == person.user_id
    )


def _profile(person: Person) -> Select | None:
    if person.member_id is not None:
        members = t("members")
        return select(*columns(members, without=("profile_photo_file_id",))).where(
            members.c.id == person.member_id
        )
    if person.customer_id is not None:
        customers = t("customers")
        return select(*columns(customers, without=("billing_set_by_user_id",))).where(
            customers.c.id == person.customer_id
        )
    return None


def _billing_profile(person: Person) -> Select | None:
    if person.member_id is not None:
        table = t("member_billing_profiles")
        return select(*columns(table)).where(table.c.member_id == person.member_id)
    if person.customer_id is not None:
        table = t("customer_billing_profiles")
        return select(*columns(table)).where(table.c.customer_id == person.customer_id)
    return None


def _addresses(person: Person) -> Select | None:
    if person.customer_id is None:
        return None
    table = t("customer_addresses")
    return (
        select(*columns(table))
        .where(table.c.customer_id == person.customer_id)
        .order_by(table.c.id)
    )


def _skills(person: Person) -> Select | None:
    if person.member_id is None:
        return None
    claims, skills = t("member_skills"), t("skills")
    return (
        select(
            skills.c.slug.label("skill"),
            skills.c.name.label("skill_name"),
            claims.c.proficiency,
            claims.c.verified,
            claims.c.verified_at,
        )
        .join(skills, skills.c.id == claims.c.skill_id)
        .where(claims.c.member_id == person.member_id)
        .order_by(skills.c.slug)
    )


def _companies(person: Person) -> Select | None:
    """The provider companies they belong or belonged to: the company's name and their role."""
    if person.member_id is None:
        return None
    memberships, companies = t("organisation_memberships"), t("organisations")
    return (
        select(
            memberships.c.organisation_id,
            companies.c.legal_name,
            companies.c.trade_name,
            memberships.c.role,
            memberships.c.status,
            memberships.c.joined_at,
            memberships.c.left_at,
        )
        .join(companies, companies.c.id == memberships.c.organisation_id)
        .where(memberships.c.member_id == person.member_id)
        .order_by(memberships.c.id)
    )


def _company_invitations(person: Person) -> Select:
    """Invitations to a company sent to their email address (never the link's token)."""
    invitations, users = t("organisation_invitations"), t("users")
    return (
        select(*columns(invitations, without=("token_hash", "invited_by_id", "accepted_member_id")))
        .where(
            func.lower(invitations.c.email)
            == select(func.lower(users.c.email))
            .where(users.c.id == person.user_id)
            .scalar_subquery()
        )
        .order_by(invitations.c.id)
    )


SECTIONS = (
    Section("account", _l("your account: email address, role, name, language"), _account),
    Section("profile", _l("your profile as a crowd member or customer"), _profile),
    Section("billing_profile", _l("your billing details"), _billing_profile),
    Section("addresses", _l("your service addresses"), _addresses),
    Section("skills", _l("the skills you offer"), _skills),
    Section(
        "availability",
        _l("your weekly availability"),
        member_table("availability_slots", without=("member_id",)),
    ),
    Section("time_off", _l("your time off"), member_table("time_off", without=("member_id",))),
    Section("companies", _l("the provider companies you work for, and your role"), _companies),
    Section(
        "company_invitations",
        _l("invitations to a provider company sent to your email address"),
        _company_invitations,
    ),
    Section(
        "status_changes",
        _l("changes of your crowd member status"),
        member_table("member_status_changes", without=("member_id", "changed_by_id")),
    ),
    Section(
        "performance",
        _l("your performance figures"),
        member_table("member_stats", without=("member_id",), order=None),
    ),
)
