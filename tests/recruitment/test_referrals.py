"""Referral codes and referrals: the member's views, the milestone checks and their signals,
community managers' decisions, lapsing and the daily sweep."""

import pytest
from sqlalchemy import func, select

from crowd.core.db import utcnow
from crowd.extensions import db
from members.models import Member
from payouts import ledger
from payouts.ledger import account_code_for_member
from payouts.models import ConnectedAccount
from payouts.models.ledger import LedgerTransaction
from recruitment.models import ReferralCode
from tests.factories import PASSWORD, make_actor
from tests.jobs.conftest import active_member, finished_job, force_job_state, notifications_for
from tests.onboarding.conftest import application_id_of, ready_applicant
from tests.payouts.conftest import assert_ledger_sound
from tests.recruitment.conftest import (
    API,
    first_application,
    ok,
    problem,
    referral_of,
    referrer,
    run_task,
    set_status,
    signed_up,
)


def reach_first_job(app, customer, friend) -> None:
    """A confirmed job for `friend`, then their referral checked as the job's hook would."""
    job_id = finished_job(customer, friend, status="confirmed")
    force_job_state(job_id, confirmed_at=utcnow())
    run_task(app, "recruitment.check_referral", referred_member_id=friend.profile_id)


def rewards() -> int:
    query = select(func.count()).where(LedgerTransaction.kind == "referral_reward")
    return db.session.scalar(query)


def payout_account(actor, fingerprint: str) -> None:
    db.session.add(
        ConnectedAccount(
            member_id=actor.profile_id,
            provider="stripe",
            provider_account_id=f"acct_ref{actor.profile_id}",
            country="DE",
            payouts_enabled=True,
            bank_fingerprint=fingerprint,
        )
    )
    db.session.commit()


# --- the member's code and referrals --------------------------------------------------------


def test_my_referral_is_for_members_with_a_code(client, customer, member):
    assert client.get(f"{API}/me/referral", headers=customer.headers).status_code == 403
    problem(client.get(f"{API}/me/referral", headers=member.headers), 404)


def test_my_referral_counts_referrals_by_status(client):
    sponsor, code = referrer()
    signed_up(client, referral_code=code)
    signed_up(client, referral_code=code)
    _, other_code = referrer()
    signed_up(client, referral_code=other_code)
    mine = ok(client.get(f"{API}/me/referral", headers=sponsor.headers))
    assert mine["code"] == code and mine["active"] is True
    assert mine["counts"] == {"pending": 2, "review": 0, "rewarded": 0, "refused": 0, "lapsed": 0}
    assert mine["rewards"] == []


def test_my_referrals_lists_only_mine_and_filters_by_status(client):
    sponsor, code = referrer(email="boss@firma-eins.de")
    signed_up(client, referral_code=code, display_name="Ada")
    signed_up(client, referral_code=code, display_name="Ben", email="ben@firma-eins.de")
    _, other_code = referrer()
    signed_up(client, referral_code=other_code, display_name="Cem")
    page = ok(client.get(f"{API}/me/referrals", headers=sponsor.headers))
    assert [i["referred"]["display_name"] for i in page["items"]] == ["Ben", "Ada"]
    assert page["page"]["total"] == 2
    held = ok(client.get(f"{API}/me/referrals?status=review", headers=sponsor.headers))
    assert [i["referred"]["display_name"] for i in held["items"]] == ["Ben"]
    assert "reason" not in held["items"][0]
    problem(client.get(f"{API}/me/referrals?status=bogus", headers=sponsor.headers), 422)


def test_a_disabled_code_shows_as_inactive(client, cm):
    sponsor, code = referrer()
    ok(client.post(f"{API}/referral-codes/{code}/disable", headers=cm.headers))
    mine = ok(client.get(f"{API}/me/referral", headers=sponsor.headers))
    assert mine["active"] is False and mine["disabled_at"] is not None


