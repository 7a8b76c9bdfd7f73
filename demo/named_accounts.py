"""The named demo accounts: admin, community managers, the demo member and customer."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import click
from sqlalchemy import func, select, update

from accounts import service as accounts
from accounts.models import User
from crowd.core.db import utcnow
from crowd.core.errors import DomainError
from crowd.extensions import db
from customers.models import Customer
from demo.draws import category_by_slug, city_named, pick_address, pick_phone
from demo.plans import BULK_DOMAIN, CustomerPlan, MemberPlan, plan_member
from members.models import Member
from mentoring.models import Mentorship, TopPerformerBadge
from mentoring.top_performers.holders import valid_at
from registration import service as registration

DEMO_PASSWORD = "crowd-demo-2026"
ADMIN_EMAIL = "admin@crowd.example"
CM_EMAILS = ("cm1@crowd.example", "cm2@crowd.example")
CUSTOMER_EMAIL = "kunde@crowd.example"
MEMBER_EMAIL = "mitglied@crowd.example"
# Picked from the crowd after the history replay (see name_accounts_from_history).
MENTOR_EMAIL = "mentor@crowd.example"
MENTEE_EMAIL = "mentee@crowd.example"
TOP_PERFORMER_EMAIL = "top-performer@crowd.example"
BUSINESS_EMAIL = "business@crowd.example"
APPLICANT_EMAIL = "applicant@crowd.example"
# A second business customer, billed in Switzerland (see demo.billing).
SWISS_BUSINESS_EMAIL = "business-ch@crowd.example"
PICKED_EMAILS = (
    MENTOR_EMAIL,
    MENTEE_EMAIL,
    TOP_PERFORMER_EMAIL,
    BUSINESS_EMAIL,
    APPLICANT_EMAIL,
    SWISS_BUSINESS_EMAIL,
)


def named_member_plan(rng: random.Random, now: datetime) -> MemberPlan:
    """mitglied@crowd.example: an active private member in Berlin with TV and smart-home skills."""
    plan = plan_member(
        rng,
        0,
        now,
        place=city_named("Berlin"),
        kind="private",
        status="active",
        categories=[category_by_slug("tv_audio"), category_by_slug("smart_home")],
    )
    plan.email, plan.display_name = MEMBER_EMAIL, "Max Mustermann"
    return plan


def named_customer_plan(rng: random.Random, now: datetime) -> CustomerPlan:
    """kunde@crowd.example: a person in Berlin with a home address."""
    return CustomerPlan(
        email=CUSTOMER_EMAIL,
        display_name="Erika Mustermann",
        kind="person",
        company_name=None,
        phone=pick_phone(rng, "DE"),
        joined=now - timedelta(days=90),
        addresses=[pick_address(rng, "Zuhause", city_named("Berlin"))],
    )


def create_named_accounts(
    member_plan: MemberPlan, customer_plan: CustomerPlan
) -> tuple[int, str, User, User]:
    """The CMs, demo member and demo customer, through the account services like real sign-ups.

    Returns the first CM's id, the password hash to share, the member's and customer's users.
    """
    try:
        managers = [
            accounts.create_staff(
                actor_id=None,
                email=email,
                password=DEMO_PASSWORD,
                display_name=name,
                role="community_manager",
            )
            for email, name in zip(CM_EMAILS, ("Katrin Berger", "Jonas Albrecht"), strict=True)
        ]
        member = registration.register_member(
            email=MEMBER_EMAIL,
            password=DEMO_PASSWORD,
            display_name=member_plan.display_name,
            kind=member_plan.kind,
            phone=member_plan.phone,
            postcode=member_plan.postcode,
            city=member_plan.city,
            country=member_plan.country,
        )
        customer = registration.register_customer(
            email=CUSTOMER_EMAIL,
            password=DEMO_PASSWORD,
            display_name=customer_plan.display_name,
            phone=customer_plan.phone,
        )
    except DomainError as error:
        raise click.ClickException(f"cannot create the demo accounts: {error.detail}") from None
    db.session.flush()
    # argon2 is slow on purpose (50–130 ms a hash): hashing for each of 400+ bulk users would
    # take 20–60 s. They all have the same password, so they share the hash the service just
    # made for the first CM (same algorithm and cost as the app's hasher, so sign-in works
    # unchanged). For demo data the shared salt does not matter; real accounts never share one.
    return managers[0].id, managers[0].password_hash, member, customer


def refuse_partial_data() -> None:
    """Demo users without the demo admin: an earlier run stopped half-way."""
    found = db.session.scalar(
        select(func.count()).where(
            User.email.in_([*CM_EMAILS, CUSTOMER_EMAIL, MEMBER_EMAIL, *PICKED_EMAILS])
            | User.email.like(f"%@{BULK_DOMAIN}")
        )
    )
    if found:
        raise click.ClickException(
            f"found {found} demo users but no {ADMIN_EMAIL}: an earlier seed-demo was "
            "interrupted; start from an empty database (e.g. delete instance/crowd.db)"
        )


def name_accounts_from_history() -> None:
    """Give a mentor (with mentees), one of their mentees, a top performer of the last
    quarter, a business customer and an applicant from the seeded crowd a demo address (the
    bulk accounts share the demo password). Whom the crowd or history lacks stays unnamed."""
    now = utcnow()
    mentor_id = db.session.scalar(
        select(Mentorship.mentor_id)
        .join(Member, Member.id == Mentorship.mentor_id)
        .where(Mentorship.status == "active")
        .group_by(Mentorship.mentor_id, Member.city)
        .order_by((Member.city == "Berlin").desc(), func.count().desc(), Mentorship.mentor_id)
        .limit(1)
    )
    mentee_id = db.session.scalar(
        select(Mentorship.mentee_id)
        .where(Mentorship.mentor_id == mentor_id, Mentorship.status == "active")
        .order_by(Mentorship.accepted_at, Mentorship.mentee_id)
        .limit(1)
    )
    top_id = db.session.scalar(
        select(TopPerformerBadge.member_id)
        .where(valid_at(now), TopPerformerBadge.member_id != mentor_id)
        .order_by(TopPerformerBadge.valid_from.desc(), TopPerformerBadge.member_id)
        .limit(1)
    )
    applicant_id = db.session.scalar(
        select(Member.id)
        .join(User, User.id == Member.user_id)
        .where(Member.status == "applicant", User.email.like(f"%@{BULK_DOMAIN}"))
        .order_by(Member.id)
        .limit(1)
    )
    users = {
        email: db.session.scalar(select(Member.user_id).where(Member.id == member_id))
        for email, member_id in (
            (MENTOR_EMAIL, mentor_id),
            (MENTEE_EMAIL, mentee_id),
            (TOP_PERFORMER_EMAIL, top_id),
            (APPLICANT_EMAIL, applicant_id),
        )
        if member_id is not None
    }
    business = db.session.scalar(
        select(Customer.user_id)
        .join(User, User.id == Customer.user_id)
        .where(Customer.kind == "business", User.email.like(f"%@{BULK_DOMAIN}"))
        .order_by(Customer.id)
        .limit(1)
    )
    if business is not None:
        users[BUSINESS_EMAIL] = business
    for email, user_id in users.items():
        db.session.execute(update(User).where(User.id == user_id).values(email=email))
    db.session.flush()


def credentials() -> str:
    """The demo accounts that exist and their password, for the summary."""
    present = set(
        db.session.scalars(
            select(User.email).where(User.email.in_([ADMIN_EMAIL, *CM_EMAILS, *PICKED_EMAILS]))
        )
    )
    roles = [
        ("admin", ADMIN_EMAIL),
        ("community managers", ", ".join(e for e in CM_EMAILS if e in present)),
        ("customer (person)", CUSTOMER_EMAIL),
        ("business customer", BUSINESS_EMAIL if BUSINESS_EMAIL in present else ""),
        ("business (CH)", SWISS_BUSINESS_EMAIL if SWISS_BUSINESS_EMAIL in present else ""),
        ("member", MEMBER_EMAIL),
        ("mentor", MENTOR_EMAIL if MENTOR_EMAIL in present else ""),
        ("mentee", MENTEE_EMAIL if MENTEE_EMAIL in present else ""),
        ("top performer", TOP_PERFORMER_EMAIL if TOP_PERFORMER_EMAIL in present else ""),
        ("applicant", APPLICANT_EMAIL if APPLICANT_EMAIL in present else ""),
    ]
    return "\n".join(
        [
            f"Demo accounts (password {DEMO_PASSWORD}; sign in with POST /api/v1/auth/tokens):",
            *(f"  {role:<19} {email}" for role, email in roles if email),
            "Console (/console): the admin and the community managers sign in with the same "
            "password and set up",
            "  two-factor at their first sign-in: scan the QR code with an authenticator app (or "
            "type in the secret shown;",
            "  without an app: python -c \"import pyotp; print(pyotp.TOTP('SECRET').now())\"); "
            "the ten recovery codes are shown once.",
        ]
    )
