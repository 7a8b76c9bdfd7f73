"""Helpers for the invoicing tests: billing particulars through the API, documents read back."""

from __future__ import annotations

from sqlalchemy import select

from crowd.core.db import commit
from crowd.extensions import db
from customers.models import Customer
from invoicing.models import Document
from tests.factories import Actor

GERMAN_ADDRESS = {"street": "Unter den Linden 1", "postcode": "10117", "city": "Berlin"}


def set_customer_profile(client, customer: Actor, *, country: str, vat_id, **fields) -> dict:
    """The customer's billing profile; one with a VAT ID is a business customer."""
    if vat_id:
        db.session.get(Customer, customer.profile_id).kind = "business"
        commit()
    body = {
        "legal_name": fields.pop("legal_name", "Erika Mustermann"),
        **GERMAN_ADDRESS,
        "country": country,
        "vat_id": vat_id,
        **fields,
    }
    response = client.put("/api/v1/me/billing-profile", json=body, headers=customer.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def set_member_profile(client, member: Actor, *, small_business: bool, vat_id, **fields) -> dict:
    body = {
        "legal_name": fields.pop("legal_name", "Max Monteur"),
        **GERMAN_ADDRESS,
        "country": "DE",
        "vat_id": vat_id,
        "small_business": small_business,
        **fields,
    }
    response = client.put("/api/v1/me/billing-profile", json=body, headers=member.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def agree_to_self_billing(client, member: Actor) -> None:
    current = client.get("/api/v1/me/onboarding/self-billing", headers=member.headers)
    assert current.status_code == 200, current.get_json()
    response = client.put(
        "/api/v1/me/onboarding/self-billing",
        json={"agreed": True, "text_version": current.get_json()["text"]["version"]},
        headers=member.headers,
    )
    assert response.status_code == 200, response.get_json()


def use_model(client, admin: Actor, model: str) -> None:
    """Admins switch the invoicing model (PATCH /api/v1/settings), as operations would."""
    response = client.patch(
        "/api/v1/settings", json={"INVOICING_MODEL": model}, headers=admin.headers
    )
    assert response.status_code == 200, response.get_json()


def documents_of(*, kind: str | None = None) -> list[Document]:
    commit()
    query = select(Document).order_by(Document.id)
    if kind:
        query = query.where(Document.kind == kind)
    return list(db.session.scalars(query))
