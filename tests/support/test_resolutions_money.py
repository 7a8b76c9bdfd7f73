"""Resolutions move money: each kind on a settled job and on one disputed before its capture,
the deadline's default outcome, and the payout hold lifting — every posting exactly once."""

import pytest
from sqlalchemy import select

from crowd.extensions import db
from jobs.models import Job
from members.models import MemberStats
from payouts import job_money
from payouts.job_money.refunds import GOODWILL_SUFFIX
from payouts.models import JobRefund, OfflineRefund
from support.models import TicketEvent
from tests.jobs.conftest import active_member, drain_background, notifications_for
from tests.payouts.conftest import assert_ledger_sound, ledger_sound  # noqa: F401
from tests.payouts.job_money_helpers import (
    balance,
    completed_job,
    confirm,
    lines,
    payment,
    refunds,
    transactions,
)
from tests.support.dispute_helpers import (
    COMMISSION,
    EARNING,
    PRICE,
    answer,
    deadline_passes,
    disputed_job,
    payout_account,
    proposed,
    resolution_row,
    run_deadline_task,
    run_payouts,
    staff_act,
)
from tests.support.ticket_helpers import events, ticket_row

pytestmark = pytest.mark.usefixtures("ledger_sound")

CLEARING = "clearing:payments"
BOTH_PATHS = pytest.mark.parametrize("confirmed", [True, False], ids=["settled", "authorised"])


def _payable(member) -> int:
    return balance(f"member:{member.profile_id}:payable")


def _job(job_id: int) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def _impose(client, cm, ticket_id: int, resolution_id: int) -> dict:
    response = staff_act(client, cm, ticket_id, resolution_id, "impose")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _settle(app, client, customer, cm, *, confirmed: bool, **body):
    """A disputed job settled by an imposed proposal of `body`; (job id, member, resolution)."""
    job_id, member, ticket = disputed_job(app, client, customer, cm, confirmed=confirmed)
    if not confirmed:
        assert transactions(job_id) == [] and payment(job_id).status == "authorized"
    resolution = proposed(client, cm, ticket["id"], **body)
    applied = _impose(client, cm, ticket["id"], resolution["id"])
    drain_background(app)
    return job_id, member, applied


# --- each kind ----------------------------------------------------------------------------------


@BOTH_PATHS
def test_a_partial_refund_gives_back_its_share_of_the_split(app, client, customer, cm, confirmed):
    job_id, member, _ = _settle(
        app, client, customer, cm, confirmed=confirmed, kind="partial_refund", refund_amount=3000
    )
    settlement, refund = transactions(job_id)
    assert (settlement.kind, settlement.key) == ("job_settlement", f"job-{job_id}-settlement")
    assert lines(settlement)[CLEARING] == PRICE
    assert refund.kind == "job_refund"
    # 20 % of the refund comes off the platform's commission, 80 % off the member's earning.
    assert lines(refund) == {
        CLEARING: -3000,
        "platform:revenue": 600,
        f"member:{member.profile_id}:payable": 2400,
    }
    row = payment(job_id)
    assert (row.status, row.amount_captured, row.amount_refunded) == (
        "partially_refunded",
        PRICE,
        3000,
    )
    assert _job(job_id).status == "confirmed" and _job(job_id).confirmed_at is not None
    assert _payable(member) == EARNING - 2400
    assert balance("platform:revenue") == COMMISSION - 600


@BOTH_PATHS
def test_a_split_refunds_the_customers_percentage(app, client, customer, cm, confirmed):
    job_id, member, applied = _settle(
        app, client, customer, cm, confirmed=confirmed, kind="split", customer_share_percent=35
    )
    assert applied["refund_amount"] == 4200
    (refund,) = refunds(job_id)
    assert (refund.amount, refund.commission_part, refund.member_part) == (4200, 840, 3360)
    assert _payable(member) == EARNING - 3360


def test_a_full_refund_of_a_settled_job_reverses_it_entirely(app, client, customer, cm):
    job_id, member, applied = _settle(
        app, client, customer, cm, confirmed=True, kind="full_refund", member_at_fault=True
    )
    assert applied["refund_amount"] == PRICE
    _, refund = transactions(job_id)
    assert lines(refund) == {
        CLEARING: -PRICE,
        "platform:revenue": COMMISSION,
        f"member:{member.profile_id}:payable": EARNING,
    }
    assert payment(job_id).status == "refunded"
    assert _payable(member) == 0 and balance(CLEARING) == 0
    assert _job(job_id).status == "confirmed"


