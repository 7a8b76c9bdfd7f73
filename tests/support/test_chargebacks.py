"""Chargebacks as mediated cases (support.chargebacks, payouts.job_money.chargebacks): the bank's
dispute opens a chargeback ticket due at the evidence deadline and tells the CMs; a CM sends
evidence drafted from the job through Stripe's dispute API (the real SDK against the local
fake); a won dispute releases the member's money, a lost one applies the policy once; the
dispute's funds are booked once — and the ledger sums to zero after every path."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from crowd.core.audit import AuditEntry
from crowd.extensions import db
from jobs.models import Job
from notifications.models import Notification
from payouts import job_money
from payouts.ledger import account_code_for_member
from support.models import Ticket, TicketEvent, TicketMessage
from tests.jobs.conftest import force_job_state
from tests.payouts.conftest import (  # noqa: F401  (fixtures)
    assert_ledger_sound,
    ledger_sound,
    stripe_fake,
    stripe_fake_server,
    stripe_settings,
)
from tests.payouts.job_money_helpers import balance, confirmed_job, lines, payment, transactions
from tests.payouts.test_job_money_webhooks import deliver
from tests.stripe_fake import post_event, stripe_event
from tests.support.dispute_helpers import disputed_job
from tests.support.ticket_helpers import API

pytestmark = pytest.mark.usefixtures("stripe_settings", "ledger_sound")

PRICE, EARNING, FEE = 12000, 9600, 1500


@pytest.fixture
def bank(stripe_fake):  # noqa: F811
    """The Stripe fake, where the customer's bank disputes charges."""
    return stripe_fake


def evidence_path(ticket_id: int) -> str:
    return f"{API}/{ticket_id}/chargeback-evidence"


def chargeback(app, client, bank, job_id: int, *, withdrawn_in_event=True, **kw) -> dict:
    """The customer's bank disputes the job's charge: charge.dispute.created delivered (with
    the withdrawal in its balance transactions unless told otherwise). Returns the dispute."""
    dispute = bank.create_dispute(payment(job_id).provider_payment_id, **kw)
    sent = dispute if withdrawn_in_event else {**dispute, "balance_transactions": []}
    assert deliver(app, client, stripe_event("charge.dispute.created", sent))["status"] == (
        "processed"
    )
    return dispute


def case_ticket(job_id: int) -> Ticket:
    db.session.expire_all()
    return db.session.scalar(select(Ticket).where(Ticket.job_id == job_id))


def notices(user_id: int, kind: str) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(Notification.user_id == user_id, Notification.kind == kind)
        )
    )


def kinds(job_id: int) -> list[str]:
    return [t.kind for t in transactions(job_id)]


# --- the case -------------------------------------------------------------------------------


def test_a_chargeback_opens_a_chargeback_ticket_due_at_the_deadline_and_tells_the_cms(
    app, client, customer, cm, admin, bank
):
    job_id, member = confirmed_job(app, client, customer, cm)
    dispute = chargeback(app, client, bank, job_id)
    due = datetime.fromtimestamp(dispute["evidence_details"]["due_by"], UTC)

    ticket = case_ticket(job_id)
    assert (ticket.category, ticket.priority, ticket.dispute) == ("chargeback", "high", True)
    assert (ticket.customer_id, ticket.member_id) == (customer.profile_id, member.profile_id)
    assert ticket.resolution_due_at == due
    assert payment(job_id).dispute_evidence_due_at == due
    link = db.session.scalar(
        select(TicketEvent).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.action == "chargeback"
        )
    )
    assert link.data["dispute_id"] == dispute["id"]
    assert link.data["payment_id"] == payment(job_id).id
    assert (link.data["job_id"], link.data["member_id"]) == (job_id, member.profile_id)
    # The CMs hear of it (admins only when there is no CM), once.
    told = notices(cm.user_id, "support.chargeback_opened")
    assert len(told) == 1 and told[0].data["ticket_id"] == ticket.id
    assert notices(admin.user_id, "support.chargeback_opened") == []
    # The bank withdrew the amount and its fee.
    withdrawal = transactions(job_id)[-1]
    assert withdrawal.kind == "dispute_withdrawn"
    assert lines(withdrawal) == {
        "clearing:disputes": PRICE,
        "platform:provider_fees": FEE,
        "clearing:payments": -(PRICE + FEE),
    }
    assert_ledger_sound()


