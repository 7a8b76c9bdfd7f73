"""Skill catalogue, a member's own profile and who may see which profile."""

import pytest

from crowd.extensions import db
from members.models import Member
from tests.factories import make_actor

ME = "/api/v1/me/member"


def _problem(response, status):
    assert response.status_code == status, response.json
    assert response.mimetype == "application/problem+json"
    return response.json


# --- catalogue ------------------------------------------------------------------------------


def test_skill_catalogue_is_public_and_lists_categories_with_skills(client):
    response = client.get("/api/v1/skills")
    assert response.status_code == 200
    assert "max-age" in response.headers["Cache-Control"]
    categories = {c["slug"]: c for c in response.json["items"]}
    appliances = categories["household_appliances"]
    assert appliances["name_de"] == "Haushaltsgeräte"
    assert appliances["requires_verification"] is True
    assert categories["tv_audio"]["requires_verification"] is False
    skills = {s["slug"]: s for s in appliances["skills"]}
    assert skills["washing_machine_install"] == {
        "slug": "washing_machine_install",
        "name": "Washing machine installation",
        "service": "installation",
    }


# --- own profile ----------------------------------------------------------------------------


def test_own_profile_needs_a_token(client):
    body = _problem(client.get(ME), 401)
    assert body["status"] == 401


@pytest.mark.parametrize("role", ["customer", "community_manager", "admin"])
def test_own_profile_is_for_members_only(client, role):
    actor = make_actor(role)
    _problem(client.get(ME, headers=actor.headers), 403)
    _problem(client.patch(ME, json={"bio": "x"}, headers=actor.headers), 403)


def test_new_member_sees_own_profile_with_empty_stats(client, member):
    response = client.get(ME, headers=member.headers)
    assert response.status_code == 200
    profile = response.json
    assert profile["id"] == member.profile_id
    assert profile["user_id"] == member.user_id
    assert profile["status"] == "applicant"
    assert profile["level_rank"] == 0
    assert profile["skills"] == [] and profile["availability"] == []
    assert profile["stats"] == {
        "jobs_completed": 0,
        "acceptance_rate": None,
        "cancellation_rate": None,
        "average_rating": None,
        "rating_count": 0,
        "median_response_seconds": None,
        "jobs_disputed": 0,
        "disputes_lost": 0,
    }


def test_own_profile_shows_counters_kept_by_events(client, member):
    from members import service

    service.record_job_completed(member.profile_id)
    service.record_rating(member.profile_id, stars=4)
    service.record_offer_answered(member.profile_id, accepted=True, response_seconds=90)
    db.session.commit()
    stats = client.get(ME, headers=member.headers).json["stats"]
    assert stats["jobs_completed"] == 1
    assert stats["average_rating"] == 4.0
    assert stats["acceptance_rate"] == 1.0
    assert stats["median_response_seconds"] == 90


def test_member_updates_own_profile_and_reads_it_back(client, member):
    changes = {
        "display_name": "Jana Techniker",
        "phone": "+49 30 1234567",
        "bio": "Installing TVs since 2010.",
        "business_name": "Jana's TV Service",
        "kind": "professional",
        "lat": 52.52,
        "lon": 13.405,
        "postcode": "10115",
        "city": "Berlin",
        "country": "DE",
        "service_radius_km": 40,
        "max_concurrent_jobs": 5,
    }
    response = client.patch(ME, json=changes, headers=member.headers)
    assert response.status_code == 200, response.json
    profile = client.get(ME, headers=member.headers).json
    assert {k: profile[k] for k in changes} == changes


def test_partial_update_leaves_other_fields_alone(client):
    member = make_actor("member", city="Wien", country="AT", postcode="1010")
    response = client.patch(ME, json={"bio": "Smart home nerd"}, headers=member.headers)
    assert response.status_code == 200
    assert response.json["bio"] == "Smart home nerd"
    assert (response.json["city"], response.json["postcode"]) == ("Wien", "1010")


def test_empty_optional_text_clears_it(client, member):
    client.patch(ME, json={"phone": "+41 44 000000"}, headers=member.headers)
    response = client.patch(ME, json={"phone": "  "}, headers=member.headers)
    assert response.json["phone"] is None


def test_member_cannot_set_own_status_field(client, member):
    body = _problem(client.patch(ME, json={"status": "active"}, headers=member.headers), 422)
    assert "status" in body["errors"]["json"]
    assert client.get(ME, headers=member.headers).json["status"] == "applicant"