def test_disabling_is_for_staff_once_and_names_known_codes(client, cm, member):
    _, code = referrer()
    url = f"{API}/referral-codes/{code}/disable"
    assert client.post(url, headers=member.headers).status_code == 403
    body = ok(client.post(url, headers=cm.headers))
    assert body["code"] == code and body["disabled_at"]
    assert problem(client.post(url, headers=cm.headers), 409)["state"] == "disabled"
    problem(client.post(f"{API}/referral-codes/NOSUCH22/disable", headers=cm.headers), 404)
    problem(client.post(f"{API}/referral-codes/{'A' * 300}/disable", headers=cm.headers), 404)


# --- the milestone: first job (the default) --------------------------------------------------


def test_the_reward_is_in_the_referrers_currency(app, client, customer):
    sponsor, code = referrer()
    db.session.get(Member, sponsor.profile_id).country = "CH"
    db.session.commit()
    friend = signed_up(client, referral_code=code)
    reach_first_job(app, customer, friend)
    referral = referral_of(friend)
    assert (referral.status, referral.reward_currency) == ("rewarded", "CHF")
    assert ledger.balance(account_code_for_member(sponsor.profile_id), "CHF") == 2500
    assert_ledger_sound()


def test_an_unconfirmed_job_is_no_milestone(app, client, customer):
    _, code = referrer()
    friend = signed_up(client, referral_code=code)
    finished_job(customer, friend, status="completed")
    run_task(app, "recruitment.check_referral", referred_member_id=friend.profile_id)
    referral = referral_of(friend)
    assert (referral.status, referral.milestone_reached_at) == ("pending", None)
    assert rewards() == 0


def test_the_referred_member_signing_in_from_the_referrers_device_is_refused(app, client, customer):
    sponsor, code = referrer()
    friend = signed_up(client, referral_code=code, device_id="friend-phone-0001")
    body = {"email": sponsor.email, "password": PASSWORD, "device_id": "friend-phone-0001"}
    ok(client.post(f"{API}/auth/tokens", json=body), 201)
    reach_first_job(app, customer, friend)
    referral = referral_of(friend)
    assert (referral.status, referral.reason) == ("refused", "same_device")
    assert referral.milestone_reached_at is not None
    assert rewards() == 0


def test_the_same_payout_account_is_refused_at_the_milestone(app, client, customer):
    sponsor, code = referrer()
    friend = signed_up(client, referral_code=code)
    payout_account(sponsor, "fp_same_bank")
    payout_account(friend, "fp_same_bank")
    reach_first_job(app, customer, friend)
    assert (referral_of(friend).status, referral_of(friend).reason) == (
        "refused",
        "same_payout_account",
    )
    assert rewards() == 0


def test_different_payout_accounts_are_fine(app, client, customer):
    sponsor, code = referrer()
    friend = signed_up(client, referral_code=code)
    payout_account(sponsor, "fp_bank_a")
    payout_account(friend, "fp_bank_b")
    reach_first_job(app, customer, friend)
    assert referral_of(friend).status == "rewarded"


def test_a_referrer_who_left_is_held_and_a_cm_refuses(app, client, customer, cm):
    sponsor, code = referrer()
    friend = signed_up(client, referral_code=code)
    set_status(sponsor, "offboarded")
    reach_first_job(app, customer, friend)
    referral = referral_of(friend)
    assert (referral.status, referral.reason) == ("review", "referrer_inactive")
    url = f"{API}/referrals/{referral.id}/refuse"
    problem(client.post(url, json={"reason": ""}, headers=cm.headers), 422, "reason")
    body = ok(client.post(url, json={"reason": "left the crowd"}, headers=cm.headers))
    assert (body["status"], body["reason"], body["decided_by_id"]) == (
        "refused",
        "left the crowd",
        cm.user_id,
    )
    assert (
        problem(client.post(url, json={"reason": "again"}, headers=cm.headers), 409)["state"]
        == "refused"
    )
    assert rewards() == 0