def test_the_evidence_deadline_stays_whatever_the_priority_or_the_waiting(
    app, client, customer, cm, bank
):
    job_id, _ = confirmed_job(app, client, customer, cm)
    dispute = chargeback(app, client, bank, job_id)
    due = datetime.fromtimestamp(dispute["evidence_details"]["due_by"], UTC)
    ticket_id = case_ticket(job_id).id
    headers = cm.headers

    assert (
        client.post(
            f"{API}/{ticket_id}/assign", json={"assignee_id": cm.user_id}, headers=headers
        ).status_code
        == 200
    )
    assert (
        client.patch(f"{API}/{ticket_id}", json={"priority": "urgent"}, headers=headers).status_code
        == 200
    )
    assert (
        client.post(
            f"{API}/{ticket_id}/actions/wait_on_customer", json={}, headers=headers
        ).status_code
        == 200
    )
    reply = client.post(
        f"{API}/{ticket_id}/messages", json={"body": "My bank did it."}, headers=customer.headers
    )
    assert reply.status_code == 201, reply.get_json()

    ticket = case_ticket(job_id)
    assert ticket.status == "open" and ticket.priority == "urgent"
    assert ticket.resolution_due_at == due


def test_the_evidence_draft_gathers_the_job(app, client, customer, cm, bank):
    job_id, member = confirmed_job(app, client, customer, cm)
    review = client.post(
        f"/api/v1/jobs/{job_id}/reviews",
        json={"stars": 5, "comment": "Tidy and quick", "tags": []},
        headers=customer.headers,
    )
    assert review.status_code == 201, review.get_json()
    chargeback(app, client, bank, job_id)
    ticket = case_ticket(job_id)
    said = client.post(
        f"{API}/{ticket.id}/messages",
        json={"body": "I mounted it on Tuesday, the customer signed off.", "visibility": "parties"},
        headers=member.headers,
    )
    assert said.status_code == 201, said.get_json()

    response = client.get(evidence_path(ticket.id), headers=cm.headers)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    job = db.session.get(Job, job_id)
    evidence = body["evidence"]
    assert body["dispute_id"] == payment(job_id).dispute_id
    assert body["submitted_at"] is None and body["evidence_due_at"] is not None
    assert evidence["customer_email_address"] == customer.email
    assert evidence["service_date"] == job.completed_at.date().isoformat()
    assert job.title in evidence["product_description"]
    assert "Mounted, cables hidden" in evidence["service_documentation"]
    assert "80 minutes" in evidence["service_documentation"]
    assert f"{job.started_at:%Y-%m-%d %H:%M}" in evidence["service_documentation"]
    assert "the customer signed off" in evidence["customer_communication"]
    assert "5/5 — Tidy and quick" in evidence["uncategorized_text"]


