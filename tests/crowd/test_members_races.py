"""Concurrent requests of one member: the member row lock keeps the rules intact."""

import pytest
from sqlalchemy import select

from crowd.extensions import db
from members.models import AvailabilitySlot, Member, MemberSkill, MemberStatusChange
from tests.concurrency import run_concurrently
from tests.factories import make_actor

pytestmark = pytest.mark.committing

ME = "/api/v1/me/member"


def _rows(app, model, member_id):
    with app.app_context():
        return db.session.scalars(select(model).where(model.member_id == member_id)).all()


def _active_member():
    actor = make_actor("member")
    db.session.get(Member, actor.profile_id).status = "active"
    db.session.commit()
    return actor


def test_simultaneous_pauses_change_status_once(app):
    member = _active_member()

    def pause(client, i):
        response = client.post(f"{ME}/status", json={"action": "pause"}, headers=member.headers)
        return response.status_code, response.json.get("state")

    results = run_concurrently(app, 6, pause)
    assert sorted(code for code, _ in results) == [200] + [409] * 5
    assert {state for code, state in results if code == 409} == {"paused"}
    rows = _rows(app, MemberStatusChange, member.profile_id)
    assert [(r.from_status, r.to_status) for r in rows].count(("active", "paused")) == 1


def test_simultaneous_availability_replacements_leave_one_whole_week(app):
    member = make_actor("member")

    def put(client, i):
        slots = [
            {"weekday": day, "start": f"{8 + i:02d}:00", "end": f"{10 + i:02d}:00"}
            for day in (0, 1)
        ]
        return client.put(f"{ME}/availability", json={"slots": slots}, headers=member.headers)

    responses = run_concurrently(app, 6, put)
    assert [r.status_code for r in responses] == [200] * 6
    stored = _rows(app, AvailabilitySlot, member.profile_id)
    assert len(stored) == 2
    assert len({(slot.start_minute, slot.end_minute) for slot in stored}) == 1


def test_simultaneous_skill_replacements_all_succeed_without_duplicates(app):
    member = make_actor("member")
    body = {"skills": [{"skill": "tv_wall_mount", "proficiency": 2}, {"skill": "router_config"}]}

    def put(client, i):
        return client.put(f"{ME}/skills", json=body, headers=member.headers).status_code

    assert run_concurrently(app, 6, put) == [200] * 6
    assert len(_rows(app, MemberSkill, member.profile_id)) == 2
