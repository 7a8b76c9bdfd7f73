"""Helpers for the dispute, resolution and sanction tests: real jobs with real money, disputed
through the API, and the background work that settles them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from crowd.core.background import TASKS
from crowd.core.db import commit, utcnow
from crowd.extensions import db
from payouts.models import Payout
from support.models import Resolution
from tests.factories import Actor
from tests.jobs.conftest import drain_background
from tests.payouts.job_money_helpers import completed_job, confirmed_job
from tests.support.ticket_helpers import API, assign, opened

PRICE = 12000  # the default job: 120.00 EUR
COMMISSION = 2400  # 20 % standard plan
EARNING = PRICE - COMMISSION
LINKS = {"refresh_url": "https://app.example/r", "return_url": "https://app.example/d"}


def disputed_job(app, client, customer: Actor, cm: Actor, *, confirmed: bool, member=None):
    """A job done by a (fresh, active) member, confirmed and settled or only completed (its
    payment authorised), disputed by the customer through POST /tickets and assigned to `cm`.
    Returns (job id, member, ticket)."""
    make = confirmed_job if confirmed else completed_job
    job_id, member = make(app, client, customer, cm, member)
    ticket = opened(
        client, customer, job_id=job_id, dispute=True, subject="The TV fell off the wall"
    )
    assert assign(client, cm, ticket["id"]).status_code == 200
    drain_background(app)
    return job_id, member, ticket


def payout_account(client, member: Actor) -> None:
    response = client.post(
        "/api/v1/me/payout-account", json={**LINKS, "country": "DE"}, headers=member.headers
    )
    assert response.status_code == 201, response.get_json()


def propose(client, cm: Actor, ticket_id: int, **body):
    """POST a resolution (a note and member_at_fault=False unless given); the response."""
    body = {"note": "Fair for both", "member_at_fault": False, **body}
    return client.post(f"{API}/{ticket_id}/resolutions", json=body, headers=cm.headers)


def proposed(client, cm: Actor, ticket_id: int, **body) -> dict:
    response = propose(client, cm, ticket_id, **body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def answer(client, party: Actor, ticket_id: int, resolution_id: int, answer: str):
    return client.post(
        f"{API}/{ticket_id}/resolutions/{resolution_id}/answer",
        json={"answer": answer},
        headers=party.headers,
    )


def staff_act(client, cm: Actor, ticket_id: int, resolution_id: int, action: str):
    return client.post(
        f"{API}/{ticket_id}/resolutions/{resolution_id}/{action}", headers=cm.headers
    )


def deadline_passes(resolution_id: int, *, ago: timedelta = timedelta(minutes=1)) -> None:
    """Move a proposal's respond_by into the past, in the database."""
    resolution = db.session.get(Resolution, resolution_id)
    resolution.respond_by = utcnow() - ago
    db.session.commit()


def run_deadline_task(app, **kwargs) -> int:
    """The periodic task as the scheduler runs it: the task, its commit, the work it queued."""
    applied = TASKS["support.apply_due_resolutions"].func(**kwargs)
    commit()
    drain_background(app)
    return applied


def run_payouts(app) -> list[Payout]:
    """A payout run and its sending, as the scheduler does it; the run's payouts."""
    run_id = TASKS["payouts.run_payouts"].func()
    commit()
    drain_background(app)
    db.session.expire_all()
    return list(db.session.scalars(select(Payout).where(Payout.run_id == run_id)))


def resolution_row(resolution_id: int) -> Resolution:
    db.session.expire_all()
    return db.session.get(Resolution, resolution_id)