def test_submitted_evidence_reaches_stripe_once(app, client, customer, cm, bank):
    job_id, _ = confirmed_job(app, client, customer, cm)
    dispute = chargeback(app, client, bank, job_id)
    ticket = case_ticket(job_id)
    draft = client.get(evidence_path(ticket.id), headers=cm.headers).get_json()["evidence"]
    draft["uncategorized_text"] = "The customer confirmed the job in the app."
    headers = {**cm.headers, "Idempotency-Key": "evidence-1"}

    sent = client.post(
        evidence_path(ticket.id), json={"evidence": draft, "submit": True}, headers=headers
    )

    assert sent.status_code == 200, sent.get_json()
    assert sent.get_json()["dispute_status"] == "under_review"
    assert sent.get_json()["submitted_at"] is not None
    (call,) = bank.calls("POST", f"/v1/disputes/{dispute['id']}")
    assert call.params["submit"] == "true"
    assert call.idempotency_key.startswith(f"dispute-{dispute['id']}-evidence-")
    assert call.params["evidence"]["customer_email_address"] == customer.email
    assert call.params["evidence"]["service_date"] == draft["service_date"]
    # Stripe takes documentation and communication as files: our text goes in the text field.
    assert "service_documentation" not in call.params["evidence"]
    text = call.params["evidence"]["uncategorized_text"]
    assert "The customer confirmed the job in the app." in text
    assert "Service documentation:\n" in text and "Mounted, cables hidden" in text
    assert bank.disputes[dispute["id"]]["evidence_details"]["submission_count"] == 1
    # On the ticket (internal) and in the staff audit log.
    db.session.expire_all()
    event = db.session.scalar(
        select(TicketEvent).where(
            TicketEvent.ticket_id == ticket.id,
            TicketEvent.action == "chargeback_evidence_submitted",
        )
    )
    assert event.actor_id == cm.user_id and event.data["submission_count"] == 1
    note = db.session.scalars(
        select(TicketMessage).where(TicketMessage.ticket_id == ticket.id).order_by(TicketMessage.id)
    ).all()[-1]
    assert note.visibility == "internal" and "submitted" in note.body
    assert db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.actor_user_id == cm.user_id,
            AuditEntry.endpoint.contains("chargeback_evidence"),
            AuditEntry.status_code == 200,
        )
    )

    # The same request again replays; another one is refused — one submission per dispute.
    replay = client.post(
        evidence_path(ticket.id), json={"evidence": draft, "submit": True}, headers=headers
    )
    assert replay.status_code == 200 and replay.get_json() == sent.get_json()
    again = client.post(
        evidence_path(ticket.id), json={"evidence": draft, "submit": True}, headers=cm.headers
    )
    assert again.status_code == 409
    assert again.get_json()["type"].endswith("evidence-not-accepted")
    assert len(bank.calls("POST", f"/v1/disputes/{dispute['id']}")) == 1


def test_evidence_saved_first_is_submitted_later(app, client, customer, cm, admin, bank):
    job_id, _ = confirmed_job(app, client, customer, cm)
    dispute = chargeback(app, client, bank, job_id)
    ticket = case_ticket(job_id)
    body = {"evidence": {"uncategorized_text": "Work done as ordered."}, "submit": False}

    saved = client.post(evidence_path(ticket.id), json=body, headers=cm.headers)
    assert saved.status_code == 200, saved.get_json()
    assert bank.disputes[dispute["id"]]["status"] == "needs_response"
    assert payment(job_id).dispute_evidence_submitted_at is None

    submitted = client.post(
        evidence_path(ticket.id), json={**body, "submit": True}, headers=admin.headers
    )
    assert submitted.status_code == 200, submitted.get_json()
    assert bank.disputes[dispute["id"]]["status"] == "under_review"


def test_evidence_after_the_deadline_is_refused(app, client, customer, cm, bank):
    job_id, _ = confirmed_job(app, client, customer, cm)
    chargeback(app, client, bank, job_id, due_in=-60)
    ticket = case_ticket(job_id)

    late = client.post(
        evidence_path(ticket.id),
        json={"evidence": {"uncategorized_text": "Too late"}, "submit": True},
        headers=cm.headers,
    )

    assert late.status_code == 409
    assert "deadline" in late.get_json()["detail"] and late.get_json()["due_at"]
    assert bank.calls("POST", r"/v1/disputes/\w+") == []


def test_evidence_on_a_closed_dispute_is_refused(app, client, customer, cm, bank):
    job_id, _ = confirmed_job(app, client, customer, cm)
    dispute = chargeback(app, client, bank, job_id)
    won = bank.reinstate_dispute(dispute["id"])
    deliver(app, client, stripe_event("charge.dispute.closed", won))
    ticket = case_ticket(job_id)

    closed = client.post(
        evidence_path(ticket.id),
        json={"evidence": {"uncategorized_text": "After the fact"}, "submit": False},
        headers=cm.headers,
    )

    assert closed.status_code == 409 and closed.get_json()["state"] == "won"
    assert bank.calls("POST", r"/v1/disputes/\w+") == []


def test_the_parties_cannot_read_or_send_evidence(app, client, customer, cm, other_customer, bank):
    job_id, member = confirmed_job(app, client, customer, cm)
    chargeback(app, client, bank, job_id)
    ticket = case_ticket(job_id)
    body = {"evidence": {"uncategorized_text": "Mine"}, "submit": True}

    for actor in (customer, member, other_customer):
        assert client.get(evidence_path(ticket.id), headers=actor.headers).status_code in (
            403,
            404,
        )
        sent = client.post(evidence_path(ticket.id), json=body, headers=actor.headers)
        assert sent.status_code in (403, 404)
    assert client.get(evidence_path(10**9), headers=cm.headers).status_code == 404
    assert bank.calls("POST", r"/v1/disputes/\w+") == []


