"""Automatic assignment, a community manager's pairing, a mentor's claim, the unmatched list."""

from datetime import timedelta

from crowd.core.background import enqueue
from crowd.core.db import commit, utcnow
from crowd.extensions import db
from mentoring.mentors.assignment import auto_assign, candidates
from mentoring.models import MentorProfile
from tests.mentoring.conftest import (
    API,
    eligible_member,
    inbox,
    member_row,
    mentor,
    mentorships_of,
    ok,
    problem,
    starter,
)

MENTORSHIPS = f"{API}/mentorships"


def test_a_starter_is_proposed_the_best_fitting_mentor(app, client):
    # Same skill set, but farther away (Potsdam ~27 km) and with a mentee already.
    far = mentor(client, lat=52.39, lon=13.06)
    busy = mentor(client)
    auto_assign(starter().profile_id)  # busy (closer) takes the first
    commit()
    near = mentor(client, lat=52.52, lon=13.41)
    newbie = starter()
    mentorship = auto_assign(newbie.profile_id)
    commit()
    assert mentorship.mentor_id == near.profile_id
    assert mentorship.status == "proposed" and mentorship.origin == "system"
    details = mentorship.match_details
    assert details["skill_overlap"] == 1 and details["skill_jaccard"] == 1.0
    assert details["distance_km"] < 1 and details["current_mentees"] == 0
    assert details["candidates"] == 3
    ranked = [c.member_id for c in candidates(member_row(starter()))]
    assert set(ranked) == {near.profile_id, busy.profile_id, far.profile_id}
    assert ranked[-1] == far.profile_id  # farthest
    assert inbox(app, near, "mentoring.mentee_proposed")
    assert inbox(app, newbie, "mentoring.mentor_proposed")


def test_ties_go_to_the_lower_member_id(client):
    first, second = mentor(client), mentor(client)
    ranked = candidates(member_row(starter()))
    assert [c.member_id for c in ranked] == sorted([first.profile_id, second.profile_id])
    assert ranked[0].score == ranked[1].score


def test_mentors_who_cannot_serve_the_mentee_are_no_candidates(client):
    mentor(client, body={"countries": ["AT"]})  # another country
    mentor(client, lat=48.137, lon=11.575)  # Munich: beyond 50 km
    mentor(client, skills=("tv_wall_mount", "router_config"), body={"skills": ["router_config"]})
    away = mentor(client)
    db.session.get(MentorProfile, away.profile_id).away_until = utcnow() + timedelta(days=2)
    commit()
    full = mentor(client, body={"capacity": 1})
    auto_assign(starter().profile_id)
    commit()
    ineligible = mentor(client)
    member_row(ineligible).level_rank = 2
    commit()
    newbie = starter()
    assert candidates(member_row(newbie)) == []
    assert auto_assign(newbie.profile_id) is None
    assert full.profile_id != newbie.profile_id


def test_an_unmatched_starter_is_listed_for_community_managers(client, cm, member):
    newbie = starter()
    assert auto_assign(newbie.profile_id) is None
    commit()
    page = ok(client.get(f"{MENTORSHIPS}/unmatched", headers=cm.headers))
    ids = [item["member_id"] for item in page["items"]]
    assert newbie.profile_id in ids and member.profile_id not in ids  # an applicant is not
    assert client.get(f"{MENTORSHIPS}/unmatched", headers=member.headers).status_code == 403


def test_the_assign_task_is_idempotent(app, client):
    coach = mentor(client)
    newbie = starter()
    enqueue("mentoring.assign_mentor", mentee_id=newbie.profile_id)
    enqueue("mentoring.assign_mentor", mentee_id=newbie.profile_id)
    commit()
    assert [(m.mentor_id, m.status) for m in mentorships_of(newbie)] == [
        (coach.profile_id, "proposed")
    ]


def test_a_community_manager_pairs_a_starter_with_a_mentor(client, cm):
    coach = mentor(client)
    newbie = starter()
    body = {"mentee_id": newbie.profile_id, "mentor_id": coach.profile_id}
    created = ok(client.post(MENTORSHIPS, json=body, headers=cm.headers), 201)
    assert created["status"] == "proposed" and created["origin"] == "staff"
    assert created["mentor"]["member_id"] == coach.profile_id
    again = problem(client.post(MENTORSHIPS, json=body, headers=cm.headers), 409)
    assert again["state"] == "has_mentor"


def test_a_pairing_needs_an_able_mentor_and_a_starter(client, cm, member):
    newbie = starter()
    plain = eligible_member()  # eligible but never opted in
    body = {"mentee_id": newbie.profile_id, "mentor_id": plain.profile_id}
    assert problem(client.post(MENTORSHIPS, json=body, headers=cm.headers), 409)["state"] == (
        "not_a_mentor"
    )
    full = mentor(client, body={"capacity": 1})
    auto_assign(starter().profile_id)
    commit()
    body["mentor_id"] = full.profile_id
    assert problem(client.post(MENTORSHIPS, json=body, headers=cm.headers), 409)["state"] == "full"
    coach = mentor(client)
    senior = {"mentee_id": plain.profile_id, "mentor_id": coach.profile_id}
    assert problem(client.post(MENTORSHIPS, json=senior, headers=cm.headers), 409)["state"] == (
        "not_a_starter"
    )
    ghost = {"mentee_id": 999_999, "mentor_id": coach.profile_id}
    problem(client.post(MENTORSHIPS, json=ghost, headers=cm.headers), 404)
    assert client.post(MENTORSHIPS, json=senior, headers=member.headers).status_code == 403
    assert problem(client.post(MENTORSHIPS, json={}, headers=cm.headers), 422)["errors"]


def test_a_mentor_claims_an_unmatched_starter(app, client):
    coach = mentor(client)
    newbie = starter()
    claimed = ok(
        client.post(
            f"{API}/me/mentees", json={"mentee_id": newbie.profile_id}, headers=coach.headers
        ),
        201,
    )
    assert claimed["status"] == "active" and claimed["origin"] == "mentor"
    assert claimed["accepted_at"] is not None
    rival = mentor(client)
    second = client.post(
        f"{API}/me/mentees", json={"mentee_id": newbie.profile_id}, headers=rival.headers
    )
    assert problem(second, 409)["state"] == "has_mentor"
    assert second.json["type"] == "https://crowd.example/problems/has-mentor"
    assert inbox(app, newbie, "mentoring.mentor_assigned")


def test_only_an_opted_in_mentor_may_claim(client):
    plain = eligible_member()
    newbie = starter()
    refused = client.post(
        f"{API}/me/mentees", json={"mentee_id": newbie.profile_id}, headers=plain.headers
    )
    assert problem(refused, 409)["state"] == "not_a_mentor"
    assert refused.json["type"] == "https://crowd.example/problems/mentor-unavailable"
    assert mentorships_of(newbie) == []


def test_claiming_a_member_outside_the_working_crowd_is_404_as_for_no_one(client):
    """An applicant, a suspended or a departed member cannot be told from an unused id."""
    coach = mentor(client)
    missing = client.post(f"{API}/me/mentees", json={"mentee_id": 999999}, headers=coach.headers)
    for status in ("applicant", "suspended", "offboarded"):
        hidden = starter()
        member_row(hidden).status = status
        db.session.commit()
        refused = client.post(
            f"{API}/me/mentees", json={"mentee_id": hidden.profile_id}, headers=coach.headers
        )
        assert problem(refused, 404)["detail"] == problem(missing, 404)["detail"]
        assert mentorships_of(hidden) == []
