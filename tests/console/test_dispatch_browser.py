"""Dispatch in a real browser (Chromium via Playwright): a CM signs in with TOTP, finds an
escalated job on the board, opens it, reads the candidates' score breakdown and offers the job
to a chosen candidate — or assigns one directly — and the member sees it through the API.
axe-core finds no serious or critical violation on the board and the job's page."""

from __future__ import annotations

import pytest

from crowd.extensions import db
from jobs.matching import WEIGHTS
from jobs.models import Job
from tests.console.helpers import make_staff
from tests.factories import PASSWORD
from tests.jobs.conftest import active_member
from tests.jobs.test_targeted_offers import escalated_job

pytestmark = pytest.mark.committing


def _sign_in(page, staff) -> None:
    page.goto("/console/sign-in")
    page.locator("#email").fill(staff.email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    page.locator("#code").fill(staff.code())
    page.locator("#code").press("Enter")
    page.wait_for_url("**/console/my-work")


def _open_escalated(page, job_id: int, check_accessibility) -> None:
    """From the nav to the board, filtered to escalated jobs, and on to the job's page."""
    page.get_by_role("navigation", name="Areas").get_by_role("link", name="Dispatch").click()
    page.wait_for_url("**/console/dispatch/")
    page.locator("#f-escalated").select_option("yes")
    page.locator("#f-region").fill("DE-10")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/console/dispatch/?*escalated=yes*")
    row = page.locator(f'tr[data-job="{job_id}"]')
    assert row.get_attribute("data-escalated") == "yes"
    assert "escalated" in row.inner_text()
    check_accessibility(page)
    row.get_by_role("link").click()
    page.wait_for_url(f"**/console/dispatch/jobs/{job_id}")


def test_a_cm_offers_an_escalated_job_to_a_chosen_candidate(
    app, client, customer, new_page, screenshot, check_accessibility
):
    cm = make_staff()
    job_id = escalated_job(app, client, customer)
    first = active_member(display_name="Anton Erster")
    chosen = active_member(display_name="Berta Gewählt", lat=52.50, lon=13.40)
    db.session.commit()
    page = new_page()
    _sign_in(page, cm)
    _open_escalated(page, job_id, check_accessibility)
    screenshot(page, "board")

    # Both candidates, each score broken down into every weighted component.
    for member in (first, chosen):
        row = page.locator(f'tr[data-candidate="{member.profile_id}"]')
        assert row.is_visible()
        cells = [
            float(row.locator(f'td[data-component="{name}"]').inner_text()) for name in WEIGHTS
        ]
        assert abs(sum(cells) - float(row.locator("td[data-score]").inner_text())) < 0.1 * len(
            WEIGHTS
        )
    check_accessibility(page)
    screenshot(page, "job")

    page.locator(f'button[data-offer="{chosen.profile_id}"]').click()
    page.wait_for_url(f"**/console/dispatch/jobs/{job_id}?done=offer*")
    assert page.locator('[data-done="offer"]').is_visible()
    assert (
        page.locator(f'tr[data-offer-row="{chosen.profile_id}"]').get_attribute("data-status")
        == "pending"
    )
    check_accessibility(page)

    # The member sees the offer through the API, and no one else got one.
    mine = client.get("/api/v1/me/offers", headers=chosen.headers).get_json()["items"]
    assert [o["job"]["id"] for o in mine] == [job_id]
    assert client.get("/api/v1/me/offers", headers=first.headers).get_json()["items"] == []


def test_a_cm_assigns_an_escalated_job_directly_and_sees_a_refusal_first(
    app, client, customer, new_page, check_accessibility
):
    cm = make_staff()
    job_id = escalated_job(app, client, customer)
    chosen = active_member(display_name="Carla Direkt")
    far = active_member(display_name="Dora Fern", lat=48.14, lon=11.58)
    db.session.commit()
    page = new_page()
    _sign_in(page, cm)
    _open_escalated(page, job_id, check_accessibility)

    # Someone not eligible: refused, with the reason, on the same page.
    page.locator("#assign-member").fill(str(far.profile_id))
    page.locator("form.assign-form button[type=submit]").click()
    alert = page.get_by_role("alert")
    assert "beyond the service radius" in alert.inner_text()
    check_accessibility(page)

    page.locator(f'button[data-assign="{chosen.profile_id}"]').click()
    page.wait_for_url(f"**/console/dispatch/jobs/{job_id}?done=assign*")
    assert page.locator(f'[data-assigned="{chosen.profile_id}"]').is_visible()
    db.session.expire_all()
    assert db.session.get(Job, job_id).assigned_member_id == chosen.profile_id
    mine = client.get("/api/v1/me/jobs", headers=chosen.headers).get_json()["items"]
    assert [j["id"] for j in mine] == [job_id]
