"""Issue 5 through the API only: registration → every step → an active Starter."""

import pytest
from sqlalchemy import select

from crowd.extensions import db
from members.models import Member, MemberStatusChange
from onboarding.models import LevelChange
from tests.factories import Actor
from tests.jobs.conftest import drain_background, notifications_for
from tests.onboarding.conftest import (
    API,
    IDENTITY,
    TRADE,
    answers,
    call_outcome,
    complete_profile,
    create_test,
    decide_document,
    leaks_answers,
    ok,
    onboarding,
    problem,
    publish_rules,
    schedule_call,
    shift_attempt,
    start_attempt,
    states,
    submit_attempt,
    submit_document,
)

pytestmark = pytest.mark.usefixtures("default_ladder")


def test_an_applicant_goes_from_registration_through_every_step_to_active_starter(
    app, client, cm, admin
):
    test = create_test(client, cm, retry_delay_hours=24)
    rules = publish_rules(client, admin)

    # Registration: a professional applicant with a checklist of pending steps.
    account = {"email": "ada@example.test", "password": "correct horse battery"}
    body = {**account, "display_name": "Ada Installateur", "kind": "professional"}
    ok(client.post(f"{API}/accounts/members", json=body), 202)
    issued = ok(client.post(f"{API}/auth/tokens", json=account), 201)
    ada = Actor(issued["user"]["id"], "member", account["email"], issued["token"])
    ada.profile_id = ok(client.get(f"{API}/me/member", headers=ada.headers))["id"]
    start = onboarding(client, ada)
    assert start["application"]["number"] == 1
    assert start["application"]["status"] == "in_progress"
    assert start["member_status"] == "applicant"
    assert start["ready"] is False
    # No skill claimed yet: no test is needed yet either.
    assert states(client, ada) == {
        "profile": "pending",
        "identity": "pending",
        "trade_certificate": "pending",
        "skill_tests": "not_required",
        "intro_call": "pending",
        "house_rules": "pending",
        "payout_account": "pending",
        "billing": "not_required",
    }

    # Profile, skills and availability.
    complete_profile(client, ada)
    assert states(client, ada)["profile"] == "done"
    # The skill has a test now: the step waits for it.
    assert states(client, ada)["skill_tests"] == "pending"

    # Documents: identity and (professional) trade certificate; a CM checks both.
    identity = ok(submit_document(client, ada, IDENTITY), 201)
    trade = ok(submit_document(client, ada, TRADE), 201)
    assert states(client, ada)["identity"] == "submitted"
    ok(decide_document(client, cm, ada, identity["id"]))
    ok(decide_document(client, cm, ada, trade["id"]))
    assert states(client, ada)["identity"] == "done"
    assert states(client, ada)["trade_certificate"] == "done"

    # Skill test: a failed attempt, a retry refused while the delay runs, a pass after it.
    attempt = ok(start_attempt(client, ada), 201)
    assert not leaks_answers(attempt)
    failed = ok(submit_attempt(client, ada, attempt["id"], answers(attempt, test, right=1)))
    assert (failed["score_percent"], failed["passed"]) == (25, False)
    assert states(client, ada)["skill_tests"] == "failed"
    too_early = problem(start_attempt(client, ada), 409)
    assert too_early["state"] == "retry_later"
    shift_attempt(attempt["id"], hours=25)
    retry = ok(start_attempt(client, ada), 201)
    passed = ok(submit_attempt(client, ada, retry["id"], answers(retry, test, right=4)))
    assert (passed["score_percent"], passed["passed"]) == (100, True)
    assert states(client, ada)["skill_tests"] == "done"

    # Intro call: scheduled, then passed.
    application_id = start["application"]["id"]
    ok(schedule_call(client, cm, application_id))
    assert states(client, ada)["intro_call"] == "scheduled"
    ok(call_outcome(client, cm, application_id, "passed", "Knows the trade"))
    assert states(client, ada)["intro_call"] == "done"

    # House rules accepted, payout account connected (offline provider).
    url = f"{API}/me/onboarding/house-rules/accept"
    ok(client.post(url, json={"version": rules["version"]}, headers=ada.headers))
    assert states(client, ada)["house_rules"] == "done"
    early = problem(
        client.post(f"{API}/applications/{application_id}/approve", json={}, headers=cm.headers),
        409,
    )
    assert early["state"] == "incomplete" and early["missing"] == ["payout_account"]
    ok(
        client.post(
            f"{API}/me/payout-account",
            json={"refresh_url": "https://a.example/r", "return_url": "https://a.example/d"},
            headers=ada.headers,
        ),
        201,
    )
    ready = onboarding(client, ada)
    assert ready["ready"] is True
    assert ready["progress"] == {"done": 7, "total": 7}

    # The CM sees a ready applicant in the queue and approves.
    queue = ok(client.get(f"{API}/applications?ready=true", headers=cm.headers))
    assert [item["id"] for item in queue["items"]] == [application_id]
    approved = ok(
        client.post(
            f"{API}/applications/{application_id}/approve",
            json={"note": "Welcome"},
            headers=cm.headers,
        )
    )
    assert approved["application"]["status"] == "approved"
    assert approved["application"]["decided_by_id"] == cm.user_id

    after = onboarding(client, ada)
    assert after["member_status"] == "active"
    assert after["application"]["status"] == "approved"
    member = db.session.get(Member, ada.profile_id)
    db.session.refresh(member)
    assert (member.status, member.level_rank) == ("active", 1)
    change = db.session.scalar(select(LevelChange).where(LevelChange.member_id == member.id))
    assert (change.cause, change.to_rank) == ("approval", 1)
    history = db.session.scalars(
        select(MemberStatusChange.to_status).where(MemberStatusChange.member_id == member.id)
    ).all()
    assert history == ["applicant", "active"]
    drain_background(app)
    kinds = {n.kind for n in notifications_for(ada.user_id)}
    assert {"onboarding.document_verified", "onboarding.intro_call_scheduled"} <= kinds
    assert "onboarding.approved" in kinds
