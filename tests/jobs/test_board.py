"""The dispatch board (GET /staff/dispatch-board): the jobs waiting for a member, filtered, with
waves, offers out and the times to the first offer and to assignment from the job's events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from crowd.core.db import utcnow
from crowd.extensions import db
from jobs.models import Job, JobEvent
from tests.jobs.conftest import active_member, drain_background, future, post_job_via_api

BOARD = "/api/v1/staff/dispatch-board"


def _post(app, client, customer, **overrides) -> int:
    response = post_job_via_api(client, customer, **overrides)
    assert response.status_code == 201, response.get_json()
    drain_background(app)
    return response.get_json()["id"]


def _board(client, cm, **args) -> dict:
    response = client.get(BOARD, query_string=args, headers=cm.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_board_lists_waiting_jobs_with_their_figures(app, client, customer, cm):
    escalated = _post(app, client, customer)  # nobody can take it: escalated at once
    member = active_member()
    offered = _post(app, client, customer, title="Offered to the member")
    posted_at = db.session.get(Job, offered).created_at
    # The first wave went out 90 s after posting (the event's time is what counts).
    event = db.session.scalars(
        select(JobEvent).where(JobEvent.job_id == offered, JobEvent.action == "dispatch")
    ).one()
    event.created_at = posted_at + timedelta(seconds=90)
    db.session.commit()
    assigned = _post(app, client, customer)
    client.post(
        f"/api/v1/staff/jobs/{assigned}/assign",
        json={"member_id": member.profile_id},
        headers=cm.headers,
    )

    items = {i["id"]: i for i in _board(client, cm)["items"]}

    assert set(items) == {escalated, offered}  # the assigned job is off the board
    assert items[escalated]["escalated"] is True
    assert items[escalated]["waves_sent"] == 0
    assert items[escalated]["seconds_to_first_offer"] is None
    row = items[offered]
    assert (row["status"], row["escalated"], row["waves_sent"], row["offers_out"]) == (
        "offered",
        False,
        1,
        1,
    )
    assert row["seconds_to_first_offer"] == 90
    assert row["seconds_to_assignment"] is None
    assert (row["category"], row["country"], row["postcode"]) == ("tv_audio", "DE", "10117")


def test_the_board_filters(app, client, customer, cm):
    escalated = _post(app, client, customer)
    active_member()
    soon = future(30)
    offered = _post(
        app,
        client,
        customer,
        windows=[
            {"starts_at": soon.isoformat(), "ends_at": (soon + timedelta(hours=3)).isoformat()}
        ],
    )

    def ids(**args):
        return {i["id"] for i in _board(client, cm, **args)["items"]}

    assert ids(escalated="yes") == {escalated}
    assert ids(escalated="no") == {offered}
    assert ids(status="offered") == {offered}
    assert ids(region="DE") == {escalated, offered}
    assert ids(region="DE-101") == {escalated, offered}
    assert ids(region="DE-80") == set()
    assert ids(region="AT") == set()
    assert ids(category="tv_audio") == {escalated, offered}
    assert ids(category="it_network") == set()
    assert ids(min_waves=1) == {offered}
    assert ids(max_waves=0) == {escalated}
    until = (utcnow() + timedelta(hours=36)).isoformat()
    assert ids(starts_until=until) == {offered}
    assert ids(starts_from=until) == {escalated}


def test_the_board_pages(app, client, customer, cm):
    jobs = [_post(app, client, customer) for _ in range(3)]
    first = _board(client, cm, limit=2)
    assert [i["id"] for i in first["items"]] == jobs[:2]
    assert first["page"]["total"] == 3
    second = _board(client, cm, limit=2, cursor=first["page"]["next_cursor"])
    assert [i["id"] for i in second["items"]] == jobs[2:]


@pytest.mark.parametrize(
    "args",
    [{"region": "Deutschland"}, {"escalated": "maybe"}, {"min_waves": 3, "max_waves": 1}],
)
def test_bad_filters_are_422(client, cm, args):
    assert client.get(BOARD, query_string=args, headers=cm.headers).status_code == 422


def test_the_board_is_for_staff(client, customer, member):
    for actor in (customer, member):
        assert client.get(BOARD, headers=actor.headers).status_code == 403
