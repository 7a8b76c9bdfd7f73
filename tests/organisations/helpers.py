"""Shared steps of the provider company tests: a company registered and activated, an
invitation sent and its link read from the email outbox."""

from __future__ import annotations

import re

from sqlalchemy import select

from crowd.extensions import db
from notifications.models import OutboundEmail
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


def activate(client, staff: Actor, organisation_id: int) -> dict:
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
