"""Mentor eligibility, opt-in with capacity/skills/regions, away mode and opt-out."""

from datetime import UTC, datetime, timedelta

from crowd.extensions import db
from jobs.models import Job
from mentoring.mentors.assignment import auto_assign
from tests.jobs.conftest import force_job_state
from tests.mentoring.conftest import (
    API,
    eligible_member,
    inbox,
    mentor,
    mentorships_of,
    ok,
    opt_in,
    problem,
    set_record,
    starter,
)

ME = f"{API}/me/mentor"


def _criteria(body) -> dict[str, bool]:
    return {c["name"]: c["met"] for c in body["criteria"]}


def test_eligibility_explains_each_criterion(client):
    senior = eligible_member()
    body = ok(client.get(f"{ME}/eligibility", headers=senior.headers))
    assert body["eligible"] is True
    assert _criteria(body) == dict.fromkeys(
        ["status", "level", "ratings", "rating", "no_open_dispute"], True
    )

    newbie = starter()
    body = ok(client.get(f"{ME}/eligibility", headers=newbie.headers))
    assert body["eligible"] is False
    level = next(c for c in body["criteria"] if c["name"] == "level")
    assert level == {"name": "level", "met": False, "required": "rank ≥ 3", "actual": "1"}
    assert _criteria(body)["ratings"] is False


def test_a_low_average_or_too_few_ratings_are_not_eligible(client):
    average = eligible_member()
    set_record(average, ratings=20, stars=4)
    assert (
        _criteria(ok(client.get(f"{ME}/eligibility", headers=average.headers)))["rating"] is False
    )
    few = eligible_member()
    set_record(few, ratings=3, stars=5)
    body = ok(client.get(f"{ME}/eligibility", headers=few.headers))
    assert _criteria(body)["ratings"] is False and _criteria(body)["rating"] is True


def test_an_open_dispute_makes_a_member_ineligible(client, customer, make_job):
    senior = eligible_member()
    job = make_job(customer)
    force_job_state(job["id"], status="disputed", assigned_member_id=senior.profile_id)
    body = ok(client.get(f"{ME}/eligibility", headers=senior.headers))
    assert _criteria(body)["no_open_dispute"] is False
    refused = problem(opt_in(client, senior), 409)
    assert refused["state"] == "not_eligible" and refused["reasons"] == ["no_open_dispute"]
    force_job_state(job["id"], status="confirmed")
    assert ok(client.get(f"{ME}/eligibility", headers=senior.headers))["eligible"] is True
    assert db.session.get(Job, job["id"]).status == "confirmed"


def test_an_eligible_member_opts_in_and_reads_the_profile(client):
    senior = eligible_member()
    problem(client.get(ME, headers=senior.headers), 404)
    body = ok(opt_in(client, senior, countries=["DE", "AT", "DE"], capacity=3))
    assert body["opted_in"] is True and body["capacity"] == 3
    assert body["skills"] == ["tv_wall_mount"] and body["countries"] == ["AT", "DE"]
    assert body["spare_capacity"] == 3 and body["current_mentees"] == 0
    assert ok(client.get(ME, headers=senior.headers)) == body


def test_opting_in_is_refused_to_the_ineligible_with_reasons(client):
    newbie = starter()
    refused = problem(opt_in(client, newbie), 409)
    assert refused["state"] == "not_eligible"
    assert set(refused["reasons"]) == {"level", "ratings", "rating"}


def test_opting_in_validates_skills_capacity_and_countries(client):
    senior = eligible_member()
    wrong = problem(opt_in(client, senior, skills=["router_config"]), 422)
    assert "skills" in wrong["errors"]["json"]
    assert "capacity" in problem(opt_in(client, senior, capacity=11), 422)["errors"]["json"]
    assert "countries" in problem(opt_in(client, senior, countries=["FR"]), 422)["errors"]["json"]
    assert "extra" in problem(opt_in(client, senior, extra=1), 422)["errors"]["json"]


def test_only_members_reach_the_mentor_profile(client, customer, cm):
    assert client.get(ME).status_code == 401
    assert client.get(ME, headers=customer.headers).status_code == 403
    assert client.put(ME, json={}, headers=cm.headers).status_code == 403


def test_away_mode_must_lie_ahead_and_a_short_absence_keeps_mentees(client):
    coach = mentor(client)
    newbie = starter()
    auto_assign(newbie.profile_id)
    db.session.commit()
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert (
        "away_until"
        in problem(client.patch(ME, json={"away_until": past}, headers=coach.headers), 422)[
            "errors"
        ]["json"]
    )
    soon = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    body = ok(client.patch(ME, json={"away_until": soon}, headers=coach.headers))
    assert body["away_until"] is not None and body["current_mentees"] == 1
    assert [m.status for m in mentorships_of(newbie)] == ["proposed"]
    # Away: no new mentee meanwhile.
    other = starter()
    assert auto_assign(other.profile_id) is None
    back = ok(client.patch(ME, json={"away_until": None}, headers=coach.headers))
    assert back["away_until"] is None


def test_a_long_absence_hands_the_mentees_to_another_mentor(app, client):
    coach = mentor(client)
    newbie = starter()
    auto_assign(newbie.profile_id)
    db.session.commit()
    backup = mentor(client)
    later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    ok(client.patch(ME, json={"away_until": later}, headers=coach.headers))
    first, second = mentorships_of(newbie)
    assert first.mentor_id == coach.profile_id and first.status == "ended"
    assert "away" in first.end_reason
    assert second.mentor_id == backup.profile_id and second.status == "proposed"
    assert inbox(app, newbie, "mentoring.released")


def test_opting_out_reassigns_the_mentees_and_hides_the_profile(client):
    coach = mentor(client)
    newbie = starter()
    auto_assign(newbie.profile_id)
    db.session.commit()
    backup = mentor(client)
    assert client.delete(ME, headers=coach.headers).status_code == 204
    problem(client.get(ME, headers=coach.headers), 404)
    problem(client.delete(ME, headers=coach.headers), 404)
    first, second = mentorships_of(newbie)
    assert (first.status, second.mentor_id) == ("ended", backup.profile_id)
    # Opting in again is allowed.
    assert ok(opt_in(client, coach))["opted_in"] is True
