"""Intro calls, approval, rejection with a cool-off, and re-applying."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crowd.extensions import db
from members.models import Member
from onboarding.models import Application, IntroCall, LevelChange
from tests.event_recorder import recording
from tests.jobs.conftest import active_member, drain_background, notifications_for
from tests.onboarding.conftest import (
    API,
    application_id_of,
    call_outcome,
    ok,
    onboarding,
    problem,
    ready_applicant,
    schedule_call,
    states,
    verified_document,
)

pytestmark = pytest.mark.usefixtures("default_ladder")


def _approve(client, staff, application_id, **body):
    url = f"{API}/applications/{application_id}/approve"
    return client.post(url, json=body, headers=staff.headers)


def _reject(client, staff, application_id, reason="Not enough experience yet"):
    url = f"{API}/applications/{application_id}/reject"
    return client.post(url, json={"reason": reason}, headers=staff.headers)


def _reapply(client, actor, **headers):
    return client.post(f"{API}/me/onboarding/reapply", headers={**actor.headers, **headers})


def _calls(application_id) -> list[IntroCall]:
    query = select(IntroCall).where(IntroCall.application_id == application_id)
    return list(db.session.scalars(query.order_by(IntroCall.id)))


# --- intro call -----------------------------------------------------------------------------


def test_cm_schedules_the_intro_call_and_the_applicant_is_told(app, client, member, cm):
    application_id = application_id_of(member)
    call = ok(schedule_call(client, cm, application_id, days=3))
    assert (call["status"], call["scheduled_by_id"]) == ("scheduled", cm.user_id)
    assert call["application_id"] == application_id
    drain_background(app)
    [notice] = notifications_for(member.user_id, "onboarding.intro_call_scheduled")
    assert notice.data["scheduled_at"] == call["scheduled_at"]


def test_rescheduling_moves_the_scheduled_call(client, member, cm):
    application_id = application_id_of(member)
    first = ok(schedule_call(client, cm, application_id, days=2))
    moved = ok(schedule_call(client, cm, application_id, days=5))
    assert moved["id"] == first["id"]
    assert moved["scheduled_at"] > first["scheduled_at"]
    assert len(_calls(application_id)) == 1


def test_a_call_in_the_past_is_422(client, member, cm):
    body = problem(schedule_call(client, cm, application_id_of(member), hours=-1), 422)
    assert "scheduled_at" in body["errors"]["json"]


def test_after_a_failed_call_a_new_one_can_be_scheduled(client, member, cm):
    application_id = application_id_of(member)
    ok(schedule_call(client, cm, application_id))
    failed = ok(call_outcome(client, cm, application_id, "no_show", "Did not pick up"))
    assert (failed["recorded_by_id"], failed["note"]) == (cm.user_id, "Did not pick up")
    second = ok(schedule_call(client, cm, application_id))
    assert second["id"] != failed["id"]
    assert [c.status for c in _calls(application_id)] == ["no_show", "scheduled"]


def test_an_outcome_needs_a_scheduled_call(client, member, cm):
    application_id = application_id_of(member)
    assert problem(call_outcome(client, cm, application_id), 409)["state"] == "none"
    ok(schedule_call(client, cm, application_id))
    ok(call_outcome(client, cm, application_id, "passed"))
    assert problem(call_outcome(client, cm, application_id), 409)["state"] == "passed"
    assert problem(schedule_call(client, cm, application_id), 409)["state"] == "passed"


def test_intro_calls_are_for_staff(client, member):
    application_id = application_id_of(member)
    assert problem(schedule_call(client, member, application_id), 403)
    assert problem(call_outcome(client, member, application_id), 403)
    url = f"{API}/applications/{application_id}/intro-call/outcome"
    assert problem(client.post(url, json={"outcome": "passed"}), 401)


def test_intro_call_of_an_unknown_application_is_404(client, cm):
    assert problem(schedule_call(client, cm, 999999), 404)


# --- approve --------------------------------------------------------------------------------


def test_approval_makes_the_applicant_an_active_starter(app, client, member, cm):
    ready_applicant(client, cm, member)
    application_id = application_id_of(member)
    body = ok(_approve(client, cm, application_id, note="Great call"))
    assert body["application"]["status"] == "approved"
    assert body["application"]["reason"] == "Great call"
    assert body["application"]["decided_by_id"] == cm.user_id
    assert body["application"]["decided_at"] is not None
    assert body["ready"] is True
    profile = db.session.get(Member, member.profile_id)
    db.session.refresh(profile)
    assert (profile.status, profile.level_rank) == ("active", 1)
    changes = select(func.count()).where(LevelChange.member_id == member.profile_id)
    assert db.session.scalar(changes) == 1
    drain_background(app)
    assert notifications_for(member.user_id, "onboarding.approved")


def test_approving_an_incomplete_application_names_the_missing_steps(client, member, cm):
    verified_document(client, cm, member)
    body = problem(_approve(client, cm, application_id_of(member)), 409)
    assert body["state"] == "incomplete"
    assert body["missing"] == ["profile", "intro_call", "payout_account"]
    assert db.session.get(Member, member.profile_id).status == "applicant"


def test_an_approved_application_cannot_be_approved_or_rejected_again(client, member, cm):
    ready_applicant(client, cm, member)
    application_id = application_id_of(member)
    ok(_approve(client, cm, application_id))
    again = problem(_approve(client, cm, application_id), 409)
    assert (again["state"], again["type"]) == (
        "approved",
        "https://crowd.example/problems/application-not-open",
    )
    assert problem(_reject(client, cm, application_id), 409)["state"] == "approved"


def test_approve_and_reject_are_for_staff(client, member):
    application_id = application_id_of(member)
    assert problem(_approve(client, member, application_id), 403)
    assert problem(_reject(client, member, application_id), 403)
    assert problem(client.post(f"{API}/applications/{application_id}/approve", json={}), 401)


def test_approving_an_unknown_application_is_404(client, cm):
    assert problem(_approve(client, cm, 999999), 404)


# --- reject and re-apply --------------------------------------------------------------------


def test_rejection_records_the_reason_and_the_cool_off(app, client, member, cm):
    application_id = application_id_of(member)
    ok(schedule_call(client, cm, application_id))
    before = datetime.now(UTC)
    body = ok(_reject(client, cm, application_id, "References missing"))
    application = body["application"]
    assert (application["status"], application["reason"]) == ("rejected", "References missing")
    reapply_after = datetime.fromisoformat(application["reapply_after"])
    assert before + timedelta(days=90) <= reapply_after <= datetime.now(UTC) + timedelta(days=90)
    # The scheduled call is off; the member stays an applicant.
    assert [c.status for c in _calls(application_id)] == ["cancelled"]
    mine = onboarding(client, member)
    assert mine["member_status"] == "applicant"
    assert mine["application"]["reapply_after"] == application["reapply_after"]
    drain_background(app)
    [notice] = notifications_for(member.user_id, "onboarding.rejected")
    assert "References missing" in notice.body
    assert reapply_after.date().isoformat() in notice.body


def test_the_cool_off_is_configurable(app, client, member, cm, monkeypatch):
    monkeypatch.setitem(app.config, "ONBOARDING_REAPPLY_COOLOFF_DAYS", 7)
    body = ok(_reject(client, cm, application_id_of(member)))
    reapply_after = datetime.fromisoformat(body["application"]["reapply_after"])
    assert reapply_after - datetime.now(UTC) < timedelta(days=7, minutes=1)


def test_a_rejection_needs_a_reason(client, member, cm):
    url = f"{API}/applications/{application_id_of(member)}/reject"
    body = problem(client.post(url, json={"reason": "  "}, headers=cm.headers), 422)
    assert "reason" in body["errors"]["json"]
    assert problem(client.post(url, json={}, headers=cm.headers), 422)


def test_reapplying_waits_for_the_cool_off(client, member, cm):
    application_id = application_id_of(member)
    reapply_after = ok(_reject(client, cm, application_id))["application"]["reapply_after"]
    body = problem(_reapply(client, member), 409)
    assert (body["state"], body["reapply_after"]) == ("rejected", reapply_after)
    assert body["type"] == "https://crowd.example/problems/reapply-later"
    db.session.get(Application, application_id).reapply_after = datetime.now(UTC)
    db.session.commit()
    second = ok(_reapply(client, member), 201)
    assert (second["number"], second["status"]) == (2, "in_progress")
    assert onboarding(client, member)["application"]["id"] == second["id"]
    assert problem(_reapply(client, member), 409)["state"] == "in_progress"


def test_a_new_application_keeps_documents_but_needs_a_new_call(client, member, cm):
    verified_document(client, cm, member)
    first = application_id_of(member)
    ok(schedule_call(client, cm, first))
    ok(call_outcome(client, cm, first, "passed"))
    ok(_reject(client, cm, first))
    db.session.get(Application, first).reapply_after = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    ok(_reapply(client, member), 201)
    now = states(client, member)
    assert (now["identity"], now["intro_call"]) == ("done", "pending")


def test_reapplying_without_a_rejection_is_409(client, member, cm):
    assert problem(_reapply(client, member), 409)["state"] == "in_progress"
    veteran = active_member()
    application = db.session.scalar(
        select(Application).where(Application.member_id == veteran.profile_id)
    )
    application.status = "approved"
    db.session.commit()
    assert problem(_reapply(client, veteran), 409)["state"] == "approved"


def test_reapplying_is_for_members(client, customer):
    assert problem(client.post(f"{API}/me/onboarding/reapply"), 401)
    assert problem(_reapply(client, customer), 403)


# --- the application's events (onboarding.applications.lifecycle) ---------------------------

APPLICATION_EVENTS = ("application.in_progress", "application.approved", "application.rejected")


def test_approval_emits_application_approved_with_the_member_and_the_note(client, member, cm):
    ready_applicant(client, cm, member)
    application_id = application_id_of(member)
    with recording(*APPLICATION_EVENTS) as caught:
        ok(_approve(client, cm, application_id, note="Welcome"))
    [event] = caught
    assert (event.name, event.subject_id, event.actor) == (
        "application.approved",
        application_id,
        cm.user_id,
    )
    assert event.payload["member_id"] == member.profile_id
    assert (event.payload["from_status"], event.payload["reason"]) == ("in_progress", "Welcome")


def test_rejection_and_reapplication_emit_their_events(client, member, cm):
    application_id = application_id_of(member)
    with recording(*APPLICATION_EVENTS) as caught:
        ok(_reject(client, cm, application_id, reason="Too little experience"))
        db.session.get(Application, application_id).reapply_after = datetime.now(UTC)
        db.session.commit()
        second = ok(_reapply(client, member), 201)
    assert [(e.name, e.subject_id) for e in caught] == [
        ("application.rejected", application_id),
        ("application.in_progress", second["id"]),
    ]
    assert caught[0].payload["reason"] == "Too little experience"
    assert (caught[1].payload["number"], caught[1].actor) == (2, member.user_id)


def test_a_decided_application_emits_nothing_when_decided_again(client, member, cm):
    application_id = application_id_of(member)
    ok(_reject(client, cm, application_id))
    with recording(*APPLICATION_EVENTS) as caught:
        assert problem(_approve(client, cm, application_id), 409)["state"] == "rejected"
        assert problem(_reject(client, cm, application_id), 409)["state"] == "rejected"
    assert caught == []
    assert db.session.get(Application, application_id).status == "rejected"


def test_sign_up_opens_the_first_application_with_its_event(client):
    body = {
        "email": "new.applicant@example.com",
        "password": "a long and unusual passphrase 42",
        "display_name": "New Applicant",
        "kind": "private",
    }
    with recording(*APPLICATION_EVENTS) as caught:
        assert client.post("/api/v1/accounts/members", json=body).status_code == 202
    [event] = caught
    application = db.session.get(Application, event.subject_id)
    assert (event.name, application.number, application.status) == (
        "application.in_progress",
        1,
        "in_progress",
    )
    assert event.payload["member_id"] == application.member_id
