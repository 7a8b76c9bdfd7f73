"""Issue 8, item 1, through the API: a member refers a friend, the friend onboards and does a
first job, and exactly one reward is credited to the referrer — however often it is checked."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crowd.extensions import db
from payouts import ledger
from payouts.ledger import account_code_for_member
from payouts.models.ledger import LedgerTransaction
from tests.jobs.conftest import (
    drain_background,
    force_job_state,
    future,
    notifications_for,
    post_job_via_api,
)
from tests.onboarding.conftest import application_id_of, ready_applicant
from tests.payouts.conftest import assert_ledger_sound
from tests.recruitment.conftest import API, ok, referral_of, referrer, run_task, signed_up

pytestmark = pytest.mark.usefixtures("default_ladder")

REPORT = {"notes": "Mounted, cables hidden", "minutes_spent": 80, "parts": [], "photo_refs": []}


def work_a_job(app, client, actor, customer) -> int:
    """A customer's job, handed to `actor`, done and confirmed through the API."""
    job_id = post_job_via_api(client, customer).get_json()["id"]
    drain_background(app)
    start = future(1)
    force_job_state(
        job_id,
        status="assigned",
        assigned_member_id=actor.profile_id,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=2),
    )
    ok(client.post(f"{API}/me/jobs/{job_id}/start", headers=actor.headers))
    ok(client.post(f"{API}/me/jobs/{job_id}/complete", json=REPORT, headers=actor.headers))
    ok(client.post(f"{API}/jobs/{job_id}/confirm", headers=customer.headers))
    drain_background(app)
    return job_id


def reward_transactions(referral_id: int) -> int:
    key = f"referral-{referral_id}-reward"
    count = select(func.count()).select_from(LedgerTransaction).where(LedgerTransaction.key == key)
    return db.session.scalar(count)


def test_a_referred_friend_onboards_does_a_first_job_and_the_referrer_is_paid_once(
    app, client, cm, customer
):
    # The member shares their link; the friend signs up with the code from it.
    sponsor, _ = referrer()
    mine = ok(client.get(f"{API}/me/referral", headers=sponsor.headers))
    assert mine["link"] == f"https://crowd.example/join?ref={mine['code']}"
    code = mine["link"].rpartition("ref=")[2]
    friend = signed_up(client, referral_code=code, display_name="Jonas", device_id="jonas-phone-01")

    # The referrer follows the friend's onboarding: progress, no private data.
    [item] = ok(client.get(f"{API}/me/referrals", headers=sponsor.headers))["items"]
    assert item["referred"] == {"display_name": "Jonas"}
    assert item["application_status"] == "in_progress"
    assert item["onboarding"]["done"] < item["onboarding"]["total"]
    assert (item["status"], item["milestone"], item["milestone_reached"]) == (
        "pending",
        "first_job",
        False,
    )
    assert "@" not in str(item) and "jonas-phone" not in str(item)

    # The friend goes through every step and a CM approves: they get a code of their own.
    ready_applicant(client, cm, friend)
    url = f"{API}/applications/{application_id_of(friend)}/approve"
    ok(client.post(url, json={"note": "Welcome"}, headers=cm.headers))
    drain_background(app)
    assert ok(client.get(f"{API}/me/referral", headers=friend.headers))["code"] != code
    [item] = ok(client.get(f"{API}/me/referrals", headers=sponsor.headers))["items"]
    assert item["application_status"] == "approved"
    assert item["onboarding"]["done"] == item["onboarding"]["total"]
    assert (item["status"], item["milestone_reached"]) == ("pending", False)
    payable = account_code_for_member(sponsor.profile_id)
    assert ledger.balance(payable, "EUR") == 0

    # The first confirmed job is the milestone: the reward is credited and the referrer told.
    work_a_job(app, client, friend, customer)
    referral = referral_of(friend)
    assert referral.status == "rewarded" and referral.milestone_reached_at is not None
    assert (referral.reward_minor, referral.reward_currency) == (2500, "EUR")
    assert reward_transactions(referral.id) == 1
    assert ledger.balance(payable, "EUR") == 2500
    assert notifications_for(sponsor.user_id, "recruitment.referral_rewarded")
    mine = ok(client.get(f"{API}/me/referral", headers=sponsor.headers))
    assert mine["counts"]["rewarded"] == 1
    assert mine["rewards"] == [{"currency": "EUR", "amount_minor": 2500, "count": 1}]
    [item] = ok(client.get(f"{API}/me/referrals", headers=sponsor.headers))["items"]
    assert (item["status"], item["milestone_reached"], item["reward_minor"]) == (
        "rewarded",
        True,
        2500,
    )

    # Every further trigger changes nothing: another job, the check, the daily sweep.
    work_a_job(app, client, friend, customer)
    run_task(app, "recruitment.check_referral", referred_member_id=friend.profile_id)
    run_task(app, "recruitment.sweep_referrals")
    assert reward_transactions(referral.id) == 1
    assert ledger.balance(payable, "EUR") == 2500
    kinds = select(func.count()).where(LedgerTransaction.kind == "referral_reward")
    assert db.session.scalar(kinds) == 1
    assert_ledger_sound()
