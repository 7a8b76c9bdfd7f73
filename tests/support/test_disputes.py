"""Disputes: a dispute ticket freezes the job's money — the job disputed, the payout held."""

import pytest
from sqlalchemy import select

from crowd.extensions import db
from jobs.models import Job, JobEvent
from members.models import MemberStats
from payouts import job_money, ledger
from support.models import Ticket
from tests.jobs.conftest import active_member, drain_background, notifications_for
from tests.payouts.conftest import assert_ledger_sound, ledger_sound  # noqa: F401
from tests.payouts.job_money_helpers import assigned_job, completed_job, confirmed_job
from tests.support.dispute_helpers import EARNING, disputed_job, payout_account, run_payouts
from tests.support.ticket_helpers import open_ticket, opened, ticket_row

pytestmark = pytest.mark.usefixtures("ledger_sound")


def _job(job_id: int) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def _stats(member) -> MemberStats:
    db.session.expire_all()
    return db.session.get(MemberStats, member.profile_id)


@pytest.mark.parametrize("finished", [completed_job, confirmed_job])
def test_customer_disputes_a_finished_job_through_a_ticket(app, client, customer, cm, finished):
    job_id, member = finished(app, client, customer, cm)
    was = _job(job_id).status
    ticket = opened(client, customer, job_id=job_id, dispute=True, subject="Wall damaged")
    drain_background(app)

    assert ticket["dispute"] is True
    assert _job(job_id).status == "disputed"
    event = db.session.scalars(
        select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.id.desc())
    ).first()
    assert (event.action, event.from_status, event.actor) == ("dispute", was, "customer")
    assert event.detail == {"reason": "Wall damaged"}
    assert _stats(member).jobs_disputed == 1
    told = notifications_for(member.user_id, "job.disputed")
    assert len(told) == 1 and told[0].data["ticket_id"] == ticket["id"]
    assert job_money.open_dispute_member_ids() == {member.profile_id}


def test_member_disputes_a_completed_job_and_the_customer_is_told(app, client, customer, cm):
    job_id, member = completed_job(app, client, customer, cm)
    ticket = opened(client, member, job_id=job_id, dispute=True, category="payment")
    drain_background(app)
    assert _job(job_id).status == "disputed"
    assert ticket_row(ticket["id"]).member_id == member.profile_id
    assert len(notifications_for(customer.user_id, "job.disputed")) == 1


def test_member_cannot_dispute_a_confirmed_job(app, client, customer, cm):
    job_id, member = confirmed_job(app, client, customer, cm)
    response = open_ticket(client, member, job_id=job_id, dispute=True)
    assert response.status_code == 409
    assert response.get_json()["state"] == "confirmed"
    assert _job(job_id).status == "confirmed"
    assert db.session.scalar(select(Ticket.id).where(Ticket.job_id == job_id)) is None


@pytest.mark.parametrize("second", ["customer", "member"])
def test_a_second_dispute_of_the_job_is_a_409_naming_the_first(app, client, customer, cm, second):
    job_id, member = completed_job(app, client, customer, cm)
    first = opened(client, customer, job_id=job_id, dispute=True)
    party = customer if second == "customer" else member
    response = open_ticket(client, party, job_id=job_id, dispute=True)
    assert response.status_code == 409
    assert response.get_json()["ticket_id"] == first["id"]
    assert response.get_json()["type"] == "https://crowd.example/problems/already-disputed"
    assert _stats(member).jobs_disputed == 1


def test_a_job_not_finished_cannot_be_disputed(app, client, customer, cm):
    job_id, _ = assigned_job(app, client, customer, cm)
    response = open_ticket(client, customer, job_id=job_id, dispute=True)
    assert response.status_code == 409
    assert response.get_json()["state"] == "assigned"
    assert response.get_json()["type"] == "https://crowd.example/problems/job-not-disputable"
    assert _job(job_id).status == "assigned"


def test_the_legacy_dispute_endpoint_opens_a_dispute_ticket(app, client, customer, cm):
    job_id, member = completed_job(app, client, customer, cm)
    response = client.post(
        f"/api/v1/jobs/{job_id}/dispute", json={"reason": "Scratched"}, headers=customer.headers
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == "disputed"
    ticket = db.session.scalar(select(Ticket).where(Ticket.job_id == job_id))
    assert (ticket.dispute, ticket.subject, ticket.customer_id, ticket.member_id) == (
        True,
        "Scratched",
        customer.profile_id,
        member.profile_id,
    )
    assert _stats(member).jobs_disputed == 1

    again = client.post(
        f"/api/v1/jobs/{job_id}/dispute", json={"reason": "Again"}, headers=customer.headers
    )
    assert again.status_code == 409
    assert again.get_json()["ticket_id"] == ticket.id


def test_a_payout_run_holds_the_member_while_the_job_is_disputed(app, client, customer, cm):
    member = active_member()
    payout_account(client, member)
    job_id, _, _ = disputed_job(app, client, customer, cm, confirmed=True, member=member)
    payable = f"member:{member.profile_id}:payable"
    assert ledger.balance(payable, "EUR") == EARNING

    payouts = run_payouts(app)

    assert [(p.member_id, p.status, p.amount) for p in payouts] == [
        (member.profile_id, "held", EARNING)
    ]
    assert payouts[0].hold_reason == f"open dispute on job {job_id}"
    assert ledger.balance(payable, "EUR") == EARNING
    assert_ledger_sound()
