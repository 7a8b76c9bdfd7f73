"""Billing profiles and self-billing for the invoicing story: a Kleinunternehmer (the demo
member, else an active private member), a VAT-registered member (the top performer, else an
active professional), a German
business customer (business@…) and a Swiss one (business-ch@…), written through the owning
packages' rules so that every number is one they accept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from accounts.models import User
from crowd.extensions import db
from customers import billing_profile as customer_billing
from customers.models import Customer, CustomerAddress
from demo.named_accounts import (
    BUSINESS_EMAIL,
    DEMO_PASSWORD,
    MEMBER_EMAIL,
    SWISS_BUSINESS_EMAIL,
    TOP_PERFORMER_EMAIL,
)
from members import billing_profile as member_billing
from members.models import Member
from onboarding.models import SelfBillingAgreement
from onboarding.self_billing import CURRENT_VERSION
from registration import service as registration

# Form-valid numbers (check digits right), made up: none is a real business's.
VAT_IDS = {"DE": "DE269543714", "AT": "ATU57194903", "CH": "CHE-107.787.577 MWST"}
TAX_NUMBERS = {"DE": "21/815/08150", "AT": "59-119/9013", "CH": "CHE-107.787.577"}
STREETS = {"DE": "Musterstraße 12", "AT": "Hauptstraße 7", "CH": "Bahnhofstrasse 21"}


def _member_of(email: str) -> Member | None:
    return db.session.scalar(
        select(Member).join(User, User.id == Member.user_id).where(User.email == email)
    )


def _first_active(kind: str, *, exclude: int) -> Member | None:
    return db.session.scalar(
        select(Member)
        .where(Member.status == "active", Member.kind == kind, Member.id != exclude)
        .order_by(Member.id)
        .limit(1)
    )


def _profile(member: Member, *, small_business: bool) -> None:
    country = member.country or "DE"
    member_billing.put(
        member.id,
        legal_name=member.business_name or member.display_name,
        street=STREETS[country],
        postcode=member.postcode or {"DE": "10117", "AT": "1010", "CH": "8001"}[country],
        city=member.city or "Berlin",
        country=country,
        vat_id=None if small_business else VAT_IDS[country],
        tax_number=TAX_NUMBERS[country],
        small_business=small_business,
    )


SWISS_NAME = "Hotel Limmatblick AG"


def _swiss_customer() -> Customer:
    """The Swiss business customer: signed up like any, with its hotel in Zürich."""
    user = registration.register_customer(
        email=SWISS_BUSINESS_EMAIL,
        password=DEMO_PASSWORD,
        display_name="Urs Brunner",
        kind="business",
        company_name=SWISS_NAME,
    )
    customer = db.session.scalar(select(Customer).where(Customer.user_id == user.id))
    db.session.add(
        CustomerAddress(
            customer_id=customer.id,
            label="Hotel",
            street="Bahnhofstrasse 21",
            postcode="8001",
            city="Zürich",
            country="CH",
            lat=47.3769,
            lon=8.5397,
            is_default=True,
        )
    )
    db.session.flush()
    return customer


def seed_billing(now: datetime) -> str:
    """The profiles and agreements above; whom the crowd lacks is left out."""
    # The history may have renamed the demo member (picked as the mentor …): then another.
    small = _member_of(MEMBER_EMAIL) or _first_active("private", exclude=0)
    registered = _member_of(TOP_PERFORMER_EMAIL)
    if registered is None or small is None or registered.id == small.id:
        registered = _first_active("professional", exclude=small.id if small else 0)
    members = [(small, True), (registered, False)]
    for member, small_business in members:
        if member is not None:
            _profile(member, small_business=small_business)
            db.session.add(
                SelfBillingAgreement(
                    member_id=member.id,
                    agreed=True,
                    text_version=CURRENT_VERSION,
                    language="de",
                    decided_at=now,
                )
            )
    german = db.session.scalar(
        select(Customer).join(User, User.id == Customer.user_id).where(User.email == BUSINESS_EMAIL)
    )
    # The Swiss customer signs up afresh (every business customer of the history has German
    # jobs billed with German VAT): its documents are those its own jobs get, with its Swiss
    # particulars (reverse charge).
    swiss = _swiss_customer()
    if german is not None:
        customer_billing.put(
            german,
            street="Friedrichstraße 100",
            postcode="10117",
            city="Berlin",
            country="DE",
            vat_id="DE811503283",
            buyer_reference="04011000-1234512345-06",
        )
    customer_billing.put(
        swiss,
        legal_name=SWISS_NAME,
        street="Bahnhofstrasse 21",
        postcode="8001",
        city="Zürich",
        country="CH",
        vat_id=VAT_IDS["CH"],
    )
    db.session.flush()
    named = sum(m is not None for m, _ in members) + (german is not None) + 1
    return f"billing profiles for {named} demo parties, self-billing agreed by the members"
