"""Issue 7's story through the HTTP API: a dispute freezes the money, mediation settles it by the
deadline's default outcome — each posting exactly once — and the hold lifts; a suspended member
gets no offers until reinstated."""

from datetime import timedelta

import pytest

from crowd.core.background import TASKS
from crowd.core.db import commit, utcnow
from payouts import ledger
from tests.factories import PASSWORD
from tests.jobs.conftest import active_member, drain_background, post_job_via_api
from tests.payouts.conftest import assert_ledger_sound, ledger_sound  # noqa: F401
from tests.payouts.job_money_helpers import REPORT, lines, save_method, transactions
from tests.support.dispute_helpers import (
    EARNING,
    deadline_passes,
    payout_account,
    run_deadline_task,
    run_payouts,
)
from tests.support.ticket_helpers import set_ticket

pytestmark = pytest.mark.usefixtures("ledger_sound")

TICKETS = "/api/v1/tickets"


def _posted_job(app, client, customer) -> int:
    posted = post_job_via_api(client, customer)
    assert posted.status_code == 201, posted.json
    drain_background(app)
    return posted.json["id"]


def _offers(client, member) -> list[dict]:
    return client.get("/api/v1/me/offers", headers=member.headers).json["items"]


def _take_and_do(app, client, member, job_id: int) -> None:
    """The member accepts the job's offer, starts and completes it, all through the API."""
    (offer,) = [o for o in _offers(client, member) if o["job"]["id"] == job_id]
    accepted = client.post(f"/api/v1/offers/{offer['id']}/accept", headers=member.headers)
    assert accepted.status_code == 200, accepted.json
    drain_background(app)
    assert client.post(f"/api/v1/me/jobs/{job_id}/start", headers=member.headers).status_code == 200
    done = client.post(f"/api/v1/me/jobs/{job_id}/complete", json=REPORT, headers=member.headers)
    assert done.status_code == 200, done.json
    drain_background(app)


def _bodies(client, actor, ticket_id: int) -> list[str]:
    page = client.get(f"{TICKETS}/{ticket_id}/messages", headers=actor.headers)
    assert page.status_code == 200, page.json
    return [message["body"] for message in page.json["items"]]