def test_the_monthly_cap_holds_further_rewards_for_a_cm(app, client, customer, cm, monkeypatch):
    monkeypatch.setitem(app.config, "RECRUITMENT_MAX_REWARDS_PER_MONTH", 1)
    sponsor, code = referrer()
    first, second = signed_up(client, referral_code=code), signed_up(client, referral_code=code)
    reach_first_job(app, customer, first)
    reach_first_job(app, customer, second)
    assert referral_of(first).status == "rewarded"
    held = referral_of(second)
    assert (held.status, held.reason) == ("review", "monthly_cap")
    queue = ok(client.get(f"{API}/referrals?status=review", headers=cm.headers))
    assert [item["id"] for item in queue["items"]] == [held.id]

    body = ok(client.post(f"{API}/referrals/{held.id}/approve", headers=cm.headers))
    assert (body["status"], body["reward_minor"], body["reason"]) == ("rewarded", 2500, None)
    assert ledger.balance(account_code_for_member(sponsor.profile_id), "EUR") == 5000
    assert (
        problem(client.post(f"{API}/referrals/{held.id}/approve", headers=cm.headers), 409)["state"]
        == "rewarded"
    )
    assert rewards() == 2
    assert_ledger_sound()


def test_approving_before_the_milestone_lifts_the_hold_for_good(
    app, client, customer, cm, monkeypatch
):
    monkeypatch.setitem(app.config, "RECRUITMENT_MAX_REWARDS_PER_MONTH", 0)
    _, code = referrer(email="chefin@holz-und-strom.de")
    colleague = signed_up(client, email="geselle@holz-und-strom.de", referral_code=code)
    referral = referral_of(colleague)
    assert referral.status == "review"
    body = ok(client.post(f"{API}/referrals/{referral.id}/approve", headers=cm.headers))
    assert (body["status"], body["reason"], body["decided_by_id"]) == ("pending", None, cm.user_id)
    # The CM's decision stands over the soft signals (here even a cap of 0) at the milestone.
    reach_first_job(app, customer, colleague)
    assert referral_of(colleague).status == "rewarded"


def test_approval_is_refused_while_a_hard_signal_stands(app, client, customer, cm):
    sponsor, code = referrer(email="a@werkstatt-nord.de")
    friend = signed_up(client, email="b@werkstatt-nord.de", referral_code=code)
    reach_first_job(app, customer, friend)
    referral = referral_of(friend)
    assert referral.status == "review" and referral.milestone_reached_at is not None
    payout_account(sponsor, "fp_one_bank")
    payout_account(friend, "fp_one_bank")
    body = problem(client.post(f"{API}/referrals/{referral.id}/approve", headers=cm.headers), 409)
    assert body["reason"] == "same_payout_account"
    assert referral_of(friend).status == "review"
    assert rewards() == 0


def test_staff_endpoints_are_for_staff_and_unknown_ids_are_404(client, member, cm):
    _, code = referrer()
    friend = signed_up(client, referral_code=code)
    referral = referral_of(friend)
    for method, url in (
        ("get", f"{API}/referrals"),
        ("get", f"{API}/referrals/{referral.id}"),
        ("post", f"{API}/referrals/{referral.id}/approve"),
    ):
        assert getattr(client, method)(url, headers=member.headers).status_code == 403
    problem(client.get(f"{API}/referrals/999999", headers=cm.headers), 404)
    problem(client.post(f"{API}/referrals/999999/approve", headers=cm.headers), 404)
    assert (
        problem(client.post(f"{API}/referrals/{referral.id}/approve", headers=cm.headers), 409)[
            "state"
        ]
        == "pending"
    )
    one = ok(client.get(f"{API}/referrals/{referral.id}", headers=cm.headers))
    assert one["referred"]["member_id"] == friend.profile_id and one["code"] == code


