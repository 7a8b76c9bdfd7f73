"""Programmes in a real browser (Chromium via Playwright): a CM signs in with TOTP, opens the
unmatched mentees queue from the programmes hub, assigns a mentor to a mentee and the mentorship
shows through the API; creates an event, publishes it, lists and invites the eligible members
and marks attendance after their RSVPs; reads a top-performer run's decisions. axe-core finds
no serious or critical violation on any programmes page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from crowd.extensions import db
from mentoring.models import Event, EventInvitation, Mentorship, TopPerformerRun
from tests.console.helpers import make_staff
from tests.factories import PASSWORD, make_actor
from tests.mentoring.conftest import API, mentor, starter
from tests.mentoring.test_events import programme_member, rsvp, start_event
from tests.mentoring.test_top_performers_support import current_quarter, performer

pytestmark = pytest.mark.committing


def _sign_in(page, staff) -> None:
    page.goto("/console/sign-in")
    page.locator("#email").fill(staff.email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    page.locator("#code").fill(staff.code())
    page.locator("#code").press("Enter")
    page.wait_for_url("**/console/my-work")


def test_a_cm_assigns_a_mentor_from_the_unmatched_queue(
    new_page, client, screenshot, check_accessibility
):
    cm = make_staff()
    api_cm = make_actor("community_manager")
    coach = mentor(client, display_name="Marta Mentor")
    newbie = starter(display_name="Nico Neu")
    db.session.commit()
    page = new_page()
    _sign_in(page, cm)

    page.get_by_role("navigation", name="Areas").get_by_role("link", name="Programmes").click()
    page.wait_for_url("**/console/programmes/")
    assert int(page.locator('[data-figure="unmatched"]').inner_text()) >= 1
    check_accessibility(page)
    screenshot(page, "hub")

    page.locator('[data-figure="unmatched"] a').click()
    page.wait_for_url("**/console/programmes/mentoring#unmatched")
    row = page.locator(f'#unmatched tr[data-mentee="{newbie.profile_id}"]')
    assert "Nico Neu" in row.inner_text()
    check_accessibility(page)
    screenshot(page, "mentoring")
    row.locator("select").select_option(str(coach.profile_id))
    row.get_by_role("button", name="Assign").click()
    page.wait_for_url("**/console/programmes/mentoring/*")
    assert "Marta Mentor" in page.get_by_role("heading", level=1).inner_text()
    assert page.locator("#mentorship-status").inner_text() == "proposed"
    check_accessibility(page)
    screenshot(page, "mentorship")

    listed = client.get(
        f"{API}/mentorships?mentee_id={newbie.profile_id}", headers=api_cm.headers
    ).get_json()["items"]
    assert [(m["mentor"]["member_id"], m["status"], m["origin"]) for m in listed] == [
        (coach.profile_id, "proposed", "staff")
    ]
    mentorship_id = listed[0]["id"]
    assert page.url.split("?")[0].endswith(f"/console/programmes/mentoring/{mentorship_id}")
    db.session.expire_all()
    assert db.session.get(Mentorship, mentorship_id).created_by_id == cm.user_id


def test_a_cm_creates_an_event_invites_the_eligible_and_marks_attendance(
    new_page, client, screenshot, check_accessibility
):
    cm = make_staff()
    coach = programme_member(mentor=True, display_name="Ines Eingeladen")
    top = programme_member(top=True, display_name="Theo Top")
    page = new_page()
    _sign_in(page, cm)
    page.goto("/console/programmes/events")
    check_accessibility(page)
    page.get_by_role("link", name="Create an event").click()
    page.wait_for_url("**/events/new")
    check_accessibility(page)
    start = datetime.now(UTC) + timedelta(days=7)
    page.locator("#ev-kind").select_option("meetup")
    page.locator("#ev-title").fill("Meetup Leipzig")
    page.locator("#ev-starts").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#ev-ends").fill((start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.locator("#ev-venue").fill("Werk 2")
    page.locator("#ev-city").fill("Leipzig")
    page.locator("#ev-country").select_option("DE")
    page.locator("#ev-capacity").fill("10")
    page.locator("#new-event button[type=submit]").click()
    page.wait_for_url("**/console/programmes/events/*")
    event = db.session.scalar(select(Event).where(Event.title == "Meetup Leipzig"))
    assert page.locator("#event-status").inner_text() == "draft"
    check_accessibility(page)

    page.locator("#publish").click()
    page.wait_for_url("**#state")
    assert page.locator("#event-status").inner_text() == "published"
    page.locator("#list-eligible").click()
    page.wait_for_url("**#eligible")
    for member in (coach, top):
        assert page.locator(
            f'tr[data-member="{member.profile_id}"][data-status="eligible"]'
        ).count()
    page.locator("#invite-all").click()
    page.wait_for_url("**#invite")
    for member in (coach, top):
        assert page.locator(f'tr[data-member="{member.profile_id}"][data-status="invited"]').count()
    screenshot(page, "invited")

    # Both accept through the app; the event starts; the CM marks who came.
    db.session.commit()  # a fresh snapshot: the invitations were written by the server
    for member in (coach, top):
        invitation_id = db.session.scalar(
            select(EventInvitation.id).where(
                EventInvitation.event_id == event.id,
                EventInvitation.member_id == member.profile_id,
            )
        )
        assert rsvp(client, member, invitation_id, "accept").status_code == 200
    start_event(event.id)
    page.reload()
    assert page.locator(f'tr[data-member="{coach.profile_id}"][data-status="accepted"]').count()
    page.locator(f'input[name="mark-{coach.profile_id}"][value="attend"]').check()
    page.locator(f'input[name="mark-{top.profile_id}"][value="no_show"]').check()
    check_accessibility(page)
    page.locator("#save-attendance").click()
    page.wait_for_url("**#attendance")
    assert page.locator(f'tr[data-member="{coach.profile_id}"][data-status="attended"]').count()
    assert page.locator(f'tr[data-member="{top.profile_id}"][data-status="no_show"]').count()
    screenshot(page, "attendance")
    db.session.commit()
    statuses = dict(
        db.session.execute(
            select(EventInvitation.member_id, EventInvitation.status).where(
                EventInvitation.event_id == event.id
            )
        ).all()
    )
    assert statuses == {coach.profile_id: "attended", top.profile_id: "no_show"}


def test_a_cm_starts_a_top_performer_run_and_reads_its_decisions(
    new_page, client, customer, screenshot, check_accessibility
):
    cm = make_staff()
    best = performer(customer, at=current_quarter().start - timedelta(days=30))
    page = new_page()
    _sign_in(page, cm)
    page.goto("/console/programmes/top-performers")
    check_accessibility(page)
    page.locator("#start-run button[type=submit]").click()
    page.wait_for_url("**/console/programmes/top-performers/runs/*")
    run = db.session.scalar(select(TopPerformerRun).order_by(TopPerformerRun.id.desc()))
    row = page.locator(f'tr[data-member="{best.profile_id}"]')
    assert row.get_attribute("data-awarded") == "yes"
    assert row.locator('[data-figure="jobs"]').inner_text() == "20"
    assert page.locator('[data-figure="evaluated"]').inner_text() == str(run.evaluated)
    check_accessibility(page)
    screenshot(page, "run")
    page.goto("/console/programmes/top-performers")
    assert page.locator("#holders tr[data-badge]").count() == 1
    check_accessibility(page)
