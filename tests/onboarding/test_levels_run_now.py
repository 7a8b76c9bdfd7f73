"""An admin runs the crowd-wide level evaluation now: the real run, queued as the daily one."""

from __future__ import annotations

import pytest

from tests.jobs.conftest import drain_background
from tests.onboarding.test_levels_support import (
    changes_of,
    default_ladder,  # noqa: F401  (fixture)
    level_notifications,
    put_ladder,
    rank_of,
    ranked_member,
)

pytestmark = pytest.mark.usefixtures("default_ladder")

RUN = "/api/v1/level-evaluations"


def test_an_admin_runs_the_evaluation_and_it_promotes(app, client, admin):
    ladder = put_ladder(app, client, admin)
    climber = ranked_member(1, jobs=12)  # Member needs 10 jobs
    stays = ranked_member(1, jobs=2)

    response = client.post(RUN, headers=admin.headers)

    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert (body["status"], body["cause"], body["ruleset_version"]) == (
        "queued",
        "manual",
        ladder["version"],
    )
    assert body["detail"].endswith(f":{admin.user_id}")
    drain_background(app)
    assert (rank_of(climber), rank_of(stays)) == (2, 1)
    [change] = changes_of(climber)
    assert (change.cause, change.detail) == ("manual", body["detail"])
    assert changes_of(stays) == []
    assert len(level_notifications(climber)) == 1

    again = client.post(RUN, headers=admin.headers)
    assert again.status_code == 202
    drain_background(app)
    assert len(changes_of(climber)) == 1  # nothing more to change


def test_a_replayed_idempotency_key_queues_one_run(app, client, admin):
    put_ladder(app, client, admin)
    climber = ranked_member(1, jobs=12)
    headers = {**admin.headers, "Idempotency-Key": "levels-now-1"}
    first = client.post(RUN, headers=headers)
    replay = client.post(RUN, headers=headers)
    assert (first.status_code, replay.status_code) == (202, 202)
    assert replay.get_json() == first.get_json()
    drain_background(app)
    assert rank_of(climber) == 2


@pytest.mark.parametrize("role", ["cm", "member", "customer"])
def test_only_admins_run_the_evaluation(app, client, request, role):
    climber = ranked_member(1, jobs=12)
    caller = request.getfixturevalue(role)
    assert client.post(RUN, headers=caller.headers).status_code == 403
    assert client.post(RUN).status_code == 401
    drain_background(app)
    assert changes_of(climber) == []
