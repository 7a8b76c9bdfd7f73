"""Levels staff handle: locks (and a level set by hand), the staff view, and level history."""

from __future__ import annotations

import pytest

from crowd.extensions import db
from members.models import Member
from tests.jobs.conftest import drain_background
from tests.onboarding.test_levels_support import (
    API,
    changes_of,
    default_ladder,  # noqa: F401  (fixture)
    level_notifications,
    put_ladder,
    rank_of,
    ranked_member,
    run_daily,
)

pytestmark = pytest.mark.usefixtures("default_ladder")


@pytest.fixture
def ladder(app, client, admin):
    """The test ladder (Starter; Member ≥ 10 jobs; Senior ≥ 50 jobs, ≤ 10 % cancelled)."""
    return put_ladder(app, client, admin)


# --- locks ----------------------------------------------------------------------------------


def lock(client, actor, member, **body):
    url = f"{API}/members/{member.profile_id}/level/lock"
    return client.post(
        url, json={"reason": "Customer complaints under review", **body}, headers=actor.headers
    )


def test_a_cm_locks_a_level_and_the_daily_run_leaves_it(app, client, ladder, cm):
    member = ranked_member(3, jobs=0)

    response = lock(client, cm, member)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["locked"] is True and body["locked_by_id"] == cm.user_id
    assert body["lock_reason"] == "Customer complaints under review"
    assert body["rank"] == 3 and body["level"]["code"] == "senior"
    run_daily(app)
    assert rank_of(member) == 3


def test_a_cm_sets_a_level_by_hand_and_locks_it(app, client, ladder, cm):
    member = ranked_member(3, jobs=60, max_concurrent_jobs=8)

    response = lock(client, cm, member, level="starter", reason="Safety incident")

    assert response.status_code == 200, response.get_json()
    assert rank_of(member) == 1
    assert db.session.get(Member, member.profile_id).max_concurrent_jobs == 2
    [change] = changes_of(member)
    assert (change.cause, change.detail, change.changed_by_id) == (
        "manual",
        "Safety incident",
        cm.user_id,
    )
    assert (change.from_code, change.to_code) == ("senior", "starter")
    drain_background(app)
    assert len(level_notifications(member)) == 1
    run_daily(app)  # would promote straight back to Senior, but the level is locked
    assert rank_of(member) == 1


def test_setting_the_level_the_member_has_records_no_change(client, ladder, cm):
    member = ranked_member(2, jobs=20)
    assert lock(client, cm, member, level="member").status_code == 200
    assert changes_of(member) == []


def test_unlocking_hands_the_member_back_to_evaluation(app, client, ladder, admin):
    member = ranked_member(1, jobs=60, locked=True)
    url = f"{API}/members/{member.profile_id}/level/lock"

    first = client.delete(url, headers=admin.headers)
    again = client.delete(url, headers=admin.headers)

    assert first.status_code == again.status_code == 200
    assert first.get_json()["locked"] is False and first.get_json()["lock_reason"] is None
    run_daily(app)
    assert rank_of(member) == 3


def test_locking_needs_a_known_level_and_a_reason(client, ladder, cm):
    member = ranked_member(2)
    unknown = lock(client, cm, member, level="grandmaster")
    assert unknown.status_code == 422 and "level" in unknown.get_json()["errors"]["json"]
    blank = lock(client, cm, member, reason="  ")
    assert blank.status_code == 422 and "reason" in blank.get_json()["errors"]["json"]


def test_an_applicant_has_no_level_to_lock(client, cm, member):
    response = lock(client, cm, member)
    assert response.status_code == 409 and response.get_json()["state"] == "applicant"


def test_members_cannot_lock_levels(client, ladder):
    member = ranked_member(1)
    assert lock(client, member, member).status_code == 403
    url = f"{API}/members/{member.profile_id}/level/lock"
    assert client.delete(url, headers=member.headers).status_code == 403
    assert client.post(url, json={"reason": "x"}).status_code == 401


def test_locking_an_unknown_member_is_404(client, cm):
    response = client.post(
        f"{API}/members/999999/level/lock", json={"reason": "x"}, headers=cm.headers
    )
    assert response.status_code == 404


# --- the staff view and history ------------------------------------------------------------


def test_staff_see_a_members_level_with_lock_details(client, ladder, cm):
    member = ranked_member(2, jobs=20, promoted_days_ago=3)
    response = client.get(f"{API}/members/{member.profile_id}/level", headers=cm.headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["rank"] == 2 and body["level"]["code"] == "member"
    assert body["locked"] is False and body["grace_until"] is not None
    assert body["active_since"] is not None and body["max_concurrent_jobs"] == 2
    assert (
        client.get(f"{API}/members/{member.profile_id}/level", headers=member.headers).status_code
        == 403
    )


def test_history_is_newest_first_for_staff_and_the_member_only(app, client, ladder, cm):
    member = ranked_member(1, jobs=60)
    other = ranked_member(1)
    run_daily(app)  # → Senior
    lock(client, cm, member, level="member", reason="Probation")

    mine = client.get(f"{API}/me/level/changes", headers=member.headers)
    by_id = client.get(f"{API}/members/{member.profile_id}/level/changes", headers=member.headers)
    staff = client.get(
        f"{API}/members/{member.profile_id}/level/changes?limit=1", headers=cm.headers
    )
    nosy = client.get(f"{API}/members/{member.profile_id}/level/changes", headers=other.headers)

    assert mine.status_code == by_id.status_code == staff.status_code == 200
    items = mine.get_json()["items"]
    assert [(i["cause"], i["to_code"], i["direction"]) for i in items] == [
        ("manual", "member", "down"),
        ("daily", "senior", "up"),
    ]
    assert by_id.get_json()["items"] == items
    assert staff.get_json()["items"] == items[:1] and staff.get_json()["page"]["total"] == 2
    assert nosy.status_code == 404


def test_own_history_needs_a_member_profile(client, customer, cm):
    assert client.get(f"{API}/me/level/changes", headers=customer.headers).status_code == 403
    assert client.get(f"{API}/me/level/changes").status_code == 401


def test_the_metric_catalogue_is_for_any_signed_in_user(client, customer):
    response = client.get(f"{API}/levels/metrics", headers=customer.headers)
    assert response.status_code == 200
    names = [m["name"] for m in response.get_json()["items"]]
    assert "jobs_completed" in names and "training_modules" in names
    assert client.get(f"{API}/levels/metrics").status_code == 401
