"""Sessions (notes, feedback, who sees what) and shadowing one of the mentor's real jobs."""

from datetime import UTC, datetime, timedelta

from crowd.core.db import commit
from mentoring.mentors.assignment import auto_assign
from tests.jobs.conftest import force_job_state, future
from tests.mentoring.conftest import API, inbox, mentor, ok, problem, starter

MENTORSHIPS = f"{API}/mentorships"


def _active(client):
    coach = mentor(client)
    newbie = starter()
    mentorship = auto_assign(newbie.profile_id)
    commit()
    ok(client.post(f"{MENTORSHIPS}/{mentorship.id}/accept", headers=coach.headers))
    return coach, newbie, mentorship.id


def _ago(**delta) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def _call(**overrides) -> dict:
    return {
        "kind": "call",
        "occurred_at": _ago(hours=2),
        "duration_minutes": 30,
        "mentor_notes": "Nervous about drilling tiles; practise on scraps.",
        **overrides,
    }


def test_the_mentor_logs_sessions_and_the_mentee_gives_feedback_once(client, cm):
    coach, newbie, mentorship_id = _active(client)
    url = f"{MENTORSHIPS}/{mentorship_id}/sessions"
    logged = ok(client.post(url, json=_call(), headers=coach.headers), 201)
    assert logged["kind"] == "call" and logged["mentor_notes"].startswith("Nervous")
    feedback_url = f"{url}/{logged['id']}/feedback"
    body = {"feedback": "Very helpful", "rating": 5}
    assert client.post(feedback_url, json=body, headers=coach.headers).status_code == 403
    given = ok(client.post(feedback_url, json=body, headers=newbie.headers))
    assert given["mentee_rating"] == 5 and given["mentor_notes"] is None
    assert problem(client.post(feedback_url, json=body, headers=newbie.headers), 409)["state"] == (
        "has_feedback"
    )
    # Notes: mentor and staff; feedback: everyone of the three.
    as_mentee = ok(client.get(url, headers=newbie.headers))["items"][0]
    assert as_mentee["mentor_notes"] is None and as_mentee["mentee_feedback"] == "Very helpful"
    as_staff = ok(client.get(url, headers=cm.headers))["items"][0]
    assert as_staff["mentor_notes"] and as_staff["mentee_feedback"] == "Very helpful"


def test_session_input_is_checked(client, other_member):
    coach, newbie, mentorship_id = _active(client)
    url = f"{MENTORSHIPS}/{mentorship_id}/sessions"
    ahead = _call(occurred_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
    assert (
        "occurred_at"
        in problem(client.post(url, json=ahead, headers=coach.headers), 422)["errors"]["json"]
    )
    assert (
        "kind"
        in problem(client.post(url, json=_call(kind="shadow"), headers=coach.headers), 422)[
            "errors"
        ]["json"]
    )
    assert client.post(url, json=_call(), headers=newbie.headers).status_code == 403
    problem(client.post(url, json=_call(), headers=other_member.headers), 404)
    problem(client.get(url, headers=other_member.headers), 404)
    rating = {"feedback": "x", "rating": 6}
    logged = ok(client.post(url, json=_call(), headers=coach.headers), 201)
    bad = client.post(f"{url}/{logged['id']}/feedback", json=rating, headers=newbie.headers)
    assert "rating" in problem(bad, 422)["errors"]["json"]
    missing = client.post(
        f"{url}/999999/feedback", json={**rating, "rating": 3}, headers=newbie.headers
    )
    problem(missing, 404)


def test_no_sessions_on_a_proposed_mentorship(client):
    coach = mentor(client)
    mentorship = auto_assign(starter().profile_id)
    commit()
    url = f"{MENTORSHIPS}/{mentorship.id}/sessions"
    assert problem(client.post(url, json=_call(), headers=coach.headers), 409)["state"] == (
        "proposed"
    )


def _assigned_job(make_job, customer, member, **columns):
    job = make_job(customer)
    start = future(24)
    force_job_state(
        job["id"],
        status="assigned",
        assigned_member_id=member.profile_id,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=2),
        **columns,
    )
    return job["id"]


def test_the_mentee_shadows_the_mentors_job_and_the_customer_sees_it(
    app, client, customer, other_customer, other_member, cm, make_job
):
    coach, newbie, mentorship_id = _active(client)
    job_id = _assigned_job(make_job, customer, coach)
    url = f"{MENTORSHIPS}/{mentorship_id}/shadow"
    session = ok(client.post(url, json={"job_id": job_id}, headers=coach.headers), 201)
    assert session["kind"] == "shadow" and session["job_id"] == job_id
    again = client.post(url, json={"job_id": job_id}, headers=coach.headers)
    assert problem(again, 409)["state"] == "shadowing"
    assert again.json["type"] == "https://crowd.example/problems/already-shadowing"
    shadows = f"{API}/jobs/{job_id}/shadows"
    for actor in (customer, coach, newbie, cm):
        items = ok(client.get(shadows, headers=actor.headers))["items"]
        assert [i["mentee"]["member_id"] for i in items] == [newbie.profile_id]
    assert items[0]["mentee"]["display_name"]
    problem(client.get(shadows, headers=other_customer.headers), 404)
    problem(client.get(shadows, headers=other_member.headers), 404)
    problem(client.get(f"{API}/jobs/999999/shadows", headers=cm.headers), 404)
    assert inbox(app, customer, "job.shadowed")


def test_only_the_mentors_own_unfinished_jobs_can_be_shadowed(client, customer, make_job):
    coach, newbie, mentorship_id = _active(client)
    url = f"{MENTORSHIPS}/{mentorship_id}/shadow"
    someone_elses = _assigned_job(make_job, customer, newbie)
    problem(client.post(url, json={"job_id": someone_elses}, headers=coach.headers), 404)
    done = _assigned_job(make_job, customer, coach)
    force_job_state(done, status="completed")
    assert (
        problem(client.post(url, json={"job_id": done}, headers=coach.headers), 409)["state"]
        == "completed"
    )
    own = _assigned_job(make_job, customer, coach)
    assert client.post(url, json={"job_id": own}, headers=newbie.headers).status_code == 403
    problem(client.post(url, json={"job_id": 999_999}, headers=coach.headers), 404)
