"""Offers to a provider company's technicians: the company's dispatcher sees them, accepts one
for the company and assigns an eligible technician (the job becomes the company's); a
technician accepts directly only where the company allows it; a suspended company's
technicians get no offers; a private member's accept is unchanged."""

from __future__ import annotations

from sqlalchemy import select

from crowd.extensions import db
from jobs.models import Job, Offer
from tests.factories import make_actor
from tests.jobs.conftest import (
    active_member,
    drain_background,
    force_job_state,
    notifications_for,
)
from tests.organisations.helpers import (
    API,
    OWN,
    PROBLEM,
    accept,
    company_with,
    invite,
    token_from_email,
)
from tests.payouts.job_money_helpers import post_job

WRONG_SKILL = ("router_config",)


def _offers(job_id: int) -> dict[int, Offer]:
    """The job's offers by member id, read fresh."""
    db.session.expire_all()
    return {o.member_id: o for o in db.session.scalars(select(Offer).where(Offer.job_id == job_id))}


def _job(job_id: int) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def _accept(client, actor, offer_id: int):
    return client.post(f"{API}/offers/{offer_id}/accept", headers=actor.headers)


def _dispatch(client, actor, offer_id: int, technician):
    return client.post(
        f"{OWN}/offers/{offer_id}/accept",
        json={"technician_member_id": technician.profile_id},
        headers=actor.headers,
    )


def _company(client, app, cm, **people):
    """An active company of a fresh owner with `people` ({role: actor}) joined."""
    return company_with(client, app, cm, make_actor("member"), **people)


def test_the_dispatcher_accepts_and_assigns_the_technician_with_the_skill(
    app, client, customer, cm
):
    dispatcher = make_actor("member")
    skilled, unskilled = active_member(), active_member(skills=WRONG_SKILL)
    private = active_member()
    organisation_id = _company(
        client, app, cm, dispatcher=dispatcher, technician1=skilled, technician2=unskilled
    )
    job_id = post_job(app, client, customer)

    # Offers go to members one by one: the technician with the skill and the private member.
    offers = _offers(job_id)
    assert set(offers) == {skilled.profile_id, private.profile_id}
    offer_id = offers[skilled.profile_id].id

    # The company does not allow direct accepts: its dispatcher accepts.
    refused = _accept(client, skilled, offer_id)
    assert refused.status_code == 409
    assert refused.mimetype == PROBLEM
    assert refused.get_json()["type"].endswith("/dispatcher-accepts")
    assert _offers(job_id)[skilled.profile_id].status == "pending"

    # The dispatcher sees the offer and whom it went to.
    listed = client.get(f"{OWN}/offers", headers=dispatcher.headers)
    assert listed.status_code == 200, listed.get_json()
    (item,) = listed.get_json()["items"]
    assert (item["id"], item["member_id"], item["status"]) == (
        offer_id,
        skilled.profile_id,
        "pending",
    )
    assert item["job"]["id"] == job_id and "street" not in item["job"]

    # The technician without the skill is not eligible: 422 naming the field.
    wrong = _dispatch(client, dispatcher, offer_id, unskilled)
    assert wrong.status_code == 422, wrong.get_json()
    assert "technician_member_id" in wrong.get_json()["errors"]["json"]
    assert _job(job_id).status == "offered"

    taken = _dispatch(client, dispatcher, offer_id, skilled)
    assert taken.status_code == 200, taken.get_json()
    body = taken.get_json()
    assert (body["job_id"], body["status"]) == (job_id, "assigned")
    assert (body["assigned_member_id"], body["organisation_id"]) == (
        skilled.profile_id,
        organisation_id,
    )
    job = _job(job_id)
    assert (job.assigned_member_id, job.organisation_id) == (skilled.profile_id, organisation_id)
    offers = _offers(job_id)
    assert offers[skilled.profile_id].status == "accepted"
    assert offers[private.profile_id].status == "withdrawn"

    drain_background(app)
    assert len(notifications_for(skilled.user_id, "job.assigned")) == 1
    assert len(notifications_for(customer.user_id, "job.assigned")) == 1

    # The company's jobs; the offer list is empty now; a second accept is 409.
    jobs = client.get(
        f"{OWN}/jobs", query_string={"status": "assigned"}, headers=dispatcher.headers
    )
    assert jobs.status_code == 200, jobs.get_json()
    (row,) = jobs.get_json()["items"]
    assert (row["id"], row["assigned_member_id"]) == (job_id, skilled.profile_id)
    assert row["assigned_member_display_name"]
    none = client.get(f"{OWN}/jobs", query_string={"status": "open"}, headers=dispatcher.headers)
    assert none.get_json()["items"] == []
    assert client.get(f"{OWN}/offers", headers=dispatcher.headers).get_json()["items"] == []
    again = _dispatch(client, dispatcher, offer_id, skilled)
    assert again.status_code == 409


