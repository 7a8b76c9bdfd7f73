"""GET /me/onboarding: every step's state and details, and the SQL predicates agreeing with them."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from crowd.extensions import db
from members.models import Member
from onboarding.models import Application, DocumentCheck
from onboarding.steps import STEPS, checklists, step_context
from payouts.models.payments import ConnectedAccount
from tests.factories import make_actor
from tests.jobs.conftest import active_member
from tests.onboarding.conftest import (
    API,
    QUESTIONS,
    TRADE,
    accept_rules,
    application_id_of,
    call_outcome,
    complete_profile,
    connect_payout,
    create_test,
    decide_document,
    onboarding,
    pass_test,
    problem,
    publish_rules,
    schedule_call,
    start_attempt,
    states,
    step,
    submit_attempt,
    submit_document,
    verified_document,
)


def test_a_new_applicant_sees_application_one_and_every_step_open(client, member):
    body = onboarding(client, member)
    assert body["application"]["number"] == 1
    assert body["application"]["status"] == "in_progress"
    assert body["application"]["reapply_after"] is None
    assert body["member_status"] == "applicant"
    assert body["ready"] is False
    assert [s["name"] for s in body["steps"]] == [s.name for s in STEPS]
    assert all(s["summary"] for s in body["steps"])
    # A private member needs no trade certificate; no claimed skill needs a test; no house
    # rules are published: those do not count towards progress.
    assert states(client, member) == {
        "profile": "pending",
        "identity": "pending",
        "trade_certificate": "not_required",
        "skill_tests": "not_required",
        "intro_call": "pending",
        "house_rules": "not_required",
        "payout_account": "pending",
        "billing": "not_required",
    }
    assert body["progress"] == {"done": 0, "total": 4}


def test_onboarding_is_for_members_only(client, customer, cm):
    assert problem(client.get(f"{API}/me/onboarding"), 401)
    assert problem(client.get(f"{API}/me/onboarding", headers=customer.headers), 403)
    assert problem(client.get(f"{API}/me/onboarding", headers=cm.headers), 403)


def test_profile_step_names_what_is_missing_until_complete(client, member):
    missing = step(client, member, "profile")["details"]["missing"]
    assert missing == [
        "phone",
        "postcode",
        "city",
        "country",
        "lat",
        "lon",
        "skills",
        "availability",
    ]
    complete_profile(client, member)
    profile = step(client, member, "profile")
    assert (profile["state"], profile["details"]["missing"]) == ("done", [])
    client.put(f"{API}/me/member/availability", json={"slots": []}, headers=member.headers)
    assert step(client, member, "profile")["details"]["missing"] == ["availability"]


def test_identity_goes_submitted_failed_and_done(client, member, cm):
    check = submit_document(client, member).get_json()
    identity = step(client, member, "identity")
    assert identity["state"] == "submitted"
    assert identity["details"]["check_id"] == check["id"]
    decide_document(client, cm, member, check["id"], "rejected", "The photo is unreadable")
    identity = step(client, member, "identity")
    assert identity["state"] == "failed"
    assert identity["details"]["note"] == "The photo is unreadable"
    again = submit_document(client, member).get_json()
    assert step(client, member, "identity")["state"] == "submitted"
    decide_document(client, cm, member, again["id"])
    assert step(client, member, "identity")["state"] == "done"


def test_an_expired_verification_fails_the_identity_step(client, member, cm):
    check = verified_document(client, cm, member)
    db.session.get(DocumentCheck, check["id"]).expires_on = date.today() - timedelta(days=1)
    db.session.commit()
    identity = step(client, member, "identity")
    assert identity["state"] == "failed"
    assert identity["details"]["expired"] is True


def test_a_later_submission_does_not_undo_a_verification(client, member, cm):
    verified_document(client, cm, member)
    submit_document(client, member, document_type="passport")
    assert step(client, member, "identity")["state"] == "done"


def test_professionals_need_a_trade_certificate_or_business_registration(client, cm):
    pro = make_actor("member", kind="professional")
    assert states(client, pro)["trade_certificate"] == "pending"
    registration = {**TRADE, "kind": "business_registration", "document_type": "gewerbeanmeldung"}
    verified_document(client, cm, pro, registration)
    assert states(client, pro)["trade_certificate"] == "done"


def test_skill_tests_step_follows_the_tests_of_claimed_skills(client, member, cm):
    complete_profile(client, member, skills=("tv_wall_mount", "router_config"))
    assert states(client, member)["skill_tests"] == "not_required"
    test = create_test(client, cm, "tv_wall_mount")
    details = step(client, member, "skill_tests")
    assert details["state"] == "pending"
    by_skill = {s["skill"]: s for s in details["details"]["skills"]}
    assert by_skill["router_config"]["test_available"] is False
    assert by_skill["tv_wall_mount"]["test_available"] is True
    attempt = start_attempt(client, member).get_json()
    open_now = step(client, member, "skill_tests")["details"]["skills"]
    assert {s["skill"]: s["open_attempt_id"] for s in open_now}["tv_wall_mount"] == attempt["id"]
    wrong = [{"question_id": q["id"], "options": []} for q in attempt["questions"]]
    submit_attempt(client, member, attempt["id"], wrong)
    failed = step(client, member, "skill_tests")
    assert failed["state"] == "failed"
    row = next(s for s in failed["details"]["skills"] if s["skill"] == "tv_wall_mount")
    assert (row["attempts"], row["best_score"], row["passed"]) == (1, 0, False)
    assert row["retry_after"] is not None
    test_id = test["id"]
    client.patch(f"{API}/skill-tests/{test_id}", json={"active": False}, headers=cm.headers)
    assert states(client, member)["skill_tests"] == "not_required"


def test_a_test_without_active_questions_is_not_required(client, member, cm):
    complete_profile(client, member)
    test = create_test(client, cm, questions=QUESTIONS[:1])
    url = f"{API}/skill-tests/{test['id']}/questions/{test['questions'][0]['id']}"
    assert client.delete(url, headers=cm.headers).status_code == 204
    assert states(client, member)["skill_tests"] == "not_required"


def test_passing_the_test_finishes_the_step(client, member, cm):
    complete_profile(client, member)
    test = create_test(client, cm)
    pass_test(client, member, test)
    assert states(client, member)["skill_tests"] == "done"


@pytest.mark.parametrize(
    ("outcome", "state"),
    [("passed", "done"), ("failed", "failed"), ("no_show", "failed"), ("cancelled", "pending")],
)
def test_intro_call_state_follows_the_last_call(client, member, cm, outcome, state):
    application_id = application_id_of(member)
    scheduled = schedule_call(client, cm, application_id).get_json()
    call = step(client, member, "intro_call")
    assert call["state"] == "scheduled"
    assert call["details"]["scheduled_at"] == scheduled["scheduled_at"]
    call_outcome(client, cm, application_id, outcome)
    assert states(client, member)["intro_call"] == state


def test_house_rules_step_asks_for_the_newest_version(client, member, admin):
    first = publish_rules(client, admin)
    rules = step(client, member, "house_rules")
    assert rules["state"] == "pending"
    assert rules["details"] == {"current_version": first["version"], "accepted_version": None}
    accept_rules(client, member, first["version"])
    assert states(client, member)["house_rules"] == "done"


def test_payout_account_step_needs_the_details_submitted(client, member):
    client.patch(f"{API}/me/member", json={"country": "DE"}, headers=member.headers)
    connect_payout(client, member)
    payout = step(client, member, "payout_account")
    assert payout["state"] == "done"
    assert payout["details"] == {"details_submitted": True, "payouts_enabled": True}
    account = db.session.scalar(
        select(ConnectedAccount).where(ConnectedAccount.member_id == member.profile_id)
    )
    account.details_submitted = False
    db.session.commit()
    assert states(client, member)["payout_account"] == "submitted"


def test_an_active_member_still_sees_the_checklist(client):
    veteran = active_member()
    body = onboarding(client, veteran)
    assert body["member_status"] == "active"
    assert body["application"]["number"] == 1


def _sql_finished(step_name, ctx) -> set[int]:
    step_ = next(s for s in STEPS if s.name == step_name)
    query = (
        select(Member.id)
        .join(Application, Application.member_id == Member.id)
        .where(Application.status == "in_progress", step_.done(ctx))
    )
    return set(db.session.scalars(query))


def test_sql_predicates_agree_with_the_states_shown(client, cm, admin):
    """Every step's SQL predicate picks exactly the members whose state is done/not_required."""
    test = create_test(client, cm)
    rules = publish_rules(client, admin)
    bare = make_actor("member")
    pro = make_actor("member", kind="professional")
    busy = make_actor("member")
    complete_profile(client, busy)
    verified_document(client, cm, busy)
    pass_test(client, busy, test)
    accept_rules(client, busy, rules["version"])
    connect_payout(client, busy)
    ok_call = application_id_of(busy)
    schedule_call(client, cm, ok_call)
    call_outcome(client, cm, ok_call, "passed")
    half = make_actor("member")
    complete_profile(client, half)
    submit_document(client, half)
    submit_document(client, pro, TRADE)
    attempt = start_attempt(client, half).get_json()
    submit_attempt(client, half, attempt["id"], [])
    schedule_call(client, cm, application_id_of(half))
    # Failed the test, but a community manager verified the skill: the step is done.
    vouched = make_actor("member")
    complete_profile(client, vouched)
    failed = start_attempt(client, vouched).get_json()
    submit_attempt(client, vouched, failed["id"], [])
    verify = f"{API}/members/{vouched.profile_id}/skills/tv_wall_mount/verify"
    assert client.post(verify, headers=cm.headers).status_code == 200
    actors = [bare, pro, busy, half, vouched]

    ctx = step_context()
    pairs = []
    for actor in actors:
        member = db.session.get(Member, actor.profile_id)
        application = db.session.get(Application, application_id_of(actor))
        pairs.append((member, application))
    shown = checklists(pairs, ctx)
    for step_ in STEPS:
        finished = {
            actor.profile_id
            for actor in actors
            if next(s for s in shown[actor.profile_id] if s.name == step_.name).finished
        }
        in_sql = _sql_finished(step_.name, ctx) & {a.profile_id for a in actors}
        assert in_sql == finished, step_.name
    assert all(s.finished for s in shown[busy.profile_id])
    vouched_steps = {s.name: s.state for s in shown[vouched.profile_id]}
    assert vouched_steps["skill_tests"] == "done"
    assert vouched_steps["identity"] == "pending"
