"""The mentorship lifecycle: accept, decline (→ the next mentor), end, lists, the daily review."""

from crowd.core.db import commit
from mentoring.mentors.assignment import auto_assign
from mentoring.tasks.mentors import review_mentors
from tests.mentoring.conftest import (
    API,
    inbox,
    member_row,
    mentor,
    mentorships_of,
    ok,
    problem,
    set_record,
    starter,
)

MENTORSHIPS = f"{API}/mentorships"


def _proposed(client):
    coach = mentor(client)
    newbie = starter()
    mentorship = auto_assign(newbie.profile_id)
    commit()
    return coach, newbie, mentorship.id


def test_the_mentor_accepts_a_proposal(app, client):
    coach, newbie, mentorship_id = _proposed(client)
    refused = client.post(f"{MENTORSHIPS}/{mentorship_id}/accept", headers=newbie.headers)
    assert refused.status_code == 403
    body = ok(client.post(f"{MENTORSHIPS}/{mentorship_id}/accept", headers=coach.headers))
    assert body["status"] == "active" and body["accepted_at"] is not None
    again = client.post(f"{MENTORSHIPS}/{mentorship_id}/accept", headers=coach.headers)
    assert problem(again, 409)["state"] == "active"
    assert inbox(app, newbie, "mentoring.accepted")


def test_a_decline_hands_the_mentee_to_the_next_mentor(client, cm):
    coach, newbie, mentorship_id = _proposed(client)
    other = mentor(client)
    url = f"{MENTORSHIPS}/{mentorship_id}/decline"
    assert (
        "reason" in problem(client.post(url, json={}, headers=coach.headers), 422)["errors"]["json"]
    )
    body = ok(client.post(url, json={"reason": "Fully booked"}, headers=coach.headers))
    assert body["status"] == "ended" and "Fully booked" in body["end_reason"]
    first, second = mentorships_of(newbie)
    assert second.mentor_id == other.profile_id and second.status == "proposed"
    # The decliner is never proposed again, even with room.
    other_url = f"{MENTORSHIPS}/{second.id}/decline"
    ok(client.post(other_url, json={"reason": "Away soon"}, headers=other.headers))
    assert len(mentorships_of(newbie)) == 2
    page = ok(client.get(f"{MENTORSHIPS}/unmatched", headers=cm.headers))
    assert newbie.profile_id in [item["member_id"] for item in page["items"]]


def test_the_mentee_or_staff_end_a_mentorship_without_a_new_match(app, client, cm):
    coach, newbie, mentorship_id = _proposed(client)
    mentor(client)  # someone free, who is NOT proposed automatically after the mentee's end
    ok(client.post(f"{MENTORSHIPS}/{mentorship_id}/accept", headers=coach.headers))
    url = f"{MENTORSHIPS}/{mentorship_id}/end"
    body = ok(client.post(url, json={"reason": "Not a fit"}, headers=newbie.headers))
    assert body["status"] == "ended" and body["end_reason"] == "ended by the mentee: Not a fit"
    assert len(mentorships_of(newbie)) == 1
    assert problem(client.post(url, json={"reason": "x"}, headers=cm.headers), 409)["state"] == (
        "ended"
    )
    assert inbox(app, coach, "mentoring.ended")


def test_parties_and_staff_see_a_mentorship_others_get_404(client, cm, other_member, customer):
    coach, newbie, mentorship_id = _proposed(client)
    url = f"{MENTORSHIPS}/{mentorship_id}"
    for actor in (coach, newbie, cm):
        assert ok(client.get(url, headers=actor.headers))["id"] == mentorship_id
    problem(client.get(url, headers=other_member.headers), 404)
    assert client.get(url, headers=customer.headers).status_code == 403
    problem(client.post(f"{url}/end", json={"reason": "x"}, headers=other_member.headers), 404)


def test_lists_of_mentorships_for_members_and_staff(client, cm, other_member):
    coach, newbie, mentorship_id = _proposed(client)
    mine = ok(client.get(f"{API}/me/mentorships", headers=coach.headers))
    assert [m["id"] for m in mine["items"]] == [mentorship_id]
    assert ok(client.get(f"{API}/me/mentorships?role=mentee", headers=coach.headers))["items"] == []
    theirs = ok(client.get(f"{API}/me/mentorships?role=mentee", headers=newbie.headers))
    assert theirs["items"][0]["mentor"]["member_id"] == coach.profile_id
    assert ok(client.get(f"{API}/me/mentorships", headers=other_member.headers))["items"] == []
    staff = ok(client.get(f"{MENTORSHIPS}?mentor_id={coach.profile_id}", headers=cm.headers))
    assert [m["id"] for m in staff["items"]] == [mentorship_id]
    none = ok(client.get(f"{MENTORSHIPS}?status=graduated", headers=cm.headers))
    assert none["items"] == [] and none["page"]["total"] == 0
    problem(client.get(f"{MENTORSHIPS}?status=nope", headers=cm.headers), 422)
    assert client.get(MENTORSHIPS, headers=coach.headers).status_code == 403


def test_the_daily_review_releases_the_mentees_of_an_ineligible_mentor(client):
    coach, newbie, mentorship_id = _proposed(client)
    ok(client.post(f"{MENTORSHIPS}/{mentorship_id}/accept", headers=coach.headers))
    fine = mentor(client)
    set_record(coach, ratings=12, stars=3)  # the average fell below 4.7
    assert review_mentors() == {"mentors": 1, "released": 1}
    commit()
    first, second = mentorships_of(newbie)
    assert first.status == "ended" and "no longer meets" in first.end_reason
    assert second.mentor_id == fine.profile_id
    # Nothing more to do on a second run.
    assert review_mentors() == {"mentors": 0, "released": 0}
    assert member_row(coach).level_rank == 3


def test_accepting_emits_mentorship_active_and_a_refused_move_nothing(client, recorded):
    coach, newbie, mentorship_id = _proposed(client)
    recorded.listen("mentorship.active", "mentorship.ended")
    ok(client.post(f"{MENTORSHIPS}/{mentorship_id}/accept", headers=coach.headers))
    again = client.post(f"{MENTORSHIPS}/{mentorship_id}/accept", headers=coach.headers)
    assert problem(again, 409)["state"] == "active"
    [event] = recorded.seen
    assert (event.name, event.subject_id, event.actor) == (
        "mentorship.active",
        mentorship_id,
        coach.user_id,
    )
    assert (event.payload["by"], event.payload["from_status"]) == ("mentor", "proposed")
    assert (event.payload["mentor_id"], event.payload["mentee_id"]) == (
        coach.profile_id,
        newbie.profile_id,
    )


def test_ending_emits_mentorship_ended_with_the_reason_set(client, recorded):
    coach, newbie, mentorship_id = _proposed(client)
    recorded.listen("mentorship.ended")
    body = ok(
        client.post(
            f"{MENTORSHIPS}/{mentorship_id}/end", json={"reason": "Moved"}, headers=newbie.headers
        )
    )
    assert body["status"] == "ended" and body["ended_at"] is not None
    [event] = recorded.seen
    assert (event.payload["by"], event.payload["to_status"]) == ("mentee", "ended")
