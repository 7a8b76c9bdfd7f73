"""The offer state machine (jobs.offers): every move is one transition() that stamps the offer
and emits offer.<state>; a refused move changes nothing and answers the offer's error; the
member's answer counters follow offer.accepted / offer.declined (jobs.events)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crowd.core.db import commit
from crowd.core.events import wiring
from crowd.extensions import db
from jobs import offers as offer_lifecycle
from jobs.dispatch import withdraw_member_offers
from jobs.errors import OfferAlreadyAnswered, OfferExpired, OfferTaken
from jobs.models import Offer
from jobs.queries import lock_job
from jobs.tasks import dispatch as tasks
from tests.event_recorder import recording
from tests.jobs.conftest import active_member, drain_background
from tests.jobs.test_dispatch import (
    OFFERS,
    job_row,
    offers_of,
    overdue,
    post_job,
    run,
    stats,
)

ALL = offer_lifecycle.EVENTS


@pytest.fixture
def rules(app, monkeypatch):
    """Set dispatch rules for one test: rules(wave_size=2, max_waves=2)."""

    def _set(**values):
        for name, value in values.items():
            monkeypatch.setitem(app.config, f"JOBS_{name.upper()}", value)

    return _set


def _offer(offer_id: int) -> Offer:
    return db.session.execute(
        select(Offer).where(Offer.id == offer_id).execution_options(populate_existing=True)
    ).scalar_one()


def _by_name(caught, name):
    return [event for event in caught if event.name == name]


def test_a_wave_emits_one_offer_sent_per_offer(app, client, customer, rules):
    rules(wave_size=2)
    for _ in range(3):
        active_member()

    with recording(*ALL) as caught:
        job_id = post_job(app, client, customer)

    offers = offers_of(job_id)
    assert [e.name for e in caught] == ["offer.sent", "offer.sent"]
    assert [e.subject_id for e in caught] == [o.id for o in offers]
    for event, offer in zip(caught, offers, strict=True):
        assert event.subject_type == "offer" and event.actor == "system"
        assert event.payload == {
            "action": "send",
            "by": "system",
            "from_status": None,
            "to_status": "pending",
            "job_id": job_id,
            "member_id": offer.member_id,
            "wave": 1,
            "exclusive": False,
            "detail": {},
        }


def test_accepting_emits_accepted_and_withdraws_the_others(app, client, customer, rules):
    rules(wave_size=3)
    members = {m.profile_id: m for m in (active_member() for _ in range(3))}
    job_id = post_job(app, client, customer)
    winner, *others = offers_of(job_id)
    actor = members[winner.member_id]

    with recording(*ALL, seen=lambda e: _offer(e.subject_id).status) as caught:
        response = client.post(f"{OFFERS}/{winner.id}/accept", headers=actor.headers)

    assert response.status_code == 200, response.get_json()
    accepted = [(e, s) for e, s in caught if e.name == "offer.accepted"]
    assert len(accepted) == 1
    event, status_seen = accepted[0]
    assert status_seen == "accepted"  # the offer is moved before its subscribers run
    assert (event.subject_id, event.actor) == (winner.id, actor.user_id)
    assert event.payload["member_id"] == winner.member_id
    assert event.payload["job_id"] == job_id
    assert (event.payload["from_status"], event.payload["by"]) == ("pending", "member")
    assert event.payload["response_seconds"] >= 0
    withdrawn = [e for e, _ in caught if e.name == "offer.withdrawn"]
    assert sorted(e.subject_id for e in withdrawn) == sorted(o.id for o in others)
    assert {e.payload["detail"]["reason"] for e in withdrawn} == {"taken"}
    assert {e.payload["by"] for e in withdrawn} == {"member"}
    assert _offer(winner.id).responded_at is not None
    assert all(_offer(o.id).responded_at is None for o in others)
    assert stats(winner.member_id).offers_accepted == 1


def test_declining_emits_declined_with_the_reason_set(app, client, customer, rules):
    rules(wave_size=2)
    members = {m.profile_id: m for m in (active_member() for _ in range(2))}
    job_id = post_job(app, client, customer)
    offer = offers_of(job_id)[0]

    with recording(*ALL, seen=lambda e: _offer(e.subject_id).decline_reason) as caught:
        response = client.post(
            f"{OFFERS}/{offer.id}/decline",
            json={"reason": "too_far", "note": "ferry"},
            headers=members[offer.member_id].headers,
        )

    assert response.status_code == 200, response.get_json()
    ((event, reason_seen),) = caught
    assert event.name == "offer.declined" and reason_seen == "too_far: ferry"
    assert event.payload["to_status"] == "declined"
    assert event.payload["member_id"] == offer.member_id
    counters = stats(offer.member_id)
    assert (counters.offers_declined, counters.offers_accepted) == (1, 0)


def test_expiry_emits_expired_for_each_overdue_offer(app, client, customer, rules):
    rules(wave_size=2, max_waves=1)
    for _ in range(2):
        active_member()
    job_id = post_job(app, client, customer)
    first = offers_of(job_id)
    overdue(job_id)

    with recording(*ALL) as caught:
        assert run(app, tasks.expire_offers_for_job, job_id=job_id) == 2

    expired = _by_name(caught, "offer.expired")
    assert sorted(e.subject_id for e in expired) == [o.id for o in first]
    assert {(e.payload["by"], e.payload["from_status"]) for e in expired} == {("system", "pending")}
    assert [o.status for o in offers_of(job_id)] == ["expired", "expired"]
    assert all(o.responded_at is None for o in offers_of(job_id))


def test_cancelling_the_job_withdraws_its_offers_by_the_customer(app, client, customer, rules):
    rules(wave_size=2)
    for _ in range(2):
        active_member()
    job_id = post_job(app, client, customer)

    with recording(*ALL) as caught:
        response = client.post(
            f"/api/v1/jobs/{job_id}/cancel", json={"reason": "mine now"}, headers=customer.headers
        )

    assert response.status_code == 200, response.get_json()
    assert [e.name for e in caught] == ["offer.withdrawn", "offer.withdrawn"]
    assert {(e.payload["by"], e.actor) for e in caught} == {("customer", customer.user_id)}


def test_a_staff_assignment_withdraws_the_offers_by_staff(app, client, customer, cm, rules):
    rules(wave_size=1)
    active_member()
    job_id = post_job(app, client, customer)
    chosen = active_member()

    with recording(*ALL) as caught:
        response = client.post(
            f"/api/v1/staff/jobs/{job_id}/assign",
            json={"member_id": chosen.profile_id},
            headers=cm.headers,
        )

    assert response.status_code == 200, response.get_json()
    (event,) = caught
    assert (event.name, event.payload["by"]) == ("offer.withdrawn", "staff")
    assert event.actor == cm.user_id


def test_a_suspended_members_offers_are_withdrawn_and_the_job_moves_on(
    app, client, customer, rules
):
    rules(wave_size=1)
    active_member()
    active_member()
    job_id = post_job(app, client, customer)
    (offer,) = offers_of(job_id)

    with recording(*ALL) as caught:
        job = lock_job(job_id)
        assert withdraw_member_offers(offer.member_id, [job], actor_user_id=None) == 1
        commit()
        drain_background(app)

    # Withdrawn; then the job, with no pending offer left, went to the next member.
    assert [e.name for e in caught] == ["offer.withdrawn", "offer.sent"]
    assert caught[0].payload["detail"] == {"reason": "suspended"}
    assert caught[1].payload["member_id"] != offer.member_id
    assert _offer(offer.id).status == "withdrawn"
    assert job_row(job_id).wave == 2


# --- refused moves -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [
        ("accepted", OfferAlreadyAnswered),
        ("declined", OfferAlreadyAnswered),
        ("expired", OfferExpired),
        ("withdrawn", OfferTaken),
    ],
)
@pytest.mark.parametrize("action", ["accept", "decline", "expire", "withdraw"])
def test_a_final_offer_refuses_every_move_and_stays_as_it_is(
    app, client, customer, rules, status, error, action
):
    rules(wave_size=1)
    active_member()
    job_id = post_job(app, client, customer)
    (offer,) = offers_of(job_id)
    offer.status = status
    commit()
    before = (offer.status, offer.responded_at, offer.updated_at)

    with recording(*ALL) as caught, pytest.raises(error) as refused:
        offer_lifecycle.transition(offer, action, by="system")

    assert refused.value.extra["state"] == status
    assert caught == []
    assert (offer.status, offer.responded_at, offer.updated_at) == before


def test_answering_an_answered_offer_is_a_409_and_emits_nothing(app, client, customer, rules):
    rules(wave_size=2)
    members = {m.profile_id: m for m in (active_member() for _ in range(2))}
    job_id = post_job(app, client, customer)
    offer = offers_of(job_id)[0]
    headers = members[offer.member_id].headers
    client.post(f"{OFFERS}/{offer.id}/decline", json={"reason": "other"}, headers=headers)

    with recording(*ALL) as caught:
        response = client.post(f"{OFFERS}/{offer.id}/accept", headers=headers)

    assert response.status_code == 409
    body = response.get_json()
    assert body["type"].endswith("offer-already-answered") and body["state"] == "declined"
    assert caught == []
    assert _offer(offer.id).status == "declined"
    assert stats(offer.member_id).offers_accepted == 0


def test_every_offer_event_is_listed_in_the_wiring(app):
    listed = wiring()
    assert set(ALL) <= set(listed)
    assert listed["offer.accepted"] == [
        "jobs.events.count_answer",
        "jobs.events.offer_list_changed",
    ]
    # Every offer's move changes its member's offer list (jobs.polling: the ETag).
    assert listed["offer.sent"] == ["jobs.events.offer_list_changed"]
