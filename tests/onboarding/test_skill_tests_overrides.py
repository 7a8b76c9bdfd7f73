"""Staff overrides of a failed skill test: reset the wait, verify the skill, lower the delay."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from crowd.core.audit import AuditEntry
from crowd.core.db import utcnow
from crowd.extensions import db
from onboarding.models import SkillTestAttempt
from tests.onboarding.conftest import (
    API,
    answers,
    complete_profile,
    create_test,
    ok,
    problem,
    shift_attempt,
    start_attempt,
    states,
    step,
    submit_attempt,
)

ENDPOINT = "onboarding_skill_tests.reset_retry_delay"


def _reset_url(member_id: int, skill: str = "tv_wall_mount") -> str:
    return f"{API}/members/{member_id}/skill-tests/{skill}/reset-retry-delay"


def _failed(client, cm, member) -> tuple[dict, dict]:
    """The member claims tv_wall_mount, its test exists, and the member failed it once."""
    complete_profile(client, member)
    test = create_test(client, cm)
    attempt = ok(start_attempt(client, member), 201)
    ok(submit_attempt(client, member, attempt["id"], answers(attempt, test, right=1)))
    assert problem(start_attempt(client, member), 409)["state"] == "retry_later"
    return test, attempt


def _audit(cm) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.actor_user_id == cm.user_id, AuditEntry.endpoint == ENDPOINT)
            .order_by(AuditEntry.id)
        )
    )


def test_a_cm_resets_the_wait_and_the_member_retries_at_once(client, cm, member):
    test, attempt = _failed(client, cm, member)

    response = client.post(_reset_url(member.profile_id), headers=cm.headers)

    standing = ok(response)
    assert (standing["skill"], standing["attempts"], standing["retry_after"]) == (
        "tv_wall_mount",
        1,
        None,
    )
    stored = db.session.get(SkillTestAttempt, attempt["id"])
    db.session.refresh(stored)
    assert stored.retry_after <= utcnow() and stored.score_percent == 25  # the score stays
    assert step(client, member, "skill_tests")["details"]["skills"][0]["retry_after"] is None
    retry = ok(start_attempt(client, member), 201)
    assert retry["id"] != attempt["id"]
    [entry] = _audit(cm)
    assert (entry.method, entry.status_code, entry.actor_role) == ("POST", 200, "community_manager")
    assert entry.target == {"member_id": member.profile_id, "skill_slug": "tv_wall_mount"}


def test_a_reset_with_nothing_to_reset_changes_nothing(client, cm, member):
    complete_profile(client, member)
    create_test(client, cm)
    standing = ok(client.post(_reset_url(member.profile_id), headers=cm.headers))
    assert (standing["attempts"], standing["retry_after"]) == (0, None)
    opened = ok(start_attempt(client, member), 201)
    again = ok(client.post(_reset_url(member.profile_id), headers=cm.headers))
    assert again["open_attempt"]["id"] == opened["id"]
    assert db.session.get(SkillTestAttempt, opened["id"]).status == "started"


def test_a_reset_writes_down_an_attempt_that_ran_out_of_time(client, cm, member):
    complete_profile(client, member)
    create_test(client, cm)
    attempt = ok(start_attempt(client, member), 201)
    shift_attempt(attempt["id"], minutes=21)
    assert problem(start_attempt(client, member), 409)["state"] == "retry_later"
    ok(client.post(_reset_url(member.profile_id), headers=cm.headers))
    stored = db.session.get(SkillTestAttempt, attempt["id"])
    db.session.refresh(stored)
    assert (stored.status, stored.passed) == ("expired", False)
    assert ok(start_attempt(client, member), 201)["id"] != attempt["id"]


def test_only_staff_reset_a_wait_and_refusals_are_audited_for_staff(
    client, cm, member, other_member, customer
):
    _failed(client, cm, member)
    url = _reset_url(member.profile_id)
    assert problem(client.post(url), 401)
    for caller in (member, other_member, customer):
        assert problem(client.post(url, headers=caller.headers), 403)
    assert problem(start_attempt(client, member), 409)["state"] == "retry_later"
    assert problem(
        client.post(_reset_url(member.profile_id, "router_config"), headers=cm.headers), 404
    )
    assert problem(client.post(_reset_url(999_999), headers=cm.headers), 404)
    assert [entry.status_code for entry in _audit(cm)] == [404, 404]


def test_a_skill_verified_by_a_cm_satisfies_the_skill_step(client, cm, member):
    _failed(client, cm, member)
    assert states(client, member)["skill_tests"] == "failed"
    verify = f"{API}/members/{member.profile_id}/skills/tv_wall_mount/verify"

    assert client.post(verify, headers=cm.headers).status_code == 200

    shown = step(client, member, "skill_tests")
    assert shown["state"] == "done"
    [row] = shown["details"]["skills"]
    assert (row["verified"], row["passed"]) == (True, False)
    [item] = ok(client.get(f"{API}/me/skill-tests", headers=member.headers))["items"]
    assert item["verified"] is True
    assert client.delete(verify, headers=cm.headers).status_code == 200
    assert states(client, member)["skill_tests"] == "failed"


def test_lowering_the_delay_shortens_a_wait_already_running(client, cm, member):
    test, attempt = _failed(client, cm, member)
    patch = client.patch(
        f"{API}/skill-tests/{test['id']}", json={"retry_delay_hours": 2}, headers=cm.headers
    )
    assert patch.status_code == 200
    body = problem(start_attempt(client, member), 409)
    stored = db.session.get(SkillTestAttempt, attempt["id"])
    assert datetime.fromisoformat(body["retry_after"]) == stored.submitted_at + timedelta(hours=2)
    client.patch(
        f"{API}/skill-tests/{test['id']}", json={"retry_delay_hours": 0}, headers=cm.headers
    )
    assert ok(start_attempt(client, member), 201)["id"] != attempt["id"]


def test_raising_the_delay_does_not_lengthen_a_wait(client, cm, member):
    test, attempt = _failed(client, cm, member)
    client.patch(
        f"{API}/skill-tests/{test['id']}", json={"retry_delay_hours": 72}, headers=cm.headers
    )
    shift_attempt(attempt["id"], hours=24, seconds=1)
    assert ok(start_attempt(client, member), 201)
