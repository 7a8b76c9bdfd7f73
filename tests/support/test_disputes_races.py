"""Concurrent disputes of one job: one ticket, one move to disputed, one count."""

import pytest
from sqlalchemy import func, select

from crowd.extensions import db
from jobs.models import JobEvent
from members.models import MemberStats
from support.models import Ticket
from tests.concurrency import run_concurrently
from tests.payouts.job_money_helpers import completed_job
from tests.support.ticket_helpers import open_ticket

pytestmark = pytest.mark.committing

THREADS = 6


def test_simultaneous_disputes_of_a_job_open_one_ticket(app, client, customer, cm):
    job_id, member = completed_job(app, client, customer, cm)

    def dispute(client, i):
        party = customer if i % 2 else member
        response = open_ticket(client, party, job_id=job_id, dispute=True)
        return response.status_code, response.get_json().get("ticket_id")

    results = run_concurrently(app, THREADS, dispute)

    assert sorted(code for code, _ in results) == [201] + [409] * (THREADS - 1)
    with app.app_context():
        tickets = db.session.scalars(select(Ticket.id).where(Ticket.job_id == job_id)).all()
        assert len(tickets) == 1
        assert {first for code, first in results if code == 409} == set(tickets)
        moves = select(func.count()).where(JobEvent.job_id == job_id, JobEvent.action == "dispute")
        assert db.session.scalar(moves) == 1
        assert db.session.get(MemberStats, member.profile_id).jobs_disputed == 1
