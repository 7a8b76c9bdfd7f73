"""Programmes through the Flask test client: the hub's counts, mentoring (mentors, mentorships,
the unmatched queue; assign, reassign, end, graduate, sessions, shadow jobs, CSV), top-performer
runs (start, decisions with figures, holders, revoke) and events (create, publish, eligible,
invite, attendance) — each action recorded exactly as the API records it, refusals shown on the
page with their status, and nobody but signed-in staff let in."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from crowd.core.db import commit
from crowd.extensions import db
from mentoring.mentors.assignment import auto_assign
from mentoring.models import (
    Event,
    EventInvitation,
    Mentorship,
    MentorshipSession,
    TopPerformerBadge,
    TopPerformerRun,
)
from tests.console.helpers import csrf_of, make_staff, post_form, sign_in
from tests.factories import PASSWORD, make_actor
from tests.jobs.conftest import force_job_state, future, make_job  # noqa: F401  (fixture)
from tests.mentoring.conftest import API, mentor, ok, starter
from tests.mentoring.test_events import programme_member, rsvp, start_event
from tests.mentoring.test_top_performers_support import current_quarter, performer

BASE = "/console/programmes"


@pytest.fixture
def cm(client):
    staff = make_staff()
    assert sign_in(client, staff).status_code == 303
    return staff


@pytest.fixture
def api_cm():
    return make_actor("community_manager")


def _html(response) -> str:
    return response.get_data(as_text=True)


def _get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, _html(response)[:2000]
    return _html(response)


def _proposed(client) -> tuple:
    coach = mentor(client)
    newbie = starter()
    mentorship = auto_assign(newbie.profile_id)
    commit()
    return coach, newbie, mentorship.id


def _active(client) -> tuple:
    coach, newbie, mentorship_id = _proposed(client)
    ok(client.post(f"{API}/mentorships/{mentorship_id}/accept", headers=coach.headers))
    return coach, newbie, mentorship_id


def _mentorship(mentorship_id: int) -> Mentorship:
    db.session.expire_all()
    return db.session.get(Mentorship, mentorship_id)


# --- the hub --------------------------------------------------------------------------------


def test_the_hub_counts_each_programme_area(client, cm, api_cm):
    _active(client)
    starter()  # waits: nobody assigns them automatically in a test
    html = _get(client, f"{BASE}/")
    assert re.search(r'data-figure="active_mentorships">\s*1\s*<', html)
    unmatched = re.search(r'data-figure="unmatched"><a [^>]*>(\d+)<', html)
    assert unmatched and int(unmatched.group(1)) == 1
    assert "none yet" in html  # no top-performer run
    assert re.search(r'data-figure="upcoming_events"><a [^>]*>0<', html)
    body = {
        "kind": "meetup",
        "title": "Meetup",
        "starts_at": future(48).isoformat(),
        "ends_at": future(50).isoformat(),
        "venue": "Hall",
        "city": "Berlin",
        "country": "DE",
        "capacity": 5,
    }
    ok(client.post(f"{API}/events", json=body, headers=api_cm.headers), 201)
    html = _get(client, f"{BASE}/")
    assert re.search(r'data-figure="upcoming_events"><a [^>]*>1<', html)
    # Links to every area, the communication pages (console_comms) included.
    for area in ("mentoring", "top-performers", "events", "broadcasts", "articles", "moderation"):
        assert f'href="{BASE}/{area}"' in html
    assert "are coming" not in html


# --- mentoring ------------------------------------------------------------------------------


def test_the_mentoring_page_lists_mentors_mentorships_and_the_unmatched(client, cm):
    coach, newbie, mentorship_id = _active(client)
    waiting = starter()
    html = _get(client, f"{BASE}/mentoring")
    assert f'data-mentor="{coach.profile_id}" data-availability="available"' in html
    assert f'data-mentorship="{mentorship_id}" data-status="active"' in html
    assert f'data-mentee="{waiting.profile_id}"' in html
    assert f'data-mentee="{newbie.profile_id}"' not in html  # has a mentor
    # Filters: status, availability, mentor.
    html = _get(client, f"{BASE}/mentoring?status=ended&availability=full")
    assert f'data-mentorship="{mentorship_id}"' not in html
    assert f'data-mentor="{coach.profile_id}"' not in html
    html = _get(client, f"{BASE}/mentoring?mentor_id={coach.profile_id}")
    assert f'data-mentorship="{mentorship_id}"' in html
    bad = client.get(f"{BASE}/mentoring?status=nope")
    assert bad.status_code == 422 and "status" in _html(bad)


def test_a_cm_assigns_a_mentor_to_an_unmatched_mentee(client, cm, api_cm):
    coach = mentor(client)
    newbie = starter()
    response = post_form(
        client,
        f"{BASE}/mentoring",
        f"{BASE}/mentoring/assign",
        mentee_id=str(newbie.profile_id),
        mentor_id=str(coach.profile_id),
    )
    assert response.status_code == 303
    [made] = db.session.scalars(
        select(Mentorship).where(Mentorship.mentee_id == newbie.profile_id)
    ).all()
    assert (made.mentor_id, made.status, made.origin) == (coach.profile_id, "proposed", "staff")
    assert response.headers["Location"].startswith(f"{BASE}/mentoring/{made.id}")
    listed = ok(
        client.get(f"{API}/mentorships?mentee_id={newbie.profile_id}", headers=api_cm.headers)
    )
    assert [m["id"] for m in listed["items"]] == [made.id]
    # The same mentee again: the API's 409, on the page, nothing more created.
    again = post_form(
        client,
        f"{BASE}/mentoring",
        f"{BASE}/mentoring/assign",
        mentee_id=str(newbie.profile_id),
        mentor_id=str(coach.profile_id),
    )
    assert again.status_code == 409 and "has a mentor already" in _html(again)
    assert db.session.query(Mentorship).filter_by(mentee_id=newbie.profile_id).count() == 1


def test_assigning_is_checked_by_the_apis_schema_and_rules(client, cm):
    newbie = starter()
    not_a_mentor = starter()
    missing = post_form(
        client, f"{BASE}/mentoring", f"{BASE}/mentoring/assign", mentee_id=str(newbie.profile_id)
    )
    assert missing.status_code == 422 and "mentor_id" in _html(missing)
    refused = post_form(
        client,
        f"{BASE}/mentoring",
        f"{BASE}/mentoring/assign",
        mentee_id=str(newbie.profile_id),
        mentor_id=str(not_a_mentor.profile_id),
    )
    assert refused.status_code == 409 and "not an opted-in mentor" in _html(refused)
    assert db.session.query(Mentorship).filter_by(mentee_id=newbie.profile_id).count() == 0


def test_reassign_ends_the_mentorship_and_proposes_the_new_mentor(client, cm):
    coach, newbie, mentorship_id = _active(client)
    other = mentor(client)
    page = f"{BASE}/mentoring/{mentorship_id}"
    response = post_form(
        client, page, f"{page}/reassign", mentor_id=str(other.profile_id), reason="Moved town"
    )
    assert response.status_code == 303
    old = _mentorship(mentorship_id)
    assert old.status == "ended" and "reassigned: Moved town" in old.end_reason
    new = db.session.scalar(
        select(Mentorship).where(
            Mentorship.mentee_id == newbie.profile_id, Mentorship.status == "proposed"
        )
    )
    assert new.mentor_id == other.profile_id
    assert response.headers["Location"].startswith(f"{BASE}/mentoring/{new.id}")


def test_a_refused_reassignment_changes_nothing(client, cm):
    coach, newbie, mentorship_id = _active(client)
    full = mentor(client, body={"capacity": 1})
    _, _, _ = _proposed_to(client, full)
    page = f"{BASE}/mentoring/{mentorship_id}"
    response = post_form(
        client, page, f"{page}/reassign", mentor_id=str(full.profile_id), reason="Try"
    )
    assert response.status_code == 409, _html(response)
    assert "no spare capacity" in _html(response), re.findall(
        r'role="alert">([^<]*)', _html(response)
    )
    assert _mentorship(mentorship_id).status == "active"  # the end was rolled back too
    same = post_form(
        client, page, f"{page}/reassign", mentor_id=str(coach.profile_id), reason="Same"
    )
    assert same.status_code == 422 and "current mentor" in _html(same)
    assert _mentorship(mentorship_id).status == "active"


def _proposed_to(client, coach):
    """A Starter matched (proposed) with `coach`."""
    newbie = starter()
    made = auto_assign(newbie.profile_id)
    commit()
    assert made.mentor_id == coach.profile_id
    return coach, newbie, made.id


def test_end_needs_a_reason_and_leaves_the_mentee_unmatched(client, cm):
    coach, newbie, mentorship_id = _active(client)
    page = f"{BASE}/mentoring/{mentorship_id}"
    refused = post_form(client, page, f"{page}/end", reason="  ")
    assert refused.status_code == 422 and "reason" in _html(refused)
    assert _mentorship(mentorship_id).status == "active"
    assert post_form(client, page, f"{page}/end", reason="Not a fit").status_code == 303
    ended = _mentorship(mentorship_id)
    assert ended.status == "ended" and ended.end_reason == "ended by the staff: Not a fit"
    assert f'data-mentee="{newbie.profile_id}"' in _get(client, f"{BASE}/mentoring")
    again = post_form(client, page, f"{page}/end", reason="Twice")
    assert again.status_code == 409 and "Cannot end a mentorship that is ended" in _html(again)


def test_graduate_pays_the_mentor_and_is_refused_unless_active(client, cm, api_cm):
    coach, newbie, proposed_id = _proposed(client)
    page = f"{BASE}/mentoring/{proposed_id}"
    html = _get(client, page)
    assert "Graduate the mentee" not in html  # offered on active mentorships only
    refused = client.post(f"{page}/graduate", data={"csrf_token": csrf_of(html)})
    assert refused.status_code == 409 and "Cannot graduate a mentorship that is proposed" in _html(
        refused
    )
    ok(client.post(f"{API}/mentorships/{proposed_id}/accept", headers=coach.headers))
    assert post_form(client, page, f"{page}/graduate").status_code == 303
    done = _mentorship(proposed_id)
    assert (done.status, done.graduation_cause) == ("graduated", "staff")
    assert done.reward_transaction_id is not None
    shown = ok(client.get(f"{API}/mentorships/{proposed_id}", headers=api_cm.headers))
    assert shown["status"] == "graduated" and shown["graduation_cause"] == "staff"


def test_graduate_through_the_api_is_staff_only(client, api_cm):
    coach, newbie, mentorship_id = _active(client)
    url = f"{API}/mentorships/{mentorship_id}/graduate"
    assert client.post(url, headers=coach.headers).status_code == 403
    assert client.post(url, headers=newbie.headers).status_code == 403
    ok(client.post(url, headers=api_cm.headers))
    assert client.post(url, headers=api_cm.headers).status_code == 409


def test_reassign_through_the_api(client, api_cm):
    coach, newbie, mentorship_id = _active(client)
    other = mentor(client)
    url = f"{API}/mentorships/{mentorship_id}/reassign"
    body = {"mentor_id": other.profile_id, "reason": "Closer to home"}
    assert client.post(url, json=body, headers=coach.headers).status_code == 403
    made = ok(client.post(url, json=body, headers=api_cm.headers), 201)
    assert made["mentor"]["member_id"] == other.profile_id and made["status"] == "proposed"
    assert _mentorship(mentorship_id).status == "ended"


def test_a_cm_logs_a_session_and_adds_a_shadow_job(client, cm, customer, make_job):  # noqa: F811
    coach, newbie, mentorship_id = _active(client)
    page = f"{BASE}/mentoring/{mentorship_id}"
    ahead = (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    refused = post_form(client, page, f"{page}/sessions", kind="call", occurred_at=ahead)
    assert refused.status_code == 422 and "must not be in the future" in _html(refused)
    earlier = (datetime.now(UTC) - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    logged = post_form(
        client,
        page,
        f"{page}/sessions",
        kind="call",
        occurred_at=earlier,
        duration_minutes="30",
        mentor_notes="Talked about pricing",
    )
    assert logged.status_code == 303
    [session] = db.session.scalars(
        select(MentorshipSession).where(MentorshipSession.mentorship_id == mentorship_id)
    ).all()
    assert (session.kind, session.duration_minutes, session.logged_by_id) == (
        "call",
        30,
        cm.user_id,
    )
    job = make_job(customer)
    start = future(24)
    force_job_state(
        job["id"],
        status="assigned",
        assigned_member_id=coach.profile_id,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=2),
    )
    assert post_form(client, page, f"{page}/shadow", job_id=str(job["id"])).status_code == 303
    again = post_form(client, page, f"{page}/shadow", job_id=str(job["id"]))
    assert again.status_code == 409 and "shadows this job already" in _html(again)
    html = _get(client, page)
    assert 'data-kind="shadow"' in html and "Talked about pricing" in html
    unknown = post_form(client, page, f"{page}/shadow", job_id="999999")
    assert unknown.status_code == 404


def test_the_mentorships_csv_keeps_the_filter(client, cm):
    _, _, active_id = _active(client)
    _, _, proposed_id = _proposed(client)
    response = client.get(f"{BASE}/mentoring/mentorships.csv?status=active")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert table[0][:3] == ["id", "status", "origin"]
    ids = [int(row[0]) for row in table[1:]]
    assert active_id in ids and proposed_id not in ids
    assert client.get(f"{BASE}/mentoring/mentorships.csv?status=nope").status_code == 422


# --- top performers -------------------------------------------------------------------------


def test_a_cm_starts_a_run_and_reads_every_decision_with_its_figures(client, cm, customer, api_cm):
    at = current_quarter().start - timedelta(days=30)
    best = performer(customer, at=at, stars=5)
    few = performer(customer, jobs=5, at=at)
    response = post_form(client, f"{BASE}/top-performers", f"{BASE}/top-performers/runs")
    assert response.status_code == 303
    run = db.session.scalar(select(TopPerformerRun).order_by(TopPerformerRun.id.desc()))
    assert response.headers["Location"].startswith(f"{BASE}/top-performers/runs/{run.id}")
    html = _get(client, f"{BASE}/top-performers/runs/{run.id}")
    decisions = ok(
        client.get(f"{API}/top-performer-runs/{run.id}/decisions", headers=api_cm.headers)
    )["items"]
    assert len(decisions) == 2
    for decision in decisions:
        row = re.search(rf'<tr data-decision="{decision["id"]}".*?</tr>', html, re.S).group(0)
        assert f'data-figure="jobs">{decision["figures"]["jobs"]}<' in row
        gates = ", ".join(decision["failed_gates"]) or "none"
        assert f'data-figure="failed_gates">{gates}<' in row
    assert f'data-member="{best.profile_id}" data-awarded="yes"' in html
    assert f'data-member="{few.profile_id}" data-awarded="no"' in html
    only = _get(client, f"{BASE}/top-performers/runs/{run.id}?awarded=true")
    assert f'data-member="{few.profile_id}"' not in only
    bad = client.get(f"{BASE}/top-performers/runs/{run.id}?category=nope")
    assert bad.status_code == 422 and "unknown category" in _html(bad)
    # The same period again: the API's 409 on the page.
    again = post_form(client, f"{BASE}/top-performers", f"{BASE}/top-performers/runs")
    assert again.status_code == 409
    assert db.session.query(TopPerformerRun).count() == 1
    future_period = post_form(
        client, f"{BASE}/top-performers", f"{BASE}/top-performers/runs", period="2999-Q1"
    )
    assert future_period.status_code == 422 and "has not begun yet" in _html(future_period)
    assert client.get(f"{BASE}/top-performers/runs/999999").status_code == 404


def test_holders_are_listed_and_a_badge_is_revoked_with_a_reason(client, cm, customer):
    at = current_quarter().start - timedelta(days=30)
    best = performer(customer, at=at, stars=5)
    post_form(client, f"{BASE}/top-performers", f"{BASE}/top-performers/runs")
    badge = db.session.scalar(
        select(TopPerformerBadge).where(TopPerformerBadge.member_id == best.profile_id)
    )
    html = _get(client, f"{BASE}/top-performers")
    assert f'data-badge="{badge.id}"' in html
    page, url = f"{BASE}/top-performers", f"{BASE}/top-performers/badges/{badge.id}/revoke"
    refused = post_form(client, page, url, reason=" ")
    assert refused.status_code == 422 and "reason" in _html(refused)
    assert post_form(client, page, url, reason="Fake reviews").status_code == 303
    db.session.expire_all()
    revoked = db.session.get(TopPerformerBadge, badge.id)
    assert revoked.revoked_at is not None and revoked.revoke_reason == "Fake reviews"
    assert f'data-badge="{badge.id}"' not in _get(client, page)
    twice = post_form(client, page, url, reason="Again")
    assert twice.status_code == 409
    assert (
        post_form(
            client, page, f"{BASE}/top-performers/badges/999999/revoke", reason="x"
        ).status_code
        == 404
    )


# --- events ---------------------------------------------------------------------------------


def _event_form(**overrides) -> dict:
    start = datetime.now(UTC) + timedelta(days=10)
    fields = {
        "kind": "meetup",
        "title": "Crowd meetup Hamburg",
        "description": "Tips and coffee",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        "venue": "Hafenhalle",
        "city": "Hamburg",
        "country": "DE",
        "capacity": "2",
    }
    fields.update(overrides)
    return fields


def test_creating_an_event_uses_the_apis_schema(client, cm):
    new = f"{BASE}/events/new"
    missing = post_form(client, new, **_event_form(title=""))
    assert missing.status_code == 422 and "title" in _html(missing)
    backwards = _event_form()
    backwards["ends_at"] = (datetime.now(UTC) + timedelta(days=9)).strftime("%Y-%m-%dT%H:%M")
    refused = post_form(client, new, **backwards)
    assert refused.status_code == 422 and "must be after starts_at" in _html(refused)
    assert 'value="Crowd meetup Hamburg"' in _html(refused)  # the form keeps what was typed
    assert db.session.query(Event).count() == 0
    made = post_form(client, new, **_event_form())
    assert made.status_code == 303
    event = db.session.scalar(select(Event))
    assert (event.title, event.status, event.capacity, event.created_by_id) == (
        "Crowd meetup Hamburg",
        "draft",
        2,
        cm.user_id,
    )
    html = _get(client, f"{BASE}/events")
    assert f'data-event="{event.id}" data-status="draft"' in html
    assert f'data-event="{event.id}"' not in _get(client, f"{BASE}/events?status=published")
    assert client.get(f"{BASE}/events?status=nope").status_code == 422


def test_publish_list_eligible_invite_rsvp_and_attendance(client, cm):
    post_form(client, f"{BASE}/events/new", **_event_form())
    event = db.session.scalar(select(Event))
    page = f"{BASE}/events/{event.id}"
    coach = programme_member(mentor=True)
    top = programme_member(top=True)
    third = programme_member(mentor=True)
    outsider = programme_member()
    # Inviting before publishing: the API's 409.
    early = post_form(client, page, f"{page}/invitations", member_ids=str(coach.profile_id))
    assert early.status_code == 409 and "Publish the event before inviting" in _html(early)
    assert post_form(client, page, f"{page}/publish").status_code == 303
    assert post_form(client, page, f"{page}/eligible").status_code == 303
    html = _get(client, page)
    for member in (coach, top, third):
        assert f'data-member="{member.profile_id}" data-status="eligible"' in html
    assert f'data-member="{outsider.profile_id}"' not in html
    # A checked selection; someone not eligible is refused by name and nothing changes.
    refused = post_form(
        client,
        page,
        f"{page}/invitations",
        member_ids=[str(coach.profile_id), str(outsider.profile_id)],
    )
    assert refused.status_code == 422 and str(outsider.profile_id) in _html(refused)
    assert _status_of(event.id, coach) == "eligible"
    assert (
        post_form(client, page, f"{page}/invitations", member_ids=str(coach.profile_id)).status_code
        == 303
    )
    assert _status_of(event.id, coach) == "invited"
    assert _status_of(event.id, top) == "eligible"
    # Everyone eligible.
    assert post_form(client, page, f"{page}/invitations", all="1").status_code == 303
    assert {_status_of(event.id, m) for m in (coach, top, third)} == {"invited"}
    # RSVPs through the API show on the page.
    for member in (coach, top):
        assert rsvp(client, member, _invitation(event.id, member), "accept").status_code == 200
    assert rsvp(client, third, _invitation(event.id, third), "decline").status_code == 200
    html = _get(client, page)
    assert f'data-member="{coach.profile_id}" data-status="accepted"' in html
    assert f'data-member="{third.profile_id}" data-status="declined"' in html
    # Attendance only once the event started.
    marks = {f"mark-{coach.profile_id}": "attend", f"mark-{top.profile_id}": "no_show"}
    early = post_form(client, page, f"{page}/attendance", **marks)
    assert early.status_code == 409 and "has not started yet" in _html(early)
    start_event(event.id)
    declined = post_form(
        client, page, f"{page}/attendance", **{f"mark-{third.profile_id}": "attend"}
    )
    assert declined.status_code == 409 and "Only accepted invitations" in _html(declined)
    nothing = post_form(client, page, f"{page}/attendance")
    assert nothing.status_code == 422
    assert post_form(client, page, f"{page}/attendance", **marks).status_code == 303
    assert _status_of(event.id, coach) == "attended"
    assert _status_of(event.id, top) == "no_show"


def test_cancel_and_unknown_events(client, cm):
    post_form(client, f"{BASE}/events/new", **_event_form())
    event = db.session.scalar(select(Event))
    page = f"{BASE}/events/{event.id}"
    assert post_form(client, page, f"{page}/cancel").status_code == 303
    db.session.expire_all()
    assert db.session.get(Event, event.id).status == "cancelled"
    again = client.post(f"{page}/publish", data={"csrf_token": csrf_of(_get(client, page))})
    assert again.status_code == 409 and "Cannot publish an event that is cancelled" in _html(again)
    assert client.get(f"{BASE}/events/999999").status_code == 404


def _invitation(event_id: int, member) -> int:
    return db.session.scalar(
        select(EventInvitation.id).where(
            EventInvitation.event_id == event_id,
            EventInvitation.member_id == member.profile_id,
        )
    )


def _status_of(event_id: int, member) -> str:
    db.session.expire_all()
    return db.session.scalar(
        select(EventInvitation.status).where(
            EventInvitation.event_id == event_id,
            EventInvitation.member_id == member.profile_id,
        )
    )


# --- who may --------------------------------------------------------------------------------

PAGES = (
    "/",
    "/mentoring",
    "/mentoring/mentorships.csv",
    "/top-performers",
    "/events",
    "/events/new",
)


@pytest.mark.parametrize("path", PAGES)
def test_pages_need_a_signed_in_staff_member(client, path):
    response = client.get(f"{BASE}{path}")
    assert response.status_code in (302, 303)
    assert "/console/sign-in" in response.headers["Location"]


@pytest.mark.parametrize("role", ["member", "customer"])
def test_members_and_customers_get_no_programme_pages(client, role):
    actor = make_actor(role)
    html = _html(client.get("/console/sign-in"))
    response = client.post(
        "/console/sign-in",
        data={"csrf_token": csrf_of(html), "email": actor.email, "password": PASSWORD},
    )
    assert response.status_code == 403
    assert client.get(f"{BASE}/mentoring").status_code in (302, 303)


def test_a_cm_without_the_second_factor_is_not_let_in(client):
    staff = make_staff()
    response = post_form(client, "/console/sign-in", email=staff.email, password=PASSWORD)
    assert response.headers["Location"].startswith("/console/two-factor")
    pending = client.get(f"{BASE}/mentoring")
    assert pending.status_code in (302, 303)
    assert (
        "/console/two-factor" in pending.headers["Location"]
        or "sign-in" in pending.headers["Location"]
    )


def test_forms_without_csrf_token_are_refused(client, cm):
    coach = mentor(client)
    newbie = starter()
    response = client.post(
        f"{BASE}/mentoring/assign",
        data={"mentee_id": newbie.profile_id, "mentor_id": coach.profile_id},
    )
    assert response.status_code == 400
    forged = client.post(f"{BASE}/events/new", data={**_event_form(), "csrf_token": "forged"})
    assert forged.status_code == 400
    assert db.session.query(Mentorship).filter_by(mentee_id=newbie.profile_id).count() == 0
    assert db.session.query(Event).count() == 0
