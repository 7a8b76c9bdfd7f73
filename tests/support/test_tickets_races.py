"""Concurrent requests: row locks keep tickets consistent, one event per change."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crowd.core.db import commit
from crowd.extensions import db
from support import sla
from support.models import TicketRating
from tests.concurrency import run_concurrently, task_unit
from tests.factories import make_actor
from tests.support.ticket_helpers import (
    API,
    acted,
    assign,
    closed_ticket,
    events,
    job_of,
    open_ticket,
    opened,
    ticket_row,
)

pytestmark = pytest.mark.committing


def _assign_events(ticket_id):
    return [e for e in events(ticket_id) if e.action in ("assign", "reassign")]


def test_cms_assigning_a_new_ticket_to_the_same_person_record_one_assignment(app, customer, cm):
    ticket_id = opened(app.test_client(), customer)["id"]
    managers = [make_actor("community_manager") for _ in range(6)]

    def assign_to_cm(client, i):
        return assign(client, managers[i], ticket_id, cm).status_code

    assert run_concurrently(app, 6, assign_to_cm) == [200] * 6
    [only] = _assign_events(ticket_id)
    assert (only.action, only.from_status, only.to_status) == ("assign", "new", "open")
    row = ticket_row(ticket_id)
    assert (row.status, row.assignee_id) == ("open", cm.user_id)


def test_two_cms_taking_the_same_new_ticket_leave_a_consistent_trail(app, customer):
    ticket_id = opened(app.test_client(), customer)["id"]
    managers = [make_actor("community_manager") for _ in range(2)]

    def take(client, i):
        return assign(client, managers[i], ticket_id).status_code

    assert run_concurrently(app, 2, take) == [200, 200]
    first, second = _assign_events(ticket_id)
    assert (first.action, first.from_status, first.to_status) == ("assign", "new", "open")
    assert second.action == "reassign"
    assert second.data["previous_assignee_id"] == first.data["assignee_id"]
    assert {first.data["assignee_id"], second.data["assignee_id"]} == {m.user_id for m in managers}
    assert ticket_row(ticket_id).assignee_id == second.data["assignee_id"]


def test_overlapping_bulk_assignments_do_not_deadlock(app, customer, cm):
    client = app.test_client()
    ids = [opened(client, customer, subject=f"Ticket {n}")["id"] for n in range(8)]
    managers = [make_actor("community_manager") for _ in range(4)]

    def bulk(client, i):
        order = ids if i % 2 else list(reversed(ids))
        body = {"ticket_ids": order, "assignee_id": managers[i].user_id}
        return client.post(f"{API}/bulk-assign", json=body, headers=managers[i].headers).status_code

    assert run_concurrently(app, 4, bulk) == [200] * 4
    for ticket_id in ids:
        trail = _assign_events(ticket_id)
        assert [e.action for e in trail][0] == "assign"
        assert [e.action for e in trail].count("assign") == 1
        # Every ticket ends with whoever assigned last.
        assert ticket_row(ticket_id).assignee_id == trail[-1].data["assignee_id"]


def test_a_party_rating_twice_at_once_is_counted_once(app, customer, cm):
    ticket_id = closed_ticket(app.test_client(), cm, customer)["id"]

    def rate(client, i):
        return client.post(
            f"{API}/{ticket_id}/rating", json={"score": 1 + i}, headers=customer.headers
        ).status_code

    assert sorted(run_concurrently(app, 5, rate)) == [201, 409, 409, 409, 409]
    count = db.session.scalar(select(func.count()).select_from(TicketRating))
    assert count == 1


def test_simultaneous_replies_reopen_a_resolved_ticket_once(app, customer, member, cm):
    client = app.test_client()
    ticket_id = opened(client, customer, job_id=job_of(customer, member))["id"]
    assign(client, cm, ticket_id)
    acted(client, cm, ticket_id, "resolve", note="Done")
    parties = [customer, member] * 3

    def reply(client, i):
        return client.post(
            f"{API}/{ticket_id}/messages", json={"body": f"No {i}"}, headers=parties[i].headers
        ).status_code

    assert run_concurrently(app, 6, reply) == [201] * 6
    assert len(events(ticket_id, "reply")) == 1
    assert len(events(ticket_id, "message")) == 7
    assert ticket_row(ticket_id).status == "open"


def test_concurrent_sla_checks_escalate_a_breach_once(app, customer, cm):
    client = app.test_client()
    ticket_id = opened(client, customer)["id"]
    assign(client, cm, ticket_id)
    due = ticket_row(ticket_id).first_response_due_at

    def check(client, i):
        with task_unit(app):
            counts = sla.check_sla(now=due)
            commit()
            return counts["escalated"]

    assert sum(run_concurrently(app, 4, check)) == 1
    assert len(events(ticket_id, "escalate")) == 1
    assert ticket_row(ticket_id).first_response_breached_at == due


def test_customer_and_member_disputing_a_job_at_once_open_one_dispute(app, customer, member):
    job_id = job_of(customer, member, status="completed")
    parties = [customer, member]

    def dispute(client, i):
        response = open_ticket(client, parties[i], job_id=job_id, dispute=True)
        return response.status_code

    assert sorted(run_concurrently(app, 2, dispute)) == [201, 409]
