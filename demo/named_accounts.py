"""The named demo accounts: admin, community managers, the demo member and customer."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import click
from sqlalchemy import func, select

from accounts import service as accounts
from accounts.models import User
from crowd.core.errors import DomainError
from crowd.extensions import db
from demo.draws import category_by_slug, city_named, pick_address, pick_phone
from demo.plans import BULK_DOMAIN, CustomerPlan, MemberPlan, plan_member
from registration import service as registration

DEMO_PASSWORD = "crowd-demo-2026"
ADMIN_EMAIL = "admin@crowd.example"
CM_EMAILS = ("cm1@crowd.example", "cm2@crowd.example")
CUSTOMER_EMAIL = "kunde@crowd.example"
MEMBER_EMAIL = "mitglied@crowd.example"


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
            User.email.in_([*CM_EMAILS, CUSTOMER_EMAIL, MEMBER_EMAIL])
            | User.email.like(f"%@{BULK_DOMAIN}")
        )
    )
    if found:
        raise click.ClickException(
            f"found {found} demo users but no {ADMIN_EMAIL}: an earlier seed-demo was "
            "interrupted; start from an empty database (e.g. delete instance/crowd.db)"
        )


def credentials() -> str:
    """The demo accounts and their password, for the summary."""
    return "\n".join(
        [
            f"Demo accounts (password {DEMO_PASSWORD}; sign in with POST /api/v1/auth/tokens):",
            f"  admin               {ADMIN_EMAIL}",
            f"  community managers  {', '.join(CM_EMAILS)}",
            f"  customer            {CUSTOMER_EMAIL}",
            f"  member              {MEMBER_EMAIL}",
        ]
    )