def test_a_ticket_without_a_chargeback_has_no_evidence(app, client, customer, cm):
    job_id, _ = confirmed_job(app, client, customer, cm)
    opened = client.post(
        API,
        json={"subject": "Q", "category": "payment", "description": "Invoice?", "job_id": job_id},
        headers=customer.headers,
    )
    assert opened.status_code == 201
    response = client.get(evidence_path(opened.get_json()["id"]), headers=cm.headers)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"evidence": {"bogus_field": "x"}, "submit": True}, "evidence"),
        ({"evidence": {"uncategorized_text": "x" * 20_001}, "submit": True}, "evidence"),
        ({"evidence": {"uncategorized_text": "   "}, "submit": True}, "evidence"),
        ({"evidence": {"uncategorized_text": "x"}}, "submit"),
        ({"evidence": {"uncategorized_text": "x"}, "submit": "maybe"}, "submit"),
        ({"submit": True}, "evidence"),
    ],
)
def test_bad_evidence_is_422_naming_the_field(app, client, customer, cm, bank, body, field):
    job_id, _ = confirmed_job(app, client, customer, cm)
    chargeback(app, client, bank, job_id)
    ticket = case_ticket(job_id)

    response = client.post(evidence_path(ticket.id), json=body, headers=cm.headers)

    assert response.status_code == 422
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert field in response.get_json()["errors"]["json"]


# --- the bank decides -----------------------------------------------------------------------


def test_a_won_chargeback_confirms_the_job_releases_the_member_and_resolves_the_ticket(
    app, client, customer, cm, bank
):
    job_id, member = confirmed_job(app, client, customer, cm)
    dispute = chargeback(app, client, bank, job_id)
    assert job_money.open_dispute_member_ids() == {member.profile_id}

    won = bank.reinstate_dispute(dispute["id"])
    reinstated = stripe_event("charge.dispute.funds_reinstated", won)
    assert deliver(app, client, reinstated)["status"] == "processed"
    assert_ledger_sound()
    assert deliver(app, client, stripe_event("charge.dispute.closed", won))["status"] == (
        "processed"
    )

    assert db.session.get(Job, job_id).status == "confirmed"
    assert job_money.open_dispute_member_ids() == set()
    ticket = case_ticket(job_id)
    assert ticket.status == "resolved" and ticket.resolved_at is not None
    note = db.session.scalars(
        select(TicketMessage).where(TicketMessage.ticket_id == ticket.id).order_by(TicketMessage.id)
    ).all()[-1]
    assert (note.author_role, note.visibility) == ("system", "internal")
    assert "in our favour" in note.body
    assert len(notices(member.user_id, "support.chargeback_won")) == 1
    assert len(notices(customer.user_id, "support.chargeback_won")) == 1
    # The amount is back; the fee stays spent; nothing is lost.
    assert balance("clearing:disputes") == 0
    assert balance("platform:provider_fees") == FEE
    assert "dispute_lost" not in kinds(job_id)
    assert balance(account_code_for_member(member.profile_id)) == EARNING
    assert_ledger_sound()

    # Stripe sends the reinstatement again (a new event): booked already.
    again = stripe_event("charge.dispute.funds_reinstated", won)
    assert deliver(app, client, again)["status"] == "ignored"
    assert kinds(job_id).count("dispute_reinstated") == 1
    assert_ledger_sound()


