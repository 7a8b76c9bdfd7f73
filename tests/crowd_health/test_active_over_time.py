"""Active members over time (crowd health's `active_over_time`): per week or month, per region
and per skill, read from the status history; the exact counts of the members created here."""

from __future__ import annotations

from datetime import UTC, date, datetime

from crowd_health.service import periods
from tests.crowd_health.test_crowd_health import BERLIN, BERLIN_NORTH, HEALTH, MUNICH, VIENNA
from tests.crowd_health.test_crowd_health import member as make_member
from tests.crowd_health.test_service_figures import LIGHTS, TV

# Three weeks: 5–11, 12–18 and 19–25 January 2026.
QUERY = {"from": "2026-01-05", "to": "2026-01-25"}


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, tzinfo=UTC)


def january_crowd() -> dict:
    """A: active all along. B: approved exactly when week 2 begins. C (Vienna): active from
    week 1, paused in week 3 (and now). D: approved, paused, active again in week 2.
    E: active now, but no status history in the period (not counted)."""
    return {
        "A": make_member(BERLIN, skills=(TV,), approved=datetime(2025, 12, 1, tzinfo=UTC)),
        "B": make_member(MUNICH, skills=(TV, LIGHTS), approved=at(12)),
        "C": make_member(
            VIENNA, skills=(LIGHTS,), status="paused", approved=at(6), history=[(at(20), "paused")]
        ),
        "D": make_member(
            BERLIN_NORTH, approved=at(7), history=[(at(8), "paused"), (at(15), "active")]
        ),
        "E": make_member(BERLIN, skills=(TV,)),
    }


def test_weekly_counts_per_country_and_skill(client, cm):
    january_crowd()
    response = client.get(HEALTH, query_string=QUERY, headers=cm.headers)
    assert response.status_code == 200, response.get_json()
    figures = response.get_json()["active_over_time"]
    assert figures["bucket"] == "week"
    assert figures["periods"] == [
        {"first": "2026-01-05", "last": "2026-01-11"},
        {"first": "2026-01-12", "last": "2026-01-18"},
        {"first": "2026-01-19", "last": "2026-01-25"},
    ]
    assert figures["per_region"] == [
        {"country": "AT", "postcode_area": None, "members": [1, 1, 0]},
        {"country": "DE", "postcode_area": None, "members": [1, 3, 3]},
    ]
    # The skills of active_members.per_skill (active now: A, B, E claim TV; B claims lights).
    assert figures["per_skill"] == [
        {"skill_id": figures["per_skill"][0]["skill_id"], "skill": TV, "members": [1, 2, 2]},
        {"skill_id": figures["per_skill"][1]["skill_id"], "skill": LIGHTS, "members": [1, 2, 1]},
    ]


def test_within_a_country_per_postcode_area(client, cm):
    january_crowd()
    response = client.get(HEALTH, query_string={**QUERY, "country": "DE"}, headers=cm.headers)
    figures = response.get_json()["active_over_time"]
    assert figures["per_region"] == [
        {"country": "DE", "postcode_area": "10", "members": [1, 2, 2]},
        {"country": "DE", "postcode_area": "80", "members": [0, 1, 1]},
    ]
    assert [s["members"] for s in figures["per_skill"]] == [[1, 2, 2], [0, 1, 1]]
    # A skill filter follows that skill only (and its members' regions).
    skill = figures["per_skill"][1]["skill_id"]
    lights = client.get(HEALTH, query_string={**QUERY, "skill_id": skill}, headers=cm.headers)
    over_time = lights.get_json()["active_over_time"]
    assert over_time["per_region"] == [
        {"country": "AT", "postcode_area": None, "members": [1, 1, 0]},
        {"country": "DE", "postcode_area": None, "members": [0, 1, 1]},
    ]
    assert [s["skill"] for s in over_time["per_skill"]] == [LIGHTS]


def test_longer_periods_are_per_month():
    bucket, spans = periods(date(2025, 11, 15), date(2026, 6, 10))
    assert bucket == "month"
    assert spans[0] == (date(2025, 11, 15), date(2025, 11, 30))
    assert spans[1] == (date(2025, 12, 1), date(2025, 12, 31))
    assert spans[2] == (date(2026, 1, 1), date(2026, 1, 31))
    assert spans[-1] == (date(2026, 6, 1), date(2026, 6, 10))
    assert len(spans) == 8
    assert periods(date(2026, 1, 1), date(2026, 7, 2))[0] == "week"  # 183 days
    assert periods(date(2026, 1, 1), date(2026, 7, 3))[0] == "month"


def test_a_month_bucket_counts_at_its_end(client, cm):
    january_crowd()
    query = {"from": "2025-10-01", "to": "2026-04-30"}
    figures = client.get(HEALTH, query_string=query, headers=cm.headers).get_json()
    over_time = figures["active_over_time"]
    assert over_time["bucket"] == "month" and len(over_time["periods"]) == 7
    # Oct, Nov: nobody; Dec: A; from January A, B, D (DE). C was paused again by the end of
    # January: Austria has no month with an active member, so no line.
    assert over_time["per_region"] == [
        {"country": "DE", "postcode_area": None, "members": [0, 0, 1, 3, 3, 3, 3]},
    ]
