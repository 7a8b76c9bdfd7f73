"""Service figures (GET /api/v1/crowd-health/service): each figure equals the records made here."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crowd.core.db import utcnow
from crowd.extensions import db
from jobs.models import Job, JobSkill, JobWindow, Offer, Review
from members.models import Skill
from support.models import Ticket, TicketRating
from tests.crowd_health.test_crowd_health import BERLIN, MUNICH, VIENNA, skill_id
from tests.factories import make_actor

SERVICE = "/api/v1/crowd-health/service"
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
TV, LIGHTS = "tv_wall_mount", "smart_lighting_setup"


def posted_job(customer, place, skill, *, created, offers=(), assigned=None, escalated=False):
    """A job posted at `created`; offers sent `offers` after it; assigned `assigned` after."""
    postcode, city, country = place
    skill_row = db.session.get(Skill, skill_id(skill))
    row = Job(
        customer_id=customer.profile_id,
        category_id=skill_row.category_id,
        title="Work",
        description="On a device.",
        device={"kind": "tv"},
        postcode=postcode,
        city=city,
        country=country,
        lat=52.52,
        lon=13.405,
        duration_minutes=90,
        pricing="fixed",
        currency="EUR",
        price_amount=12000,
        status="assigned" if assigned is not None else "open",
        assigned_at=created + assigned if assigned is not None else None,
        escalated_at=created + 2 * HOUR if escalated else None,
        created_at=created,
        updated_at=created,
        windows=[JobWindow(starts_at=created + 3 * DAY, ends_at=created + 3 * DAY + 2 * HOUR)],
        skills=[JobSkill(skill_id=skill_row.id)],
    )
    db.session.add(row)
    db.session.flush()
    for wave, after in enumerate(offers, start=1):
        db.session.add(
            Offer(
                job_id=row.id,
                member_id=make_actor("member").profile_id,
                wave=wave,
                sent_at=created + after,
                expires_at=created + after + HOUR,
                status="expired",
            )
        )
    db.session.commit()
    return row


def review(job, stars, at, author="customer"):
    db.session.add(
        Review(
            job_id=job.id,
            author=author,
            author_user_id=make_actor(author).user_id,
            stars=stars,
            created_at=at,
        )
    )
    db.session.commit()


def ticket(customer, job, opened, *, responded=None, resolved=None, resolution_due=DAY):
    row = Ticket(
        subject="Help",
        category="quality_complaint",
        status="resolved" if resolved else "open",
        job_id=job.id if job else None,
        customer_id=customer.profile_id,
        opened_by_id=customer.user_id,
        opened_by_role="customer",
        first_response_due_at=opened + HOUR,
        first_response_at=opened + responded if responded else None,
        resolution_due_at=opened + resolution_due,
        resolved_at=opened + resolved if resolved else None,
        created_at=opened,
        updated_at=opened,
    )
    db.session.add(row)
    db.session.commit()
    return row


def rating(ticket_row, party, score, at, user_id):
    db.session.add(
        TicketRating(
            ticket_id=ticket_row.id, party=party, user_id=user_id, score=score, created_at=at
        )
    )
    db.session.commit()


@pytest.fixture
def service(customer):
    return seed_service_records(customer)


def seed_service_records(customer):
    """Four jobs posted in the last ten days (J4 only 30 minutes ago), one 20 days ago, their
    offers, reviews, tickets and ticket ratings; returns "now" as the records see it."""
    now = utcnow()
    j1 = posted_job(
        customer,
        BERLIN,
        TV,
        created=now - 5 * DAY,
        offers=(10 * MINUTE, 30 * MINUTE),
        assigned=30 * MINUTE,
    )
    j2 = posted_job(
        customer,
        BERLIN,
        TV,
        created=now - 5 * DAY,
        offers=(30 * MINUTE,),
        assigned=5 * HOUR,
        escalated=True,
    )
    j3 = posted_job(
        customer, MUNICH, LIGHTS, created=now - 3 * DAY, offers=(120 * MINUTE,), escalated=True
    )
    posted_job(customer, VIENNA, LIGHTS, created=now - 30 * MINUTE)
    old = posted_job(
        customer, BERLIN, TV, created=now - 20 * DAY, offers=(MINUTE,), assigned=MINUTE
    )
    review(j1, 5, now - 4 * DAY)
    review(j2, 3, now - 4 * DAY)
    review(j3, 2, now - 2 * DAY)
    review(j3, 1, now - 2 * DAY, author="member")  # the member's review: not the customers'
    review(old, 1, now - 19 * DAY)  # before the period
    # T1 answered and resolved in time; T2 never answered (deadline passed), resolution not
    # yet due; T3 answered late, resolved in time.
    t1 = ticket(customer, j1, now - 2 * DAY, responded=30 * MINUTE, resolved=20 * HOUR)
    ticket(customer, None, now - 2 * DAY, resolution_due=3 * DAY)
    t3 = ticket(customer, j3, now - DAY, responded=2 * HOUR, resolved=3 * HOUR)
    member = make_actor("member")
    rating(t1, "customer", 5, now - DAY, customer.user_id)
    rating(t1, "member", 4, now - DAY, member.user_id)
    rating(t3, "customer", 2, now - HOUR, customer.user_id)
    return now


def _get(client, actor, **query):
    response = client.get(SERVICE, query_string=query, headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_every_service_figure_equals_the_records(client, cm, service):
    start = (service - 9 * DAY).date().isoformat()
    body = _get(client, cm, **{"from": start})
    # First offers 10, 30 and 120 minutes after posting: p50 30; p90 30 + 0.8 × 90.
    assert body["first_offer"] == {"jobs": 3, "minutes": {"p50": 30.0, "p90": 102.0}}
    assert body["fill_rate"] == {
        "posted": 4,
        # J4 is too young for either window; J1 filled in 30 min, J2 in 5 h, J3 not at all.
        "within_1h": {"hours": 1, "jobs": 3, "filled": 1, "rate": 0.3333},
        "within_24h": {"hours": 24, "jobs": 3, "filled": 2, "rate": 0.6667},
    }
    assert body["escalation"] == {"posted": 4, "escalated": 2, "rate": 0.5}
    tv, lights = skill_id(TV), skill_id(LIGHTS)
    assert body["ratings"] == {
        "reviews": 3,
        "average": 3.33,
        "per_region": [
            {"country": "DE", "postcode_area": "10", "reviews": 2, "average": 4.0},
            {"country": "DE", "postcode_area": "80", "reviews": 1, "average": 2.0},
        ],
        "per_skill": sorted(
            [
                {"skill_id": tv, "skill": TV, "reviews": 2, "average": 4.0},
                {"skill_id": lights, "skill": LIGHTS, "reviews": 1, "average": 2.0},
            ],
            key=lambda row: row["skill_id"],
        ),
    }
    assert body["sla"] == {
        "opened": 3,
        "first_response": {"due": 3, "met": 1, "rate": 0.3333},
        "resolution": {"due": 2, "met": 2, "rate": 1.0},
    }
    assert body["satisfaction"] == {
        "ratings": 3,
        "average": 3.67,
        "per_score": [
            {"score": 1, "ratings": 0},
            {"score": 2, "ratings": 1},
            {"score": 3, "ratings": 0},
            {"score": 4, "ratings": 1},
            {"score": 5, "ratings": 1},
        ],
        "per_party": [
            {"party": "customer", "ratings": 2, "average": 3.5},
            {"party": "member", "ratings": 1, "average": 4.0},
        ],
    }


def test_region_and_skill_filters_select_jobs_and_their_tickets(client, cm, service):
    start = (service - 9 * DAY).date().isoformat()
    body = _get(client, cm, **{"from": start, "country": "DE", "postcode_prefix": "10"})
    assert body["filters"]["postcode_prefix"] == "10"
    assert body["first_offer"] == {"jobs": 2, "minutes": {"p50": 20.0, "p90": 28.0}}
    assert body["escalation"] == {"posted": 2, "escalated": 1, "rate": 0.5}
    assert body["ratings"]["reviews"] == 2 and body["ratings"]["average"] == 4.0
    assert body["sla"]["opened"] == 1
    assert body["satisfaction"]["ratings"] == 2
    lights = _get(client, cm, **{"from": start, "skill_id": skill_id(LIGHTS)})
    assert lights["first_offer"] == {"jobs": 1, "minutes": {"p50": 120.0, "p90": 120.0}}
    assert lights["fill_rate"]["posted"] == 2
    assert lights["fill_rate"]["within_24h"] == {"hours": 24, "jobs": 1, "filled": 0, "rate": 0.0}
    assert [row["skill"] for row in lights["ratings"]["per_skill"]] == [LIGHTS]


def test_nothing_to_measure_is_null(client, cm):
    body = _get(client, cm)
    assert body["first_offer"] == {"jobs": 0, "minutes": {"p50": None, "p90": None}}
    assert body["escalation"]["rate"] is None
    assert body["ratings"]["average"] is None
    assert body["satisfaction"]["average"] is None


def test_members_and_customers_are_refused_and_bad_filters_are_422(client, member, customer, cm):
    for actor in (member, customer):
        assert client.get(SERVICE, headers=actor.headers).status_code == 403
    assert client.get(SERVICE).status_code == 401
    bad = client.get(SERVICE, query_string={"skill_id": 999999}, headers=cm.headers)
    assert bad.status_code == 422
    assert "skill_id" in bad.get_json()["errors"]["query"]


def test_the_endpoint_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/crowd-health/service"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"from", "to", "country", "skill_id"}
