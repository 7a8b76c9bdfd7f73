"""Payment authorisation under concurrency: two renewals of one hold make one new intent and
release the old one once; the customer's refresh and the bank's webhook authorise once."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crowd.core.db import commit, utcnow
from crowd.extensions import db
from jobs.models import Offer
from payouts.models import OfflineProviderCall
from payouts.tasks import job_money as tasks
from tests.concurrency import run_concurrently, task_unit
from tests.jobs.conftest import active_member, drain_background
from tests.payouts.job_money_helpers import assign, payment, post_job, save_method
from tests.stripe_fake import post_event, stripe_event

pytestmark = [pytest.mark.committing, pytest.mark.usefixtures("ledger_sound")]


@pytest.fixture(autouse=True)
def authorise_before_dispatch(app, monkeypatch):
    monkeypatch.setitem(app.config, "JOB_PAYMENTS_AUTHORISE_BEFORE_DISPATCH", True)


def calls(key: str) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(OfflineProviderCall)
        .where(OfflineProviderCall.idempotency_key == key)
    )


def test_simultaneous_renewals_make_one_new_hold_and_release_the_old_once(
    app, client, customer, cm
):
    member = active_member()
    assert save_method(client, customer).status_code == 200
    job_id = post_job(app, client, customer)
    assign(app, client, cm, job_id, member)
    old = payment(job_id)
    old_id = old.provider_payment_id
    old.authorization_expires_at = utcnow() + timedelta(hours=1)
    db.session.commit()

    def renew(_client, i):
        with task_unit(app):
            outcome = tasks.reauthorize_job_payment(job_id)
            commit()
            return outcome

    results = run_concurrently(app, 4, renew)
    assert sorted(results) == ["authorized"] + ["not_due"] * 3
    drain_background(app)

    def release(_client, i):
        with task_unit(app):
            outcome = tasks.release_superseded_payment(job_id)
            commit()
            return outcome

    assert run_concurrently(app, 3, release) == ["nothing"] * 3  # the drain released it
    renewed = payment(job_id)
    assert (renewed.status, renewed.authorize_attempt) == ("authorized", 2)
    assert calls(f"job-{job_id}-authorize-2") == 1
    assert calls(f"job-{job_id}-authorize-3") == 0
    assert calls(f"job-{job_id}-release-{old_id}") == 1


@pytest.mark.usefixtures("stripe_settings")
def test_refresh_and_webhook_together_authorise_once(app, client, customer, stripe_fake):
    member = active_member()
    assert save_method(client, customer, "pm_card_threeDSecure2Required").status_code == 200
    job_id = post_job(app, client, customer)
    intent = stripe_fake.complete_authentication(payment(job_id).provider_payment_id)
    event = stripe_event(
        "payment_intent.amount_capturable_updated", intent, created=int(time.time())
    )

    def race(thread_client, i):
        if i == 0:
            return post_event(thread_client, event).status_code
        with task_unit(app):
            outcome = tasks.refresh_job_payment(job_id)
            commit()
            return outcome

    results = run_concurrently(app, 2, race)
    assert results[0] == 200 and results[1] in ("authorized", "requires_action")
    drain_background(app)

    authorised = payment(job_id)
    assert (authorised.status, authorised.amount_authorized) == ("authorized", 12000)
    offered = db.session.scalars(select(Offer.member_id).where(Offer.job_id == job_id)).all()
    assert offered == [member.profile_id]
