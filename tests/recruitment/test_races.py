"""Concurrent referral checks and decisions: one reward per referral, and the
monthly cap counted one reward at a time."""

import pytest
from sqlalchemy import func, select

from crowd.core.db import commit, utcnow
from crowd.extensions import db
from payouts import ledger
from payouts.ledger import account_code_for_member
from payouts.models.ledger import LedgerTransaction
from recruitment.models import Referral
from recruitment.referrals import check_referral
from tests.concurrency import run_concurrently, task_unit
from tests.factories import make_actor
from tests.jobs.conftest import finished_job, force_job_state
from tests.payouts.conftest import assert_ledger_sound
from tests.recruitment.conftest import API, referrer, signed_up

pytestmark = pytest.mark.committing


def confirmed_job(customer, friend) -> None:
    job_id = finished_job(customer, friend, status="confirmed")
    force_job_state(job_id, confirmed_at=utcnow())


def rewards(app) -> int:
    with app.app_context():
        query = select(func.count()).where(LedgerTransaction.kind == "referral_reward")
        return db.session.scalar(query)


def test_simultaneous_checks_post_one_reward(app, client):
    customer = make_actor("customer")
    sponsor, code = referrer()
    friend = signed_up(client, referral_code=code)
    confirmed_job(customer, friend)

    def check(client, i):
        with task_unit(app):
            referral = check_referral(friend.profile_id)
            commit()
            return referral.status if referral else None

    results = run_concurrently(app, 6, check)
    # The first check rewards; the others wait for its lock, then find nothing open.
    assert results.count("rewarded") == 1 and results.count(None) == 5
    assert rewards(app) == 1
    with app.app_context():
        assert ledger.balance(account_code_for_member(sponsor.profile_id), "EUR") == 2500
        assert_ledger_sound()


def test_simultaneous_approvals_of_a_held_referral_post_one_reward(app, client):
    customer, cm = make_actor("customer"), make_actor("community_manager")
    _, code = referrer(email="one@gleiche-firma.de")
    friend = signed_up(client, email="two@gleiche-firma.de", referral_code=code)
    confirmed_job(customer, friend)
    with app.app_context():
        check_referral(friend.profile_id)
        commit()
        referral_id = db.session.scalar(
            select(Referral.id).where(Referral.referred_member_id == friend.profile_id)
        )

    def approve(client, i):
        return client.post(f"{API}/referrals/{referral_id}/approve", headers=cm.headers).status_code

    assert sorted(run_concurrently(app, 5, approve)) == [200] + [409] * 4
    assert rewards(app) == 1


def test_simultaneous_rewards_of_one_referrer_respect_the_monthly_cap(app, client):
    app.config["RECRUITMENT_MAX_REWARDS_PER_MONTH"] = 1
    try:
        customer = make_actor("customer")
        _, code = referrer()
        friends = [signed_up(client, referral_code=code) for _ in range(4)]
        for friend in friends:
            confirmed_job(customer, friend)

        def check(client, i):
            with task_unit(app):
                referral = check_referral(friends[i].profile_id)
                commit()
                return referral.status

        assert sorted(run_concurrently(app, 4, check)) == ["review"] * 3 + ["rewarded"]
        assert rewards(app) == 1
    finally:
        del app.config["RECRUITMENT_MAX_REWARDS_PER_MONTH"]
