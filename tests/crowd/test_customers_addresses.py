"""Service addresses: validation, ownership, the one-default rule, the cap and idempotency."""

import pytest

from customers.service import MAX_ADDRESSES
from tests.factories import make_actor

URL = "/api/v1/me/customer/addresses"
PROBLEM = "application/problem+json"


def _address(**overrides) -> dict:
    body = {
        "label": "Home",
        "street": "Torstraße 1",
        "postcode": "10119",
        "city": "Berlin",
        "country": "DE",
        "lat": 52.529,
        "lon": 13.401,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def _add(client, actor, **overrides) -> dict:
    response = client.post(URL, json=_address(**overrides), headers=actor.headers)
    assert response.status_code == 201, response.json
    return response.json


def _listed(client, actor) -> list[dict]:
    response = client.get(URL, headers=actor.headers)
    assert response.status_code == 200
    return response.json["items"]


def _defaults(client, actor) -> list[int]:
    return [a["id"] for a in _listed(client, actor) if a["is_default"]]


def _field_errors(response) -> dict:
    assert response.status_code == 422, response.json
    assert response.content_type == PROBLEM
    return response.json["errors"]["json"]


# --- create and read ---------------------------------------------------------------------------


def test_customer_adds_an_address(client, customer):
    created = _add(client, customer, notes="Bell: Berg")
    assert created["label"] == "Home"
    assert created["postcode"] == "10119"
    assert created["notes"] == "Bell: Berg"
    fetched = client.get(f"{URL}/{created['id']}", headers=customer.headers)
    assert fetched.status_code == 200
    assert fetched.json == created
    assert _listed(client, customer) == [created]


def test_profile_includes_the_addresses(client, customer):
    created = _add(client, customer)
    profile = client.get("/api/v1/me/customer", headers=customer.headers).json
    assert [a["id"] for a in profile["addresses"]] == [created["id"]]


@pytest.mark.parametrize(("country", "postcode"), [("DE", "80331"), ("AT", "1010"), ("CH", "8001")])
def test_postcode_formats_of_each_country_are_accepted(client, customer, country, postcode):
    assert _add(client, customer, country=country, postcode=postcode)["postcode"] == postcode


@pytest.mark.parametrize(
    ("country", "postcode"),
    [("DE", "1010"), ("DE", "1234a"), ("AT", "10119"), ("CH", "80010"), ("AT", "ABCD")],
)
def test_postcode_not_of_the_country_is_422(client, customer, country, postcode):
    response = client.post(
        URL, json=_address(country=country, postcode=postcode), headers=customer.headers
    )
    assert "postcode" in _field_errors(response)
    assert _listed(client, customer) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lat", 90.5),
        ("lat", -91),
        ("lon", 180.01),
        ("lon", "east"),
        ("lat", None),
        ("lat", ...),
        ("lon", ...),
        ("country", "FR"),
        ("country", ...),
        ("label", ""),
        ("label", ...),
        ("street", "   "),
        ("city", ...),
        ("postcode", ...),
        ("notes", "x" * 501),
    ],
)
def test_invalid_or_missing_address_field_is_422(client, customer, field, value):
    response = client.post(URL, json=_address(**{field: value}), headers=customer.headers)
    assert field in _field_errors(response)


def test_all_invalid_fields_are_named_at_once(client, customer):
    body = _address(label="", country="AT", postcode="10119")
    errors = _field_errors(client.post(URL, json=body, headers=customer.headers))
    assert {"label", "postcode"} <= set(errors)


def test_unknown_address_field_is_422(client, customer):
    response = client.post(URL, json=_address(customer_id=1), headers=customer.headers)
    assert "customer_id" in _field_errors(response)


def test_addresses_need_a_customer_token(client, member):
    assert client.get(URL).status_code == 401
    assert client.post(URL, json=_address()).status_code == 401
    response = client.post(URL, json=_address(), headers=member.headers)
    assert response.status_code == 403
    assert response.content_type == PROBLEM
    assert client.get(URL, headers=make_actor("community_manager").headers).status_code == 403


