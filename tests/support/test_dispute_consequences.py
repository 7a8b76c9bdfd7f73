"""One set of consequences whatever disputes a job: its customer with a dispute ticket, its
customer through POST /jobs/{id}/dispute, or the customer's bank (a chargeback). Each emits
job.disputed; support's subscriber links or opens the job's dispute ticket, counts the
dispute on the member's stats and tells the member, in the same words."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crowd.extensions import db
from jobs.models import Job
from members.models import MemberStats
from support.models import Ticket, TicketEvent
from tests.jobs.conftest import notifications_for
from tests.payouts.conftest import (  # noqa: F401  (fixtures)
    ledger_sound,
    stripe_fake,
    stripe_fake_server,
    stripe_settings,
)
from tests.payouts.job_money_helpers import completed_job
from tests.payouts.test_job_consequences import _deliver
from tests.support.ticket_helpers import opened

pytestmark = pytest.mark.usefixtures("stripe_settings", "ledger_sound")


def with_a_ticket(app, client, customer, job_id) -> None:
    opened(client, customer, job_id=job_id, dispute=True, subject="Wall damaged")


def through_the_jobs_endpoint(app, client, customer, job_id) -> None:
    response = client.post(
        f"/api/v1/jobs/{job_id}/dispute", json={"reason": "Wall damaged"}, headers=customer.headers
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "disputed"


def by_a_chargeback(app, client, customer, job_id) -> None:
    _deliver(app, client, "charge.dispute.created", job_id, "needs_response")


PATHS = {with_a_ticket: "party", through_the_jobs_endpoint: "party", by_a_chargeback: "chargeback"}


@pytest.mark.parametrize("path", list(PATHS))
def test_every_dispute_has_the_same_consequences(app, client, customer, cm, path, recorded):
    recorded.listen("job.disputed")
    job_id, member = completed_job(app, client, customer, cm)
    title = db.session.get(Job, job_id).title

    path(app, client, customer, job_id)

    db.session.expire_all()
    assert db.session.get(Job, job_id).status == "disputed"
    [event] = recorded.of("job.disputed")
    assert (event.subject_id, event.payload["path"], event.payload["by"]) == (
        job_id,
        PATHS[path],
        "customer",
    )
    # one dispute ticket about the job, with both parties, noting the dispute
    [ticket] = db.session.scalars(select(Ticket).where(Ticket.job_id == job_id)).all()
    assert (ticket.dispute, ticket.status, ticket.priority != "low") == (True, "new", True)
    assert (ticket.customer_id, ticket.member_id) == (customer.profile_id, member.profile_id)
    actions = db.session.scalars(
        select(TicketEvent.action).where(TicketEvent.ticket_id == ticket.id)
    ).all()
    assert actions.count("dispute") == 1 and actions[0] == "open"
    # counted once on the member's record
    assert db.session.get(MemberStats, member.profile_id).jobs_disputed == 1
    # the member told once, in the same words, pointing at the ticket
    [told] = notifications_for(member.user_id, "job.disputed")
    assert told.data["ticket_id"] == ticket.id and told.data["job_id"] == job_id
    assert told.body.endswith(
        f"disputes “{title}”. Support will mediate; your payout is held until then."
    )
    assert notifications_for(customer.user_id, "job.disputed") == []


def test_a_second_dispute_through_the_jobs_endpoint_names_the_first_ticket(
    app, client, customer, cm, recorded
):
    recorded.listen("job.disputed")
    job_id, member = completed_job(app, client, customer, cm)
    first = opened(client, customer, job_id=job_id, dispute=True)
    again = client.post(
        f"/api/v1/jobs/{job_id}/dispute", json={"reason": "Again"}, headers=customer.headers
    )
    assert again.status_code == 409
    body = again.get_json()
    assert (body["type"], body["ticket_id"], body["state"]) == (
        "https://crowd.example/problems/already-disputed",
        first["id"],
        "disputed",
    )
    assert len(recorded.of("job.disputed")) == 1
    db.session.expire_all()
    assert db.session.get(MemberStats, member.profile_id).jobs_disputed == 1