def test_the_dispatcher_may_give_the_job_to_another_technician(app, client, customer, cm):
    """An offer sent to one technician, the job given to another (eligible, not offered it)."""
    dispatcher = make_actor("member")
    first = active_member()
    organisation_id = _company(client, app, cm, dispatcher=dispatcher, technician=first)
    job_id = post_job(app, client, customer)
    offer_id = _offers(job_id)[first.profile_id].id
    # A colleague who joins after the wave went out: eligible, holding no offer.
    second = active_member()
    assert invite(client, dispatcher, second.email).status_code == 201
    assert accept(client, second, token_from_email(app, second.email)).status_code == 200

    taken = _dispatch(client, dispatcher, offer_id, second)
    assert taken.status_code == 200, taken.get_json()
    job = _job(job_id)
    assert (job.assigned_member_id, job.organisation_id) == (second.profile_id, organisation_id)
    drain_background(app)
    assert len(notifications_for(second.user_id, "job.assigned")) == 1
    assert notifications_for(first.user_id, "job.assigned") == []


def test_a_technician_may_decline_an_offer_the_dispatcher_would_accept(app, client, customer, cm):
    technician = active_member()
    _company(client, app, cm, technician=technician)
    job_id = post_job(app, client, customer)
    offer_id = _offers(job_id)[technician.profile_id].id

    declined = client.post(
        f"{API}/offers/{offer_id}/decline", json={"reason": "too_far"}, headers=technician.headers
    )
    assert declined.status_code == 200, declined.get_json()
    assert declined.get_json()["status"] == "declined"


def test_with_direct_accept_allowed_the_technician_accepts_for_the_company(
    app, client, customer, cm
):
    owner, technician = make_actor("member"), active_member()
    organisation_id = company_with(client, app, cm, owner, technician=technician)
    allowed = client.patch(OWN, json={"allow_direct_accept": True}, headers=owner.headers)
    assert allowed.status_code == 200, allowed.get_json()
    job_id = post_job(app, client, customer)

    accepted = _accept(client, technician, _offers(job_id)[technician.profile_id].id)
    assert accepted.status_code == 200, accepted.get_json()
    job = _job(job_id)
    assert (job.assigned_member_id, job.organisation_id) == (
        technician.profile_id,
        organisation_id,
    )


def test_a_private_members_accept_is_unchanged(app, client, customer, cm):
    _company(client, app, cm, technician=active_member())
    private = active_member()
    job_id = post_job(app, client, customer)

    accepted = _accept(client, private, _offers(job_id)[private.profile_id].id)
    assert accepted.status_code == 200, accepted.get_json()
    job = _job(job_id)
    assert (job.assigned_member_id, job.organisation_id) == (private.profile_id, None)


def test_a_suspended_companys_technicians_get_no_offers(app, client, customer, cm):
    technician, private = active_member(), active_member()
    organisation_id = _company(client, app, cm, technician=technician)
    suspended = client.post(f"{API}/organisations/{organisation_id}/suspend", headers=cm.headers)
    assert suspended.status_code == 200, suspended.get_json()

    job_id = post_job(app, client, customer)

    assert set(_offers(job_id)) == {private.profile_id}
    # Nor may staff assign them without an override: the matching rule says why.
    refused = client.post(
        f"{API}/staff/jobs/{job_id}/assign",
        json={"member_id": technician.profile_id},
        headers=cm.headers,
    )
    assert refused.status_code == 422
    assert "company is suspended" in str(refused.get_json()["errors"])