def test_a_dispute_is_mediated_and_settled_by_its_deadline(app, client, customer, cm, admin):
    member = active_member()
    payout_account(client, member)
    assert save_method(client, customer).status_code == 200
    payable = f"member:{member.profile_id}:payable"

    # An earlier job, confirmed and settled: its earning waits for the next payout.
    earlier = _posted_job(app, client, customer)
    _take_and_do(app, client, member, earlier)
    assert (
        client.post(f"/api/v1/jobs/{earlier}/confirm", headers=customer.headers).status_code == 200
    )
    drain_background(app)
    assert ledger.balance(payable, "EUR") == EARNING

    # The job in question: done, and the customer disputes it instead of confirming.
    job_id = _posted_job(app, client, customer)
    _take_and_do(app, client, member, job_id)
    opened = client.post(
        TICKETS,
        json={
            "subject": "The TV fell off the wall",
            "category": "damage",
            "description": "It came down overnight and cracked the screen.",
            "job_id": job_id,
            "dispute": True,
        },
        headers=customer.headers,
    )
    assert opened.status_code == 201, opened.json
    ticket_id = opened.json["id"]
    drain_background(app)
    job = client.get(f"/api/v1/jobs/{job_id}", headers=customer.headers).json
    assert job["status"] == "disputed"

    # The payout run holds the member: nothing leaves while the dispute is open.
    (held,) = run_payouts(app)
    assert (held.status, held.amount, held.hold_reason) == (
        "held",
        EARNING,
        f"open dispute on job {job_id}",
    )
    assert ledger.balance(payable, "EUR") == EARNING

    # The CM takes the ticket and mediates: an internal note, a word to the customer alone,
    # and one to both parties. Each side reads exactly what it may.
    queue = client.get(f"{TICKETS}?dispute=true", headers=cm.headers).json["items"]
    assert [item["id"] for item in queue] == [ticket_id]
    taken = client.post(
        f"{TICKETS}/{ticket_id}/assign", json={"assignee_id": cm.user_id}, headers=cm.headers
    )
    assert taken.status_code == 200, taken.json
    for body, visibility in (
        ("Member has 40 jobs, no complaints so far.", "internal"),
        ("Could you send a photo of the wall?", "customer"),
        ("We are looking into it with both of you.", "parties"),
    ):
        said = client.post(
            f"{TICKETS}/{ticket_id}/messages",
            json={"body": body, "visibility": visibility},
            headers=cm.headers,
        )
        assert said.status_code == 201, said.json
    first = "It came down overnight and cracked the screen."
    shared = "We are looking into it with both of you."
    assert _bodies(client, customer, ticket_id) == [
        first,
        "Could you send a photo of the wall?",
        shared,
    ]
    assert _bodies(client, member, ticket_id) == [first, shared]
    assert len(_bodies(client, cm, ticket_id)) == 4

    # A partial refund is proposed; both parties see it; nobody answers.
    proposal = client.post(
        f"{TICKETS}/{ticket_id}/resolutions",
        json={
            "kind": "partial_refund",
            "refund_amount": 3000,
            "note": "The bracket was fine, the wall plugs were not: a quarter back.",
            "member_at_fault": False,
            "respond_within_hours": 48,
        },
        headers=cm.headers,
    )
    assert proposal.status_code == 201, proposal.json
    resolution_id = proposal.json["id"]
    for party in (customer, member):
        listed = client.get(f"{TICKETS}/{ticket_id}/resolutions", headers=party.headers).json
        assert [(r["id"], r["status"]) for r in listed["items"]] == [(resolution_id, "proposed")]
    assert run_deadline_task(app) == 0  # not yet

    # The deadline passes; the task runs twice; the proposal applies once.
    deadline_passes(resolution_id)
    assert run_deadline_task(app) == 1
    assert run_deadline_task(app) == 0
    applied = client.get(f"{TICKETS}/{ticket_id}/resolutions", headers=cm.headers).json["items"]
    assert (applied[0]["status"], applied[0]["applied_by"]) == ("applied", "deadline")

    # The settlement and the refund's reversal post once each: the customer gets 30.00 back,
    # the platform returns its 20 %, the member keeps 72.00 of the 96.00 earning.
    settlement, refund = transactions(job_id)
    assert (settlement.kind, refund.kind) == ("job_settlement", "job_refund")
    assert lines(refund) == {"clearing:payments": -3000, "platform:revenue": 600, payable: 2400}
    remaining = EARNING - 2400
    assert ledger.balance(payable, "EUR") == EARNING + remaining
    payment = client.get(f"/api/v1/jobs/{job_id}/payment", headers=customer.headers).json
    assert (payment["amount_captured"], payment["amount_refunded"]) == (12000, 3000)
    assert_ledger_sound()

    # The hold lifts: the next run pays the earlier earning and the remaining one, once.
    (paid,) = run_payouts(app)
    assert (paid.status, paid.amount) == ("paid", EARNING + remaining)
    assert ledger.balance(payable, "EUR") == 0
    assert run_payouts(app) == []

    # Resolved, then closed automatically; both parties rate the handling.
    ticket = client.get(f"{TICKETS}/{ticket_id}", headers=customer.headers).json
    assert ticket["status"] == "resolved"
    set_ticket(ticket_id, auto_close_at=utcnow() - timedelta(minutes=1))
    TASKS["support.close_resolved"].func()
    commit()
    drain_background(app)
    assert client.get(f"{TICKETS}/{ticket_id}", headers=member.headers).json["status"] == "closed"
    for party, score in ((customer, 4), (member, 3)):
        rated = client.post(
            f"{TICKETS}/{ticket_id}/rating",
            json={"score": score, "comment": "Fair"},
            headers=party.headers,
        )
        assert rated.status_code == 201, rated.json
    assert_ledger_sound()


def test_a_suspended_member_receives_no_offers_until_reinstated(app, client, customer, cm):
    member = active_member()
    sanctions = f"/api/v1/members/{member.profile_id}/sanctions"
    suspended = client.post(
        sanctions,
        json={"kind": "suspend", "reason": "Threatened a customer"},
        headers=cm.headers,
    )
    assert suspended.status_code == 201, suspended.json
    assert suspended.json["member_status"] == "suspended"

    # The suspension closed the account: the token is revoked, sign-in refused.
    assert client.get("/api/v1/me/offers", headers=member.headers).status_code == 401
    credentials = {"email": member.email, "password": PASSWORD}
    assert client.post("/api/v1/auth/tokens", json=credentials).status_code == 403
    while_suspended = _posted_job(app, client, customer)
    job = client.get(f"/api/v1/jobs/{while_suspended}", headers=customer.headers).json
    assert job["status"] == "open"  # nobody eligible: escalated to the community managers

    reinstated = client.post(
        sanctions, json={"kind": "reinstate", "reason": "Cleared after review"}, headers=cm.headers
    )
    assert reinstated.status_code == 201, reinstated.json
    # Reinstated: the member signs in again (the old token stays revoked).
    assert client.get("/api/v1/me/offers", headers=member.headers).status_code == 401
    member.token = client.post("/api/v1/auth/tokens", json=credentials).json["token"]
    assert _offers(client, member) == []
    after = _posted_job(app, client, customer)
    assert [offer["job"]["id"] for offer in _offers(client, member)] == [after]

    record = client.get(sanctions, headers=member.headers).json["items"]
    assert [item["kind"] for item in record] == ["suspend", "reinstate"]