def test_a_full_refund_of_a_job_never_confirmed_cancels_it_uncharged(app, client, customer, cm):
    job_id, member, applied = _settle(
        app, client, customer, cm, confirmed=False, kind="full_refund", member_at_fault=True
    )
    job = _job(job_id)
    assert (job.status, job.cancelled_by, job.cancellation_fee_amount) == ("cancelled", "staff", 0)
    assert job.confirmed_at is None
    row = payment(job_id)
    assert (row.status, row.amount_captured) == ("cancelled", 0)  # the authorisation released
    assert transactions(job_id) == [] and refunds(job_id) == []
    assert (applied["refund_amount"], applied["refund_id"]) == (PRICE, None)
    assert _payable(member) == 0


@BOTH_PATHS
def test_a_release_pays_the_member_in_full(app, client, customer, cm, confirmed):
    job_id, member, applied = _settle(
        app, client, customer, cm, confirmed=confirmed, kind="release"
    )
    assert [t.kind for t in transactions(job_id)] == ["job_settlement"]
    assert refunds(job_id) == [] and applied["refund_id"] is None
    assert _payable(member) == EARNING
    assert _job(job_id).status == "confirmed"


@BOTH_PATHS
def test_goodwill_is_paid_by_the_platform_and_really_refunded(app, client, customer, cm, confirmed):
    job_id, member, applied = _settle(
        app, client, customer, cm, confirmed=confirmed, kind="goodwill", goodwill_amount=1500
    )
    settlement, goodwill = transactions(job_id)
    assert goodwill.kind == "goodwill"
    assert lines(goodwill) == {"platform:goodwill": 1500, CLEARING: -1500}
    (refund,) = refunds(job_id)
    assert refund.key == f"job-{job_id}-resolution-{applied['id']}{GOODWILL_SUFFIX}"
    assert (refund.status, refund.commission_part, refund.member_part) == ("succeeded", 0, 0)
    assert applied["refund_id"] == refund.id
    # The provider refunded the customer's card; the member's earning is untouched.
    made = db.session.scalar(
        select(OfflineRefund).where(OfflineRefund.id == refund.provider_refund_id)
    )
    assert made.amount == 1500
    assert payment(job_id).amount_refunded == 1500
    assert _payable(member) == EARNING
    assert balance("platform:revenue") == COMMISSION
    view = client.get(f"/api/v1/jobs/{job_id}/payment", headers=customer.headers).get_json()
    assert [(r["amount"], r["status"]) for r in view["refunds"]] == [(1500, "succeeded")]


def test_refunds_after_goodwill_still_reverse_the_split_in_proportion(app, client, customer, cm):
    job_id, member, _ = _settle(
        app, client, customer, cm, confirmed=True, kind="goodwill", goodwill_amount=1500
    )
    response = client.post(
        f"/api/v1/staff/jobs/{job_id}/refunds",
        json={"amount": 6000, "reason": "Half the work redone"},
        headers=cm.headers,
    )
    assert response.status_code == 202, response.get_json()
    drain_background(app)
    refund = refunds(job_id)[-1]
    assert (refund.commission_part, refund.member_part) == (1200, 4800)
    assert payment(job_id).amount_refunded == 7500
    assert _payable(member) == EARNING - 4800


def test_a_refund_decided_before_the_capture_waits_for_the_settlement(app, client, customer, cm):
    job_id, _ = completed_job(app, client, customer, cm)
    row = job_money.payment_of(job_id, lock=True)
    refund = job_money.queue_refund(row, amount=1000, reason="Agreed", key=f"test-{job_id}")
    db.session.commit()
    assert job_money.execute_refund(refund.id) == "awaiting_settlement"
    db.session.commit()
    assert refunds(job_id)[0].status == "pending"

    confirm(app, client, customer, job_id)  # the capture releases the waiting refund

    assert [t.kind for t in transactions(job_id)] == ["job_settlement", "job_refund"]
    assert refunds(job_id)[0].status == "succeeded"
    assert job_money.execute_refund(refund.id) == "succeeded"  # a replay changes nothing


def test_a_member_at_fault_loses_the_dispute(app, client, customer, cm):
    job_id, member, _ = _settle(
        app,
        client,
        customer,
        cm,
        confirmed=True,
        kind="partial_refund",
        refund_amount=2000,
        member_at_fault=True,
    )
    db.session.expire_all()
    assert db.session.get(MemberStats, member.profile_id).disputes_lost == 1
    profile = client.get(f"/api/v1/members/{member.profile_id}", headers=cm.headers).get_json()
    assert (profile["stats"]["jobs_disputed"], profile["stats"]["disputes_lost"]) == (1, 1)
    (told,) = notifications_for(member.user_id, "support.resolution_applied")
    assert "lost" in told.body


def test_a_member_not_at_fault_keeps_a_clean_record(app, client, customer, cm):
    _, member, _ = _settle(app, client, customer, cm, confirmed=True, kind="release")
    db.session.expire_all()
    assert db.session.get(MemberStats, member.profile_id).disputes_lost == 0


# --- the deadline -------------------------------------------------------------------------------


