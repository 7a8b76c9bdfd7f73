"""Staff views of customers: the filtered, paginated list and one customer with addresses."""

import pytest

from tests.factories import make_actor

URL = "/api/v1/customers"
PROBLEM = "application/problem+json"


def _address(client, actor, country, postcode):
    body = {
        "label": "Site",
        "street": "Hauptstraße 1",
        "postcode": postcode,
        "city": "Somewhere",
        "country": country,
        "lat": 47.5,
        "lon": 9.5,
    }
    response = client.post("/api/v1/me/customer/addresses", json=body, headers=actor.headers)
    assert response.status_code == 201, response.json
    return response.json


def _ids(client, staff, **params) -> list[int]:
    response = client.get(URL, query_string=params, headers=staff.headers)
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


@pytest.fixture
def people():
    """Four customers with distinct names, kinds and countries."""
    return {
        "anna": make_actor("customer", display_name="Anna Schmidt"),
        "acme": make_actor(
            "customer", display_name="Bernd", kind="business", company_name="SCHMIDT & Söhne"
        ),
        "carla": make_actor("customer", display_name="Carla Saxwell 100%"),
        "dora": make_actor("customer", display_name="Dora_Wien", kind="business", company_name="D"),
    }


# --- list --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["community_manager", "admin"])
def test_staff_list_customers(client, people, role):
    staff = make_actor(role)
    response = client.get(URL, headers=staff.headers)
    assert response.status_code == 200
    assert {c["id"] for c in response.json["items"]} == {a.profile_id for a in people.values()}
    assert response.json["page"]["total"] == 4
    assert "addresses" not in response.json["items"][0]


def test_customer_list_is_staff_only(client, customer, member):
    assert client.get(URL).status_code == 401
    for actor in (customer, member):
        response = client.get(URL, headers=actor.headers)
        assert response.status_code == 403
        assert response.content_type == PROBLEM


def test_filter_q_matches_name_or_company_case_insensitively(client, cm, people):
    found = _ids(client, cm, q="schmidt")
    assert sorted(found) == sorted([people["anna"].profile_id, people["acme"].profile_id])
    # Non-ASCII case folding depends on the database (SQLite folds ASCII only).
    assert _ids(client, cm, q="söhne") == [people["acme"].profile_id]


def test_filter_q_takes_wildcards_literally(client, cm, people):
    # As wildcards, "a_w" would also match "Saxwell".
    assert _ids(client, cm, q="%") == [people["carla"].profile_id]
    assert _ids(client, cm, q="a_w") == [people["dora"].profile_id]


def test_filter_by_kind(client, cm, people):
    found = _ids(client, cm, kind="business")
    assert sorted(found) == sorted([people["acme"].profile_id, people["dora"].profile_id])


def test_filter_by_country_of_any_address(client, cm, people):
    _address(client, people["anna"], "DE", "10115")
    _address(client, people["anna"], "AT", "1010")
    _address(client, people["dora"], "AT", "1020")
    _address(client, people["carla"], "CH", "8001")
    found = _ids(client, cm, country="AT")
    assert sorted(found) == sorted([people["anna"].profile_id, people["dora"].profile_id])
    assert _ids(client, cm, country="DE") == [people["anna"].profile_id]


def test_filters_combine(client, cm, people):
    _address(client, people["acme"], "CH", "3000")
    _address(client, people["anna"], "CH", "3001")
    assert _ids(client, cm, q="schmidt", kind="business", country="CH") == [
        people["acme"].profile_id
    ]
    assert _ids(client, cm, q="nobody") == []


def test_list_pages_with_cursor(client, cm, people):
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get(URL, query_string=params, headers=cm.headers).json
        assert page["page"]["total"] == 4
        assert page["page"]["limit"] == 3
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["page"]["next_cursor"]
        if cursor is None:
            break
    assert pages == 2
    assert seen == sorted(a.profile_id for a in people.values())


def test_filtered_list_pages_keep_the_filter(client, cm, people):
    first = client.get(URL, query_string={"kind": "business", "limit": 1}, headers=cm.headers)
    cursor = first.json["page"]["next_cursor"]
    second = client.get(
        URL, query_string={"kind": "business", "limit": 1, "cursor": cursor}, headers=cm.headers
    )
    assert first.json["page"]["total"] == second.json["page"]["total"] == 2
    ids = [first.json["items"][0]["id"], second.json["items"][0]["id"]]
    assert ids == [people["acme"].profile_id, people["dora"].profile_id]
    assert second.json["page"]["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kind": "robot"}, "kind"),
        ({"country": "FR"}, "country"),
        ({"limit": 0}, "limit"),
        ({"q": ""}, "q"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
def test_invalid_list_query_is_422(client, cm, params, field):
    response = client.get(URL, query_string=params, headers=cm.headers)
    assert response.status_code == 422
    assert response.content_type == PROBLEM
    assert field in response.json["errors"]["query"]


# --- one customer ------------------------------------------------------------------------------


def test_staff_see_a_customer_with_addresses(client, cm, admin, customer):
    address = _address(client, customer, "DE", "50667")
    for staff in (cm, admin):
        response = client.get(f"{URL}/{customer.profile_id}", headers=staff.headers)
        assert response.status_code == 200
        assert response.json["id"] == customer.profile_id
        assert response.json["user_id"] == customer.user_id
        assert [a["id"] for a in response.json["addresses"]] == [address["id"]]


def test_customer_sees_themself(client, customer):
    response = client.get(f"{URL}/{customer.profile_id}", headers=customer.headers)
    assert response.status_code == 200
    assert response.json["id"] == customer.profile_id


def test_other_customer_is_404(client, customer, other_customer):
    response = client.get(f"{URL}/{other_customer.profile_id}", headers=customer.headers)
    assert response.status_code == 404
    assert response.content_type == PROBLEM


def test_member_cannot_see_a_customer(client, member, customer):
    response = client.get(f"{URL}/{customer.profile_id}", headers=member.headers)
    assert response.status_code == 403
    assert response.content_type == PROBLEM


def test_unknown_customer_is_404(client, cm):
    assert client.get(f"{URL}/999999", headers=cm.headers).status_code == 404


def test_customer_detail_needs_a_token(client, customer):
    assert client.get(f"{URL}/{customer.profile_id}").status_code == 401
