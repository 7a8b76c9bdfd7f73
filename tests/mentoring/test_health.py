"""Programme health: every figure equals what the rows created here say."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from crowd.core.db import utcnow
from crowd.extensions import db
from members.models import Member
from mentoring.models import Event, EventInvitation, Mentorship, TopPerformerBadge, TopPerformerRun
from onboarding.models import LevelChange
from tests.factories import make_actor
from tests.mentoring.test_top_performers_support import category_id

HEALTH = "/api/v1/programmes/health"


@pytest.fixture
def period():
    """[start, end] days and the first instant of the period."""
    end = utcnow().date()
    start = end - timedelta(days=59)
    return start, end, datetime.combine(start, time(), tzinfo=UTC)


def _member(country: str = "DE") -> int:
    actor = make_actor("member")
    db.session.get(Member, actor.profile_id).country = country
    db.session.commit()
    return actor.profile_id


def _change(member_id, to_rank, at, cause):
    db.session.add(
        LevelChange(
            member_id=member_id,
            from_rank=to_rank - 1,
            to_rank=to_rank,
            from_code=None,
            to_code=f"rank{to_rank}",
            ruleset_version=1,
            cause=cause,
            created_at=at,
        )
    )


def _admitted(at, *, reached_after_days=None, country="DE") -> int:
    member_id = _member(country)
    _change(member_id, 1, at, "approval")
    if reached_after_days is not None:
        _change(member_id, 2, at + timedelta(days=reached_after_days), "event")
        _change(member_id, 3, at + timedelta(days=reached_after_days + 1), "event")
    db.session.commit()
    return member_id


def _mentorship(mentor_id, mentee_id, status, *, accepted=True, at=None):
    at = at or utcnow()
    db.session.add(
        Mentorship(
            mentor_id=mentor_id,
            mentee_id=mentee_id,
            status=status,
            origin="system",
            accepted_at=at if accepted else None,
            graduated_at=at if status == "graduated" else None,
            ended_at=at if status == "ended" else None,
        )
    )
    db.session.commit()


def _event(cm, starts_at, country, statuses: list[str]) -> int:
    event = Event(
        kind="meetup",
        title=f"Meetup {country}",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        venue="Hall 1",
        city="Berlin",
        country=country,
        capacity=50,
        status="published",
        created_by_id=cm.user_id,
    )
    db.session.add(event)
    db.session.flush()
    for status in statuses:
        db.session.add(
            EventInvitation(
                event_id=event.id,
                member_id=_member(country),
                status=status,
                qualifies_as="mentor",
                invited_at=None if status == "eligible" else starts_at - timedelta(days=7),
            )
        )
    db.session.commit()
    return event.id


def _badges(at):
    run = TopPerformerRun(
        period="2000-Q1",
        period_start=at,
        period_end=at,
        window_start=at,
        window_end=at,
        criteria={},
        status="done",
    )
    db.session.add(run)
    db.session.flush()
    now = utcnow()
    holders = {"de": _member("DE"), "at": _member("AT")}
    rows = [
        (holders["de"], "tv_audio", "DE", None, now + timedelta(days=30)),
        (holders["de"], "smart_home", "DE", None, now + timedelta(days=30)),
        (holders["at"], "tv_audio", "AT", None, now + timedelta(days=30)),
        (_member("DE"), "tv_audio", "DE", now - timedelta(days=1), now + timedelta(days=30)),
        (_member("DE"), "tv_audio", "DE", None, now - timedelta(days=1)),  # expired
    ]
    for member_id, slug, region, revoked_at, until in rows:
        db.session.add(
            TopPerformerBadge(
                run_id=run.id,
                member_id=member_id,
                category_id=category_id(slug),
                region=region,
                valid_from=now - timedelta(days=60),
                valid_until=until,
                revoked_at=revoked_at,
            )
        )
    db.session.commit()


def test_health_figures_equal_the_rows(client, cm, period):
    start, end, first = period
    mentor = _member()
    # Admitted in the period: mentored reach rank 2 after 10 and 20 days (one never does);
    # unmentored after 30, 40 and 50 days; one admitted before the period does not count.
    m1 = _admitted(first + timedelta(days=1), reached_after_days=10)
    m2 = _admitted(first + timedelta(days=2), reached_after_days=20)
    m3 = _admitted(first + timedelta(days=3))
    u1 = _admitted(first + timedelta(days=1), reached_after_days=30)
    _admitted(first + timedelta(days=1), reached_after_days=40)
    _admitted(first + timedelta(days=1), reached_after_days=50)
    _admitted(first - timedelta(days=5), reached_after_days=1)
    _admitted(first + timedelta(days=1), reached_after_days=2, country="AT")
    _mentorship(mentor, m1, "active")
    _mentorship(mentor, m2, "graduated", at=first + timedelta(days=25))
    _mentorship(mentor, m3, "active")
    # A declined proposal: not mentored; it counts as ended in the period.
    _mentorship(mentor, u1, "ended", accepted=False, at=first + timedelta(days=4))
    _mentorship(mentor, _member(), "ended", at=first - timedelta(days=3))  # before the period
    berlin = _event(
        cm, first + timedelta(days=5), "DE",
        ["attended", "attended", "no_show", "declined", "invited", "eligible"],
    )  # fmt: skip
    vienna = _event(cm, first + timedelta(days=6), "AT", ["accepted"])
    _event(cm, first - timedelta(days=6), "DE", ["attended"])  # before the period
    _badges(first)

    response = client.get(f"{HEALTH}?from={start}&to={end}", headers=cm.headers)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["from"], body["to"], body["country"]) == (str(start), str(end), None)
    assert body["active_mentorships"] == 2
    assert body["graduation"] == {"graduated": 1, "ended": 1, "rate": 0.5}
    assert body["time_to_rank_2"] == {
        "mentored": {"admitted": 3, "reached": 2, "median_days": 15.0},
        "unmentored": {"admitted": 4, "reached": 4, "median_days": 35.0},
    }
    assert body["top_performers"] == {
        "members": 2,
        "per_region": [{"region": "AT", "members": 1}, {"region": "DE", "members": 1}],
        "per_category": [
            {"category": "smart_home", "members": 1},
            {"category": "tv_audio", "members": 2},
        ],
    }
    berlin_figures = {
        "invited": 5,
        "accepted": 3,
        "declined": 1,
        "attended": 2,
        "no_show": 1,
        "attendance_rate": 0.6667,
    }
    vienna_figures = {
        "invited": 1,
        "accepted": 1,
        "declined": 0,
        "attended": 0,
        "no_show": 0,
        "attendance_rate": 0.0,
    }
    items = {item.pop("event_id"): item for item in body["events"]["items"]}
    assert set(items) == {berlin, vienna}
    assert {k: items[berlin][k] for k in berlin_figures} == berlin_figures
    assert {k: items[vienna][k] for k in vienna_figures} == vienna_figures
    assert body["events"]["total"] == {
        "invited": 6,
        "accepted": 4,
        "declined": 1,
        "attended": 2,
        "no_show": 1,
        "attendance_rate": 0.5,
    }

    de = client.get(f"{HEALTH}?from={start}&to={end}&country=DE", headers=cm.headers).get_json()
    assert de["time_to_rank_2"]["unmentored"] == {"admitted": 3, "reached": 3, "median_days": 40.0}
    assert [item["event_id"] for item in de["events"]["items"]] == [berlin]
    assert de["top_performers"]["per_region"] == [{"region": "DE", "members": 1}]
    assert de["graduation"] == {"graduated": 1, "ended": 1, "rate": 0.5}


def test_empty_health_has_no_rates(client, admin):
    body = client.get(HEALTH, headers=admin.headers).get_json()
    assert body["graduation"] == {"graduated": 0, "ended": 0, "rate": None}
    assert body["time_to_rank_2"]["mentored"] == {"admitted": 0, "reached": 0, "median_days": None}
    assert body["events"] == {
        "items": [],
        "total": {
            "invited": 0,
            "accepted": 0,
            "declined": 0,
            "attended": 0,
            "no_show": 0,
            "attendance_rate": None,
        },
    }
    assert (utcnow().date() - timedelta(days=89)).isoformat() == body["from"]


def test_health_is_for_staff_and_checks_its_arguments(client, cm, member, customer):
    assert client.get(HEALTH).status_code == 401
    for actor in (member, customer):
        assert client.get(HEALTH, headers=actor.headers).status_code == 403
    for query in ("from=2026-05-02&to=2026-05-01", "country=FR", "from=yesterday"):
        assert client.get(f"{HEALTH}?{query}", headers=cm.headers).status_code == 422, query
