"""The member status machine: who may move a member where, and the history it leaves."""

import pytest
from sqlalchemy import select

from crowd.extensions import db
from members.models import MEMBER_STATUSES, Member, MemberStatusChange
from members.service import TRANSITIONS
from tests.factories import make_actor

OWN_STATUS = "/api/v1/me/member/status"


def _problem(response, status):
    assert response.status_code == status, response.json
    assert response.mimetype == "application/problem+json"
    return response.json


def _staff_action(client, staff, actor, action, reason="checked"):
    url = f"/api/v1/members/{actor.profile_id}/status"
    return client.post(url, json={"action": action, "reason": reason}, headers=staff.headers)


def _own_action(client, actor, action, **extra):
    return client.post(OWN_STATUS, json={"action": action, **extra}, headers=actor.headers)


def _set_status(actor, status):
    db.session.get(Member, actor.profile_id).status = status
    db.session.commit()


def _history(client, viewer, actor):
    url = f"/api/v1/members/{actor.profile_id}/status-history"
    return client.get(url, headers=viewer.headers)


def _status(client, actor):
    return client.get("/api/v1/me/member", headers=actor.headers).json["status"]


def test_transition_table_only_names_known_statuses_and_offboarded_is_final():
    for (current, _action, who), target in TRANSITIONS.items():
        assert {current, target} <= set(MEMBER_STATUSES)
        assert who in {"member", "staff"}
        assert current != "offboarded"


def test_cm_activates_an_applicant_and_history_records_it(client, member, cm):
    before = client.get("/api/v1/me/member", headers=member.headers).json["status_changed_at"]
    response = _staff_action(client, cm, member, "activate", reason="  checks passed ")
    assert response.status_code == 200, response.json
    assert response.json["from_status"] == "applicant"
    assert response.json["to_status"] == "active"
    profile = client.get("/api/v1/me/member", headers=member.headers).json
    assert profile["status"] == "active"
    assert profile["status_changed_at"] > before
    history = _history(client, cm, member).json["items"]
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        (None, "applicant"),
        ("applicant", "active"),
    ]
    assert history[-1]["reason"] == "checks passed"
    assert history[-1]["changed_by_id"] == cm.user_id


def test_member_pauses_and_resumes(client, member):
    _set_status(member, "active")
    paused = _own_action(client, member, "pause", reason="Holidays")
    assert paused.status_code == 200, paused.json
    assert _status(client, member) == "paused"
    assert _own_action(client, member, "resume").status_code == 200
    assert _status(client, member) == "active"
    rows = db.session.scalars(
        select(MemberStatusChange)
        .where(MemberStatusChange.member_id == member.profile_id)
        .order_by(MemberStatusChange.id)
    ).all()
    assert [(r.from_status, r.to_status, r.reason) for r in rows[-2:]] == [
        ("active", "paused", "Holidays"),
        ("paused", "active", "resume"),
    ]
    assert rows[-1].changed_by_id == member.user_id


@pytest.mark.parametrize("start", ["active", "paused"])
def test_member_leaves_and_cannot_come_back_alone(client, member, start):
    _set_status(member, start)
    assert _own_action(client, member, "leave", reason="Moving abroad").status_code == 200
    assert _status(client, member) == "offboarded"
    body = _problem(_own_action(client, member, "resume"), 409)
    assert body["state"] == "offboarded"


@pytest.mark.parametrize(
    "status, action",
    [
        ("applicant", "pause"),
        ("applicant", "leave"),
        ("active", "resume"),
        ("paused", "pause"),
        ("suspended", "resume"),
        ("suspended", "leave"),
    ],
)
def test_illegal_member_transition_is_409_with_current_state(client, member, status, action):
    _set_status(member, status)
    count = _history(client, member, member).json["page"]["total"]
    body = _problem(_own_action(client, member, action), 409)
    assert body["type"] == "https://crowd.example/problems/member-state-conflict"
    assert body["state"] == status
    assert status in body["detail"]
    assert _status(client, member) == status
    assert _history(client, member, member).json["page"]["total"] == count


