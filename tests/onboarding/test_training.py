"""Training modules: the catalogue, members completing them, staff recording and withdrawing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from crowd.core.db import utcnow
from crowd.extensions import db
from members.models import Member, MemberSkill, MemberStats
from onboarding.models import LevelChange, MemberLevel, TrainingCompletion
from tests.jobs.conftest import active_member

MODULES = "/api/v1/training-modules"
MY_TRAINING = "/api/v1/me/training"


def module_body(code="customer-care", **overrides) -> dict:
    body = {
        "code": code,
        "title": "Talking to customers",
        "description": "Arriving, explaining, leaving on good terms.",
        "duration_minutes": 45,
    }
    return body | overrides


def create_module(client, staff, code="customer-care", **overrides) -> dict:
    response = client.post(MODULES, json=module_body(code, **overrides), headers=staff.headers)
    assert response.status_code == 201, response.json
    return response.json


def complete(client, actor, code):
    return client.post(f"{MY_TRAINING}/{code}/complete", headers=actor.headers)


def record_url(actor, code) -> str:
    return f"/api/v1/members/{actor.profile_id}/training/{code}"


def problem(response, status) -> dict:
    assert response.status_code == status, response.json
    assert response.mimetype == "application/problem+json"
    return response.json


# --- the catalogue --------------------------------------------------------------------------


def test_staff_create_a_module(client, cm):
    body = create_module(client, cm, category="smart_home", completion_mode="self_paced")

    assert body["code"] == "customer-care"
    assert body["category"] == "smart_home"
    assert body["completion_mode"] == "self_paced"
    assert body["active"] is True
    assert body["completed_at"] is None


def test_completion_mode_defaults_to_self_paced_and_category_to_none(client, admin):
    body = create_module(client, admin)
    assert (body["completion_mode"], body["category"]) == ("self_paced", None)


def test_a_code_in_use_is_409(client, cm):
    create_module(client, cm)
    response = client.post(MODULES, json=module_body(), headers=cm.headers)
    assert problem(response, 409)["state"] == "exists"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("code", "Not A Slug"),
        ("duration_minutes", 0),
        ("duration_minutes", 2401),
        ("completion_mode", "webinar"),
        ("title", " "),
        ("category", "no_such_category"),
        ("surprise", True),
    ],
)
def test_invalid_module_fields_are_422_naming_the_field(client, cm, field, value):
    response = client.post(MODULES, json=module_body(**{field: value}), headers=cm.headers)
    assert field in problem(response, 422)["errors"]["json"]


def test_only_staff_create_modules(client, member, customer):
    problem(client.post(MODULES, json=module_body()), 401)
    for actor in (member, customer):
        problem(client.post(MODULES, json=module_body(), headers=actor.headers), 403)


def test_staff_update_and_deactivate_a_module(client, cm):
    create_module(client, cm)

    response = client.patch(
        f"{MODULES}/customer-care",
        json={"title": "Customer care", "duration_minutes": 60, "active": False},
        headers=cm.headers,
    )

    assert response.status_code == 200, response.json
    assert response.json["title"] == "Customer care"
    assert response.json["duration_minutes"] == 60
    assert response.json["active"] is False


def test_updating_an_unknown_module_is_404_and_members_may_not(client, cm, member):
    problem(client.patch(f"{MODULES}/nope", json={"title": "x"}, headers=cm.headers), 404)
    create_module(client, cm)
    url = f"{MODULES}/customer-care"
    problem(client.patch(url, json={"title": "x"}, headers=member.headers), 403)
    problem(client.patch(url, json={"code": "renamed"}, headers=cm.headers), 422)


def test_staff_list_every_module_and_filter(client, cm):
    create_module(client, cm, "b-safety", category="household_appliances")
    create_module(client, cm, "a-comms")
    client.patch(f"{MODULES}/a-comms", json={"active": False}, headers=cm.headers)

    every = client.get(MODULES, headers=cm.headers).json
    inactive = client.get(f"{MODULES}?active=false", headers=cm.headers).json
    household = client.get(f"{MODULES}?category=household_appliances", headers=cm.headers).json

    assert [m["code"] for m in every["items"]] == ["a-comms", "b-safety"]
    assert every["page"]["total"] == 2
    assert [m["code"] for m in inactive["items"]] == ["a-comms"]
    assert [m["code"] for m in household["items"]] == ["b-safety"]


def test_listing_pages_through_the_catalogue(client, cm):
    for code in ("m1", "m2", "m3"):
        create_module(client, cm, code)

    first = client.get(f"{MODULES}?limit=2", headers=cm.headers).json
    second = client.get(
        f"{MODULES}?limit=2&cursor={first['page']['next_cursor']}", headers=cm.headers
    ).json

    assert [m["code"] for m in first["items"]] == ["m1", "m2"]
    assert [m["code"] for m in second["items"]] == ["m3"]


def test_an_unknown_category_filter_is_422(client, cm):
    response = client.get(f"{MODULES}?category=nope", headers=cm.headers)
    assert "category" in problem(response, 422)["errors"]["query"]


def test_members_see_active_modules_with_their_completion(client, cm):
    create_module(client, cm, "a-comms")
    create_module(client, cm, "b-app")
    create_module(client, cm, "c-old")
    client.patch(f"{MODULES}/c-old", json={"active": False}, headers=cm.headers)
    actor = active_member()
    done = complete(client, actor, "a-comms").json

    listed = client.get(f"{MODULES}?active=false", headers=actor.headers).json

    by_code = {m["code"]: m for m in listed["items"]}
    assert list(by_code) == ["a-comms", "b-app"]
    assert by_code["a-comms"]["completed_at"] == done["completed_at"]
    assert by_code["b-app"]["completed_at"] is None


def test_the_catalogue_needs_a_member_or_staff(client, customer):
    problem(client.get(MODULES), 401)
    problem(client.get(MODULES, headers=customer.headers), 403)


# --- members completing modules -------------------------------------------------------------


def test_member_completes_a_self_paced_module(client, cm):
    create_module(client, cm)
    actor = active_member()

    response = complete(client, actor, "customer-care")

    assert response.status_code == 200, response.json
    body = response.json
    assert body["member_id"] == actor.profile_id
    assert body["module"] == "customer-care"
    assert body["recorded_by_id"] == actor.user_id
    assert body["counts"] is True
    assert body["completed_at"] is not None
    assert body["level_change"] is None


def test_completing_twice_keeps_the_first_completion(client, cm):
    create_module(client, cm)
    actor = active_member()

    first = complete(client, actor, "customer-care").json
    again = complete(client, actor, "customer-care")

    assert again.status_code == 200
    assert again.json["completed_at"] == first["completed_at"]
    rows = db.session.scalars(
        select(TrainingCompletion).where(TrainingCompletion.member_id == actor.profile_id)
    ).all()
    assert len(rows) == 1


def test_attended_modules_cannot_be_self_completed(client, cm):
    create_module(client, cm, "wallbox-rules", completion_mode="attended")
    actor = active_member()

    assert problem(complete(client, actor, "wallbox-rules"), 409)["state"] == "attended_only"


def test_unknown_or_inactive_modules_are_not_found(client, cm):
    create_module(client, cm)
    client.patch(f"{MODULES}/customer-care", json={"active": False}, headers=cm.headers)
    actor = active_member()

    problem(complete(client, actor, "customer-care"), 404)
    problem(complete(client, actor, "nope"), 404)


def test_applicants_may_train_during_onboarding(client, cm, member):
    create_module(client, cm)
    assert complete(client, member, "customer-care").status_code == 200


@pytest.mark.parametrize("status", ["suspended", "offboarded"])
def test_suspended_or_offboarded_members_cannot_train(client, cm, status):
    create_module(client, cm)
    actor = active_member()
    db.session.get(Member, actor.profile_id).status = status
    db.session.commit()

    assert problem(complete(client, actor, "customer-care"), 409)["state"] == status


def test_completing_is_for_members(client, cm, customer):
    create_module(client, cm)
    problem(client.post(f"{MY_TRAINING}/customer-care/complete"), 401)
    for actor in (customer, cm):
        problem(complete(client, actor, "customer-care"), 403)


def test_member_lists_their_completions(client, cm):
    create_module(client, cm, "a-comms")
    create_module(client, cm, "b-app")
    actor = active_member()
    complete(client, actor, "b-app")

    body = client.get(MY_TRAINING, headers=actor.headers).json

    assert [c["module"] for c in body["items"]] == ["b-app"]
    assert body["page"]["total"] == 1


def test_completions_of_a_member_are_for_staff_and_the_member_only(client, cm, other_member):
    create_module(client, cm)
    actor = active_member()
    complete(client, actor, "customer-care")
    url = f"/api/v1/members/{actor.profile_id}/training"

    assert [c["module"] for c in client.get(url, headers=cm.headers).json["items"]] == [
        "customer-care"
    ]
    assert client.get(url, headers=actor.headers).status_code == 200
    problem(client.get(url, headers=other_member.headers), 404)
    problem(client.get("/api/v1/members/999999/training", headers=cm.headers), 404)


# --- staff recording attendance -------------------------------------------------------------


def test_staff_record_an_attended_module(client, cm):
    create_module(client, cm, "wallbox-rules", completion_mode="attended")
    actor = active_member()

    response = client.post(record_url(actor, "wallbox-rules"), headers=cm.headers)

    assert response.status_code == 200, response.json
    assert response.json["recorded_by_id"] == cm.user_id
    again = client.post(record_url(actor, "wallbox-rules"), headers=cm.headers)
    assert again.json["completed_at"] == response.json["completed_at"]


def test_recording_needs_staff_and_a_known_member_and_active_module(client, cm, member):
    create_module(client, cm)
    actor = active_member()
    problem(client.post(record_url(actor, "customer-care"), headers=member.headers), 403)
    problem(client.post(record_url(actor, "customer-care"), headers=actor.headers), 403)
    problem(client.post("/api/v1/members/999999/training/customer-care", headers=cm.headers), 404)
    problem(client.post(record_url(actor, "nope"), headers=cm.headers), 404)


def test_staff_withdraw_a_wrongly_recorded_completion(client, cm):
    create_module(client, cm)
    actor = active_member()
    client.post(record_url(actor, "customer-care"), headers=cm.headers)

    response = client.delete(record_url(actor, "customer-care"), headers=cm.headers)

    assert response.status_code == 204
    assert client.get(MY_TRAINING, headers=actor.headers).json["items"] == []
    problem(client.delete(record_url(actor, "customer-care"), headers=cm.headers), 404)
    problem(client.delete(record_url(actor, "customer-care"), headers=actor.headers), 403)


# --- training and levels --------------------------------------------------------------------


def test_only_active_modules_count_towards_levels(client, cm):
    create_module(client, cm, "a-comms")
    create_module(client, cm, "b-app")
    actor = active_member()
    complete(client, actor, "a-comms")
    complete(client, actor, "b-app")

    assert (
        client.get("/api/v1/me/level", headers=actor.headers).json["metrics"]["training_modules"]
        == 2
    )
    client.patch(f"{MODULES}/b-app", json={"active": False}, headers=cm.headers)
    listed = client.get(MY_TRAINING, headers=actor.headers).json["items"]
    assert {c["module"]: c["counts"] for c in listed} == {"a-comms": True, "b-app": False}
    assert (
        client.get("/api/v1/me/level", headers=actor.headers).json["metrics"]["training_modules"]
        == 1
    )


def almost_senior() -> object:
    """A Member (rank 2) who meets every Senior requirement but the second training module."""
    actor = active_member(level_rank=2, skills=("tv_wall_mount", "soundbar_install"))
    stats = db.session.get(MemberStats, actor.profile_id)
    stats.jobs_completed, stats.rating_count, stats.rating_sum = 60, 30, 141  # 4.7 stars
    stats.offers_accepted, stats.offers_declined = 60, 10
    db.session.execute(
        MemberSkill.__table__.update()
        .where(MemberSkill.member_id == actor.profile_id)
        .values(verified=True)
    )
    now = utcnow()
    db.session.add(
        MemberLevel(
            member_id=actor.profile_id,
            active_since=now - timedelta(days=200),
            level_since=now - timedelta(days=100),
        )
    )
    db.session.commit()
    return actor


def test_a_completion_that_meets_the_next_level_promotes_at_once(client, cm):
    create_module(client, cm, "a-comms")
    create_module(client, cm, "b-app")
    actor = almost_senior()
    assert complete(client, actor, "a-comms").json["level_change"] is None

    response = complete(client, actor, "b-app")

    assert response.status_code == 200, response.json
    assert response.json["level_change"]["to_rank"] == 3
    assert response.json["level_change"]["to_code"] == "senior"
    assert db.session.get(Member, actor.profile_id).level_rank == 3
    change = db.session.scalar(select(LevelChange).where(LevelChange.member_id == actor.profile_id))
    assert change.cause == "event" and change.detail == "training.completed:b-app"


def test_recorded_attendance_promotes_too(client, cm):
    create_module(client, cm, "a-comms")
    create_module(client, cm, "wallbox-rules", completion_mode="attended")
    actor = almost_senior()
    complete(client, actor, "a-comms")

    response = client.post(record_url(actor, "wallbox-rules"), headers=cm.headers)

    assert response.json["level_change"]["to_code"] == "senior"