def test_nobody_answering_applies_the_proposal_once_at_its_deadline(app, client, customer, cm):
    job_id, member, ticket = disputed_job(app, client, customer, cm, confirmed=True)
    resolution = proposed(client, cm, ticket["id"], kind="partial_refund", refund_amount=3000)
    assert run_deadline_task(app) == 0  # not due yet
    assert resolution_row(resolution["id"]).status == "proposed"

    deadline_passes(resolution["id"])
    assert run_deadline_task(app) == 1
    assert run_deadline_task(app) == 0

    row = resolution_row(resolution["id"])
    assert (row.status, row.applied_by) == ("applied", "deadline")
    (event,) = events(ticket["id"], "apply")
    assert (event.actor_role, event.to_status) == ("system", "resolved")
    assert [t.kind for t in transactions(job_id)] == ["job_settlement", "job_refund"]
    assert _payable(member) == EARNING - 2400


def test_the_timed_task_applies_only_its_own_proposal(app, client, customer, cm):
    _, _, first = disputed_job(app, client, customer, cm, confirmed=True)
    _, _, second = disputed_job(app, client, customer, cm, confirmed=True)
    one = proposed(client, cm, first["id"], kind="release")
    other = proposed(client, cm, second["id"], kind="release")
    deadline_passes(one["id"])
    deadline_passes(other["id"])
    assert run_deadline_task(app, resolution_id=one["id"]) == 1
    assert resolution_row(other["id"]).status == "proposed"


def test_one_acceptance_does_not_stop_the_default_outcome(app, client, customer, cm):
    _, _, ticket = disputed_job(app, client, customer, cm, confirmed=True)
    resolution = proposed(client, cm, ticket["id"], kind="release")
    answer(client, customer, ticket["id"], resolution["id"], "accept")
    deadline_passes(resolution["id"])
    assert run_deadline_task(app) == 1
    assert resolution_row(resolution["id"]).applied_by == "deadline"


def test_a_rejected_proposal_never_applies_by_default(app, client, customer, cm):
    job_id, member, ticket = disputed_job(app, client, customer, cm, confirmed=True)
    resolution = proposed(client, cm, ticket["id"], kind="full_refund")
    answer(client, member, ticket["id"], resolution["id"], "reject")
    deadline_passes(resolution["id"])
    assert run_deadline_task(app) == 0
    assert _job(job_id).status == "disputed" and refunds(job_id) == []


def test_a_proposal_the_money_outgrew_escalates_instead_of_applying(app, client, customer, cm):
    job_id, _, ticket = disputed_job(app, client, customer, cm, confirmed=True)
    resolution = proposed(client, cm, ticket["id"], kind="partial_refund", refund_amount=3000)
    response = client.post(
        f"/api/v1/staff/jobs/{job_id}/refunds",
        json={"amount": 10000, "reason": "Refunded by hand"},
        headers=cm.headers,
    )
    assert response.status_code == 202
    drain_background(app)
    deadline_passes(resolution["id"])

    assert run_deadline_task(app) == 0

    assert resolution_row(resolution["id"]).status == "proposed"
    row = ticket_row(ticket["id"])
    assert row.status == "escalated" and "2000" in row.escalation_reason
    assert _job(job_id).status == "disputed"
    assert [r.amount for r in refunds(job_id)] == [10000]
    assert run_deadline_task(app) == 0  # escalated: it waits for staff
    assert len(events(ticket["id"], "escalate")) == 1


# --- the hold -----------------------------------------------------------------------------------


@BOTH_PATHS
def test_after_applying_a_payout_pays_the_remaining_earning(app, client, customer, cm, confirmed):
    member = active_member()
    payout_account(client, member)
    job_id, _, ticket = disputed_job(app, client, customer, cm, confirmed=confirmed, member=member)
    held = run_payouts(app)
    assert [p.status for p in held] == (["held"] if confirmed else [])

    resolution = proposed(client, cm, ticket["id"], kind="partial_refund", refund_amount=3000)
    _impose(client, cm, ticket["id"], resolution["id"])
    drain_background(app)
    assert job_money.open_dispute_member_ids() == set()

    paid = run_payouts(app)

    assert [(p.member_id, p.status, p.amount) for p in paid] == [
        (member.profile_id, "paid", EARNING - 2400)
    ]
    assert _payable(member) == 0
    assert run_payouts(app) == []
    assert_ledger_sound()


def test_the_ticket_trail_shows_the_resolution(app, client, customer, cm):
    _, _, ticket = disputed_job(app, client, customer, cm, confirmed=True)
    resolution = proposed(client, cm, ticket["id"], kind="release")
    _impose(client, cm, ticket["id"], resolution["id"])
    trail = db.session.scalars(
        select(TicketEvent.action)
        .where(TicketEvent.ticket_id == ticket["id"])
        .order_by(TicketEvent.id)
    ).all()
    assert trail[-2:] == ["propose", "apply"]
    assert "dispute" in trail
    assert db.session.scalar(select(JobRefund.id)) is None
