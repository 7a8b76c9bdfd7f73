"""Tickets, resolutions and sanctions change state through their one transition(), which emits
an event (crowd.core.events) with what subscribers need; a refused move changes nothing, emits
nothing and answers the error it always did."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crowd.extensions import db
from support.models import Resolution, Sanction
from tests.jobs.conftest import active_member
from tests.payouts.conftest import ledger_sound  # noqa: F401  (fixture)
from tests.support.dispute_helpers import disputed_job, proposed, staff_act
from tests.support.test_sanctions import sanction
from tests.support.ticket_helpers import act, assign, opened, ticket_row


def test_opening_and_moving_a_ticket_emit_its_events(client, customer, cm, recorded):
    recorded.listen("ticket.opened", "ticket.open", "ticket.waiting_on_customer")
    ticket = opened(client, customer)
    assert assign(client, cm, ticket["id"]).status_code == 200
    assert act(client, cm, ticket["id"], "wait_on_customer").status_code == 200

    assert recorded.names() == ["ticket.opened", "ticket.open", "ticket.waiting_on_customer"]
    opened_event, assigned, waiting = recorded.seen
    assert opened_event.subject_id == ticket["id"] and opened_event.actor == customer.user_id
    assert (opened_event.payload["by"], opened_event.payload["to_status"]) == ("customer", "new")
    assert opened_event.payload["customer_id"] == customer.profile_id
    assert (assigned.payload["action"], assigned.payload["from_status"]) == ("assign", "new")
    assert (waiting.actor, waiting.payload["by"]) == (cm.user_id, "staff")
    assert waiting.payload["to_status"] == "waiting_on_customer"


def test_a_refused_ticket_move_changes_nothing_and_emits_nothing(client, customer, cm, recorded):
    ticket = opened(client, customer)
    recorded.listen("ticket.closed", "ticket.open")
    response = act(client, cm, ticket["id"], "close")
    assert response.status_code == 409
    assert response.get_json()["type"] == "https://crowd.example/problems/ticket-state-conflict"
    assert response.get_json()["state"] == "new"
    assert ticket_row(ticket["id"]).status == "new"
    assert recorded.seen == []


@pytest.mark.usefixtures("ledger_sound")
def test_a_resolution_emits_proposed_then_withdrawn_and_refuses_a_second_withdrawal(
    app, client, customer, cm, recorded
):
    recorded.listen("resolution.proposed", "resolution.withdrawn")
    job_id, _, ticket = disputed_job(app, client, customer, cm, confirmed=True)
    resolution = proposed(client, cm, ticket["id"], kind="release")
    assert staff_act(client, cm, ticket["id"], resolution["id"], "withdraw").status_code == 200

    made, withdrawn = recorded.seen
    assert (made.name, made.subject_id, made.payload["kind"]) == (
        "resolution.proposed",
        resolution["id"],
        "release",
    )
    assert (made.payload["ticket_id"], made.payload["job_id"]) == (ticket["id"], job_id)
    assert (withdrawn.name, withdrawn.actor, withdrawn.payload["from_status"]) == (
        "resolution.withdrawn",
        cm.user_id,
        "proposed",
    )
    again = staff_act(client, cm, ticket["id"], resolution["id"], "withdraw")
    assert again.status_code == 409
    assert len(recorded.seen) == 2
    db.session.expire_all()
    assert db.session.get(Resolution, resolution["id"]).status == "withdrawn"


@pytest.mark.usefixtures("ledger_sound")
def test_an_imposed_resolution_emits_applied(app, client, customer, cm, recorded):
    recorded.listen("resolution.applied")
    _, _, ticket = disputed_job(app, client, customer, cm, confirmed=True)
    resolution = proposed(client, cm, ticket["id"], kind="release")
    assert staff_act(client, cm, ticket["id"], resolution["id"], "impose").status_code == 200
    [applied] = recorded.seen
    assert (applied.payload["by"], applied.payload["applied_by"]) == ("staff", "staff")
    db.session.expire_all()
    assert db.session.get(Resolution, resolution["id"]).applied_at is not None


@pytest.mark.parametrize(
    ("kind", "name"), [("warn", "sanction.imposed"), ("suspend", "sanction.imposed")]
)
def test_a_sanction_emits_imposed(client, cm, recorded, kind, name):
    recorded.listen("sanction.imposed", "sanction.lifted")
    member = active_member()
    response = sanction(client, cm, member, kind, reason="Late twice")
    assert response.status_code == 201, response.get_json()
    [event] = recorded.seen
    assert (event.name, event.subject_id, event.actor) == (
        name,
        response.get_json()["id"],
        cm.user_id,
    )
    assert (event.payload["kind"], event.payload["member_id"]) == (kind, member.profile_id)
    assert event.payload["reason"] == "Late twice"


def test_reinstating_emits_lifted_and_a_refused_one_nothing(client, cm, recorded):
    member = active_member()
    assert sanction(client, cm, member, "suspend").status_code == 201
    recorded.listen("sanction.imposed", "sanction.lifted")
    assert sanction(client, cm, member, "reinstate").status_code == 201
    refused = sanction(client, cm, member, "reinstate")
    assert refused.status_code == 409 and refused.get_json()["state"] == "active"
    assert recorded.names() == ["sanction.lifted"]
    assert recorded.seen[0].payload["member_status"] == "active"
    assert len(db.session.scalars(select(Sanction)).all()) == 2


def test_flask_crowd_events_lists_every_emitted_event_even_without_subscribers(app):
    result = app.test_cli_runner().invoke(args=["crowd", "events"])
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.output.splitlines()]
    for name in (
        "ticket.open",
        "ticket.closed",
        "resolution.withdrawn",
        "sanction.lifted",
        "mentorship.graduated",
        "job.dispute_requested",
    ):
        assert name in lines
    assert lines[lines.index("ticket.opened") + 1] == "mentoring.subscribers.priority_support"
    assert lines[lines.index("job.disputed") + 1] == "support.events.mediate_dispute"
    assert lines[lines.index("sanction.imposed") + 1] == "support.events.tell_sanctioned_member"
