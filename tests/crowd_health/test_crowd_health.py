"""Crowd health: every figure and every filter equals what the records created here say."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from crowd.core.db import utcnow
from crowd.extensions import db
from jobs.models import Job, JobSkill, JobWindow
from members.models import Member, MemberSkill, MemberStatusChange, Skill, SkillCategory
from onboarding.models import Application, LevelChange
from support.models import Ticket, TicketEvent
from tests.factories import make_actor
from tests.jobs.conftest import drain_background
from tests.support.dispute_helpers import disputed_job, proposed, staff_act
from tests.support.ticket_helpers import acted, set_ticket, ticket_row

HEALTH = "/api/v1/crowd-health"
BERLIN = ("10117", "Berlin", "DE")
BERLIN_NORTH = ("10435", "Berlin", "DE")
MUNICH = ("80331", "München", "DE")
VIENNA = ("1010", "Wien", "AT")
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def skill_id(slug: str) -> int:
    return db.session.scalar(select(Skill.id).where(Skill.slug == slug))


def category_id(slug: str) -> int:
    return db.session.scalar(select(SkillCategory.id).where(SkillCategory.slug == slug))


def member(place, *, skills=(), status="active", rank=1, approved=None, history=()) -> int:
    """A member at `place` claiming `skills`; approved at `approved` (application, status
    change to active and first level then); `history`: later (time, status) changes."""
    actor = make_actor("member")
    row = db.session.get(Member, actor.profile_id)
    row.postcode, row.city, row.country = place
    row.status, row.level_rank = status, rank
    for slug in skills:
        db.session.add(MemberSkill(member_id=row.id, skill_id=skill_id(slug)))
    if approved is not None:
        application = db.session.scalar(select(Application).where(Application.member_id == row.id))
        application.status, application.decided_at = "approved", approved
        signed_up = db.session.scalar(
            select(MemberStatusChange).where(MemberStatusChange.member_id == row.id)
        )
        signed_up.created_at = approved - 10 * DAY
        history = [(approved, "active"), *history]
        level(row.id, 0, 1, approved, "approval")
    before = "applicant"
    for at, to_status in history:
        db.session.add(
            MemberStatusChange(
                member_id=row.id, from_status=before, to_status=to_status, reason="t", created_at=at
            )
        )
        before = to_status
    db.session.commit()
    return row.id


def level(member_id: int, from_rank: int, to_rank: int, at: datetime, cause: str = "daily"):
    db.session.add(
        LevelChange(
            member_id=member_id,
            from_rank=from_rank,
            to_rank=to_rank,
            from_code=None,
            to_code=f"rank{to_rank}",
            ruleset_version=1,
            cause=cause,
            created_at=at,
        )
    )
    db.session.commit()


def job(customer, member_id, place, skill: str, *, status, completed, confirmed=None) -> int:
    """A job at `place` needing `skill`, done by `member_id`, completed (and confirmed) then."""
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
        status=status,
        assigned_member_id=member_id,
        assigned_at=completed - 3 * HOUR,
        completed_at=completed,
        confirmed_at=confirmed,
        windows=[JobWindow(starts_at=completed - 2 * HOUR, ends_at=completed)],
        skills=[JobSkill(skill_id=skill_row.id)],
    )
    db.session.add(row)
    db.session.commit()
    return row.id


def ticket(customer, job_id, opened: datetime, status: str, *, dispute=True, events=()) -> int:
    """A ticket about a job opened at `opened`; `events`: (time, from, to) status moves."""
    row = Ticket(
        subject="The TV fell off the wall",
        category="quality_complaint",
        status=status,
        job_id=job_id,
        customer_id=customer.profile_id,
        opened_by_id=customer.user_id,
        opened_by_role="customer",
        dispute=dispute,
        first_response_due_at=opened + HOUR,
        resolution_due_at=opened + DAY,
        created_at=opened,
        updated_at=opened,
    )
    db.session.add(row)
    db.session.flush()
    for at, before, after in [(opened, None, "new"), *events]:
        db.session.add(
            TicketEvent(
                ticket_id=row.id,
                actor_role="staff",
                action="move",
                from_status=before,
                to_status=after,
                created_at=at,
            )
        )
    db.session.commit()
    return row.id


@pytest.fixture
def crowd():
    """The records every figure below is checked against (see the comments for the sums).

    The period: the last 180 days. A…F approved in it (F only 10 days ago), E and H before.
    """
    now = utcnow()
    end = now.date()
    start = end - timedelta(days=179)
    first = datetime.combine(start, time(), tzinfo=UTC)
    at = {
        "A": first + 5 * DAY,
        "B": first + 10 * DAY,
        # Microseconds: the retention boundary is exact to them on both databases.
        "C": first + 20 * DAY + timedelta(microseconds=654321),
        "D": first + 15 * DAY + timedelta(microseconds=123456),
        "F": now - 10 * DAY,
    }
    tv, lights, channels = "tv_wall_mount", "smart_lighting_setup", "tv_setup_channels"
    ids = {
        "A": member(BERLIN, skills=(tv, lights), rank=2, approved=at["A"]),
        # Paused from day 30 to day 100: not active 90 days after approval.
        "B": member(
            BERLIN_NORTH,
            skills=(tv,),
            approved=at["B"],
            history=[(at["B"] + 30 * DAY, "paused"), (at["B"] + 100 * DAY, "active")],
        ),
        # Paused a microsecond after the 90 days: retained.
        "C": member(
            MUNICH,
            skills=(lights,),
            approved=at["C"],
            history=[
                (at["C"] + 90 * DAY + timedelta(microseconds=1), "paused"),
                (at["C"] + 91 * DAY, "active"),
            ],
        ),
        # Offboarded exactly 90 days after approval: not retained.
        "D": member(
            VIENNA,
            skills=(tv,),
            status="offboarded",
            approved=at["D"],
            history=[(at["D"] + 90 * DAY, "offboarded")],
        ),
        "E": member(VIENNA, skills=(channels,), rank=3, approved=first - 100 * DAY),
        "F": member(BERLIN, skills=(tv,), approved=at["F"]),
        "G": member(BERLIN, skills=(tv,), status="applicant", rank=0),
        "H": member(
            BERLIN,
            skills=(tv,),
            status="suspended",
            rank=2,
            approved=first - 30 * DAY,
            history=[(first + 70 * DAY, "suspended")],
        ),
    }
    # Level changes besides the approvals: A promoted in the period (after 20 days), E promoted
    # before and in it, H demoted in it.
    level(ids["A"], 1, 2, at["A"] + 20 * DAY, "event")
    level(ids["E"], 1, 2, first - 50 * DAY)
    level(ids["E"], 2, 3, first + 50 * DAY)
    level(ids["H"], 3, 2, first + 60 * DAY)

    customer = make_actor("customer")
    jobs = {
        # A's first confirmed job, 10 days after approval.
        "J1": job(
            customer, ids["A"], BERLIN, tv, status="closed",
            completed=at["A"] + 10 * DAY - HOUR, confirmed=at["A"] + 10 * DAY,
        ),
        "J2": job(
            customer, ids["A"], BERLIN, lights, status="confirmed",
            completed=first + 100 * DAY, confirmed=first + 101 * DAY,
        ),
        # Confirmed, then a dispute cancelled it: not a confirmed job.
        "J3": job(
            customer, ids["B"], BERLIN_NORTH, tv, status="cancelled",
            completed=at["B"] + 4 * DAY, confirmed=at["B"] + 5 * DAY,
        ),
        # C's first confirmed job after 40 days: activated, not within 30 days.
        "J4": job(
            customer, ids["C"], MUNICH, lights, status="closed",
            completed=at["C"] + 40 * DAY - 2 * HOUR, confirmed=at["C"] + 40 * DAY,
        ),
        "J5": job(
            customer, ids["D"], VIENNA, tv, status="closed",
            completed=at["D"] + 3 * DAY - HOUR, confirmed=at["D"] + 3 * DAY,
        ),
        "J6": job(
            customer, ids["E"], VIENNA, channels, status="disputed",
            completed=now - 5 * DAY, confirmed=now - 4 * DAY,
        ),
        "J7": job(
            customer, ids["F"], BERLIN, tv, status="confirmed",
            completed=at["F"] + 2 * DAY - HOUR, confirmed=at["F"] + 2 * DAY,
        ),
        # Completed before the period, disputed in it.
        "J8": job(
            customer, ids["E"], BERLIN, tv, status="confirmed",
            completed=first - 10 * DAY, confirmed=first - 9 * DAY,
        ),
        # Completed, not confirmed (yet): B is not working.
        "J9": job(customer, ids["B"], BERLIN_NORTH, tv, status="completed", completed=now - DAY),
    }  # fmt: skip
    # Disputes: J2's resolved after 10 hours and closed; J3's resolved, reopened by a reply and
    # resolved again after 30 hours (a later message on the resolved ticket moves nothing);
    # J8's resolved after 20 hours; J6's still in mediation. A plain ticket about J1.
    j2 = first + 102 * DAY
    ticket(
        customer,
        jobs["J2"],
        j2,
        "closed",
        events=[(j2 + 10 * HOUR, "in_mediation", "resolved"), (j2 + 4 * DAY, "resolved", "closed")],
    )
    j3 = at["B"] + 6 * DAY
    ticket(
        customer,
        jobs["J3"],
        j3,
        "resolved",
        events=[
            (j3 + 10 * HOUR, "in_mediation", "resolved"),
            (j3 + 12 * HOUR, "resolved", "open"),
            (j3 + 30 * HOUR, "open", "resolved"),
            (j3 + 40 * HOUR, "resolved", "resolved"),
        ],
    )
    j8 = first + DAY
    ticket(customer, jobs["J8"], j8, "resolved", events=[(j8 + 20 * HOUR, "open", "resolved")])
    ticket(customer, jobs["J6"], now - 3 * DAY, "in_mediation")
    ticket(customer, jobs["J1"], first + 20 * DAY, "open", dispute=False)
    return {"start": start, "end": end, "ids": ids, "jobs": jobs}


def health(client, actor, crowd, **filters) -> dict:
    query = {"from": crowd["start"], "to": crowd["end"], **filters}
    response = client.get(HEALTH, query_string=query, headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_every_figure_equals_the_records(client, cm, crowd):
    body = health(client, cm, crowd)

    assert (body["from"], body["to"]) == (str(crowd["start"]), str(crowd["end"]))
    assert body["filters"] == dict.fromkeys(
        ("country", "postcode_prefix", "city", "skill_id", "category_id")
    )
    # Active now: A, B, C, E, F; working (a confirmed job in the period): A, C, E, F.
    assert body["active_members"] == {
        "total": 5,
        "working": 4,
        "working_rate": 0.8,
        "per_region": [
            {"country": "AT", "postcode_area": "10", "members": 1},
            {"country": "DE", "postcode_area": "10", "members": 3},
            {"country": "DE", "postcode_area": "80", "members": 1},
        ],
        "per_skill": [
            {
                "skill_id": skill_id("tv_wall_mount"),
                "skill": "tv_wall_mount",
                "category": "tv_audio",
                "members": 3,
            },
            {
                "skill_id": skill_id("smart_lighting_setup"),
                "skill": "smart_lighting_setup",
                "category": "smart_home",
                "members": 2,
            },
            {
                "skill_id": skill_id("tv_setup_channels"),
                "skill": "tv_setup_channels",
                "category": "tv_audio",
                "members": 1,
            },
        ],
        "skills": 3,
    }
    # Approved in the period: A, B, C, D, F; first confirmed jobs after 10, 40, 3, 2 days (B's
    # was cancelled). Approved 30+ days ago: A, B, C, D; within 30 days: A, D.
    assert body["activation"] == {
        "approved": 5,
        "activated": 4,
        "rate": 0.8,
        "median_days": 6.5,
        "in_window": {"days": 30, "cohort": 4, "activated": 2, "rate": 0.5},
    }
    # 90 days after approval: A active, B paused, C active, D offboarded; F too recent.
    assert body["retention"] == {
        "days": 90,
        "cohort": 4,
        "retained": 2,
        "rate": 0.5,
        "too_recent": 1,
        "by_status": {
            "applicant": 0,
            "active": 2,
            "paused": 1,
            "suspended": 0,
            "offboarded": 1,
            "unknown": 0,
        },
    }
    assert body["level_progression"] == {
        "per_level": [
            {"rank": 1, "code": "starter", "name": "Starter", "members": 3},
            {"rank": 2, "code": "member", "name": "Member", "members": 1},
            {"rank": 3, "code": "senior", "name": "Senior", "members": 1},
        ],
        "changes": [
            {"rank": 2, "promotions": 1, "demotions": 1},
            {"rank": 3, "promotions": 1, "demotions": 0},
        ],
        "promotions": 2,
        "demotions": 1,
        "admissions": 5,
        "time_to_rank_2": {"admitted": 5, "reached": 1, "median_days": 20.0},
    }
    # Completed in the period: J1–J7 and J9; disputed among them: J2, J3, J6. Opened in the
    # period: J2, J3, J6, J8; resolved after 10, 30 and 20 hours.
    assert body["disputes"] == {
        "jobs_completed": 8,
        "jobs_disputed": 3,
        "rate": 0.375,
        "opened": 4,
        "resolved": 3,
        "resolution_hours": {"p50": 20.0, "p90": 28.0},
        "open_now": 1,
    }


def test_country_selects_members_by_profile_and_jobs_by_their_place(client, admin, crowd):
    body = health(client, admin, crowd, country="DE")

    assert body["filters"]["country"] == "DE"
    active = body["active_members"]
    assert (active["total"], active["working"], active["skills"]) == (4, 3, 2)
    assert [r["postcode_area"] for r in active["per_region"]] == ["10", "80"]
    assert body["activation"] == {
        "approved": 4,
        "activated": 3,
        "rate": 0.75,
        "median_days": 10.0,
        "in_window": {"days": 30, "cohort": 3, "activated": 1, "rate": 0.3333},
    }
    retention = body["retention"]
    assert (retention["cohort"], retention["retained"], retention["rate"]) == (3, 2, 0.6667)
    assert retention["too_recent"] == 1
    levels = body["level_progression"]
    assert [(r["rank"], r["members"]) for r in levels["per_level"]] == [(1, 3), (2, 1)]
    assert levels["changes"] == [{"rank": 2, "promotions": 1, "demotions": 1}]
    assert (levels["admissions"], levels["time_to_rank_2"]["admitted"]) == (4, 4)
    # J6 (Vienna) is out; J8, disputed from Berlin, is in.
    assert body["disputes"] == {
        "jobs_completed": 6,
        "jobs_disputed": 2,
        "rate": 0.3333,
        "opened": 3,
        "resolved": 3,
        "resolution_hours": {"p50": 20.0, "p90": 28.0},
        "open_now": 0,
    }


def test_postcode_prefix_and_city(client, cm, crowd):
    munich = health(client, cm, crowd, postcode_prefix="80")
    assert (munich["active_members"]["total"], munich["active_members"]["working"]) == (1, 1)
    assert munich["activation"] == {
        "approved": 1,
        "activated": 1,
        "rate": 1.0,
        "median_days": 40.0,
        "in_window": {"days": 30, "cohort": 1, "activated": 0, "rate": 0.0},
    }
    assert (munich["retention"]["cohort"], munich["retention"]["retained"]) == (1, 1)
    assert munich["disputes"] == {
        "jobs_completed": 1,
        "jobs_disputed": 0,
        "rate": 0.0,
        "opened": 0,
        "resolved": 0,
        "resolution_hours": {"p50": None, "p90": None},
        "open_now": 0,
    }
    # "10" is Berlin's area and Vienna's first district alike.
    tens = health(client, cm, crowd, postcode_prefix="10")
    assert tens["active_members"]["total"] == 4

    berlin = health(client, cm, crowd, city="BERLIN")
    assert (berlin["active_members"]["total"], berlin["active_members"]["working"]) == (3, 2)
    assert berlin["activation"]["approved"] == 3  # A, B, F
    disputes = berlin["disputes"]
    assert (disputes["jobs_completed"], disputes["jobs_disputed"], disputes["rate"]) == (5, 2, 0.4)


def test_skill_and_category(client, cm, crowd):
    tv = health(client, cm, crowd, skill_id=skill_id("tv_wall_mount"))
    active = tv["active_members"]
    assert (active["total"], active["working"]) == (3, 2)  # A, B, F; A and F worked
    assert [s["skill"] for s in active["per_skill"]] == ["tv_wall_mount"]
    assert active["skills"] == 1
    assert (tv["activation"]["approved"], tv["activation"]["activated"]) == (4, 3)
    # Jobs needing the skill: J1, J3, J5, J7, J9 completed in the period, J3 disputed; J3's
    # and J8's disputes resolved after 30 and 20 hours.
    assert tv["disputes"] == {
        "jobs_completed": 5,
        "jobs_disputed": 1,
        "rate": 0.2,
        "opened": 2,
        "resolved": 2,
        "resolution_hours": {"p50": 25.0, "p90": 29.0},
        "open_now": 0,
    }

    home = health(client, cm, crowd, category_id=category_id("smart_home"))
    assert home["active_members"]["total"] == 2  # A, C
    assert home["active_members"]["per_skill"] == [
        {
            "skill_id": skill_id("smart_lighting_setup"),
            "skill": "smart_lighting_setup",
            "category": "smart_home",
            "members": 2,
        }
    ]
    assert home["level_progression"]["time_to_rank_2"] == {
        "admitted": 2,
        "reached": 1,
        "median_days": 20.0,
    }
    assert home["disputes"] == {
        "jobs_completed": 2,
        "jobs_disputed": 1,
        "rate": 0.5,
        "opened": 1,
        "resolved": 1,
        "resolution_hours": {"p50": 10.0, "p90": 10.0},
        "open_now": 0,
    }


def test_rules_come_from_config(app, client, cm, crowd, monkeypatch):
    monkeypatch.setitem(app.config, "CROWD_HEALTH_TOP_SKILLS", 2)
    monkeypatch.setitem(app.config, "CROWD_HEALTH_ACTIVATION_DAYS", 45)
    monkeypatch.setitem(app.config, "CROWD_HEALTH_RETENTION_DAYS", 120)
    body = health(client, cm, crowd)

    assert [s["members"] for s in body["active_members"]["per_skill"]] == [3, 2]
    assert body["active_members"]["skills"] == 3
    # Within 45 days: A (10), C (40), D (3).
    assert body["activation"]["in_window"] == {
        "days": 45,
        "cohort": 4,
        "activated": 3,
        "rate": 0.75,
    }
    # 120 days after approval B is active again and C too; D stays offboarded.
    retention = body["retention"]
    assert (retention["days"], retention["cohort"], retention["retained"]) == (120, 4, 3)


def test_the_default_period_is_the_last_90_days_and_empty_figures_have_no_rates(client, cm):
    body = client.get(HEALTH, headers=cm.headers).get_json()

    today = utcnow().date()
    assert (body["from"], body["to"]) == (str(today - timedelta(days=89)), str(today))
    assert body["activation"]["rate"] is None and body["activation"]["median_days"] is None
    assert body["retention"]["rate"] is None
    assert body["disputes"]["rate"] is None
    assert body["disputes"]["resolution_hours"] == {"p50": None, "p90": None}


def test_crowd_health_is_for_staff(client, member, customer, cm, admin):
    assert client.get(HEALTH).status_code == 401
    for actor in (member, customer):
        response = client.get(HEALTH, headers=actor.headers)
        assert response.status_code == 403
        assert response.mimetype == "application/problem+json"
    for actor in (cm, admin):
        assert client.get(HEALTH, headers=actor.headers).status_code == 200


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-05-02&to=2026-05-01", "from"),
        ("from=2020-01-01&to=2026-01-01", "from"),
        ("from=yesterday", "from"),
        ("to=9999-12-31", "to"),
        ("to=0001-01-01", "to"),
        ("skill_id=999999", "skill_id"),
        ("category_id=999999", "category_id"),
        ("skill_id=1&category_id=1", "category_id"),
        ("skill_id=0", "skill_id"),
        ("country=FR", "country"),
        ("postcode_prefix=1O", "postcode_prefix"),
        (f"city={'x' * 121}", "city"),
        ("city=Ber%00lin", "city"),
    ],
)
def test_bad_arguments_are_a_422_naming_the_field(client, cm, query, field):
    response = client.get(f"{HEALTH}?{query}", headers=cm.headers)

    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]["query"]


def test_a_dispute_settled_and_closed_through_the_api_counts_as_resolved(app, client, customer, cm):
    job_id, _, opened = disputed_job(app, client, customer, cm, confirmed=True)
    set_ticket(opened["id"], created_at=ticket_row(opened["id"]).created_at - 5 * HOUR)
    resolution = proposed(client, cm, opened["id"], kind="release")
    assert staff_act(client, cm, opened["id"], resolution["id"], "impose").status_code == 200
    acted(client, cm, opened["id"], "close")
    drain_background(app)

    body = client.get(HEALTH, headers=cm.headers).get_json()

    row = ticket_row(opened["id"])
    resolved_at = db.session.scalar(
        select(TicketEvent.created_at).where(
            TicketEvent.ticket_id == row.id, TicketEvent.to_status == "resolved"
        )
    )
    hours = round((resolved_at - row.created_at).total_seconds() / 3600, 2)
    assert row.status == "closed" and hours >= 5
    assert body["disputes"] == {
        "jobs_completed": 1,
        "jobs_disputed": 1,
        "rate": 1.0,
        "opened": 1,
        "resolved": 1,
        "resolution_hours": {"p50": hours, "p90": hours},
        "open_now": 0,
    }
    # The job is confirmed again after the release: its member worked in the period.
    assert db.session.get(Job, job_id).status == "confirmed"
    assert (body["active_members"]["total"], body["active_members"]["working"]) == (1, 1)
