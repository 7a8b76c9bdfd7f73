"""Resolutions: proposing, answering, withdrawing, imposing — their rules and error paths."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from crowd.core.background import OutboxMessage
from crowd.extensions import db
from jobs.models import Job
from support.models import Resolution
from support.resolutions import split_refund
from tests.factories import make_actor
from tests.jobs.conftest import drain_background, notifications_for
from tests.payouts.conftest import ledger_sound  # noqa: F401
from tests.payouts.job_money_helpers import payment
from tests.support.dispute_helpers import (
    PRICE,
    answer,
    disputed_job,
    propose,
    proposed,
    resolution_row,
    staff_act,
)
from tests.support.ticket_helpers import API, act, assign, events, opened, ticket_row

pytestmark = pytest.mark.usefixtures("ledger_sound")


@pytest.fixture
def dispute(app, client, customer, cm):
    """(job id, member, ticket) of a confirmed job in dispute, the ticket open with `cm`."""
    return disputed_job(app, client, customer, cm, confirmed=True)


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_json()
    assert response.content_type == "application/problem+json"
    return response.get_json()


# --- proposing ----------------------------------------------------------------------------------


def test_staff_propose_and_the_parties_are_told(app, client, customer, cm, dispute):
    _, member, ticket = dispute
    body = proposed(client, cm, ticket["id"], kind="partial_refund", refund_amount=3000)
    assert body["status"] == "proposed" and body["refund_amount"] == 3000
    assert body["currency"] == "EUR" and body["proposed_by_id"] == cm.user_id
    assert ticket_row(ticket["id"]).status == "resolution_proposed"
    (event,) = events(ticket["id"], "propose")
    assert event.data["kind"] == "partial_refund" and event.data["refund_amount"] == 3000
    drain_background(app)
    for party in (customer, member):
        (note,) = notifications_for(party.user_id, "support.resolution_proposed")
        assert "30.00 EUR" in note.body


def test_the_deadline_defaults_to_the_configured_hours_and_queues_its_task(client, cm, dispute):
    ticket = dispute[2]
    body = proposed(client, cm, ticket["id"], kind="release")
    row = resolution_row(body["id"])
    assert row.respond_by - row.proposed_at == timedelta(hours=72)
    timed = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.task == "support.apply_due_resolutions")
    ).all()
    assert [(m.kwargs, m.run_after) for m in timed] == [({"resolution_id": row.id}, row.respond_by)]


def test_respond_within_hours_sets_the_deadline(client, cm, dispute):
    body = proposed(client, cm, dispute[2]["id"], kind="release", respond_within_hours=5)
    row = resolution_row(body["id"])
    assert row.respond_by - row.proposed_at == timedelta(hours=5)


def test_a_split_refunds_the_customers_share_rounded_half_up(client, cm, dispute):
    body = proposed(client, cm, dispute[2]["id"], kind="split", customer_share_percent=35)
    assert body["refund_amount"] == 4200
    assert split_refund(12345, 33) == 4074  # 4073.85
    assert split_refund(101, 50) == 51  # 50.5 rounds up
    assert split_refund(99, 50) == 50  # 49.5 rounds up


def test_a_full_refund_proposes_the_whole_price(client, cm, dispute):
    body = proposed(client, cm, dispute[2]["id"], kind="full_refund", member_at_fault=True)
    assert (body["refund_amount"], body["member_at_fault"]) == (PRICE, True)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "partial_refund"}, "refund_amount"),
        ({"kind": "partial_refund", "refund_amount": 0}, "refund_amount"),
        ({"kind": "partial_refund", "refund_amount": PRICE + 1}, "refund_amount"),
        ({"kind": "partial_refund", "refund_amount": 10.5}, "refund_amount"),
        ({"kind": "release", "refund_amount": 100}, "refund_amount"),
        ({"kind": "split"}, "customer_share_percent"),
        ({"kind": "split", "customer_share_percent": 100}, "customer_share_percent"),
        ({"kind": "split", "customer_share_percent": 0}, "customer_share_percent"),
        ({"kind": "goodwill"}, "goodwill_amount"),
        ({"kind": "goodwill", "goodwill_amount": PRICE + 1}, "goodwill_amount"),
        ({"kind": "full_refund", "goodwill_amount": 5}, "goodwill_amount"),
        ({"kind": "compensation"}, "kind"),
        ({"kind": "release", "note": "  "}, "note"),
        ({"kind": "release", "member_at_fault": None}, "member_at_fault"),
        ({"kind": "release", "respond_within_hours": 0}, "respond_within_hours"),
        ({"kind": "release", "surprise": 1}, "surprise"),
    ],
)
def test_a_proposal_that_does_not_fit_is_a_422_naming_the_field(client, cm, dispute, body, field):
    ticket = dispute[2]
    problem = _problem(propose(client, cm, ticket["id"], **body), 422)
    assert field in problem["errors"]["json"]
    assert ticket_row(ticket["id"]).status == "open"
    assert db.session.scalar(select(Resolution.id)) is None


def test_a_refund_beyond_what_is_left_after_earlier_refunds_is_a_422(app, client, cm, dispute):
    job_id, _, ticket = dispute
    refunded = client.post(
        f"/api/v1/staff/jobs/{job_id}/refunds",
        json={"amount": 10000, "reason": "Goodwill before mediation"},
        headers=cm.headers,
    )
    assert refunded.status_code == 202, refunded.get_json()
    drain_background(app)
    problem = _problem(
        propose(client, cm, ticket["id"], kind="partial_refund", refund_amount=2001), 422
    )
    assert "2000" in problem["errors"]["json"]["refund_amount"][0]


def test_proposing_on_a_ticket_nobody_took_yet_is_a_409(app, client, customer, cm):
    job_id, _, first = disputed_job(app, client, customer, cm, confirmed=True)
    fresh = opened(client, customer, job_id=job_id)  # about the same job, still new
    assert _problem(propose(client, cm, fresh["id"], kind="release"), 409)["state"] == "new"
    assert first["id"] != fresh["id"]


def test_a_second_live_proposal_is_a_409(client, cm, dispute):
    ticket = dispute[2]
    proposed(client, cm, ticket["id"], kind="release")
    problem = _problem(propose(client, cm, ticket["id"], kind="full_refund"), 409)
    assert problem["state"] == "resolution_proposed"


def test_a_ticket_not_about_a_job_gets_no_resolution(client, customer, cm):
    ticket = opened(client, customer)  # about the customer's account
    assert assign(client, cm, ticket["id"]).status_code == 200
    problem = _problem(propose(client, cm, ticket["id"], kind="goodwill", goodwill_amount=500), 409)
    assert problem["state"] == "open"


def test_release_needs_a_disputed_job(app, client, customer, cm, dispute):
    job_id, _, ticket = dispute
    resolution = proposed(client, cm, ticket["id"], kind="release")
    assert staff_act(client, cm, ticket["id"], resolution["id"], "impose").status_code == 200
    follow = opened(client, customer, job_id=job_id)
    assert assign(client, cm, follow["id"]).status_code == 200
    problem = _problem(propose(client, cm, follow["id"], kind="release"), 409)
    assert problem["state"] == "confirmed"


@pytest.mark.parametrize("kind", ["release", "goodwill"])
def test_an_open_chargeback_leaves_the_money_to_the_bank(client, cm, dispute, kind):
    job_id, _, ticket = dispute
    row = payment(job_id)
    row.dispute_id, row.dispute_status = "dp_1", "needs_response"
    db.session.commit()
    body = {"goodwill_amount": 500} if kind == "goodwill" else {}
    problem = _problem(propose(client, cm, ticket["id"], kind=kind, **body), 409)
    assert "chargeback" in problem["detail"]


def test_parties_cannot_propose_and_others_do_not_see_the_ticket(client, customer, cm, dispute):
    _, member, ticket = dispute
    for party in (customer, member):
        _problem(propose(client, party, ticket["id"], kind="release"), 403)
    stranger = make_actor("customer")
    listed = client.get(f"{API}/{ticket['id']}/resolutions", headers=stranger.headers)
    _problem(listed, 404)
    _problem(propose(client, cm, 999999, kind="release"), 404)
    assert client.post(f"{API}/{ticket['id']}/resolutions", json={}).status_code == 401


def test_proposing_is_idempotent_by_key(client, cm, dispute):
    ticket = dispute[2]
    headers = {**cm.headers, "Idempotency-Key": "propose-1"}
    body = {"kind": "release", "note": "Fine work", "member_at_fault": False}
    first = client.post(f"{API}/{ticket['id']}/resolutions", json=body, headers=headers)
    again = client.post(f"{API}/{ticket['id']}/resolutions", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]
    assert len(db.session.scalars(select(Resolution)).all()) == 1


def test_the_parties_and_staff_list_the_ticket_resolutions(client, customer, cm, dispute):
    _, member, ticket = dispute
    body = proposed(client, cm, ticket["id"], kind="release")
    for actor in (customer, member, cm):
        page = client.get(f"{API}/{ticket['id']}/resolutions", headers=actor.headers).get_json()
        assert [item["id"] for item in page["items"]] == [body["id"]]


# --- answering ----------------------------------------------------------------------------------


def test_one_acceptance_waits_for_the_other_party(client, customer, cm, dispute):
    ticket = dispute[2]
    body = proposed(client, cm, ticket["id"], kind="release")
    response = answer(client, customer, ticket["id"], body["id"], "accept")
    assert response.status_code == 200
    assert (response.get_json()["status"], response.get_json()["customer_answer"]) == (
        "proposed",
        "accept",
    )
    assert ticket_row(ticket["id"]).status == "resolution_proposed"
    assert [e.action for e in events(ticket["id"], "accept_proposal")] == ["accept_proposal"]


def test_both_accepting_applies_it_at_once(client, customer, cm, dispute):
    job_id, member, ticket = dispute
    body = proposed(client, cm, ticket["id"], kind="release")
    answer(client, member, ticket["id"], body["id"], "accept")
    applied = answer(client, customer, ticket["id"], body["id"], "accept").get_json()
    assert (applied["status"], applied["applied_by"]) == ("applied", "parties")
    assert ticket_row(ticket["id"]).status == "resolved"
    (event,) = events(ticket["id"], "apply")
    assert (event.actor_role, event.actor_id) == ("customer", customer.user_id)
    assert db.session.get(Job, job_id).status == "confirmed"


def test_a_rejection_returns_the_ticket_to_mediation(app, client, customer, cm, dispute):
    _, member, ticket = dispute
    body = proposed(client, cm, ticket["id"], kind="partial_refund", refund_amount=1000)
    rejected = answer(client, member, ticket["id"], body["id"], "reject").get_json()
    assert (rejected["status"], rejected["member_answer"]) == ("rejected", "reject")
    assert ticket_row(ticket["id"]).status == "in_mediation"
    drain_background(app)
    assert len(notifications_for(customer.user_id, "support.resolution_rejected")) == 1
    assert len(notifications_for(cm.user_id, "support.resolution_rejected")) == 1
    # Too late to accept; a new proposal may follow.
    late = answer(client, customer, ticket["id"], body["id"], "accept")
    assert _problem(late, 409)["state"] == "rejected"
    assert late.get_json()["type"] == "https://crowd.example/problems/resolution-not-open"
    assert proposed(client, cm, ticket["id"], kind="release")["status"] == "proposed"


def test_a_party_answers_once(client, customer, cm, dispute):
    ticket = dispute[2]
    body = proposed(client, cm, ticket["id"], kind="release")
    assert answer(client, customer, ticket["id"], body["id"], "accept").status_code == 200
    twice = _problem(answer(client, customer, ticket["id"], body["id"], "reject"), 409)
    assert twice["type"] == "https://crowd.example/problems/proposal-already-answered"
    assert resolution_row(body["id"]).customer_answer == "accept"


def test_answers_are_for_the_parties_of_that_ticket_only(client, customer, cm, dispute):
    ticket = dispute[2]
    body = proposed(client, cm, ticket["id"], kind="release")
    stranger = make_actor("member")
    _problem(answer(client, stranger, ticket["id"], body["id"], "accept"), 404)
    _problem(answer(client, cm, ticket["id"], body["id"], "accept"), 403)
    _problem(answer(client, customer, ticket["id"], body["id"] + 1, "accept"), 404)
    problem = _problem(answer(client, customer, ticket["id"], body["id"], "maybe"), 422)
    assert "answer" in problem["errors"]["json"]


def test_an_escalated_ticket_takes_no_answers_until_taken_over(client, customer, cm, dispute):
    ticket = dispute[2]
    body = proposed(client, cm, ticket["id"], kind="release")
    assert act(client, cm, ticket["id"], "escalate", reason="Needs a senior").status_code == 200
    problem = _problem(answer(client, customer, ticket["id"], body["id"], "accept"), 409)
    assert problem["state"] == "escalated"
    assert problem["type"] == "https://crowd.example/problems/proposal-on-hold"
    assert act(client, cm, ticket["id"], "take_over").status_code == 200
    assert answer(client, customer, ticket["id"], body["id"], "accept").status_code == 200


# --- withdrawing and imposing -------------------------------------------------------------------


def test_staff_withdraw_a_proposal(app, client, customer, cm, dispute):
    ticket = dispute[2]
    body = proposed(client, cm, ticket["id"], kind="release")
    withdrawn = staff_act(client, cm, ticket["id"], body["id"], "withdraw")
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "withdrawn"
    assert ticket_row(ticket["id"]).status == "in_mediation"
    _problem(answer(client, customer, ticket["id"], body["id"], "accept"), 409)
    _problem(staff_act(client, cm, ticket["id"], body["id"], "withdraw"), 409)
    _problem(staff_act(client, cm, ticket["id"], body["id"], "impose"), 409)
    drain_background(app)
    assert len(notifications_for(customer.user_id, "support.resolution_withdrawn")) == 1


def test_staff_impose_a_proposal_now(client, customer, cm, dispute):
    job_id, _, ticket = dispute
    body = proposed(client, cm, ticket["id"], kind="release")
    answer(client, customer, ticket["id"], body["id"], "accept")
    imposed = staff_act(client, cm, ticket["id"], body["id"], "impose").get_json()
    assert (imposed["status"], imposed["applied_by"]) == ("applied", "staff")
    assert ticket_row(ticket["id"]).status == "resolved"
    assert db.session.get(Job, job_id).status == "confirmed"
    _problem(staff_act(client, cm, ticket["id"], body["id"], "impose"), 409)


def test_parties_cannot_withdraw_or_impose(client, customer, cm, dispute):
    _, member, ticket = dispute
    body = proposed(client, cm, ticket["id"], kind="release")
    for party in (customer, member):
        for action in ("withdraw", "impose"):
            _problem(staff_act(client, party, ticket["id"], body["id"], action), 403)
    assert resolution_row(body["id"]).status == "proposed"
