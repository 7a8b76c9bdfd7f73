"""House rules: admins publish versions, members accept the newest, a new version asks again."""

import pytest
from sqlalchemy import func, select

from crowd.core.background import OutboxMessage
from crowd.extensions import db
from members.models import Member
from notifications.models import Notification
from onboarding import house_rules
from tests.factories import make_actor
from tests.jobs.conftest import active_member, drain_background, notifications_for
from tests.onboarding.conftest import (
    API,
    accept_rules,
    ok,
    onboarding,
    problem,
    publish_rules,
    states,
)

RULES = f"{API}/house-rules"
MINE = f"{API}/me/onboarding/house-rules"


def test_admin_publishes_numbered_versions(client, admin):
    first = publish_rules(client, admin, "House rules", "First edition")
    second = publish_rules(client, admin, "House rules 2", "Photos of finished work")
    assert (first["version"], second["version"]) == (1, 2)
    assert second["published_by_id"] == admin.user_id
    assert second["summary_of_changes"] == "Photos of finished work"


def test_only_admins_publish(client, cm, member):
    body = {"title": "Rules", "body": "Be kind."}
    assert problem(client.post(RULES, json=body), 401)
    assert problem(client.post(RULES, json=body, headers=cm.headers), 403)
    assert problem(client.post(RULES, json=body, headers=member.headers), 403)


@pytest.mark.parametrize("body", [{"title": "Rules"}, {"title": " ", "body": "x"}, {"body": "x"}])
def test_a_version_needs_title_and_body(client, admin, body):
    assert problem(client.post(RULES, json=body, headers=admin.headers), 422)


def test_anyone_signed_in_reads_the_current_version(client, admin, customer, member):
    assert problem(client.get(f"{RULES}/current", headers=customer.headers), 404)
    publish_rules(client, admin)
    latest = publish_rules(client, admin, "Second")
    for actor in (customer, member, admin):
        assert ok(client.get(f"{RULES}/current", headers=actor.headers)) == latest
    assert problem(client.get(f"{RULES}/current"), 401)


def test_staff_see_the_history_newest_first(client, admin, cm, member):
    publish_rules(client, admin, "One")
    publish_rules(client, admin, "Two")
    history = ok(client.get(RULES, headers=cm.headers))
    assert [v["title"] for v in history["items"]] == ["Two", "One"]
    assert problem(client.get(RULES, headers=member.headers), 403)


def test_member_reads_and_accepts_the_current_version(client, admin, member):
    assert problem(client.get(MINE, headers=member.headers), 404)
    assert problem(accept_rules(client, member, 1), 404)
    rules = publish_rules(client, admin)
    mine = ok(client.get(MINE, headers=member.headers))
    assert (mine["rules"]["version"], mine["accepted"], mine["accepted_at"]) == (1, False, None)
    accepted = ok(accept_rules(client, member, rules["version"]))
    assert accepted["accepted"] is True
    # Accepting again is fine and changes nothing.
    again = ok(accept_rules(client, member, rules["version"]))
    assert again["accepted_at"] == accepted["accepted_at"]
    assert ok(client.get(MINE, headers=member.headers))["accepted"] is True


def test_accepting_another_version_than_the_current_is_409_outdated(client, admin, member):
    publish_rules(client, admin)
    publish_rules(client, admin, "Second")
    body = problem(accept_rules(client, member, 1), 409)
    assert (body["state"], body["current_version"]) == ("outdated", 2)
    assert body["type"] == "https://crowd.example/problems/house-rules-outdated"
    assert problem(accept_rules(client, member, 3), 409)["state"] == "outdated"
    assert problem(accept_rules(client, member, "2"), 422)


def test_accepting_is_for_members(client, admin, cm):
    publish_rules(client, admin)
    assert problem(client.post(f"{MINE}/accept", json={"version": 1}), 401)
    assert problem(accept_rules(client, cm, 1), 403)


def test_a_new_version_asks_an_active_member_again(client, admin):
    veteran = active_member()
    first = publish_rules(client, admin)
    ok(accept_rules(client, veteran, first["version"]))
    assert states(client, veteran)["house_rules"] == "done"
    second = publish_rules(client, admin, "Second")
    body = onboarding(client, veteran)
    assert body["member_status"] == "active"
    rules = next(s for s in body["steps"] if s["name"] == "house_rules")
    assert rules["state"] == "pending"
    assert rules["details"] == {"current_version": 2, "accepted_version": 1}
    ok(accept_rules(client, veteran, second["version"]))
    assert states(client, veteran)["house_rules"] == "done"


def test_active_and_paused_members_are_notified_of_a_new_version(app, client, admin):
    active, paused = active_member(), active_member()
    db.session.get(Member, paused.profile_id).status = "paused"
    db.session.commit()
    applicant = make_actor("member")
    publish_rules(client, admin, summary="Photos of finished work")
    drain_background(app)
    for actor in (active, paused):
        [notice] = notifications_for(actor.user_id, "onboarding.house_rules")
        assert notice.body == "Photos of finished work"
        assert notice.data == {"version": 1}
    assert notifications_for(applicant.user_id, "onboarding.house_rules") == []


def test_notices_go_out_in_batches_and_never_twice(app, client, admin):
    crowd = [active_member() for _ in range(5)]
    version = publish_rules(client, admin)
    drain_background(app)  # the first batch (of 500) covers everyone
    # Walk the crowd again in batches of 2: each batch queues the next; nobody hears twice.
    assert house_rules.notify_batch(version_id=version["id"], after_member_id=0, batch=2) == 2
    db.session.commit()
    drain_background(app)
    batches = select(func.count()).where(OutboxMessage.task == "onboarding.notify_house_rules")
    # The publication's own run, then the batches queued after ours: members 3–4, then 5.
    assert db.session.scalar(batches) == 1 + 2
    for actor in crowd:
        assert len(notifications_for(actor.user_id, "onboarding.house_rules")) == 1


def test_a_superseded_version_is_not_announced_further(app, client, admin):
    active_member()
    first = publish_rules(client, admin)
    publish_rules(client, admin, "Second")
    drain_background(app)
    notices = select(func.count()).select_from(Notification)
    before = db.session.scalar(notices)
    assert house_rules.notify_batch(version_id=first["id"], after_member_id=0) == 0
    db.session.commit()
    drain_background(app)
    assert db.session.scalar(notices) == before
