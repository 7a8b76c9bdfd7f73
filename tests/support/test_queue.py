"""The queue against known data: filters, most urgent deadline first, pages; bulk assignment
all or nothing."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest

from crowd.core.db import utcnow
from tests.factories import make_actor
from tests.support.ticket_helpers import (
    API,
    acted,
    assign,
    closed_ticket,
    events,
    job_of,
    opened,
    set_ticket,
    ticket_row,
)


@pytest.fixture
def other_cm():
    return make_actor("community_manager")


@pytest.fixture
def known(client, customer, other_customer, member, cm, other_cm):
    """Seven tickets with deadlines set by hand; names say what each one is."""
    base = utcnow() + timedelta(hours=1)
    t = {}
    t["new_low"] = opened(client, customer, priority="low", category="payment")["id"]
    job_id = job_of(customer, member, status="assigned")
    t["answered_high"] = opened(client, customer, job_id=job_id, priority="high")["id"]
    t["member_behaviour"] = opened(client, member, category="behaviour")["id"]
    t["waiting"] = opened(client, other_customer)["id"]
    t["resolved"] = opened(client, customer, category="other")["id"]
    t["closed"] = closed_ticket(client, cm, customer)["id"]
    dispute_job = job_of(customer, member, status="completed")
    t["dispute"] = opened(client, customer, job_id=dispute_job, dispute=True)["id"]

    assign(client, cm, t["answered_high"])
    assign(client, other_cm, t["member_behaviour"], other_cm)
    assign(client, cm, t["waiting"])
    acted(client, cm, t["waiting"], "wait_on_customer")
    assign(client, cm, t["resolved"])
    acted(client, cm, t["resolved"], "resolve", note="Answered")

    set_ticket(
        t["new_low"],
        first_response_due_at=base + timedelta(minutes=30),
        resolution_due_at=base + timedelta(days=5),
        resolution_breached_at=utcnow(),
    )
    set_ticket(
        t["answered_high"],
        first_response_at=utcnow(),
        first_response_due_at=base - timedelta(hours=5),
        resolution_due_at=base + timedelta(minutes=10),
    )
    set_ticket(t["dispute"], first_response_due_at=base + timedelta(hours=1))
    set_ticket(t["member_behaviour"], first_response_due_at=base + timedelta(hours=2))
    return {"base": base, **t}


def _ids(client, actor, query="", expect=200):
    response = client.get(f"{API}?{query}", headers=actor.headers)
    assert response.status_code == expect, response.get_json()
    return [item["id"] for item in response.json["items"]]


def _names(known, ids):
    by_id = {v: k for k, v in known.items() if k != "base"}
    return [by_id[i] for i in ids]


RUNNING_ORDER = ["answered_high", "new_low", "dispute", "member_behaviour"]
# Without a running clock: by id.
STOPPED_ORDER = ["waiting", "resolved", "closed"]


def test_staff_see_every_ticket_most_urgent_deadline_first(client, cm, known):
    response = client.get(API, headers=cm.headers)
    assert _names(known, [i["id"] for i in response.json["items"]]) == RUNNING_ORDER + STOPPED_ORDER
    first = response.json["items"][0]
    assert first["sla_due_at"] == (known["base"] + timedelta(minutes=10)).isoformat()
    assert response.json["items"][-1]["sla_due_at"] is None
    assert response.json["page"]["total"] == 7


@pytest.mark.parametrize(
    "query, expected",
    [
        ("status=new&status=open", ["answered_high", "new_low", "dispute", "member_behaviour"]),
        ("status=waiting_on_customer", ["waiting"]),
        ("priority=high", ["answered_high"]),
        ("priority=low&priority=high", ["answered_high", "new_low"]),
        ("category=behaviour", ["member_behaviour"]),
        ("assignee_id=none", ["new_low", "dispute"]),
        ("assignee_id=me", ["answered_high", "waiting", "resolved", "closed"]),
        ("breached=true", ["new_low"]),
        ("breached=false&status=new", ["dispute"]),
        ("dispute=true", ["dispute"]),
        ("status=closed&status=resolved", ["resolved", "closed"]),
    ],
)
def test_queue_filters(client, cm, known, query, expected):
    assert _names(known, _ids(client, cm, query)) == expected


def test_queue_filters_by_people_and_job(client, cm, other_cm, customer, member, known):
    assert _names(known, _ids(client, cm, f"assignee_id={other_cm.user_id}")) == [
        "member_behaviour"
    ]
    assert _names(known, _ids(client, cm, f"member_id={member.profile_id}")) == [
        "answered_high",
        "dispute",
        "member_behaviour",
    ]
    assert _names(known, _ids(client, cm, f"customer_id={customer.profile_id}")) == [
        "answered_high",
        "new_low",
        "dispute",
        "resolved",
        "closed",
    ]
    job_id = ticket_row(known["answered_high"]).job_id
    assert _names(known, _ids(client, cm, f"job_id={job_id}")) == ["answered_high"]


def test_sla_due_before_finds_first_response_or_resolution_deadlines(client, cm, known):
    before = quote((known["base"] + timedelta(minutes=45)).isoformat())
    assert _names(known, _ids(client, cm, f"sla_due_before={before}")) == [
        "answered_high",
        "new_low",
    ]
    # Waiting, resolved and closed tickets have no running deadline.
    far = quote((known["base"] + timedelta(days=30)).isoformat())
    assert _names(known, _ids(client, cm, f"sla_due_before={far}")) == RUNNING_ORDER


def test_parties_see_only_their_own_tickets(
    client, customer, other_customer, member, other_member, known
):
    assert _names(known, _ids(client, customer)) == [
        "answered_high",
        "new_low",
        "dispute",
        "resolved",
        "closed",
    ]
    assert _names(known, _ids(client, member)) == ["answered_high", "dispute", "member_behaviour"]
    assert _names(known, _ids(client, other_customer)) == ["waiting"]
    assert _ids(client, other_member) == []
    party_item = client.get(API, headers=member.headers).json["items"][0]
    assert "sla_due_at" not in party_item and "escalation_reason" not in party_item


def test_pages_walk_the_queue_once_in_order(client, cm, known):
    seen, cursor = [], None
    for _ in range(5):
        query = "limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"{API}?{query}", headers=cm.headers).json
        seen += [item["id"] for item in page["items"]]
        cursor = page["page"]["next_cursor"]
        if cursor is None:
            break
    assert _names(known, seen) == RUNNING_ORDER + STOPPED_ORDER


@pytest.mark.parametrize(
    "query",
    [
        "cursor=nonsense",
        "status=lost",
        "priority=asap",
        "assignee_id=someone",
        "sla_due_before=2030-01-01T10:00:00",
        "breached=maybe",
        "limit=0",
    ],
)
def test_bad_queue_arguments_are_422(client, cm, query):
    assert client.get(f"{API}?{query}", headers=cm.headers).status_code == 422


def test_the_queue_needs_a_token(client):
    assert client.get(API).status_code == 401


# --- bulk assignment --------------------------------------------------------------------------


def _bulk(client, actor, ids, assignee):
    return client.post(
        f"{API}/bulk-assign",
        json={"ticket_ids": ids, "assignee_id": assignee.user_id},
        headers=actor.headers,
    )


def test_bulk_assignment_assigns_them_all(client, cm, other_cm, known):
    ids = [known["member_behaviour"], known["new_low"], known["dispute"], known["new_low"]]
    response = _bulk(client, cm, ids, cm)
    assert response.status_code == 200
    items = {item["id"]: item for item in response.json["items"]}
    assert sorted(items) == sorted(set(ids))
    assert {item["assignee"]["id"] for item in items.values()} == {cm.user_id}
    assert items[known["new_low"]]["status"] == "open"
    assert [e.action for e in events(known["member_behaviour"]) if "assign" in e.action] == [
        "assign",
        "reassign",
    ]


def test_bulk_assignment_is_all_or_nothing(client, cm, known):
    response = _bulk(client, cm, [known["new_low"], known["closed"], known["dispute"]], cm)
    assert response.status_code == 409
    assert response.json["ticket_id"] == known["closed"]
    assert str(known["closed"]) in response.json["detail"]
    for name in ("new_low", "dispute"):
        row = ticket_row(known[name])
        assert (row.status, row.assignee_id) == ("new", None)
        assert events(known[name], "assign") == []


def test_bulk_assignment_errors(client, cm, customer, member, known):
    missing = _bulk(client, cm, [known["new_low"], 10**9], cm)
    assert missing.status_code == 422 and "ticket_ids" in missing.json["errors"]["json"]
    assert _bulk(client, cm, list(range(1, 102)), cm).status_code == 422
    assert _bulk(client, cm, [], cm).status_code == 422
    assert _bulk(client, cm, [known["new_low"]], member).status_code == 422
    assert _bulk(client, customer, [known["new_low"]], cm).status_code == 403
    assert ticket_row(known["new_low"]).assignee_id is None
