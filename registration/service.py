"""Sign-up: an account with its customer profile, or with a member profile as an applicant.

This package sits above the ones it composes (accounts, customers, members, onboarding,
recruitment), so none of them needs to know about the others for a registration.
"""

from __future__ import annotations

from accounts.models import User
from accounts.service import new_user
from crowd.core.i18n import locale_for_country
from crowd.extensions import db
from customers.models import Customer
from members.models import Member, MemberStats, MemberStatusChange
from onboarding.applications.lifecycle import opened
from onboarding.models import Application
from recruitment import intake as recruitment_intake


def register_customer(
    *,
    email: str,
    password: str,
    display_name: str,
    kind: str = "person",
    company_name: str | None = None,
    phone: str | None = None,
    locale: str | None = None,
) -> User:
    """A customer signs up: a user and a customer profile. The language is the one the
    sign-up asked for (Accept-Language), else not chosen (the default, German)."""
    user = new_user(
        email=email,
        password=password,
        role="customer",
        display_name=display_name,
        company_name=company_name,
        locale=locale,
    )
    db.session.add(
        Customer(
            user_id=user.id,
            kind=kind,
            display_name=user.display_name,
            company_name=company_name,
            phone=phone,
        )
    )
    return user


def register_member(
    *,
    email: str,
    password: str,
    display_name: str,
    kind: str,
    phone: str | None = None,
    postcode: str | None = None,
    city: str | None = None,
    country: str | None = None,
    referral_code: str | None = None,
    source_code: str | None = None,
    device_id: str | None = None,
    locale: str | None = None,
) -> User:
    """A would-be crowd member signs up as an applicant; onboarding makes them active.

    A referral code, a recruitment channel's code and the app's device id are recorded by
    recruitment.intake (unknown or inactive codes: 422 naming the field). The language is
    the one the sign-up asked for (Accept-Language), else German for a DACH address.
    """
    intake = recruitment_intake.resolve(referral_code=referral_code, source_code=source_code)
    user = new_user(
        email=email,
        password=password,
        role="member",
        display_name=display_name,
        locale=locale or locale_for_country(country),
    )
    member = Member(
        user_id=user.id,
        kind=kind,
        display_name=user.display_name,
        phone=phone,
        postcode=postcode,
        city=city,
        country=country,
        status="applicant",
    )
    db.session.add(member)
    db.session.flush()
    db.session.add(MemberStats(member_id=member.id))
    db.session.add(
        MemberStatusChange(
            member_id=member.id,
            from_status=None,
            to_status="applicant",
            reason="registered",
            changed_by_id=user.id,
        )
    )
    # The application's checklist starts at once (GET /api/v1/me/onboarding).
    application = Application(member_id=member.id, number=1)
    db.session.add(application)
    db.session.flush()
    opened(application, actor=user.id)
    recruitment_intake.record(
        intake, member=member, email=user.email, application=application, device_id=device_id
    )
    return user