@pytest.mark.parametrize(
    "field, value",
    [
        ("level_rank", 5),
        ("stats", {"jobs_completed": 100}),
        ("verified", True),
        ("status_changed_at", "2030-01-01T00:00:00Z"),
        ("user_id", 1),
        ("id", 1),
    ],
)
def test_member_cannot_set_protected_fields(client, member, field, value):
    body = _problem(client.patch(ME, json={field: value}, headers=member.headers), 422)
    assert field in body["errors"]["json"]
    profile = db.session.get(Member, member.profile_id)
    assert (profile.level_rank, profile.stats.jobs_completed) == (0, 0)


@pytest.mark.parametrize(
    "field, value",
    [
        ("service_radius_km", 0),
        ("service_radius_km", 201),
        ("service_radius_km", "25"),
        ("max_concurrent_jobs", 0),
        ("max_concurrent_jobs", 21),
        ("country", "FR"),
        ("kind", "robot"),
        ("display_name", "   "),
        ("postcode", "ABCDE"),
        ("postcode", "123"),
        ("lat", 91),
    ],
)
def test_out_of_range_profile_values_are_422_naming_the_field(client, member, field, value):
    payload = {field: value}
    if field == "lat":
        payload["lon"] = 10.0
    body = _problem(client.patch(ME, json=payload, headers=member.headers), 422)
    assert field in body["errors"]["json"]


def test_capacity_bounds_are_accepted(client, member):
    payload = {"service_radius_km": 200, "max_concurrent_jobs": 1}
    response = client.patch(ME, json=payload, headers=member.headers)
    assert response.status_code == 200
    assert response.json["service_radius_km"] == 200


def test_lat_without_lon_is_rejected(client, member):
    body = _problem(client.patch(ME, json={"lat": 48.2}, headers=member.headers), 422)
    assert "lon" in body["errors"]["json"]


@pytest.mark.parametrize("country, postcode", [("DE", "10115"), ("AT", "1010"), ("CH", "8001")])
def test_postcode_fitting_the_country_is_accepted(client, member, country, postcode):
    payload = {"country": country, "postcode": postcode}
    response = client.patch(ME, json=payload, headers=member.headers)
    assert response.status_code == 200, response.json


@pytest.mark.parametrize("country, postcode", [("DE", "1010"), ("AT", "10115"), ("CH", "80010")])
def test_postcode_not_fitting_the_country_is_422_naming_postcode(client, member, country, postcode):
    payload = {"country": country, "postcode": postcode}
    body = _problem(client.patch(ME, json=payload, headers=member.headers), 422)
    assert "postcode" in body["errors"]["json"]


def test_changing_country_checks_the_stored_postcode(client):
    member = make_actor("member", country="DE", postcode="10115")
    body = _problem(client.patch(ME, json={"country": "AT"}, headers=member.headers), 422)
    assert "country" in body["errors"]["json"]
    assert client.get(ME, headers=member.headers).json["country"] == "DE"


def test_postcode_without_any_country_is_422_naming_country(client, member):
    body = _problem(client.patch(ME, json={"postcode": "10115"}, headers=member.headers), 422)
    assert "country" in body["errors"]["json"]


# --- profile by id --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["community_manager", "admin"])
def test_staff_see_any_member_profile(client, member, role):
    staff = make_actor(role)
    response = client.get(f"/api/v1/members/{member.profile_id}", headers=staff.headers)
    assert response.status_code == 200
    assert response.json["id"] == member.profile_id
    assert "stats" in response.json


def test_member_sees_own_profile_by_id(client, member):
    response = client.get(f"/api/v1/members/{member.profile_id}", headers=member.headers)
    assert response.status_code == 200


def test_member_gets_404_for_another_members_profile(client, member, other_member):
    url = f"/api/v1/members/{other_member.profile_id}"
    _problem(client.get(url, headers=member.headers), 404)


def test_customer_gets_403_for_member_profiles(client, customer, member):
    _problem(client.get(f"/api/v1/members/{member.profile_id}", headers=customer.headers), 403)


def test_profile_by_id_needs_a_token(client, member):
    _problem(client.get(f"/api/v1/members/{member.profile_id}"), 401)


def test_unknown_member_is_404(client, cm):
    _problem(client.get("/api/v1/members/999999", headers=cm.headers), 404)
