"""Through the API: a quarterly run makes a top performer whose perks change matching and
commission; the period runs once; the next period keeps the badge through its grace."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from crowd.core.db import utcnow
from crowd.extensions import db
from mentoring.models import TopPerformerBadge
from payouts.plans import commission_for
from tests.jobs.conftest import post_job_via_api
from tests.mentoring.test_top_performers_support import (
    API,
    current_quarter,
    performer,
    previous_quarter,
    run,
    sanction,
)


def _candidates(client, cm, job_id) -> dict[int, dict]:
    url = f"{API}/jobs/{job_id}/candidates?include_offered=true&limit=50"
    response = client.get(url, headers=cm.headers)
    assert response.status_code == 200, response.get_json()
    return {item["member_id"]: item for item in response.get_json()["items"]}


def _perks_in_force(client, cm, customer, top, equal):
    """The top performer ranks 5 points (the programme weight) above an otherwise equal member
    and pays 2 points less commission."""
    job_id = post_job_via_api(client, customer).get_json()["id"]
    candidates = _candidates(client, cm, job_id)
    boosted, plain = candidates[top.profile_id], candidates[equal.profile_id]
    assert (boosted["breakdown"]["programme"], plain["breakdown"]["programme"]) == (5.0, 0.0)
    assert round(boosted["score"] - plain["score"], 3) == 5.0
    assert list(candidates)[:2] == [top.profile_id, equal.profile_id]
    now = utcnow()
    assert commission_for(10_000, "EUR", top.profile_id, now).amount == 1800
    assert commission_for(10_000, "EUR", equal.profile_id, now).amount == 2000
    plan = client.get(f"{API}/me/plan", headers=top.headers).get_json()
    assert plan["perk"]["discount_bp"] == 200
    assert {e["currency"]: e["amount"] for e in plan["examples"]} == {"EUR": 1800, "CHF": 1800}


def test_a_quarterly_run_makes_top_performers_whose_perks_change_matching_and_commission(
    client, cm, customer
):
    previous, current = previous_quarter(), current_quarter()
    older = previous.previous()
    # Work in the older quarter's window that the previous quarter's window no longer covers.
    long_ago = previous.start - timedelta(days=330)
    top = performer(customer, at=long_ago)
    equal = performer(customer, at=long_ago)
    sanction(equal, cm, at=long_ago)
    before = _candidates(client, cm, post_job_via_api(client, customer).get_json()["id"])
    assert before[top.profile_id]["score"] == before[equal.profile_id]["score"]

    first = run(client, cm, older.label)

    assert first.status_code == 201, first.get_json()
    assert (first.get_json()["evaluated"], first.get_json()["awarded"]) == (2, 1)
    mine = client.get(f"{API}/me/top-performer", headers=top.headers).get_json()
    [badge] = mine["badges"]
    assert (badge["period"], badge["valid_until"]) == (older.label, current.end.isoformat())
    _perks_in_force(client, cm, customer, top, equal)

    again = run(client, cm, older.label)
    assert (again.status_code, again.get_json()["state"]) == (409, "exists")

    # The latest ended quarter: the top performer's jobs have left the window, so no new
    # badge — but the older quarter's badge holds through its grace, and so do its perks.
    second = run(client, cm)
    assert second.status_code == 201, second.get_json()
    assert (second.get_json()["period"], second.get_json()["awarded"]) == (previous.label, 0)
    assert run(client, cm).status_code == 409
    mine = client.get(f"{API}/me/top-performer", headers=top.headers).get_json()
    assert [b["period"] for b in mine["badges"]] == [older.label]
    assert mine["top_performer"] is True
    _perks_in_force(client, cm, customer, top, equal)
    holders = client.get(f"{API}/top-performers", headers=cm.headers).get_json()["items"]
    assert [h["member_id"] for h in holders] == [top.profile_id]
    # After the grace the badge no longer counts (valid_until is the end of this quarter).
    badge_row = db.session.scalar(select(TopPerformerBadge))
    assert badge_row.valid_until == current.end