def test_other_customers_address_is_404(client, customer, other_customer):
    theirs = _add(client, other_customer)
    path = f"{URL}/{theirs['id']}"
    for response in (
        client.get(path, headers=customer.headers),
        client.patch(path, json={"label": "Mine"}, headers=customer.headers),
        client.delete(path, headers=customer.headers),
    ):
        assert response.status_code == 404
        assert response.content_type == PROBLEM
    assert client.get(path, headers=other_customer.headers).json == theirs
    assert _listed(client, customer) == []


def test_missing_address_is_404(client, customer):
    assert client.get(f"{URL}/999999", headers=customer.headers).status_code == 404


# --- change and delete -------------------------------------------------------------------------


def test_customer_changes_an_address(client, customer):
    created = _add(client, customer, notes="old")
    changes = {"label": "Office", "street": "Ring 2", "notes": None}
    response = client.patch(f"{URL}/{created['id']}", json=changes, headers=customer.headers)
    assert response.status_code == 200
    fetched = client.get(f"{URL}/{created['id']}", headers=customer.headers).json
    assert (fetched["label"], fetched["street"], fetched["notes"]) == ("Office", "Ring 2", None)
    assert fetched["postcode"] == created["postcode"]


def test_changing_country_checks_the_stored_postcode(client, customer):
    created = _add(client, customer)  # DE, five digits
    path = f"{URL}/{created['id']}"
    response = client.patch(path, json={"country": "AT"}, headers=customer.headers)
    assert "postcode" in _field_errors(response)
    response = client.patch(path, json={"postcode": "1010"}, headers=customer.headers)
    assert "postcode" in _field_errors(response)
    body = {"country": "AT", "postcode": "1010", "city": "Wien"}
    assert client.patch(path, json=body, headers=customer.headers).status_code == 200
    assert client.get(path, headers=customer.headers).json["country"] == "AT"


@pytest.mark.parametrize(
    ("field", "value"), [("lat", 100), ("label", None), ("customer_id", 2), ("is_default", "x")]
)
def test_invalid_address_change_is_422(client, customer, field, value):
    created = _add(client, customer)
    response = client.patch(f"{URL}/{created['id']}", json={field: value}, headers=customer.headers)
    assert field in _field_errors(response)


def test_customer_deletes_an_address(client, customer):
    created = _add(client, customer)
    response = client.delete(f"{URL}/{created['id']}", headers=customer.headers)
    assert response.status_code == 204
    assert client.get(f"{URL}/{created['id']}", headers=customer.headers).status_code == 404
    assert _listed(client, customer) == []


# --- the one default ---------------------------------------------------------------------------


def test_first_address_becomes_default(client, customer):
    first = _add(client, customer, is_default=False)
    second = _add(client, customer, label="Office")
    assert first["is_default"] is True
    assert second["is_default"] is False
    assert _defaults(client, customer) == [first["id"]]


def test_new_default_address_clears_the_old_one(client, customer):
    first = _add(client, customer)
    second = _add(client, customer, label="Office", is_default=True)
    assert second["is_default"] is True
    assert _defaults(client, customer) == [second["id"]]
    assert client.get(f"{URL}/{first['id']}", headers=customer.headers).json["is_default"] is False


def test_setting_default_on_an_address_moves_it(client, customer):
    first = _add(client, customer)
    second = _add(client, customer, label="Office")
    third = _add(client, customer, label="Cottage")
    path = f"{URL}/{third['id']}"
    assert client.patch(path, json={"is_default": True}, headers=customer.headers).json[
        "is_default"
    ]
    assert _defaults(client, customer) == [third["id"]]
    client.patch(f"{URL}/{second['id']}", json={"is_default": True}, headers=customer.headers)
    assert _defaults(client, customer) == [second["id"]]
    assert first["id"] not in _defaults(client, customer)


def test_unsetting_the_default_is_422(client, customer):
    first = _add(client, customer)
    _add(client, customer, label="Office")
    response = client.patch(
        f"{URL}/{first['id']}", json={"is_default": False}, headers=customer.headers
    )
    assert "is_default" in _field_errors(response)
    assert _defaults(client, customer) == [first["id"]]


def test_is_default_false_on_other_address_changes_nothing(client, customer):
    first = _add(client, customer)
    second = _add(client, customer, label="Office")
    response = client.patch(
        f"{URL}/{second['id']}", json={"is_default": False}, headers=customer.headers
    )
    assert response.status_code == 200
    assert _defaults(client, customer) == [first["id"]]


