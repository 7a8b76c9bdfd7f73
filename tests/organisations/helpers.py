"""Shared steps of the provider company tests: a company registered and activated, an
invitation sent and its link read from the email outbox."""

from __future__ import annotations

import re

from sqlalchemy import select

from crowd.core.db import utcnow
from crowd.core.files.models import INSURANCE_CERTIFICATE, StoredFile
from crowd.extensions import db
from members.models import Member
from notifications.models import OutboundEmail
from organisations import checks
from organisations.models import Organisation, OrganisationMembership
from tests.factories import Actor
from tests.jobs.conftest import drain_background

API = "/api/v1"
OWN = f"{API}/me/organisation"
PROBLEM = "application/problem+json"
COMPANY = {
    "legal_name": "Elektro Huber GmbH",
    "trade_name": "Huber Elektro",
    "street": "Werkstraße 5",
    "postcode": "80331",
    "city": "München",
    "country": "DE",
    "vat_id": "DE136695976",
    "register_court": "Amtsgericht München",
    "register_number": "HRB 123456",
}
TOKEN = re.compile(r"token=(coi_[A-Za-z0-9_\-]+)")


def register(client, owner: Actor, **changes) -> dict:
    response = client.post(f"{API}/organisations", json=COMPANY | changes, headers=owner.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def pass_checks(client, staff: Actor, organisation_id: int) -> None:
    """The company's onboarding done the short way: the owner's acceptance of the house rules
    in force and a ready insurance certificate of theirs written directly, then the staff's
    decision through the API (tests/organisations/test_company_onboarding.py goes the long
    way)."""
    organisation = db.session.get(Organisation, organisation_id, populate_existing=True)
    owner_id, owner_user_id = db.session.execute(
        select(Member.id, Member.user_id)
        .join(OrganisationMembership, OrganisationMembership.member_id == Member.id)
        .where(
            OrganisationMembership.organisation_id == organisation_id,
            OrganisationMembership.role == "owner",
            OrganisationMembership.status == "active",
        )
        .limit(1)
    ).one()
    current = checks.current_house_rules()
    if current is not None and organisation.house_rules_version != current:
        organisation.house_rules_version = current
        organisation.house_rules_accepted_at = utcnow()
        organisation.house_rules_accepted_by_id = owner_id
    if organisation.insurance_file_id is None:
        certificate = StoredFile(
            key=f"documents/test-insurance-{organisation_id}.pdf",
            owner_user_id=owner_user_id,
            purpose=INSURANCE_CERTIFICATE,
            status="ready",
            content_type="application/pdf",
            size=1,
            confirmed_at=utcnow(),
        )
        db.session.add(certificate)
        db.session.flush()
        organisation.insurance_file_id = certificate.id
    db.session.commit()
    if organisation.checks_decision != "verified":
        decided = client.post(
            f"{API}/organisations/{organisation_id}/checks/decision",
            json={"decision": "verified"},
            headers=staff.headers,
        )
        assert decided.status_code == 200, decided.get_json()


def activate(client, staff: Actor, organisation_id: int) -> dict:
    """The company's checks passed (pass_checks), then activated by `staff`."""
    pass_checks(client, staff, organisation_id)
    response = client.post(f"{API}/organisations/{organisation_id}/activate", headers=staff.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def invite(client, inviter: Actor, email: str, role: str = "technician"):
    return client.post(
        f"{OWN}/invitations", json={"email": email, "role": role}, headers=inviter.headers
    )


def invitation_emails(app, address: str) -> list[OutboundEmail]:
    """The invitation emails the offline provider kept for `address` (the outbox run first)."""
    drain_background(app)
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboundEmail)
            .where(
                OutboundEmail.to_address == address,
                OutboundEmail.dedupe_key.like("organisation.invitation:%"),
            )
            .order_by(OutboundEmail.id)
        )
    )


def token_from_email(app, address: str) -> str:
    """The token of the last invitation link emailed to `address`."""
    emails = invitation_emails(app, address)
    assert emails, f"no invitation email to {address}"
    return TOKEN.search(emails[-1].body).group(1)


def accept(client, actor: Actor, token: str):
    return client.post(
        f"{API}/organisation-invitations/accept", json={"token": token}, headers=actor.headers
    )


def company_with(client, app, cm: Actor, owner: Actor, **people: Actor) -> int:
    """A registered, activated company of `owner` with `people` ({role: actor}) joined."""
    organisation_id = register(client, owner)["id"]
    activate(client, cm, organisation_id)
    for role, actor in people.items():
        assert invite(client, owner, actor.email, role.rstrip("0123456789")).status_code == 201
        joined = accept(client, actor, token_from_email(app, actor.email))
        assert joined.status_code == 200, joined.get_json()
    return organisation_id