@pytest.mark.parametrize(
    "status, action, target",
    [
        ("applicant", "activate", "active"),
        ("active", "suspend", "suspended"),
        ("paused", "suspend", "suspended"),
        ("suspended", "reinstate", "active"),
        ("applicant", "offboard", "offboarded"),
        ("active", "offboard", "offboarded"),
        ("paused", "offboard", "offboarded"),
        ("suspended", "offboard", "offboarded"),
    ],
)
def test_staff_transitions(client, member, admin, status, action, target):
    _set_status(member, status)
    response = _staff_action(client, admin, member, action)
    assert response.status_code == 200, response.json
    assert (response.json["from_status"], response.json["to_status"]) == (status, target)
    assert db.session.get(Member, member.profile_id).status == target
    # Suspending and offboarding close the account: the member's token stops working at once.
    me = client.get("/api/v1/me/member", headers=member.headers)
    assert me.status_code == (401 if target in ("suspended", "offboarded") else 200)


@pytest.mark.parametrize(
    "status, action",
    [
        ("active", "activate"),
        ("active", "reinstate"),
        ("applicant", "suspend"),
        ("offboarded", "offboard"),
        ("offboarded", "reinstate"),
    ],
)
def test_illegal_staff_transition_is_409_with_current_state(client, member, cm, status, action):
    _set_status(member, status)
    body = _problem(_staff_action(client, cm, member, action), 409)
    assert body["state"] == status


def test_member_cannot_use_staff_actions(client, member):
    body = _problem(_own_action(client, member, "activate"), 422)
    assert "action" in body["errors"]["json"]
    assert _status(client, member) == "applicant"


def test_staff_cannot_use_member_actions(client, member, cm):
    _set_status(member, "active")
    body = _problem(_staff_action(client, cm, member, "pause"), 422)
    assert "action" in body["errors"]["json"]


@pytest.mark.parametrize("payload", [{"action": "suspend"}, {"action": "suspend", "reason": "  "}])
def test_staff_status_change_needs_a_reason(client, member, cm, payload):
    _set_status(member, "active")
    url = f"/api/v1/members/{member.profile_id}/status"
    body = _problem(client.post(url, json=payload, headers=cm.headers), 422)
    assert "reason" in body["errors"]["json"]
    assert _status(client, member) == "active"


def test_status_change_rejects_unknown_fields(client, member):
    _set_status(member, "active")
    body = _problem(_own_action(client, member, "pause", status="active"), 422)
    assert "status" in body["errors"]["json"]


def test_staff_status_change_of_unknown_member_is_404(client, cm):
    url = "/api/v1/members/999999/status"
    _problem(client.post(url, json={"action": "activate", "reason": "x"}, headers=cm.headers), 404)


def test_only_staff_change_another_members_status(client, member, other_member, customer):
    _problem(_staff_action(client, other_member, member, "activate"), 403)
    _problem(_staff_action(client, customer, member, "activate"), 403)
    url = f"/api/v1/members/{member.profile_id}/status"
    _problem(client.post(url, json={"action": "activate", "reason": "x"}), 401)
    _problem(client.post(OWN_STATUS, json={"action": "pause"}), 401)
    _problem(_own_action(client, customer, "pause"), 403)
    assert _status(client, member) == "applicant"


def test_member_reads_own_status_history(client, member):
    response = _history(client, member, member)
    assert response.status_code == 200
    assert [h["to_status"] for h in response.json["items"]] == ["applicant"]


def test_status_history_is_hidden_from_other_members_and_customers(
    client, member, other_member, customer
):
    _problem(_history(client, other_member, member), 404)
    _problem(_history(client, customer, member), 403)
    _problem(client.get(f"/api/v1/members/{member.profile_id}/status-history"), 401)


def test_status_history_is_paginated_oldest_first(client, cm):
    member = make_actor("member")
    _staff_action(client, cm, member, "activate")
    _staff_action(client, cm, member, "suspend")
    _staff_action(client, cm, member, "reinstate")
    first = _history(client, cm, member)
    url = f"/api/v1/members/{member.profile_id}/status-history"
    page = client.get(url, query_string={"limit": 3}, headers=cm.headers).json
    assert [h["to_status"] for h in page["items"]] == ["applicant", "active", "suspended"]
    rest = client.get(
        url, query_string={"limit": 3, "cursor": page["page"]["next_cursor"]}, headers=cm.headers
    ).json
    assert [h["to_status"] for h in rest["items"]] == ["active"]
    assert rest["page"]["next_cursor"] is None
    assert first.json["page"]["total"] == 4
