"""Commission plans over HTTP: admins write, staff read, a member reads their own plan."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crowd.core.db import utcnow
from payouts.plans import grant_perk

PLANS = "/api/v1/plans"
MY_PLAN = "/api/v1/me/plan"

FLAT = {
    "code": "flat29",
    "name": "Flat 29 € a month",
    "kind": "flat_fee",
    "percent_bp": 0,
    "monthly_fee_amount": 2_900,
    "fee_currency": "EUR",
}


def _assign_url(member_id: int) -> str:
    return f"/api/v1/members/{member_id}/plan"


def _plans_url(member_id: int) -> str:
    return f"/api/v1/members/{member_id}/plans"


@pytest.fixture
def flat_plan(client, admin):
    response = client.post(PLANS, json=FLAT, headers=admin.headers)
    assert response.status_code == 201, response.json
    return response.json


# --- plans ----------------------------------------------------------------------------------


def test_admin_creates_a_flat_fee_plan(client, admin):
    response = client.post(PLANS, json=FLAT, headers=admin.headers)
    assert response.status_code == 201
    assert response.json | {"created_at": None} == {
        **FLAT,
        "fixed_fee_amount": None,
        "active": True,
        "created_at": None,
    }


@pytest.mark.parametrize(
    "body",
    [
        {"code": "p15", "name": "Pro 15 %", "kind": "percentage", "percent_bp": 1_500},
        {
            "code": "fix-chf",
            "name": "CHF 5 per job",
            "kind": "fixed_fee",
            "fixed_fee_amount": 500,
            "fee_currency": "CHF",
        },
    ],
)
def test_admin_creates_percentage_and_fixed_fee_plans(client, admin, body):
    response = client.post(PLANS, json=body, headers=admin.headers)
    assert response.status_code == 201
    assert {k: response.json[k] for k in body} == body


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"kind": "percentage"}, "monthly_fee_amount"),
        ({"monthly_fee_amount": None}, "monthly_fee_amount"),
        ({"fee_currency": None}, "fee_currency"),
        ({"fee_currency": "USD"}, "fee_currency"),
        ({"fixed_fee_amount": 100}, "fixed_fee_amount"),
        ({"percent_bp": 10_001}, "percent_bp"),
        ({"percent_bp": 12.5}, "percent_bp"),
        ({"monthly_fee_amount": 0}, "monthly_fee_amount"),
        ({"monthly_fee_amount": "29"}, "monthly_fee_amount"),
        ({"code": "Flat 29"}, "code"),
        ({"name": "   "}, "name"),
        ({"kind": "barter"}, "kind"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_an_inconsistent_plan_gets_422_naming_the_field(client, admin, changes, field):
    body = {k: v for k, v in {**FLAT, **changes}.items() if v is not None}
    response = client.post(PLANS, json=body, headers=admin.headers)
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]


def test_a_percentage_plan_needs_its_percentage_and_a_fixed_fee_none(client, admin):
    body = {"code": "p", "name": "P", "kind": "percentage"}
    response = client.post(PLANS, json=body, headers=admin.headers)
    assert response.json["errors"]["json"] == {"percent_bp": ["required for a percentage plan"]}
    body = {**body, "kind": "fixed_fee", "fixed_fee_amount": 5, "fee_currency": "EUR"}
    response = client.post(PLANS, json={**body, "percent_bp": 100}, headers=admin.headers)
    assert "percent_bp" in response.json["errors"]["json"]


def test_the_standard_plan_is_a_percentage(client, admin):
    response = client.post(PLANS, json={**FLAT, "code": "standard"}, headers=admin.headers)
    assert response.status_code == 422
    assert "kind" in response.json["errors"]["json"]


def test_a_taken_code_gets_409(client, admin, flat_plan):
    response = client.post(PLANS, json=FLAT, headers=admin.headers)
    assert response.status_code == 409
    assert response.json["type"] == "https://crowd.example/problems/plan-exists"


def test_creating_a_plan_replays_with_the_same_idempotency_key(client, admin):
    headers = {**admin.headers, "Idempotency-Key": "plan-1"}
    first = client.post(PLANS, json=FLAT, headers=headers)
    again = client.post(PLANS, json=FLAT, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    other = client.post(PLANS, json={**FLAT, "code": "flat30"}, headers=headers)
    assert other.status_code == 422


def test_staff_list_plans_and_members_may_not(client, admin, cm, member, flat_plan):
    assert client.get(PLANS).status_code == 401
    assert client.get(PLANS, headers=member.headers).status_code == 403
    response = client.get(PLANS, headers=cm.headers)
    assert response.status_code == 200
    # The default ladder's reduced plans are stored by the migration.
    codes = ["expert-10", "flat29", "senior-15", "standard"]
    assert [p["code"] for p in response.json] == codes
    inactive = client.get(PLANS, query_string={"active": "false"}, headers=cm.headers)
    assert inactive.json == []


def test_the_standard_plan_is_listed_before_it_is_stored(client, admin, member):
    """Every member starts on the standard plan: GET /plans never answers without it."""
    listed = {p["code"]: p for p in client.get(PLANS, headers=admin.headers).json}
    assert set(listed) == {"standard", "senior-15", "expert-10"}
    standard = listed["standard"]
    assert (standard["code"], standard["kind"], standard["percent_bp"]) == (
        "standard",
        "percentage",
        2_000,
    )
    assert (standard["active"], standard["created_at"]) == (True, None)
    active = client.get(PLANS, query_string={"active": "true"}, headers=admin.headers)
    assert [p["code"] for p in active.json] == ["expert-10", "senior-15", "standard"]
    own = client.get(MY_PLAN, headers=member.headers)
    assert own.status_code == 200, own.get_json()
    assert own.json["plan"]["code"] == "standard"


def test_the_listed_standard_plan_can_be_renamed_but_not_switched_off(client, admin):
    renamed = client.patch(f"{PLANS}/standard", json={"name": "Standard"}, headers=admin.headers)
    assert renamed.status_code == 200, renamed.get_json()
    assert renamed.json["created_at"] is not None
    off = client.patch(f"{PLANS}/standard", json={"active": False}, headers=admin.headers)
    assert off.status_code == 409
    listed = {p["code"]: p for p in client.get(PLANS, headers=admin.headers).json}
    stored = listed["standard"]
    assert (stored["name"], stored["active"]) == ("Standard", True)


@pytest.mark.parametrize("role", ["cm", "member", "customer"])
def test_only_admins_write_plans(client, request, flat_plan, role):
    actor = request.getfixturevalue(role)
    assert client.post(PLANS, json=FLAT, headers=actor.headers).status_code == 403
    patch = client.patch(f"{PLANS}/flat29", json={"name": "x"}, headers=actor.headers)
    assert patch.status_code == 403


def test_admin_renames_and_deactivates_a_plan(client, admin, flat_plan):
    response = client.patch(
        f"{PLANS}/flat29", json={"name": "Flat (old)", "active": False}, headers=admin.headers
    )
    assert response.status_code == 200
    assert (response.json["name"], response.json["active"]) == ("Flat (old)", False)
    assert response.json["monthly_fee_amount"] == 2_900


def test_amounts_of_an_unused_plan_may_change(client, admin, flat_plan):
    response = client.patch(
        f"{PLANS}/flat29", json={"monthly_fee_amount": 3_900}, headers=admin.headers
    )
    assert response.status_code == 200
    assert response.json["monthly_fee_amount"] == 3_900
    response = client.patch(
        f"{PLANS}/flat29",
        json={"kind": "percentage", "percent_bp": 1_000},
        headers=admin.headers,
    )
    assert response.status_code == 200
    assert (response.json["kind"], response.json["monthly_fee_amount"]) == ("percentage", None)


def test_amounts_of_a_plan_in_use_are_immutable(client, admin, member, flat_plan):
    client.post(_assign_url(member.profile_id), json={"plan_code": "flat29"}, headers=admin.headers)
    response = client.patch(
        f"{PLANS}/flat29", json={"monthly_fee_amount": 3_900}, headers=admin.headers
    )
    assert response.status_code == 409
    assert response.json["state"] == "in_use"
    rename = client.patch(f"{PLANS}/flat29", json={"name": "Flat"}, headers=admin.headers)
    assert rename.status_code == 200


def test_the_standard_plan_keeps_its_amounts_and_stays_active(client, admin):
    body = {"code": "standard", "name": "Standard", "kind": "percentage", "percent_bp": 2_000}
    assert client.post(PLANS, json=body, headers=admin.headers).status_code == 201
    for change in ({"percent_bp": 1_000}, {"active": False}):
        response = client.patch(f"{PLANS}/standard", json=change, headers=admin.headers)
        assert response.status_code == 409


def test_patching_an_unknown_plan_gets_404(client, admin):
    assert client.patch(f"{PLANS}/nope", json={}, headers=admin.headers).status_code == 404


# --- assignments ----------------------------------------------------------------------------


def test_admin_puts_a_member_on_a_plan(client, admin, member, flat_plan):
    start = (utcnow() + timedelta(days=1)).replace(microsecond=0)
    response = client.post(
        _assign_url(member.profile_id),
        json={"plan_code": "flat29", "effective_from": start.isoformat()},
        headers={**admin.headers, "Idempotency-Key": "assign-1"},
    )
    assert response.status_code == 201
    assert response.json["plan"]["code"] == "flat29"
    assert response.json["effective_to"] is None
    replay = client.post(
        _assign_url(member.profile_id),
        json={"plan_code": "flat29", "effective_from": start.isoformat()},
        headers={**admin.headers, "Idempotency-Key": "assign-1"},
    )
    assert replay.status_code == 201 and replay.json["id"] == response.json["id"]
    again = client.post(
        _assign_url(member.profile_id),
        json={"plan_code": "flat29", "effective_from": start.isoformat()},
        headers=admin.headers,
    )
    assert again.status_code == 409
    assert again.json["state"] == "overlap"


@pytest.mark.parametrize(
    "body, status, field",
    [
        ({"plan_code": "nope"}, 422, "plan_code"),
        ({}, 422, "plan_code"),
        ({"plan_code": "flat29", "effective_from": "2020-01-01T00:00:00+00:00"}, 422, None),
        ({"plan_code": "flat29", "effective_from": "2099-01-01T00:00:00"}, 422, None),
    ],
)
def test_bad_assignments_get_422(client, admin, member, flat_plan, body, status, field):
    response = client.post(_assign_url(member.profile_id), json=body, headers=admin.headers)
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    if field:
        assert field in response.json["errors"]["json"]


def test_assigning_to_a_member_that_does_not_exist_gets_404(client, admin, flat_plan):
    response = client.post(
        _assign_url(999_999), json={"plan_code": "flat29"}, headers=admin.headers
    )
    assert response.status_code == 404


def test_only_admins_assign_plans(client, cm, member, flat_plan):
    body = {"plan_code": "flat29"}
    assert client.post(_assign_url(member.profile_id), json=body).status_code == 401
    for actor in (cm, member):
        response = client.post(_assign_url(member.profile_id), json=body, headers=actor.headers)
        assert response.status_code == 403


def test_a_member_and_staff_read_the_members_plans(client, admin, cm, member, flat_plan):
    client.post(_assign_url(member.profile_id), json={"plan_code": "flat29"}, headers=admin.headers)
    for actor in (member, cm, admin):
        response = client.get(_plans_url(member.profile_id), headers=actor.headers)
        assert response.status_code == 200
        assert response.json["plan"]["code"] == "flat29"
        assert [a["plan"]["code"] for a in response.json["assignments"]] == ["flat29"]


def test_another_members_plans_are_not_found(client, member, other_member, customer):
    response = client.get(_plans_url(other_member.profile_id), headers=member.headers)
    assert response.status_code == 404
    assert client.get(_plans_url(member.profile_id), headers=customer.headers).status_code == 403
    assert client.get(_plans_url(member.profile_id)).status_code == 401


# --- my plan --------------------------------------------------------------------------------


def test_a_member_sees_the_standard_plan_and_what_a_100_job_costs(client, member):
    response = client.get(MY_PLAN, headers=member.headers)
    assert response.status_code == 200
    assert response.json["plan"]["code"] == "standard"
    assert response.json["perk"] is None
    assert [(e["currency"], e["amount"], e["earning"]) for e in response.json["examples"]] == [
        ("EUR", 2_000, 8_000),
        ("CHF", 2_000, 8_000),
    ]


def test_my_plan_shows_a_perk_and_its_lower_commission(client, member):
    grant_perk(member_id=member.profile_id, discount_bp=500, reason="elite", valid_from=utcnow())
    response = client.get(MY_PLAN, headers=member.headers)
    assert response.json["perk"]["reason"] == "elite"
    assert response.json["examples"][0]["amount"] == 1_500
    assert response.json["examples"][0]["breakdown"]["discount_bp"] == 500


def test_my_plan_on_a_flat_fee(client, admin, member, flat_plan):
    client.post(_assign_url(member.profile_id), json={"plan_code": "flat29"}, headers=admin.headers)
    response = client.get(MY_PLAN, headers=member.headers)
    assert response.json["plan"]["monthly_fee_amount"] == 2_900
    assert response.json["examples"][0]["amount"] == 0


def test_only_members_have_a_plan_of_their_own(client, admin, customer):
    assert client.get(MY_PLAN).status_code == 401
    assert client.get(MY_PLAN, headers=customer.headers).status_code == 403
    assert client.get(MY_PLAN, headers=admin.headers).status_code == 403