@pytest.mark.parametrize(
    ("policy", "loss_lines", "payable_after"),
    [
        ("platform_absorbs", {"platform:disputes": PRICE, "clearing:disputes": -PRICE}, EARNING),
        (
            "member_liable",
            {"member": EARNING, "platform:disputes": PRICE - EARNING, "clearing:disputes": -PRICE},
            0,
        ),
    ],
)
def test_a_lost_chargeback_applies_the_policy_once(
    app, client, customer, cm, bank, monkeypatch, policy, loss_lines, payable_after
):
    monkeypatch.setitem(app.config, "PAYMENTS_CHARGEBACK_LOST_POLICY", policy)
    job_id, member = confirmed_job(app, client, customer, cm)
    payable = account_code_for_member(member.profile_id)
    dispute = chargeback(app, client, bank, job_id)
    lost = bank.close_dispute(dispute["id"], "lost")
    closing = stripe_event("charge.dispute.closed", lost)

    assert deliver(app, client, closing)["status"] == "processed"

    losses = [t for t in transactions(job_id) if t.kind == "dispute_lost"]
    assert len(losses) == 1
    expected = {payable if k == "member" else k: v for k, v in loss_lines.items()}
    assert lines(losses[0]) == expected
    assert balance(payable) == payable_after
    assert balance("clearing:disputes") == 0
    assert db.session.get(Job, job_id).status == "confirmed"
    assert job_money.open_dispute_member_ids() == set()
    assert case_ticket(job_id).status == "resolved"
    assert len(notices(member.user_id, "support.chargeback_lost")) == 1
    assert len(notices(customer.user_id, "support.chargeback_lost")) == 1
    assert_ledger_sound()

    # The same delivery again (Stripe's retry), and the closing as a new event: nothing more.
    assert post_event(client, closing).status_code == 200
    assert deliver(app, client, stripe_event("charge.dispute.closed", lost))["status"] == (
        "ignored"
    )
    withdrawn = stripe_event("charge.dispute.funds_withdrawn", lost)
    assert deliver(app, client, withdrawn)["status"] == "ignored"
    assert kinds(job_id).count("dispute_lost") == 1
    assert kinds(job_id).count("dispute_withdrawn") == 1
    assert balance(payable) == payable_after
    assert len(notices(member.user_id, "support.chargeback_lost")) == 1
    assert_ledger_sound()


def test_a_member_liable_beyond_their_payable_owes_the_rest(
    app, client, customer, cm, bank, monkeypatch
):
    """Paid out already: what the payable cannot cover becomes the member's receivable."""
    monkeypatch.setitem(app.config, "PAYMENTS_CHARGEBACK_LOST_POLICY", "member_liable")
    job_id, member = confirmed_job(app, client, customer, cm)
    dispute = chargeback(app, client, bank, job_id, amount=5000)
    lost = bank.close_dispute(dispute["id"], "lost")

    deliver(app, client, stripe_event("charge.dispute.closed", lost))

    (loss,) = [t for t in transactions(job_id) if t.kind == "dispute_lost"]
    assert lines(loss) == {
        account_code_for_member(member.profile_id): 5000,
        "clearing:disputes": -5000,
    }
    assert balance(account_code_for_member(member.profile_id)) == EARNING - 5000
    assert_ledger_sound()


def test_a_loss_before_the_withdrawal_books_the_withdrawal_as_its_fee_only(
    app, client, customer, cm, bank
):
    job_id, _ = confirmed_job(app, client, customer, cm)
    dispute = chargeback(app, client, bank, job_id, withdrawn_in_event=False)
    lost = bank.close_dispute(dispute["id"], "lost")
    deliver(
        app, client, stripe_event("charge.dispute.closed", {**lost, "balance_transactions": []})
    )
    (loss,) = [t for t in transactions(job_id) if t.kind == "dispute_lost"]
    assert lines(loss) == {"platform:disputes": PRICE, "clearing:payments": -PRICE}
    assert_ledger_sound()

    withdrawn = stripe_event("charge.dispute.funds_withdrawn", lost)
    assert deliver(app, client, withdrawn)["status"] == "processed"

    booked = transactions(job_id)[-1]
    assert booked.kind == "dispute_withdrawn"
    assert lines(booked) == {"platform:provider_fees": FEE, "clearing:payments": -FEE}
    assert balance("clearing:disputes") == 0
    assert_ledger_sound()


def test_funds_withdrawn_is_booked_once_however_often_it_comes(app, client, customer, cm, bank):
    job_id, _ = confirmed_job(app, client, customer, cm)
    dispute = chargeback(app, client, bank, job_id, withdrawn_in_event=False)
    assert "dispute_withdrawn" not in kinds(job_id)
    withdrawn = stripe_event("charge.dispute.funds_withdrawn", dispute)

    assert deliver(app, client, withdrawn)["status"] == "processed"
    assert post_event(client, withdrawn).status_code == 200  # the same delivery again
    resent = stripe_event("charge.dispute.funds_withdrawn", dispute)  # a new event, same money
    assert deliver(app, client, resent)["status"] == "ignored"

    assert kinds(job_id).count("dispute_withdrawn") == 1
    assert balance("clearing:disputes") == PRICE
    assert_ledger_sound()


