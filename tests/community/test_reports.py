"""Reports: members flag posts once; community managers uphold (hide) or dismiss them,
every open report of a post together."""

import pytest

from tests.community.conftest import (
    API,
    create_group,
    inbox,
    joined_member,
    ok,
    post_reply,
    problem,
    thread,
)
from tests.jobs.conftest import active_member


@pytest.fixture
def group(client, cm):
    return create_group(client, cm)


def _report(client, actor, post_id, reason="spam", **extra):
    return client.post(
        f"{API}/topic-posts/{post_id}/reports",
        json={"reason": reason, **extra},
        headers=actor.headers,
    )


def _decide(client, cm, report_id, decision):
    return client.post(
        f"{API}/topic-reports/{report_id}/decide", json={"decision": decision}, headers=cm.headers
    )


def test_a_member_reports_a_post_once(client, group):
    author = joined_member(client, group["id"])
    reader = joined_member(client, group["id"])
    opening = thread(client, author, group["id"])
    report = ok(_report(client, reader, opening["id"], "personal_data", note="A phone number"), 201)
    assert report["reason"] == "personal_data" and report["status"] == "open"
    assert problem(_report(client, reader, opening["id"], "abuse"), 409)["state"] == "reported"
    problem(_report(client, author, opening["id"]), 403)  # one's own post


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "boring"}, "reason"),
        ({}, "reason"),
        ({"reason": "other", "note": "x" * 1001}, "note"),
    ],
)
def test_reports_are_validated(client, group, body, field):
    author = joined_member(client, group["id"])
    opening = thread(client, author, group["id"])
    reader = joined_member(client, group["id"])
    response = client.post(
        f"{API}/topic-posts/{opening['id']}/reports", json=body, headers=reader.headers
    )
    assert field in problem(response, 422)["errors"]["json"]


def test_only_group_members_report(client, cm, group):
    author = joined_member(client, group["id"])
    opening = thread(client, author, group["id"])
    problem(_report(client, active_member(), opening["id"]), 403)  # qualifies, not joined
    problem(_report(client, active_member(skills=("pc_setup_new",)), opening["id"]), 404)
    problem(_report(client, cm, opening["id"]), 403)  # staff moderate instead


def test_upholding_hides_the_post_and_decides_every_open_report(app, client, cm, group):
    author = joined_member(client, group["id"])
    opening = thread(client, author, group["id"])
    answer = ok(post_reply(client, author, opening["id"], "Call me: 0170 1234567"), 201)
    reporters = [joined_member(client, group["id"]) for _ in range(2)]
    first = ok(_report(client, reporters[0], answer["id"], "personal_data"), 201)
    ok(_report(client, reporters[1], answer["id"], "spam"), 201)
    other = ok(_report(client, reporters[0], opening["id"], "off_topic"), 201)

    queue = ok(client.get(f"{API}/topic-reports?status=open", headers=cm.headers))
    assert [r["post"]["id"] for r in queue["items"]] == [answer["id"], answer["id"], opening["id"]]
    assert queue["items"][0]["post"]["excerpt"] == "Call me: 0170 1234567"

    decided = ok(_decide(client, cm, first["id"], "upheld"))
    assert decided["post_hidden"] is True
    assert [r["status"] for r in decided["reports"]] == ["upheld", "upheld"]
    assert problem(_decide(client, cm, first["id"], "dismissed"), 409)["state"] == "upheld"
    notices = inbox(app, author, "community.post_hidden")
    assert len(notices) == 1 and "personal data" in notices[0].body

    left = ok(client.get(f"{API}/topic-reports?status=open", headers=cm.headers))
    assert [r["id"] for r in left["items"]] == [other["id"]]
    seen = ok(client.get(f"{API}/topic-threads/{opening['id']}", headers=reporters[1].headers))
    assert seen["replies"]["items"][0]["body"] is None


def test_dismissing_leaves_the_post(client, cm, group):
    author = joined_member(client, group["id"])
    reader = joined_member(client, group["id"])
    opening = thread(client, author, group["id"])
    report = ok(_report(client, reader, opening["id"]), 201)
    decided = ok(_decide(client, cm, report["id"], "dismissed"))
    assert decided["post_hidden"] is False and decided["reports"][0]["status"] == "dismissed"
    ok(client.get(f"{API}/topic-threads/{opening['id']}", headers=reader.headers))


def test_the_queue_is_for_staff(client, group):
    someone = joined_member(client, group["id"])
    problem(client.get(f"{API}/topic-reports", headers=someone.headers), 403)
    problem(_decide(client, someone, 1, "upheld"), 403)


def test_unknown_reports_are_404(client, cm):
    problem(_decide(client, cm, 987654321, "upheld"), 404)


def test_the_queue_filters_by_group_and_status(client, cm, group):
    other_group = create_group(client, cm, name="Other")
    reports = []
    for target in (group, other_group):
        author = joined_member(client, target["id"])
        reader = joined_member(client, target["id"])
        opening = thread(client, author, target["id"])
        reports.append(ok(_report(client, reader, opening["id"]), 201))
    ok(_decide(client, cm, reports[1]["id"], "dismissed"))
    url = f"{API}/topic-reports"
    in_group = ok(client.get(f"{url}?group_id={group['id']}", headers=cm.headers))
    assert [r["id"] for r in in_group["items"]] == [reports[0]["id"]]
    dismissed = ok(client.get(f"{url}?status=dismissed", headers=cm.headers))
    assert [r["id"] for r in dismissed["items"]] == [reports[1]["id"]]
