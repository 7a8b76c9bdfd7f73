"""The contact history of members and customers through the API: staff log notes, calls,
conversations and emails and read them newest first; nobody else reaches it."""

from __future__ import annotations

from datetime import timedelta

from crowd.core.db import utcnow
from tests.factories import make_actor

MEMBER = "/api/v1/members/{}/contacts"
CUSTOMER = "/api/v1/customers/{}/contacts"


def _log(client, staff, url, **body):
    return client.post(url, json=body, headers=staff.headers)


def test_staff_log_and_read_a_members_history_newest_first(client, cm, member):
    url = MEMBER.format(member.profile_id)
    earlier = (utcnow() - timedelta(days=2)).replace(microsecond=0).isoformat()
    first = _log(
        client, cm, url, kind="call", channel="phone", summary=" Late ", happened_at=earlier
    )
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert (body["member_id"], body["customer_id"], body["summary"]) == (
        member.profile_id,
        None,
        "Late",
    )
    assert body["author_id"] == cm.user_id
    second = _log(client, cm, url, kind="note", summary="Reliable otherwise")
    assert second.get_json()["channel"] == "internal"
    page = client.get(url, headers=cm.headers).get_json()
    assert [item["id"] for item in page["items"]] == [second.get_json()["id"], body["id"]]
    assert page["page"]["total"] == 2
    one = client.get(url, query_string={"limit": 1}, headers=cm.headers).get_json()
    rest = client.get(
        url, query_string={"limit": 1, "cursor": one["page"]["next_cursor"]}, headers=cm.headers
    ).get_json()
    assert [i["id"] for i in one["items"] + rest["items"]] == [i["id"] for i in page["items"]]


def test_a_customers_history_is_their_own(client, cm, customer, member):
    logged = _log(
        client,
        cm,
        CUSTOMER.format(customer.profile_id),
        kind="email",
        channel="email",
        summary="Sent the copy",
    )
    assert logged.status_code == 201 and logged.get_json()["customer_id"] == customer.profile_id
    assert (
        client.get(MEMBER.format(member.profile_id), headers=cm.headers).get_json()["items"] == []
    )


def test_bad_input_names_the_field(client, cm, member):
    url = MEMBER.format(member.profile_id)
    future = (utcnow() + timedelta(hours=1)).isoformat()
    for body, field in (
        ({"kind": "gossip", "summary": "x"}, "kind"),
        ({"kind": "call", "channel": "pigeon", "summary": "x"}, "channel"),
        ({"kind": "call", "summary": "   "}, "summary"),
        ({"kind": "call", "summary": "x" * 5001}, "summary"),
        ({"kind": "call", "summary": "x", "happened_at": future}, "happened_at"),
        ({"kind": "call", "summary": "x", "happened_at": "2026-01-01T10:00:00"}, "happened_at"),
    ):
        response = _log(client, cm, url, **body)
        assert response.status_code == 422, body
        assert field in response.get_json()["errors"]["json"], body


def test_unknown_people_are_404_and_parties_are_refused(client, cm, member, customer):
    assert _log(client, cm, MEMBER.format(999999), kind="note", summary="x").status_code == 404
    assert client.get(CUSTOMER.format(999999), headers=cm.headers).status_code == 404
    for actor in (member, customer, make_actor("member")):
        url = MEMBER.format(member.profile_id)
        assert client.get(url, headers=actor.headers).status_code == 403
        assert _log(client, actor, url, kind="note", summary="x").status_code == 403
