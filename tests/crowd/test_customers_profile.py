"""A customer's own profile: read, change, and what they may not change."""

import pytest

from tests.factories import make_actor

URL = "/api/v1/me/customer"
PROBLEM = "application/problem+json"


def _field_errors(response) -> dict:
    assert response.status_code == 422, response.json
    assert response.content_type == PROBLEM
    return response.json["errors"]["json"]


def test_customer_reads_own_profile(client, customer):
    response = client.get(URL, headers=customer.headers)
    assert response.status_code == 200
    assert response.json["id"] == customer.profile_id
    assert response.json["user_id"] == customer.user_id
    assert response.json["kind"] == "person"
    assert response.json["addresses"] == []


def test_profile_without_token_is_401(client):
    response = client.get(URL)
    assert response.status_code == 401
    assert response.content_type == PROBLEM


def test_profile_with_bad_token_is_401(client):
    response = client.get(URL, headers={"Authorization": "Bearer crs_nonsense"})
    assert response.status_code == 401


@pytest.mark.parametrize("role", ["member", "community_manager", "admin"])
def test_profile_is_for_customers_only(client, role):
    actor = make_actor(role)
    assert client.get(URL, headers=actor.headers).status_code == 403
    response = client.patch(URL, json={"display_name": "X"}, headers=actor.headers)
    assert response.status_code == 403
    assert response.content_type == PROBLEM


def test_customer_changes_name_phone_and_company(client, customer):
    changes = {"display_name": "  Anna Berg ", "phone": "+49 30 1234567", "company_name": "Berg IT"}
    response = client.patch(URL, json=changes, headers=customer.headers)
    assert response.status_code == 200
    again = client.get(URL, headers=customer.headers).json
    assert again["display_name"] == "Anna Berg"
    assert again["phone"] == "+49 30 1234567"
    assert again["company_name"] == "Berg IT"


def test_patch_changes_only_the_fields_sent(client, customer):
    client.patch(URL, json={"phone": "030 999"}, headers=customer.headers)
    before = client.get(URL, headers=customer.headers).json
    client.patch(URL, json={"display_name": "Neu"}, headers=customer.headers)
    after = client.get(URL, headers=customer.headers).json
    assert after["phone"] == "030 999"
    assert after["display_name"] == "Neu"
    assert after["kind"] == before["kind"]


def test_phone_can_be_cleared_with_null(client, customer):
    client.patch(URL, json={"phone": "030 999"}, headers=customer.headers)
    response = client.patch(URL, json={"phone": None}, headers=customer.headers)
    assert response.status_code == 200
    assert client.get(URL, headers=customer.headers).json["phone"] is None


def test_becoming_a_business_needs_a_company_name(client, customer):
    errors = _field_errors(client.patch(URL, json={"kind": "business"}, headers=customer.headers))
    assert "company_name" in errors
    assert client.get(URL, headers=customer.headers).json["kind"] == "person"


def test_becoming_a_business_with_company_name(client, customer):
    body = {"kind": "business", "company_name": "Berg GmbH"}
    response = client.patch(URL, json=body, headers=customer.headers)
    assert response.status_code == 200
    profile = client.get(URL, headers=customer.headers).json
    assert profile["kind"] == "business"
    assert profile["company_name"] == "Berg GmbH"


def test_business_cannot_drop_its_company_name(client):
    business = make_actor("customer", kind="business", company_name="Acme AG")
    for value in (None, "   "):
        response = client.patch(URL, json={"company_name": value}, headers=business.headers)
        assert "company_name" in _field_errors(response)
    assert client.get(URL, headers=business.headers).json["company_name"] == "Acme AG"


@pytest.mark.parametrize("field", ["user_id", "id", "email", "created_at"])
def test_fields_outside_the_contract_are_422(client, customer, field):
    response = client.patch(URL, json={field: 99}, headers=customer.headers)
    assert field in _field_errors(response)
    assert client.get(URL, headers=customer.headers).json["user_id"] == customer.user_id


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("display_name", ""),
        ("display_name", "   "),
        ("display_name", "x" * 121),
        ("display_name", None),
        ("kind", "robot"),
        ("phone", "call me"),
        ("phone", "1" * 41),
        ("company_name", "x" * 201),
    ],
)
def test_invalid_profile_values_are_422_naming_the_field(client, customer, field, value):
    response = client.patch(URL, json={field: value}, headers=customer.headers)
    assert field in _field_errors(response)


def test_customer_cannot_change_another_customers_profile(client, customer, other_customer):
    client.patch(URL, json={"display_name": "Mine"}, headers=customer.headers)
    theirs = client.get(URL, headers=other_customer.headers).json
    assert theirs["id"] == other_customer.profile_id
    assert theirs["display_name"] != "Mine"


def test_renaming_the_profile_renames_the_account(client, customer):
    response = client.patch(
        "/api/v1/me/customer", json={"display_name": "Neu"}, headers=customer.headers
    )
    assert response.status_code == 200
    assert client.get("/api/v1/me", headers=customer.headers).json["display_name"] == "Neu"