def test_a_balance_transaction_in_another_currency_is_ignored(app, client, customer, cm, bank):
    job_id, _ = confirmed_job(app, client, customer, cm)
    dispute = chargeback(app, client, bank, job_id, withdrawn_in_event=False)
    odd = {
        **dispute,
        "balance_transactions": [{**dispute["balance_transactions"][0], "currency": "chf"}],
    }
    body = deliver(app, client, stripe_event("charge.dispute.funds_withdrawn", odd))
    assert body["status"] == "ignored"
    assert "dispute_withdrawn" not in kinds(job_id)


def test_a_chargeback_joins_the_partys_open_dispute_which_mediation_settles(
    app, client, customer, cm, bank
):
    job_id, member, ticket = disputed_job(app, client, customer, cm, confirmed=True)
    before = case_ticket(job_id).resolution_due_at
    dispute = chargeback(app, client, bank, job_id)

    joined = case_ticket(job_id)
    assert joined.id == ticket["id"] and joined.category == "quality_complaint"
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 1
    due = datetime.fromtimestamp(dispute["evidence_details"]["due_by"], UTC)
    assert joined.resolution_due_at == min(before, due)
    # The ticket is assigned: its CM is the one told.
    assert len(notices(cm.user_id, "support.chargeback_opened")) == 1

    lost = bank.close_dispute(dispute["id"], "lost")
    deliver(app, client, stripe_event("charge.dispute.closed", lost))

    # The loss is booked; the party's dispute still holds the job for mediation to settle.
    assert kinds(job_id).count("dispute_lost") == 1
    assert db.session.get(Job, job_id).status == "disputed"
    assert case_ticket(job_id).status not in ("resolved", "closed")
    assert job_money.open_dispute_member_ids() == {member.profile_id}
    assert len(notices(customer.user_id, "support.chargeback_lost")) == 1
    assert_ledger_sound()


def test_a_chargeback_on_a_job_beyond_dispute_still_opens_a_case(app, client, customer, cm, bank):
    job_id, member = confirmed_job(app, client, customer, cm)
    force_job_state(job_id, status="closed")
    dispute = chargeback(app, client, bank, job_id)

    ticket = case_ticket(job_id)
    assert (ticket.category, ticket.dispute) == ("chargeback", False)
    assert ticket.resolution_due_at == datetime.fromtimestamp(
        dispute["evidence_details"]["due_by"], UTC
    )
    assert len(notices(cm.user_id, "support.chargeback_opened")) == 1
    assert client.get(evidence_path(ticket.id), headers=cm.headers).status_code == 200

    won = bank.reinstate_dispute(dispute["id"])
    deliver(app, client, stripe_event("charge.dispute.closed", won))

    assert case_ticket(job_id).status == "resolved"
    assert db.session.get(Job, job_id).status == "closed"
    assert len(notices(member.user_id, "support.chargeback_won")) == 1
    assert balance("clearing:disputes") == 0
    assert_ledger_sound()


def test_only_the_platform_opens_chargeback_tickets_and_they_keep_their_category(
    app, client, customer, cm, bank
):
    job_id, _ = confirmed_job(app, client, customer, cm)
    chosen = client.post(
        API,
        json={"subject": "My bank", "category": "chargeback", "description": "x", "job_id": job_id},
        headers=customer.headers,
    )
    assert chosen.status_code == 422 and "category" in chosen.get_json()["errors"]["json"]

    chargeback(app, client, bank, job_id)
    ticket = case_ticket(job_id)
    moved = client.patch(f"{API}/{ticket.id}", json={"category": "payment"}, headers=cm.headers)
    assert moved.status_code == 422, moved.get_json()
    assert "category" in moved.get_json()["errors"]["json"]
    retitled = client.patch(
        f"{API}/{ticket.id}", json={"subject": "Chargeback, job"}, headers=cm.headers
    )
    assert retitled.status_code == 200
    assert case_ticket(job_id).category == "chargeback"
