"""Concurrent decisions: row locks let exactly one of them through."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from crowd.extensions import db
from members.models import Member
from onboarding.models import Application, DocumentCheck, HouseRulesAcceptance, HouseRulesVersion
from tests.concurrency import run_concurrently
from tests.factories import make_actor
from tests.onboarding.conftest import (
    API,
    IDENTITY,
    application_id_of,
    publish_rules,
    ready_applicant,
)

pytestmark = [pytest.mark.committing, pytest.mark.usefixtures("default_ladder")]


def _fresh(app, query):
    with app.app_context():
        return db.session.execute(query).all()


def test_approve_and_reject_at_once_one_wins(app, client):
    cm = make_actor("community_manager")
    applicant = ready_applicant(client, cm, make_actor("member"))
    application_id = application_id_of(applicant)

    def decide(test_client, i):
        action = "approve" if i % 2 == 0 else "reject"
        body = {"note": "ok"} if action == "approve" else {"reason": "no"}
        url = f"{API}/applications/{application_id}/{action}"
        response = test_client.post(url, json=body, headers=cm.headers)
        return action, response.status_code

    results = run_concurrently(app, 6, decide)
    winners = [action for action, status in results if status == 200]
    assert len(winners) == 1, results
    assert sorted(status for _, status in results) == [200] + [409] * 5
    [(status, member_status, rank)] = _fresh(
        app,
        select(Application.status, Member.status, Member.level_rank)
        .join(Member, Member.id == Application.member_id)
        .where(Application.id == application_id),
    )
    if winners == ["approve"]:
        assert (status, member_status, rank) == ("approved", "active", 1)
    else:
        assert (status, member_status, rank) == ("rejected", "applicant", 0)


def test_a_double_tap_on_reapply_opens_one_application(app, client):
    cm = make_actor("community_manager")
    applicant = make_actor("member")
    application_id = application_id_of(applicant)
    url = f"{API}/applications/{application_id}/reject"
    assert client.post(url, json={"reason": "no"}, headers=cm.headers).status_code == 200
    db.session.get(Application, application_id).reapply_after = datetime.now(UTC)
    db.session.commit()

    def reapply(test_client, i):
        return test_client.post(f"{API}/me/onboarding/reapply", headers=applicant.headers)

    statuses = sorted(r.status_code for r in run_concurrently(app, 5, reapply))
    assert statuses == [201] + [409] * 4
    count = select(func.count()).where(Application.member_id == applicant.profile_id)
    assert _fresh(app, count) == [(2,)]


def test_simultaneous_submissions_of_one_kind_record_one(app):
    applicant = make_actor("member")

    def submit(test_client, i):
        url = f"{API}/me/onboarding/documents"
        return test_client.post(url, json=IDENTITY, headers=applicant.headers).status_code

    assert sorted(run_concurrently(app, 5, submit)) == [201] + [409] * 4
    count = select(func.count()).where(DocumentCheck.member_id == applicant.profile_id)
    assert _fresh(app, count) == [(1,)]


def test_concurrent_publications_get_distinct_versions(app, client):
    admin = make_actor("admin")
    publish_rules(client, admin, "First")

    def publish(test_client, i):
        body = {"title": f"Rules {i}", "body": "Be kind."}
        response = test_client.post(f"{API}/house-rules", json=body, headers=admin.headers)
        return response.status_code, (response.get_json() or {}).get("version")

    results = run_concurrently(app, 5, publish)
    assert {status for status, _ in results} <= {201, 409}, results
    versions = [version for status, version in results if status == 201]
    assert len(versions) == len(set(versions))
    stored = _fresh(app, select(HouseRulesVersion.version).order_by(HouseRulesVersion.version))
    assert [v for (v,) in stored] == list(range(1, 2 + len(versions)))


def test_a_double_tap_on_accept_stores_one_acceptance(app, client):
    admin = make_actor("admin")
    member = make_actor("member")
    rules = publish_rules(client, admin)

    def accept(test_client, i):
        url = f"{API}/me/onboarding/house-rules/accept"
        return test_client.post(
            url, json={"version": rules["version"]}, headers=member.headers
        ).status_code

    assert run_concurrently(app, 5, accept) == [200] * 5
    count = select(func.count()).where(HouseRulesAcceptance.member_id == member.profile_id)
    assert _fresh(app, count) == [(1,)]
