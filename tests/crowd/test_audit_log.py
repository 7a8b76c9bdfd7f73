"""The audit log of staff actions: every non-GET call by a CM or admin, with its outcome."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crowd.core.audit import AuditEntry
from crowd.core.db import utcnow
from crowd.extensions import db
from members.models import Member
from tests.factories import make_actor
from tests.jobs.conftest import post_job_via_api

LOG = "/api/v1/audit-log"
STATUS_RULE = "/api/v1/members/<int:member_id>/status"


def _change_status(client, staff, member_id, **body):
    body = {"action": "activate", "reason": "documents checked by phone", **body}
    return client.post(f"/api/v1/members/{member_id}/status", json=body, headers=staff.headers)


def _log(client, admin, **query):
    response = client.get(LOG, query_string=query, headers=admin.headers)
    assert response.status_code == 200, response.json
    return response.json


def _entries() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


def test_a_cm_action_is_recorded_with_its_target(client, cm, admin, member):
    response = _change_status(client, cm, member.profile_id)
    assert response.status_code == 200, response.json
    entry = _log(client, admin)["items"][0]
    assert entry["actor_user_id"] == cm.user_id
    assert entry["actor_role"] == "community_manager"
    assert entry["token_id"] is not None
    assert entry["method"] == "POST"
    assert entry["path"] == STATUS_RULE
    assert entry["endpoint"].endswith(".change_member_status")
    assert entry["target"] == {"member_id": member.profile_id}
    assert entry["status_code"] == 200
    assert entry["request_id"] == response.headers["X-Request-Id"]
    assert entry["remote_addr"] == "127.0.0.1"
    assert entry["created_at"]
    # Bodies are never stored.
    assert "documents checked" not in json.dumps(entry)


@pytest.mark.parametrize(
    ("call", "status"),
    [
        (lambda client, cm, member: _change_status(client, cm, 2**62), 404),
        (lambda client, cm, member: _change_status(client, cm, member.profile_id, reason=""), 422),
        (
            lambda client, cm, member: client.post(
                "/api/v1/accounts/staff",
                json={
                    "email": "new.admin@example.test",
                    "password": "a long secret 42",
                    "display_name": "New",
                    "role": "admin",
                },
                headers=cm.headers,
            ),
            403,
        ),
    ],
    ids=["unknown-target", "invalid", "not-allowed"],
)
def test_a_refused_cm_attempt_is_recorded_with_its_status(client, cm, admin, member, call, status):
    response = call(client, cm, member)
    assert response.status_code == status
    entry = _log(client, admin, actor_id=cm.user_id)["items"][0]
    assert entry["status_code"] == status
    assert entry["actor_user_id"] == cm.user_id
    assert entry["request_id"] == response.headers["X-Request-Id"]


def test_the_refused_change_itself_did_not_happen(client, cm, admin, member):
    db.session.get(Member, member.profile_id).status = "offboarded"
    db.session.commit()
    refused = _change_status(client, cm, member.profile_id)
    assert refused.status_code == 409
    db.session.expire_all()
    assert db.session.get(Member, member.profile_id).status == "offboarded"
    assert _log(client, admin)["items"][0]["status_code"] == 409


def test_admin_actions_are_recorded_too(client, admin):
    body = {
        "email": "cm.new@example.test",
        "password": "a long secret 42",
        "display_name": "New CM",
        "role": "community_manager",
    }
    assert (
        client.post("/api/v1/accounts/staff", json=body, headers=admin.headers).status_code == 201
    )
    entry = _log(client, admin)["items"][0]
    assert (entry["actor_role"], entry["status_code"]) == ("admin", 201)
    assert entry["target"] == {}


def test_member_customer_and_anonymous_actions_are_not_recorded(client, member, customer):
    before = _entries()
    client.patch("/api/v1/me/member", json={"bio": "TV and audio"}, headers=member.headers)
    post_job_via_api(client, customer)
    client.post("/api/v1/jobs", json={})  # no token at all
    client.post("/api/v1/jobs", json={}, headers={"Authorization": "Bearer crs_forged"})
    assert _entries() == before


def test_staff_reads_are_not_recorded(client, cm, member):
    before = _entries()
    assert client.get(f"/api/v1/members/{member.profile_id}", headers=cm.headers).status_code == 200
    assert client.get("/api/v1/members/999999999", headers=cm.headers).status_code == 404
    assert _entries() == before


@pytest.mark.parametrize("who", ["cm", "customer", "member"])
def test_only_admins_read_the_log(client, who, request):
    actor = request.getfixturevalue(who)
    assert client.get(LOG, headers=actor.headers).status_code == 403
    assert client.get(LOG).status_code == 401


def test_entries_cannot_be_changed_through_the_api(client, admin, cm, member, app):
    _change_status(client, cm, member.profile_id)
    entry = _log(client, admin)["items"][0]
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)(LOG, json={}, headers=admin.headers)
        assert response.status_code == 405, method
        response = getattr(client, method)(f"{LOG}/{entry['id']}", json={}, headers=admin.headers)
        assert response.status_code in (404, 405), method
    routes = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("audit.")]
    assert [sorted(r.methods - {"HEAD", "OPTIONS"}) for r in routes] == [["GET"]]
    assert _log(client, admin)["items"][0] == entry


def test_filters_and_newest_first(client, admin, member):
    first_cm, second_cm = make_actor("community_manager"), make_actor("community_manager")
    _change_status(client, first_cm, member.profile_id)  # 200
    _change_status(client, second_cm, member.profile_id, action="suspend")  # 200
    _change_status(client, first_cm, 2**62)  # 404
    by_first = _log(client, admin, actor_id=first_cm.user_id)["items"]
    assert [e["status_code"] for e in by_first] == [404, 200]
    endpoint = by_first[0]["endpoint"]
    assert {e["endpoint"] for e in _log(client, admin, endpoint=endpoint)["items"]} == {endpoint}
    assert _log(client, admin, endpoint="nothing.like_this")["items"] == []
    now = utcnow()
    recent = {
        "from": (now - timedelta(minutes=5)).isoformat(),
        "to": (now + timedelta(minutes=5)).isoformat(),
    }
    assert len(_log(client, admin, **recent)["items"]) >= 3
    future = {"from": (now + timedelta(hours=1)).isoformat()}
    assert _log(client, admin, **future)["items"] == []


def test_pages_follow_the_cursor(client, admin, cm, member):
    for _ in range(3):
        _change_status(client, cm, 2**62)
    first = _log(client, admin, actor_id=cm.user_id, limit=2)
    assert len(first["items"]) == 2 and first["page"]["total"] == 3
    rest = _log(client, admin, actor_id=cm.user_id, limit=2, cursor=first["page"]["next_cursor"])
    ids = [e["id"] for e in first["items"] + rest["items"]]
    assert len(ids) == 3 and ids == sorted(ids, reverse=True)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2030-01-02T00:00:00+00:00", "to": "2030-01-01T00:00:00+00:00"}, "to"),
        ({"from": "2030-01-01T00:00:00"}, "from"),  # no time zone
        ({"actor_id": "0"}, "actor_id"),
        ({"endpoint": "x" * 121}, "endpoint"),
    ],
)
def test_bad_filters_are_422_naming_the_field(client, admin, query, field):
    response = client.get(LOG, query_string=query, headers=admin.headers)
    assert response.status_code == 422
    errors = response.json["errors"]
    assert field in errors.get("query", errors.get("json", {}))


@pytest.mark.committing
def test_entries_outlive_the_request_whether_it_succeeded_or_not(app, client):
    cm, member = make_actor("community_manager"), make_actor("member")
    assert _change_status(client, cm, member.profile_id).status_code == 200
    assert _change_status(client, cm, member.profile_id).status_code == 409  # active already
    # Read through a fresh session: both entries were committed, each with its outcome.
    db.session.remove()
    rows = db.session.scalars(
        select(AuditEntry).where(AuditEntry.actor_user_id == cm.user_id).order_by(AuditEntry.id)
    ).all()
    assert [r.status_code for r in rows] == [200, 409]
    assert db.session.get(Member, member.profile_id).status == "active"


def test_an_entry_that_cannot_be_written_does_not_change_the_answer(client, cm, monkeypatch):
    from crowd.core import audit

    real = audit._entry_for

    def orphaned(response):
        entry = real(response)
        if entry is not None:
            entry.actor_user_id = 2**62  # no such user: the foreign key refuses the row
        return entry

    monkeypatch.setattr(audit, "_entry_for", orphaned)
    response = _change_status(client, cm, 2**62)
    assert response.status_code == 404
    assert response.json["title"] == "Not found"
