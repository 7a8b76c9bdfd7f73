"""Opening tickets, who sees them and how, follow-ups, ratings and disputes — through the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crowd.extensions import db
from jobs.models import Job
from support.models import Ticket
from tests.support.ticket_helpers import (
    API,
    acted,
    assign,
    closed_ticket,
    get,
    job_of,
    messages,
    open_ticket,
    opened,
    say,
    set_ticket,
    ticket_row,
)

STAFF_ONLY = ("first_response_due_at", "resolution_due_at", "escalation_reason", "sla_due_at")


# --- opening ----------------------------------------------------------------------------------


def test_customer_opens_a_ticket_about_their_job_and_both_become_parties(
    client, customer, member, other_customer, other_member, cm
):
    job_id = job_of(customer, member)
    ticket = opened(client, customer, job_id=job_id, priority="high")

    assert ticket["status"] == "new"
    assert ticket["priority"] == "high"
    assert (ticket["customer_id"], ticket["member_id"]) == (customer.profile_id, member.profile_id)
    assert ticket["opened_by_role"] == "customer"
    assert ticket["allowed_actions"] == ["message"]
    assert get(client, member, ticket["id"])["subject"] == "The TV bracket came loose"
    assert get(client, cm, ticket["id"])["id"] == ticket["id"]
    for outsider in (other_customer, other_member):
        response = client.get(f"{API}/{ticket['id']}", headers=outsider.headers)
        assert response.status_code == 404
    [first] = messages(ticket["id"])
    assert (first.visibility, first.author_role) == ("parties", "customer")
    assert first.body == "The TV was hanging crooked the next morning."


def test_opening_sets_the_sla_deadlines_from_the_priority(client, customer):
    ticket = opened(client, customer, priority="high")
    row = ticket_row(ticket["id"])
    assert row.first_response_due_at - row.created_at == timedelta(hours=2)
    assert row.resolution_due_at - row.created_at == timedelta(hours=24)
    assert row.first_response_at is None


def test_member_opens_a_ticket_about_the_job_they_did(client, customer, member):
    job_id = job_of(customer, member)
    ticket = opened(client, member, job_id=job_id, category="payment")
    assert (ticket["customer_id"], ticket["member_id"]) == (customer.profile_id, member.profile_id)
    assert get(client, customer, ticket["id"])["opened_by_role"] == "member"


def test_ticket_about_an_account_has_only_the_openers_side(client, customer, member):
    mine = opened(client, member, category="other")
    assert (mine["customer_id"], mine["member_id"]) == (None, member.profile_id)
    theirs = opened(client, customer, category="payment")
    assert (theirs["customer_id"], theirs["member_id"]) == (customer.profile_id, None)


def test_a_job_of_someone_else_is_refused_naming_job_id(
    client, customer, member, other_customer, other_member
):
    job_id = job_of(customer, member)
    for outsider in (other_customer, other_member):
        response = open_ticket(client, outsider, job_id=job_id)
        assert response.status_code == 422
        assert "job_id" in response.json["errors"]["json"]
    assert open_ticket(client, customer, job_id=10**9).status_code == 422


@pytest.mark.parametrize(
    "body, field",
    [
        ({"priority": "urgent"}, "priority"),
        ({"member_id": 1}, "member_id"),
        ({"customer_id": 1}, "customer_id"),
        ({"category": "weather"}, "category"),
        ({"subject": "  "}, "subject"),
        ({"sneaky": True}, "sneaky"),
        ({"attachments": [{"filename": "a.jpg"}]}, "attachments"),
    ],
)
def test_invalid_openings_by_a_party_are_422_naming_the_field(client, customer, body, field):
    response = open_ticket(client, customer, **body)
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]


def test_opening_needs_a_token(client):
    assert client.post(API, json={}).status_code == 401


def test_staff_open_a_ticket_about_a_member_and_it_counts_as_first_response(client, cm, member):
    ticket = opened(
        client, cm, member_id=member.profile_id, priority="urgent", category="behaviour"
    )
    assert (ticket["customer_id"], ticket["member_id"]) == (None, member.profile_id)
    assert ticket["opened_by_role"] == "staff"
    assert ticket["first_response_at"] is not None
    assert get(client, member, ticket["id"])["priority"] == "urgent"


def test_staff_opening_about_a_job_takes_its_parties(client, cm, customer, member, other_customer):
    job_id = job_of(customer, member)
    ticket = opened(client, cm, job_id=job_id)
    assert (ticket["customer_id"], ticket["member_id"]) == (customer.profile_id, member.profile_id)
    wrong = open_ticket(client, cm, job_id=job_id, customer_id=other_customer.profile_id)
    assert wrong.status_code == 422 and "customer_id" in wrong.json["errors"]["json"]


def test_staff_must_say_who_a_ticket_is_about(client, cm):
    response = open_ticket(client, cm)
    assert response.status_code == 422
    assert open_ticket(client, cm, member_id=10**9).status_code == 422
    assert open_ticket(client, cm, customer_id=10**9).status_code == 422


def test_the_same_idempotency_key_opens_one_ticket(client, customer):
    key = {"Idempotency-Key": "ticket-1"}
    first = open_ticket(client, customer, headers=key)
    again = open_ticket(client, customer, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert first.json["id"] == again.json["id"]
    count = db.session.scalar(select(func.count()).select_from(Ticket))
    assert count == 1


# --- what each side sees ----------------------------------------------------------------------


def test_parties_see_no_sla_internals_but_staff_do(client, customer, member, cm):
    ticket = opened(client, customer, job_id=job_of(customer, member))
    assert assign(client, cm, ticket["id"]).status_code == 200
    acted(client, cm, ticket["id"], "escalate", reason="Angry customer")
    for party in (customer, member):
        view = get(client, party, ticket["id"])
        assert not set(STAFF_ONLY) & set(view)
        assert view["assignee"] == {
            "id": cm.user_id,
            "display_name": view["assignee"]["display_name"],
        }
    staff_view = get(client, cm, ticket["id"])
    assert staff_view["escalation_reason"] == "Angry customer"
    assert set(STAFF_ONLY) <= set(staff_view)


def test_allowed_actions_follow_the_state_and_the_caller(client, customer, cm):
    ticket = opened(client, customer)
    assert get(client, cm, ticket["id"])["allowed_actions"] == [
        "assign",
        "escalate",
        "message",
        "resolve",
        "update",
    ]
    assign(client, cm, ticket["id"])
    staff = get(client, cm, ticket["id"])["allowed_actions"]
    # An account ticket of a customer has no member to wait on.
    assert "wait_on_customer" in staff and "wait_on_member" not in staff
    acted(client, cm, ticket["id"], "wait_on_customer")
    assert get(client, customer, ticket["id"])["allowed_actions"] == ["message"]


# --- closed is final: follow-ups ----------------------------------------------------------------


def test_a_closed_ticket_takes_no_messages_but_a_follow_up_links_to_it(
    client, customer, member, cm
):
    job_id = job_of(customer, member)
    closed = closed_ticket(client, cm, customer, job_id=job_id)
    reply = say(client, member, closed["id"], "Wait, one more thing")
    assert reply.status_code == 409
    assert reply.json["state"] == "closed" and reply.json["follow_up_of"] == closed["id"]
    assert reply.json["type"] == "https://crowd.example/problems/ticket-closed"

    follow_up = opened(client, member, follow_up_of=closed["id"], subject="Still loose")
    assert follow_up["follow_up_of_id"] == closed["id"]
    assert follow_up["job_id"] == job_id
    assert (follow_up["customer_id"], follow_up["member_id"]) == (
        customer.profile_id,
        member.profile_id,
    )
    assert follow_up["status"] == "new"


def test_follow_up_errors(client, customer, other_customer, cm):
    live = opened(client, customer)
    not_closed = open_ticket(client, customer, follow_up_of=live["id"])
    assert not_closed.status_code == 422 and "follow_up_of" in not_closed.json["errors"]["json"]
    closed = closed_ticket(client, cm, customer)
    assert open_ticket(client, other_customer, follow_up_of=closed["id"]).status_code == 422
    assert open_ticket(client, customer, follow_up_of=10**9).status_code == 422
    other_job = open_ticket(client, customer, follow_up_of=closed["id"], job_id=10**9)
    assert other_job.status_code == 422 and "job_id" in other_job.json["errors"]["json"]


# --- ratings ----------------------------------------------------------------------------------


def _rate(client, actor, ticket_id, score=5, **body):
    return client.post(
        f"{API}/{ticket_id}/rating", json={"score": score, **body}, headers=actor.headers
    )


def test_each_party_rates_a_closed_ticket_once(client, customer, member, cm):
    job_id = job_of(customer, member)
    ticket = opened(client, customer, job_id=job_id)
    early = _rate(client, customer, ticket["id"])
    assert early.status_code == 409 and early.json["state"] == "new"
    assert early.json["type"] == "https://crowd.example/problems/ticket-not-closed"
    assign(client, cm, ticket["id"])
    acted(client, cm, ticket["id"], "resolve", note="Fixed")
    assert _rate(client, customer, ticket["id"]).status_code == 409
    acted(client, cm, ticket["id"], "close")
    assert "rate" in get(client, customer, ticket["id"])["allowed_actions"]

    rated = _rate(client, customer, ticket["id"], 4, comment="Quick and fair")
    assert rated.status_code == 201
    assert rated.json == {
        **rated.json,
        "party": "customer",
        "score": 4,
        "comment": "Quick and fair",
    }
    again = _rate(client, customer, ticket["id"], 1)
    assert (
        again.status_code == 409
        and again.json["type"] == "https://crowd.example/problems/already-rated"
    )
    assert _rate(client, member, ticket["id"], 2).status_code == 201

    assert "rate" not in get(client, customer, ticket["id"])["allowed_actions"]
    assert [r["party"] for r in get(client, customer, ticket["id"])["ratings"]] == ["customer"]
    assert [r["party"] for r in get(client, member, ticket["id"])["ratings"]] == ["member"]
    assert [r["score"] for r in get(client, cm, ticket["id"])["ratings"]] == [4, 2]


def test_rating_errors(client, customer, other_customer, cm):
    closed = closed_ticket(client, cm, customer)
    assert _rate(client, customer, closed["id"], 6).status_code == 422
    assert _rate(client, customer, closed["id"], 0).status_code == 422
    assert _rate(client, other_customer, closed["id"]).status_code == 404
    assert _rate(client, cm, closed["id"]).status_code == 403


# --- disputes (the money side is support.disputes') -----------------------------------------------


def test_a_customer_disputes_a_completed_job(client, customer, member):
    job_id = job_of(customer, member, status="completed")
    ticket = opened(client, customer, job_id=job_id, dispute=True, category="damage")
    assert ticket["dispute"] is True
    assert db.session.get(Job, job_id).status == "disputed"
    again = open_ticket(client, member, job_id=job_id, dispute=True)
    assert again.status_code == 409 and again.json["ticket_id"] == ticket["id"]


def test_dispute_errors(client, customer, member, cm):
    assigned = job_of(customer, member, status="assigned")
    early = open_ticket(client, customer, job_id=assigned, dispute=True)
    assert early.status_code == 409 and early.json["state"] == "assigned"
    no_job = open_ticket(client, customer, dispute=True)
    assert no_job.status_code == 422 and "job_id" in no_job.json["errors"]["json"]
    staff = open_ticket(client, cm, job_id=job_of(customer, member), dispute=True)
    assert staff.status_code == 422 and "dispute" in staff.json["errors"]["json"]


def test_a_live_dispute_is_not_settled_by_a_plain_resolve(client, customer, member, cm):
    ticket = opened(client, customer, job_id=job_of(customer, member), dispute=True)
    assign(client, cm, ticket["id"])
    assert "resolve" not in get(client, cm, ticket["id"])["allowed_actions"]
    response = client.post(
        f"{API}/{ticket['id']}/actions/resolve", json={"note": "Fine"}, headers=cm.headers
    )
    assert response.status_code == 409


def test_proposal_actions_are_named_as_the_api_names_them(client, customer, member, cm):
    ticket_id = opened(client, customer, job_id=job_of(customer, member))["id"]
    assign(client, cm, ticket_id)
    set_ticket(ticket_id, status="resolution_proposed")
    assert get(client, customer, ticket_id)["allowed_actions"] == ["answer_proposal", "message"]
    staff = get(client, cm, ticket_id)["allowed_actions"]
    assert {"impose_proposal", "withdraw_proposal"} <= set(staff) and "apply" not in staff