def test_only_owners_and_dispatchers_dispatch(app, client, customer, cm):
    dispatcher, technician = make_actor("member"), active_member()
    _company(client, app, cm, dispatcher=dispatcher, technician=technician)
    job_id = post_job(app, client, customer)
    offer_id = _offers(job_id)[technician.profile_id].id

    for response in (
        client.get(f"{OWN}/offers", headers=technician.headers),
        client.get(f"{OWN}/jobs", headers=technician.headers),
        _dispatch(client, technician, offer_id, technician),
    ):
        assert response.status_code == 403, response.get_json()
    # A member of no company: 404.
    outsider = active_member()
    assert client.get(f"{OWN}/offers", headers=outsider.headers).status_code == 404
    assert _dispatch(client, outsider, offer_id, technician).status_code == 404


def test_another_companys_offer_is_not_found(app, client, customer, cm):
    dispatcher, technician = make_actor("member"), active_member()
    _company(client, app, cm, dispatcher=dispatcher, technician=technician)
    other_dispatcher, other_technician = make_actor("member"), active_member()
    _company(client, app, cm, dispatcher=other_dispatcher, technician=other_technician)
    private = active_member()
    job_id = post_job(app, client, customer)
    offers = _offers(job_id)

    theirs = _dispatch(client, dispatcher, offers[other_technician.profile_id].id, technician)
    assert theirs.status_code == 404
    privates = _dispatch(client, dispatcher, offers[private.profile_id].id, technician)
    assert privates.status_code == 404
    # Nor may a dispatcher give the job to someone outside their company.
    outside = _dispatch(client, dispatcher, offers[technician.profile_id].id, other_technician)
    assert outside.status_code == 422
    assert "technician_member_id" in outside.get_json()["errors"]["json"]
    listed = client.get(f"{OWN}/offers", headers=dispatcher.headers).get_json()["items"]
    assert [item["member_id"] for item in listed] == [technician.profile_id]
    assert _job(job_id).status == "offered"


def _reassign(client, actor, job_id: int, technician):
    return client.post(
        f"{OWN}/jobs/{job_id}/reassign",
        json={"technician_member_id": technician.profile_id},
        headers=actor.headers,
    )


def test_the_dispatcher_gives_an_assigned_job_to_another_technician(app, client, customer, cm):
    dispatcher, first, second = make_actor("member"), active_member(), active_member()
    unskilled = active_member(skills=WRONG_SKILL)
    organisation_id = _company(
        client,
        app,
        cm,
        dispatcher=dispatcher,
        technician1=first,
        technician2=second,
        technician3=unskilled,
    )
    job_id = post_job(app, client, customer)
    offer_id = _offers(job_id)[first.profile_id].id
    assert _dispatch(client, dispatcher, offer_id, first).status_code == 200

    assert _reassign(client, first, job_id, second).status_code == 403
    assert _reassign(client, dispatcher, job_id, first).status_code == 422  # has it already
    wrong = _reassign(client, dispatcher, job_id, unskilled)
    assert wrong.status_code == 422
    assert "technician_member_id" in wrong.get_json()["errors"]["json"]

    moved = _reassign(client, dispatcher, job_id, second)
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["assigned_member_id"] == second.profile_id
    job = _job(job_id)
    assert (job.status, job.assigned_member_id, job.organisation_id) == (
        "assigned",
        second.profile_id,
        organisation_id,
    )
    drain_background(app)
    assert len(notifications_for(first.user_id, "job.reassigned")) == 1
    assert len(notifications_for(second.user_id, "job.assigned")) == 1
    events = client.get(f"{API}/jobs/{job_id}/events", headers=customer.headers).get_json()
    assert [e["action"] for e in events["items"]][-1] == "reassign"

    # Another company's dispatcher does not see it; once started it stays with its technician.
    other = make_actor("member")
    _company(client, app, cm, dispatcher=other)
    assert _reassign(client, other, job_id, second).status_code == 404
    force_job_state(job_id, status="in_progress")
    started = _reassign(client, dispatcher, job_id, first)
    assert (started.status_code, started.get_json()["state"]) == (409, "in_progress")
