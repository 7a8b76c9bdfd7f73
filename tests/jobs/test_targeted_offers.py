"""Staff offer a job to one member they chose (POST /staff/jobs/{id}/offers): the rules of any
wave, never twice, first accept wins; and the near misses matching lists with their reasons."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crowd.extensions import db
from jobs.models import Job, JobEvent, Offer
from members.models import Member
from tests.factories import make_actor
from tests.jobs.conftest import active_member, drain_background, post_job_via_api

STAFF_JOBS = "/api/v1/staff/jobs"


def escalated_job(app, client, customer) -> int:
    """A job nobody could take at posting: escalated at once (no member has the skill yet)."""
    response = post_job_via_api(client, customer)
    assert response.status_code == 201, response.get_json()
    drain_background(app)
    job_id = response.get_json()["id"]
    job = db.session.get(Job, job_id)
    assert job.escalated_at is not None and job.status == "open"
    return job_id


def offer(client, cm, job_id: int, member_id: int):
    return client.post(
        f"{STAFF_JOBS}/{job_id}/offers", json={"member_id": member_id}, headers=cm.headers
    )


def fresh_job(job_id: int) -> Job:
    return db.session.execute(
        select(Job).where(Job.id == job_id).execution_options(populate_existing=True)
    ).scalar_one()


def test_a_cm_offers_an_escalated_job_to_a_chosen_member_who_accepts(app, client, customer, cm):
    job_id = escalated_job(app, client, customer)
    chosen = active_member()

    response = offer(client, cm, job_id, chosen.profile_id)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "offered" and body["escalated_at"] is None
    assert [o["member_id"] for o in body["offers"]] == [chosen.profile_id]
    job = fresh_job(job_id)
    assert (job.status, job.escalated_at, job.wave) == ("offered", None, 1)
    event = db.session.scalars(
        select(JobEvent).where(JobEvent.job_id == job_id, JobEvent.action == "offer")
    ).one()
    assert (event.actor, event.actor_user_id) == ("staff", cm.user_id)
    assert event.detail["member_ids"] == [chosen.profile_id]
    # The member sees it like any offer, and the first accept wins it.
    mine = client.get("/api/v1/me/offers", headers=chosen.headers).get_json()["items"]
    assert [o["job"]["id"] for o in mine] == [job_id]
    accepted = client.post(f"/api/v1/offers/{mine[0]['id']}/accept", headers=chosen.headers)
    assert accepted.status_code == 200, accepted.get_json()
    assert fresh_job(job_id).assigned_member_id == chosen.profile_id


def test_an_ineligible_member_is_refused_with_every_reason(app, client, customer, cm):
    job_id = escalated_job(app, client, customer)
    far = active_member(lat=48.14, lon=11.58, level_rank=1)  # Munich: 500 km away

    response = offer(client, cm, job_id, far.profile_id)

    assert response.status_code == 422
    problems = response.get_json()["errors"]["json"]["member_id"]
    assert any("beyond the service radius" in p for p in problems)
    assert db.session.scalar(select(func.count()).where(Offer.job_id == job_id)) == 0
    job = fresh_job(job_id)
    assert job.escalated_at is not None and job.status == "open"


def test_a_member_is_never_offered_a_job_twice(app, client, customer, cm):
    job_id = escalated_job(app, client, customer)
    chosen = active_member()
    assert offer(client, cm, job_id, chosen.profile_id).status_code == 201

    again = offer(client, cm, job_id, chosen.profile_id)

    assert again.status_code == 409
    assert again.get_json()["type"].endswith("/already-offered")
    assert again.get_json()["state"] == "pending"


def test_an_assigned_job_cannot_be_offered(app, client, customer, cm):
    job_id = escalated_job(app, client, customer)
    first, second = active_member(), active_member()
    assigned = client.post(
        f"{STAFF_JOBS}/{job_id}/assign", json={"member_id": first.profile_id}, headers=cm.headers
    )
    assert assigned.status_code == 200, assigned.get_json()

    response = offer(client, cm, job_id, second.profile_id)

    assert response.status_code == 409
    assert response.get_json()["state"] == "assigned"


def test_unknown_job_is_404_and_unknown_member_422(app, client, customer, cm):
    assert offer(client, cm, 424242, 1).status_code == 404
    job_id = escalated_job(app, client, customer)
    response = offer(client, cm, job_id, 424242)
    assert response.status_code == 422
    assert "member_id" in response.get_json()["errors"]["json"]


@pytest.mark.parametrize("role", ["customer", "member"])
def test_parties_cannot_offer_jobs(app, client, customer, role):
    job_id = escalated_job(app, client, customer)
    chosen = active_member()
    response = offer(client, make_actor(role), job_id, chosen.profile_id)
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).where(Offer.job_id == job_id)) == 0


# --- near misses ---------------------------------------------------------------------------


def test_near_misses_list_members_with_the_skill_who_may_not_take_the_job(
    app, client, customer, cm
):
    job_id = escalated_job(app, client, customer)
    eligible = active_member()
    paused = active_member()
    db.session.get(Member, paused.profile_id).status = "paused"
    db.session.commit()
    far = active_member(lat=52.40, lon=12.55, radius_km=30)  # Brandenburg an der Havel
    active_member(skills=("router_config",))  # another skill: not a near miss

    response = client.get(f"/api/v1/jobs/{job_id}/candidates/ineligible", headers=cm.headers)

    assert response.status_code == 200, response.get_json()
    items = {i["member_id"]: i for i in response.get_json()["items"]}
    assert set(items) == {paused.profile_id, far.profile_id}
    assert eligible.profile_id not in items
    assert any("beyond the service radius" in p for p in items[far.profile_id]["problems"])
    # The same words as the one-member explanation.
    explained = client.get(
        f"/api/v1/jobs/{job_id}/candidates/{paused.profile_id}/eligibility",
        headers=cm.headers,
    ).get_json()
    assert items[paused.profile_id]["problems"] == explained["problems"]


def test_near_misses_are_for_staff_only(app, client, customer):
    job_id = escalated_job(app, client, customer)
    response = client.get(f"/api/v1/jobs/{job_id}/candidates/ineligible", headers=customer.headers)
    assert response.status_code == 403
