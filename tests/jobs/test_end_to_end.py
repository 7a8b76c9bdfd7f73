"""Issue 3's story through the HTTP API only: post → offers → accept → work → confirm → reviews."""

from sqlalchemy import select

from jobs.models import Job
from members.models import MemberStats
from tests.jobs.conftest import active_member, drain_background, post_job_via_api


def _inbox_kinds(client, actor):
    items = client.get("/api/v1/me/notifications", headers=actor.headers).json["items"]
    return [item["kind"] for item in items]


def test_a_job_goes_from_posting_to_published_reviews(app, client, db_session, customer, cm):
    members = [active_member() for _ in range(3)]
    far_away = active_member(lat=48.137, lon=11.575)  # Munich: outside the Berlin radius

    posted = post_job_via_api(client, customer, headers={"Idempotency-Key": "order-1"})
    assert posted.status_code == 201, posted.json
    job_id = posted.json["id"]
    drain_background(app)

    # Every eligible member got an offer; the one too far away did not even see the job.
    offers = {}
    for member in members:
        mine = client.get("/api/v1/me/offers", headers=member.headers).json["items"]
        assert [offer["job"]["id"] for offer in mine] == [job_id]
        assert "street" not in str(mine[0]["job"])  # no address before acceptance
        offers[member.user_id] = mine[0]["id"]
    assert client.get("/api/v1/me/offers", headers=far_away.headers).json["items"] == []
    assert "offer.new" in _inbox_kinds(client, members[0])

    # The CM can see why members were ranked as they were.
    candidates = client.get(
        f"/api/v1/jobs/{job_id}/candidates?include_offered=true", headers=cm.headers
    )
    assert candidates.status_code == 200
    assert all(item["breakdown"] for item in candidates.json["items"])

    # One member declines, one accepts: the first accept wins, the last offer is withdrawn.
    winner, decliner, loser = members
    declined = client.post(
        f"/api/v1/offers/{offers[decliner.user_id]}/decline",
        json={"reason": "not_available"},
        headers=decliner.headers,
    )
    assert declined.status_code == 200
    accepted = client.post(
        f"/api/v1/offers/{offers[winner.user_id]}/accept", headers=winner.headers
    )
    assert accepted.status_code == 200, accepted.json
    assert accepted.json["street"] == "Unter den Linden 1"
    late = client.post(f"/api/v1/offers/{offers[loser.user_id]}/accept", headers=loser.headers)
    assert late.status_code == 409
    assert late.content_type == "application/problem+json"
    drain_background(app)
    assert "offer.withdrawn" in _inbox_kinds(client, loser)
    assert "job.assigned" in _inbox_kinds(client, customer)

    job = client.get(f"/api/v1/jobs/{job_id}", headers=customer.headers).json
    assert job["status"] == "assigned"

    # The member does the work and reports it; completing twice is an illegal transition.
    assert client.post(f"/api/v1/me/jobs/{job_id}/start", headers=winner.headers).status_code == 200
    report = {"notes": "Mounted, cables hidden", "minutes_spent": 80, "parts": [], "photo_refs": []}
    done = client.post(f"/api/v1/me/jobs/{job_id}/complete", json=report, headers=winner.headers)
    assert done.status_code == 200, done.json
    again = client.post(f"/api/v1/me/jobs/{job_id}/complete", json=report, headers=winner.headers)
    assert again.status_code == 409 and again.json["state"] == "completed"

    # The customer confirms, then both review; reviews publish when both are in.
    confirmed = client.post(f"/api/v1/jobs/{job_id}/confirm", headers=customer.headers)
    assert confirmed.status_code == 200 and confirmed.json["status"] == "confirmed"
    about_member = client.post(
        f"/api/v1/jobs/{job_id}/reviews",
        json={"stars": 5, "comment": "Tidy and quick", "tags": ["tidy", "punctual"]},
        headers=customer.headers,
    )
    assert about_member.status_code == 201, about_member.json
    hidden = client.get(f"/api/v1/jobs/{job_id}/reviews", headers=winner.headers).json
    assert all(review["author"] != "customer" for review in hidden["items"])
    about_customer = client.post(
        f"/api/v1/jobs/{job_id}/reviews",
        json={"stars": 4, "tags": ["clear_brief"]},
        headers=winner.headers,
    )
    assert about_customer.status_code == 201
    drain_background(app)
    public = client.get(f"/api/v1/members/{winner.profile_id}/reviews", headers=customer.headers)
    assert [review["stars"] for review in public.json["items"]] == [5]

    # The counters moved by events: one completed job, one accept, one decline, one rating.
    db_session.expire_all()
    stats = db_session.get(MemberStats, winner.profile_id)
    assert (stats.jobs_completed, stats.offers_accepted, stats.rating_count) == (1, 1, 1)
    assert stats.average_rating == 5
    assert db_session.get(MemberStats, decliner.profile_id).offers_declined == 1
    stored = db_session.scalar(select(Job).where(Job.id == job_id))
    assert stored.assigned_member_id == winner.profile_id and stored.status == "confirmed"
