"""A provider company's money under concurrency: its technicians' jobs settle at once onto the
one company payable (its row lock serialises them, both land), and the owner asking for the
company's payout account twice at once makes one account (the company's row lock)."""

import pytest
from sqlalchemy import func, select

from crowd.core.db import commit
from crowd.extensions import db
from payouts import job_money
from payouts.ledger import account_code_for_organisation
from payouts.models import ConnectedAccount
from payouts.tasks import job_money as tasks
from tests.concurrency import run_concurrently, task_unit
from tests.jobs.conftest import active_member
from tests.organisations.helpers import OWN, company_with
from tests.payouts.conftest import ledger_sound  # noqa: F401
from tests.payouts.job_money_helpers import balance, completed_job, confirm, payment
from tests.support.dispute_helpers import EARNING, LINKS

pytestmark = [pytest.mark.committing, pytest.mark.usefixtures("ledger_sound")]


def test_two_company_jobs_settling_at_once_both_land(app, client, customer, cm, monkeypatch):
    owner, first, second = active_member(), active_member(), active_member()
    organisation_id = company_with(client, app, cm, owner, technician=first, technician2=second)
    jobs = [completed_job(app, client, customer, cm, tech)[0] for tech in (first, second)]
    with monkeypatch.context() as patched:
        # Confirmed, their capture tasks not run: the workers below settle both at once.
        patched.setattr(job_money.payments, "enqueue", lambda *a, **kw: None)
        for job_id in jobs:
            confirm(app, client, customer, job_id)

    def capture(_client, i):
        with task_unit(app):
            outcome = tasks.capture_job_payment(jobs[i])
            commit()
            return outcome

    assert run_concurrently(app, 2, capture) == ["settled", "settled"]
    assert balance(account_code_for_organisation(organisation_id)) == 2 * EARNING
    assert {payment(job_id).organisation_id for job_id in jobs} == {organisation_id}


def test_the_company_payout_account_asked_twice_at_once_is_one(app, client, cm):
    owner = active_member()
    organisation_id = company_with(client, app, cm, owner)

    def ask(c, _i):
        return c.post(f"{OWN}/payout-account", json=LINKS, headers=owner.headers).status_code

    assert run_concurrently(app, 2, ask) == [201, 201]
    with app.app_context():
        count = db.session.scalar(
            select(func.count()).where(ConnectedAccount.organisation_id == organisation_id)
        )
    assert count == 1
