"""Asking an applicant for more information (POST /applications/{id}/request-info), the
queue's step counts (GET /applications/step-counts) and its waiting-time filter."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from crowd.core.db import utcnow
from crowd.extensions import db
from onboarding.models import Application, InformationRequest
from tests.factories import make_actor
from tests.jobs.conftest import drain_background, notifications_for
from tests.onboarding.conftest import (
    API,
    application_id_of,
    complete_profile,
    ok,
    problem,
    ready_applicant,
    submit_document,
)

pytestmark = pytest.mark.usefixtures("default_ladder")


def _ask(client, staff, application_id, reason="Please show the back of your ID card too."):
    url = f"{API}/applications/{application_id}/request-info"
    return client.post(url, json={"reason": reason}, headers=staff.headers)


def test_cm_asks_for_more_and_the_applicant_is_told(app, client, cm, member):
    application_id = application_id_of(member)
    asked = ok(_ask(client, cm, application_id), 201)
    assert asked["application_id"] == application_id
    assert (asked["requested_by_id"], asked["member_id"]) == (cm.user_id, member.profile_id)
    row = db.session.get(InformationRequest, asked["id"])
    assert row.reason == "Please show the back of your ID card too."
    # The application stays under way: the applicant can answer.
    assert db.session.get(Application, application_id).status == "in_progress"
    drain_background(app)
    [notice] = notifications_for(member.user_id, "onboarding.info_requested")
    assert notice.body == "Please show the back of your ID card too."
    assert notice.data["application_id"] == application_id
    detail = ok(client.get(f"{API}/applications/{application_id}", headers=cm.headers))
    assert [r["reason"] for r in detail["info_requests"]] == [row.reason]


def test_asking_needs_a_reason(client, cm, member):
    body = problem(_ask(client, cm, application_id_of(member), reason="  "), 422)
    assert "reason" in str(body)
    assert db.session.scalar(select(InformationRequest.id)) is None


def test_asking_about_a_decided_application_gets_409(client, cm, member):
    application_id = application_id_of(member)
    url = f"{API}/applications/{application_id}/reject"
    ok(client.post(url, json={"reason": "No"}, headers=cm.headers))
    body = problem(_ask(client, cm, application_id), 409)
    assert body["state"] == "rejected"


def test_members_and_customers_may_not_ask(client, member, customer):
    application_id = application_id_of(member)
    assert _ask(client, member, application_id).status_code == 403
    assert _ask(client, customer, application_id).status_code == 403
    assert problem(_ask(client, make_actor("community_manager"), 999_999), 404)


def test_step_counts_count_who_still_waits_for_each_step(client, cm):
    ready = make_actor("member", display_name="Rita Ready")
    ready_applicant(client, cm, ready)
    waiting = make_actor("member", display_name="Walter Waiting")
    complete_profile(client, waiting)
    submit_document(client, waiting)
    counts = ok(client.get(f"{API}/applications/step-counts", headers=cm.headers))
    assert counts["total"] == 2
    assert counts["steps"]["identity"] == 1
    assert counts["steps"]["intro_call"] == 1
    assert counts["steps"]["profile"] == 0
    walter = ok(client.get(f"{API}/applications/step-counts?q=Walter", headers=cm.headers))
    assert walter["total"] == 1


def test_waiting_days_keeps_the_applications_open_that_long(client, cm):
    old = make_actor("member", display_name="Olga Old")
    new = make_actor("member", display_name="Nina New")
    db.session.execute(
        update(Application)
        .where(Application.id == application_id_of(old))
        .values(opened_at=utcnow() - timedelta(days=10))
    )
    db.session.commit()
    query = f"{API}/applications?waiting_days=7"
    ids = [item["id"] for item in ok(client.get(query, headers=cm.headers))["items"]]
    assert ids == [application_id_of(old)]
    assert application_id_of(new) not in ids
    assert client.get(f"{API}/applications?waiting_days=-1", headers=cm.headers).status_code == 422
