"""Concurrent RSVPs: the event row lock keeps accepted within capacity."""

import pytest
from sqlalchemy import func, select

from crowd.extensions import db
from mentoring.models import EventInvitation
from tests.concurrency import run_concurrently
from tests.factories import make_actor
from tests.mentoring.test_events import create_event, invitation_id, invite, programme_member

pytestmark = pytest.mark.committing


def test_two_simultaneous_accepts_for_the_last_seat_admit_one(app, client):
    cm = make_actor("community_manager")
    a, b = programme_member(top=True), programme_member(mentor=True)
    event = create_event(client, cm, capacity=1)
    assert invite(client, cm, event["id"], a, b).status_code == 200
    members = [(a, invitation_id(event["id"], a)), (b, invitation_id(event["id"], b))]

    def accept(client, i):
        member, inv_id = members[i]
        response = client.post(
            f"/api/v1/me/invitations/{inv_id}/rsvp",
            json={"answer": "accept"},
            headers=member.headers,
        )
        return response.status_code, response.json.get("state")

    results = run_concurrently(app, 2, accept)
    assert sorted(code for code, _ in results) == [200, 409]
    assert [state for code, state in results if code == 409] == ["full"]
    with app.app_context():
        accepted = db.session.scalar(
            select(func.count()).where(
                EventInvitation.event_id == event["id"], EventInvitation.status == "accepted"
            )
        )
    assert accepted == 1