def test_the_staff_list_filters_by_referrer(client, cm):
    sponsor, code = referrer()
    signed_up(client, referral_code=code)
    _, other = referrer()
    signed_up(client, referral_code=other)
    page = ok(client.get(f"{API}/referrals?referrer_id={sponsor.profile_id}", headers=cm.headers))
    assert [i["referrer"]["member_id"] for i in page["items"]] == [sponsor.profile_id]


# --- the milestone: approval ------------------------------------------------------------------


@pytest.mark.usefixtures("default_ladder")
def test_with_the_approval_milestone_the_cms_approval_rewards(app, client, cm, monkeypatch):
    monkeypatch.setitem(app.config, "RECRUITMENT_REFERRAL_MILESTONE", "approved")
    sponsor, code = referrer()
    friend = signed_up(client, referral_code=code)
    assert referral_of(friend).milestone == "approved"
    ready_applicant(client, cm, friend)
    assert referral_of(friend).status == "pending"
    url = f"{API}/applications/{application_id_of(friend)}/approve"
    ok(client.post(url, json={}, headers=cm.headers))
    from tests.jobs.conftest import drain_background

    drain_background(app)
    referral = referral_of(friend)
    assert referral.status == "rewarded"
    assert referral.milestone_reached_at == first_application(friend).decided_at
    assert notifications_for(sponsor.user_id, "recruitment.referral_rewarded")
    assert rewards() == 1


# --- lapsing and the daily sweep ---------------------------------------------------------


def test_the_sweep_lapses_referrals_of_members_who_left_or_were_rejected(app, client, cm):
    _, code = referrer()
    rejected = signed_up(client, referral_code=code)
    offboarded = signed_up(client, referral_code=code)
    waiting = signed_up(client, referral_code=code)
    url = f"{API}/applications/{first_application(rejected).id}/reject"
    ok(client.post(url, json={"reason": "Not yet"}, headers=cm.headers))
    body = {"action": "offboard", "reason": "asked to leave"}
    ok(client.post(f"{API}/members/{offboarded.profile_id}/status", json=body, headers=cm.headers))
    run_task(app, "recruitment.sweep_referrals")
    assert (referral_of(rejected).status, referral_of(rejected).reason) == (
        "lapsed",
        "left_before_milestone",
    )
    assert referral_of(offboarded).status == "lapsed"
    assert referral_of(waiting).status == "pending"


def test_the_sweep_rewards_milestones_the_hooks_missed_and_issues_codes(app, client, customer):
    sponsor, code = referrer()
    friend = signed_up(client, referral_code=code)
    job_id = finished_job(customer, friend, status="confirmed")
    force_job_state(job_id, confirmed_at=utcnow())  # no hook ran: straight in the database
    newcomer = active_member()
    run_task(app, "recruitment.sweep_referrals")
    assert referral_of(friend).status == "rewarded"
    assert ledger.balance(account_code_for_member(sponsor.profile_id), "EUR") == 2500
    query = select(ReferralCode.code).where(ReferralCode.member_id == newcomer.profile_id)
    assert len(db.session.scalar(query)) == 8
    run_task(app, "recruitment.sweep_referrals")
    assert rewards() == 1


def test_a_held_referral_gets_its_milestone_time_but_no_reward(app, client, customer):
    _, code = referrer(email="x@betrieb-sued.de")
    friend = signed_up(client, email="y@betrieb-sued.de", referral_code=code)
    reach_first_job(app, customer, friend)
    referral = referral_of(friend)
    assert referral.status == "review" and referral.milestone_reached_at is not None
    assert rewards() == 0


def test_a_member_elsewhere_sees_nothing_of_anothers_referrals(client):
    _, code = referrer()
    signed_up(client, referral_code=code)
    stranger, _ = referrer()
    assert ok(client.get(f"{API}/me/referrals", headers=stranger.headers))["items"] == []
    outsider = make_actor("customer")
    assert client.get(f"{API}/me/referrals", headers=outsider.headers).status_code == 403
