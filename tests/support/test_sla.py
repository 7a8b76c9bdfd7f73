"""SLA clocks: breach exactly at the due time, once; paused while waiting on a party; the
auto-close of resolved tickets after the configurable period."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crowd.core.background import run_periodic
from crowd.core.db import commit, utcnow
from crowd.extensions import db
from crowd.schedule import PERIODIC
from support import sla
from tests.jobs.conftest import drain_background, notifications_for
from tests.support.ticket_helpers import (
    acted,
    assign,
    events,
    get,
    job_of,
    opened,
    said,
    set_ticket,
    ticket_row,
)

TICK = timedelta(microseconds=1)


def _check(app, now):
    """Run the SLA check as the periodic task would: committed, its notifications written."""
    counts = sla.check_sla(now=now)
    commit()
    drain_background(app)
    db.session.expire_all()
    return counts


def _close(app, now):
    closed = sla.close_resolved(now=now)
    commit()
    drain_background(app)
    db.session.expire_all()
    return closed


@pytest.fixture
def assigned(client, customer, member, cm):
    """A normal-priority ticket about a job, assigned to `cm`: first response due in 8 h."""
    ticket = opened(client, customer, job_id=job_of(customer, member))
    assert assign(client, cm, ticket["id"]).status_code == 200
    return ticket["id"]


def test_targets_per_priority_are_configurable(app, client, customer, monkeypatch):
    monkeypatch.setitem(app.config, "SUPPORT_FIRST_RESPONSE_MINUTES_LOW", 90)
    monkeypatch.setitem(app.config, "SUPPORT_RESOLUTION_HOURS_LOW", 10)
    row = ticket_row(opened(client, customer, priority="low")["id"])
    assert row.first_response_due_at - row.created_at == timedelta(minutes=90)
    assert row.resolution_due_at - row.created_at == timedelta(hours=10)


def test_first_response_breaches_exactly_at_the_due_time_and_escalates_once(
    app, cm, admin, assigned
):
    due = ticket_row(assigned).first_response_due_at

    assert _check(app, due - TICK) == {"first_response": 0, "resolution": 0, "escalated": 0}
    assert ticket_row(assigned).first_response_breached_at is None

    assert _check(app, due) == {"first_response": 1, "resolution": 0, "escalated": 1}
    row = ticket_row(assigned)
    assert (row.status, row.first_response_breached_at) == ("escalated", due)
    assert row.escalation_reason == "SLA breached: first response overdue"
    [escalation] = events(assigned, "escalate")
    assert (escalation.actor_role, escalation.from_status) == ("system", "open")
    assert escalation.data["breaches"] == ["first_response"]

    assert _check(app, due + timedelta(hours=1)) == {
        "first_response": 0,
        "resolution": 0,
        "escalated": 0,
    }
    assert len(events(assigned, "escalate")) == 1
    for watcher in (cm, admin):
        [notice] = notifications_for(watcher.user_id, "support.sla_breached")
        assert notice.data == {
            "ticket_id": assigned,
            "breach": "first_response",
            "alert_queue": "tickets",
        }


def test_the_parties_are_not_told_of_a_breach(app, customer, member, assigned):
    _check(app, ticket_row(assigned).first_response_due_at)
    for party in (customer, member):
        assert notifications_for(party.user_id, "support.sla_breached") == []


def test_a_later_resolution_breach_is_marked_without_escalating_again(app, admin, assigned):
    row = ticket_row(assigned)
    first_due, resolution_due = row.first_response_due_at, row.resolution_due_at
    _check(app, first_due)

    assert _check(app, resolution_due) == {"first_response": 0, "resolution": 1, "escalated": 0}
    assert ticket_row(assigned).resolution_breached_at == resolution_due
    assert len(events(assigned, "escalate")) == 1
    assert [e.data["breaches"] for e in events(assigned, "sla_breached")] == [["resolution"]]
    breaches = [n.data["breach"] for n in notifications_for(admin.user_id, "support.sla_breached")]
    assert breaches == ["first_response", "resolution"]
    assert _check(app, resolution_due + timedelta(days=1))["resolution"] == 0


def test_an_answered_ticket_breaches_only_on_resolution(app, client, cm, assigned):
    said(client, cm, assigned, "We are on it")
    row = ticket_row(assigned)
    assert _check(app, row.first_response_due_at + timedelta(hours=1))["first_response"] == 0
    assert ticket_row(assigned).status == "open"
    counts = _check(app, row.resolution_due_at)
    assert counts == {"first_response": 0, "resolution": 1, "escalated": 1}
    assert ticket_row(assigned).first_response_breached_at is None


def test_a_ticket_staff_opened_never_breaches_first_response(app, client, cm, member):
    ticket = opened(client, cm, member_id=member.profile_id)
    row = ticket_row(ticket["id"])
    assert _check(app, row.resolution_due_at - TICK)["first_response"] == 0


def test_a_ticket_escalated_by_staff_is_marked_but_not_escalated_twice(app, client, cm, assigned):
    acted(client, cm, assigned, "escalate", reason="Needs a lawyer")
    counts = _check(app, ticket_row(assigned).first_response_due_at)
    assert counts == {"first_response": 1, "resolution": 0, "escalated": 0}
    assert ticket_row(assigned).escalation_reason == "Needs a lawyer"
    assert len(events(assigned, "escalate")) == 1


# --- paused while waiting on a party ----------------------------------------------------------


def test_waiting_on_a_party_pauses_the_clocks_and_shifts_the_due_times(
    app, client, customer, cm, assigned
):
    before = ticket_row(assigned)
    first_due, resolution_due = before.first_response_due_at, before.resolution_due_at
    acted(client, cm, assigned, "wait_on_customer")
    # Three hours pass while the customer is asked for photos.
    set_ticket(assigned, sla_paused_at=utcnow() - timedelta(hours=3))
    assert get(client, cm, assigned)["sla_due_at"] is None
    assert _check(app, resolution_due + timedelta(days=1))["escalated"] == 0

    said(client, customer, assigned, "Photos attached")
    row = ticket_row(assigned)
    shift = row.first_response_due_at - first_due
    assert timedelta(hours=3) <= shift < timedelta(hours=3, seconds=30)
    assert row.resolution_due_at - resolution_due == shift
    assert 3 * 3600 <= row.sla_paused_seconds < 3 * 3600 + 30
    assert row.sla_paused_at is None

    assert _check(app, first_due)["first_response"] == 0
    assert _check(app, row.first_response_due_at)["first_response"] == 1


# --- auto-close -------------------------------------------------------------------------------


def test_a_resolved_ticket_closes_after_four_days_and_asks_the_parties_to_rate(
    app, client, customer, member, cm, assigned
):
    acted(client, cm, assigned, "resolve", note="Bracket replaced")
    row = ticket_row(assigned)
    close_at = row.auto_close_at
    assert close_at == row.resolved_at + timedelta(days=4)

    assert _close(app, close_at - TICK) == 0
    assert ticket_row(assigned).status == "resolved"
    assert _close(app, close_at) == 1
    closed = ticket_row(assigned)
    assert (closed.status, closed.closed_at) == ("closed", close_at)
    # Closing keeps when it was resolved (time to resolution is read from it).
    assert (closed.resolved_at, closed.auto_close_at) == (row.resolved_at, None)
    assert get(client, cm, assigned)["resolved_at"] is not None
    [close] = events(assigned, "close")
    assert (close.actor_role, close.from_status) == ("system", "resolved")
    for party in (customer, member):
        [notice] = notifications_for(party.user_id, "support.ticket_closed")
        assert notice.data == {"ticket_id": assigned, "rate": True}
        assert "rate" in get(client, party, assigned)["allowed_actions"]
    assert _close(app, close_at + timedelta(days=1)) == 0


def test_the_auto_close_period_is_configurable(app, client, cm, assigned, monkeypatch):
    monkeypatch.setitem(app.config, "SUPPORT_AUTO_CLOSE_DAYS", 2)
    acted(client, cm, assigned, "resolve", note="Done")
    row = ticket_row(assigned)
    assert row.auto_close_at == row.resolved_at + timedelta(days=2)


def test_a_reply_stops_the_auto_close(app, client, member, cm, assigned):
    acted(client, cm, assigned, "resolve", note="Done")
    close_at = ticket_row(assigned).auto_close_at
    said(client, member, assigned, "It is not done")
    assert _close(app, close_at + timedelta(days=1)) == 0
    assert ticket_row(assigned).status == "open"


# --- the periodic tasks -----------------------------------------------------------------------


def test_the_tasks_are_scheduled():
    scheduled = {p.task: p.every_seconds for p in PERIODIC}
    assert scheduled["support.check_sla"] == 60
    assert scheduled["support.close_resolved"] == 300


def test_the_periodic_tasks_act_on_overdue_tickets(app, client, cm, assigned):
    past = utcnow() - timedelta(minutes=1)
    set_ticket(assigned, first_response_due_at=past)
    assert run_periodic("support.check_sla")["escalated"] == 1
    db.session.expire_all()
    assert ticket_row(assigned).status == "escalated"

    acted(client, cm, assigned, "take_over")
    acted(client, cm, assigned, "resolve", note="Done")
    set_ticket(assigned, auto_close_at=past)
    assert run_periodic("support.close_resolved") == 1
    assert ticket_row(assigned).status == "closed"
