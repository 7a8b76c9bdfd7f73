"""Staff work on tickets through the API: status actions, assignment, edits, the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crowd.extensions import db
from tests.factories import make_actor
from tests.support.ticket_helpers import (
    API,
    acted,
    assign,
    closed_ticket,
    events,
    job_of,
    opened,
    say,
    ticket_row,
)

# --- status actions ---------------------------------------------------------------------------


def test_a_ticket_goes_through_every_staff_action(client, customer, member, cm, admin):
    ticket_id = opened(client, customer, job_id=job_of(customer, member))["id"]
    assert assign(client, cm, ticket_id).json["status"] == "open"
    steps = [
        ("wait_on_customer", {}, "waiting_on_customer"),
        ("mediate", {}, "in_mediation"),
        ("wait_on_member", {}, "waiting_on_member"),
        ("escalate", {"reason": "Needs a senior"}, "escalated"),
    ]
    for action, body, status in steps:
        assert acted(client, cm, ticket_id, action, **body)["status"] == status
    taken = client.post(f"{API}/{ticket_id}/actions/take_over", json={}, headers=admin.headers)
    assert taken.status_code == 200
    assert taken.json["status"] == "waiting_on_member"
    assert taken.json["assignee"]["id"] == admin.user_id
    assert acted(client, admin, ticket_id, "resolve", note="Refitted")["status"] == "resolved"
    assert acted(client, admin, ticket_id, "reopen")["status"] == "open"
    acted(client, admin, ticket_id, "resolve", note="Refitted again")
    closed = acted(client, admin, ticket_id, "close")
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    trail = [(e.action, e.from_status, e.to_status) for e in events(ticket_id)]
    assert trail[0] == ("open", None, "new")
    assert ("take_over", "escalated", "waiting_on_member") in trail
    assert trail[-1] == ("close", "resolved", "closed")


def test_a_ticket_escalated_while_new_is_taken_over_open(client, customer, cm, admin):
    ticket_id = opened(client, customer)["id"]
    acted(client, cm, ticket_id, "escalate", reason="VIP")
    taken = acted(client, admin, ticket_id, "take_over")
    assert (taken["status"], taken["assignee"]["id"]) == ("open", admin.user_id)


@pytest.mark.parametrize(
    "prepare, action, state",
    [
        ([], "mediate", "new"),
        ([], "close", "new"),
        ([], "reopen", "new"),
        (["assign"], "take_over", "open"),
        (["assign", "close_it"], "resolve", "closed"),
        (["assign", "close_it"], "escalate", "closed"),
    ],
)
def test_illegal_status_actions_are_409_with_the_state(
    client, customer, cm, prepare, action, state
):
    ticket_id = opened(client, customer)["id"]
    if "assign" in prepare:
        assign(client, cm, ticket_id)
    if "close_it" in prepare:
        acted(client, cm, ticket_id, "resolve", note="Done")
        acted(client, cm, ticket_id, "close")
    before = len(events(ticket_id))
    response = client.post(
        f"{API}/{ticket_id}/actions/{action}",
        json={"note": "x", "reason": "y"},
        headers=cm.headers,
    )
    assert response.status_code == 409
    assert response.json["state"] == state
    slug = "ticket-closed" if state == "closed" else "ticket-state-conflict"
    assert response.json["type"] == f"https://crowd.example/problems/{slug}"
    assert len(events(ticket_id)) == before


def test_status_action_errors(client, customer, member, cm):
    ticket_id = opened(client, customer)["id"]
    assign(client, cm, ticket_id)
    assert (
        client.post(f"{API}/{ticket_id}/actions/explode", json={}, headers=cm.headers).status_code
        == 404
    )
    assert (
        client.post(f"{API}/10000000/actions/mediate", json={}, headers=cm.headers).status_code
        == 404
    )
    escalate = client.post(f"{API}/{ticket_id}/actions/escalate", json={}, headers=cm.headers)
    assert escalate.status_code == 422 and "reason" in escalate.json["errors"]["json"]
    resolve = client.post(f"{API}/{ticket_id}/actions/resolve", json={}, headers=cm.headers)
    assert resolve.status_code == 422 and "note" in resolve.json["errors"]["json"]
    no_member = client.post(
        f"{API}/{ticket_id}/actions/wait_on_member", json={}, headers=cm.headers
    )
    assert no_member.status_code == 409
    as_party = client.post(f"{API}/{ticket_id}/actions/mediate", json={}, headers=customer.headers)
    assert as_party.status_code == 403
    unknown = client.post(f"{API}/{ticket_id}/actions/mediate", json={"x": 1}, headers=cm.headers)
    assert unknown.status_code == 422


def test_parties_are_told_of_status_changes_but_not_of_escalation(
    app, client, customer, member, cm
):
    from tests.jobs.conftest import drain_background, notifications_for

    ticket_id = opened(client, customer, job_id=job_of(customer, member))["id"]
    assign(client, cm, ticket_id)
    acted(client, cm, ticket_id, "wait_on_member")
    acted(client, cm, ticket_id, "escalate", reason="Stuck")
    drain_background(app)
    for party in (customer, member):
        statuses = [
            n.data["status"] for n in notifications_for(party.user_id, "support.ticket_status")
        ]
        assert statuses == ["open", "waiting_on_member"]


# --- assignment -------------------------------------------------------------------------------


def test_assigning_opens_a_new_ticket_and_reassigning_records_the_change(app, client, customer, cm):
    from tests.jobs.conftest import drain_background, notifications_for

    other_cm = make_actor("community_manager")
    ticket_id = opened(client, customer)["id"]
    first = assign(client, cm, ticket_id, other_cm)
    assert first.status_code == 200
    assert (first.json["status"], first.json["assignee"]["id"]) == ("open", other_cm.user_id)
    assert assign(client, cm, ticket_id, other_cm).status_code == 200  # nothing changes
    assert assign(client, other_cm, ticket_id, cm).json["assignee"]["id"] == cm.user_id
    assert [
        (e.action, e.data["assignee_id"]) for e in events(ticket_id) if "assign" in e.action
    ] == [
        ("assign", other_cm.user_id),
        ("reassign", cm.user_id),
    ]
    drain_background(app)
    assert len(notifications_for(other_cm.user_id, "support.ticket_assigned")) == 1
    assert len(notifications_for(cm.user_id, "support.ticket_assigned")) == 1


def test_assignment_errors(client, customer, member, cm):
    ticket_id = opened(client, customer)["id"]
    not_staff = client.post(
        f"{API}/{ticket_id}/assign", json={"assignee_id": member.user_id}, headers=cm.headers
    )
    assert not_staff.status_code == 422 and "assignee_id" in not_staff.json["errors"]["json"]
    assert assign(client, cm, 10**9).status_code == 404
    party = client.post(
        f"{API}/{ticket_id}/assign", json={"assignee_id": cm.user_id}, headers=customer.headers
    )
    assert party.status_code == 403
    closed = closed_ticket(client, cm, customer)
    response = assign(client, cm, closed["id"])
    assert response.status_code == 409 and response.json["state"] == "closed"
    assert response.json["type"] == "https://crowd.example/problems/ticket-closed"


# --- editing ----------------------------------------------------------------------------------


def test_priority_change_reaims_deadlines_from_opening_plus_paused_time(client, customer, cm):
    ticket_id = opened(client, customer, priority="low")["id"]
    row = ticket_row(ticket_id)
    row.sla_paused_seconds = 600  # ten minutes spent waiting on the customer before
    db.session.commit()
    response = client.patch(
        f"{API}/{ticket_id}", json={"priority": "urgent", "subject": "Urgent!"}, headers=cm.headers
    )
    assert response.status_code == 200
    assert (response.json["priority"], response.json["subject"]) == ("urgent", "Urgent!")
    row = ticket_row(ticket_id)
    assert row.first_response_due_at - row.created_at == timedelta(minutes=30 + 10)
    assert row.resolution_due_at - row.created_at == timedelta(hours=8, minutes=10)
    [update] = events(ticket_id, "update")
    assert update.data["changes"]["priority"] == ["low", "urgent"]


def test_editing_errors(client, customer, cm):
    ticket_id = opened(client, customer)["id"]
    assert client.patch(f"{API}/{ticket_id}", json={}, headers=cm.headers).status_code == 422
    bad = client.patch(f"{API}/{ticket_id}", json={"priority": "asap"}, headers=cm.headers)
    assert bad.status_code == 422
    party = client.patch(f"{API}/{ticket_id}", json={"priority": "high"}, headers=customer.headers)
    assert party.status_code == 403
    closed = closed_ticket(client, cm, customer)
    final = client.patch(f"{API}/{closed['id']}", json={"priority": "high"}, headers=cm.headers)
    assert (
        final.status_code == 409
        and final.json["type"] == "https://crowd.example/problems/ticket-closed"
    )


# --- events -----------------------------------------------------------------------------------


def test_the_audit_trail_is_for_staff(client, customer, cm):
    ticket_id = opened(client, customer)["id"]
    assign(client, cm, ticket_id)
    say(client, cm, ticket_id, "Looking into it", visibility="internal")
    trail = client.get(f"{API}/{ticket_id}/events", headers=cm.headers)
    assert trail.status_code == 200
    assert [e["action"] for e in trail.json["items"]] == ["open", "message", "assign", "message"]
    assert trail.json["items"][2]["actor_id"] == cm.user_id
    assert client.get(f"{API}/{ticket_id}/events", headers=customer.headers).status_code == 403
    assert client.get(f"{API}/10000000/events", headers=cm.headers).status_code == 404