def test_deleting_the_default_promotes_the_oldest_remaining(client, customer):
    first = _add(client, customer)
    second = _add(client, customer, label="Office")
    third = _add(client, customer, label="Cottage", is_default=True)
    client.delete(f"{URL}/{third['id']}", headers=customer.headers)
    assert _defaults(client, customer) == [first["id"]]
    client.delete(f"{URL}/{first['id']}", headers=customer.headers)
    assert _defaults(client, customer) == [second["id"]]


def test_deleting_a_non_default_keeps_the_default(client, customer):
    first = _add(client, customer)
    second = _add(client, customer, label="Office")
    client.delete(f"{URL}/{second['id']}", headers=customer.headers)
    assert _defaults(client, customer) == [first["id"]]


def test_deleting_the_last_address_leaves_none(client, customer):
    only = _add(client, customer)
    client.delete(f"{URL}/{only['id']}", headers=customer.headers)
    assert _listed(client, customer) == []
    assert _add(client, customer, label="Again")["is_default"] is True


def test_defaults_of_customers_are_independent(client, customer, other_customer):
    mine = _add(client, customer)
    theirs = _add(client, other_customer)
    _add(client, other_customer, label="Office", is_default=True)
    assert _defaults(client, customer) == [mine["id"]]
    assert theirs["id"] not in _defaults(client, other_customer)


# --- cap ---------------------------------------------------------------------------------------


def test_address_beyond_the_cap_is_409(client, customer):
    for n in range(MAX_ADDRESSES):
        _add(client, customer, label=f"Place {n}")
    response = client.post(URL, json=_address(label="One too many"), headers=customer.headers)
    assert response.status_code == 409
    assert response.content_type == PROBLEM
    assert response.json["type"] == "https://crowd.example/problems/address-limit-reached"
    assert len(_listed(client, customer)) == MAX_ADDRESSES
    # Deleting one makes room again.
    client.delete(f"{URL}/{_listed(client, customer)[0]['id']}", headers=customer.headers)
    assert client.post(URL, json=_address(), headers=customer.headers).status_code == 201


# --- idempotency -------------------------------------------------------------------------------


def test_address_creation_replays_with_the_same_key(client, customer):
    headers = {**customer.headers, "Idempotency-Key": "addr-1"}
    first = client.post(URL, json=_address(), headers=headers)
    again = client.post(URL, json=_address(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json["id"] == first.json["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(_listed(client, customer)) == 1


def test_same_key_with_another_body_is_422(client, customer):
    headers = {**customer.headers, "Idempotency-Key": "addr-2"}
    client.post(URL, json=_address(), headers=headers)
    response = client.post(URL, json=_address(label="Office"), headers=headers)
    assert response.status_code == 422
    assert response.content_type == PROBLEM
    assert "Idempotency-Key" in response.json["errors"]["headers"]
    assert [a["label"] for a in _listed(client, customer)] == ["Home"]


def test_idempotency_keys_are_per_customer(client, customer, other_customer):
    mine = client.post(
        URL, json=_address(), headers={**customer.headers, "Idempotency-Key": "shared"}
    )
    theirs = client.post(
        URL, json=_address(), headers={**other_customer.headers, "Idempotency-Key": "shared"}
    )
    assert theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.json["id"] != mine.json["id"]
    assert len(_listed(client, other_customer)) == 1


def test_failed_creation_can_be_retried_with_the_same_key(client, customer):
    headers = {**customer.headers, "Idempotency-Key": "addr-3"}
    bad = client.post(URL, json=_address(postcode="1"), headers=headers)
    assert bad.status_code == 422
    good = client.post(URL, json=_address(), headers=headers)
    assert good.status_code == 201
    assert "Idempotent-Replayed" not in good.headers


def test_database_refuses_a_second_default_address(db_session, customer):
    import pytest
    from sqlalchemy.exc import IntegrityError

    from customers.models import CustomerAddress

    fields = dict(
        label="x",
        street="Hauptstraße 1",
        postcode="10115",
        city="Berlin",
        country="DE",
        lat=52.5,
        lon=13.4,
        customer_id=customer.profile_id,
    )
    db_session.add(CustomerAddress(is_default=True, **fields))
    db_session.flush()
    db_session.add(CustomerAddress(is_default=True, **fields))
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()
