"""The onboarding story of issue 22 in a real browser (Chromium via Playwright, a real server):
a CM signs in with TOTP, opens the applicant waiting for the intro call from the queue's tab,
schedules the call, records it passed with notes, approves the applicant, and the applicant's
own API says approved. axe-core checks the queue, the application page and the bulk result."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.console.helpers import make_staff
from tests.factories import PASSWORD, make_actor
from tests.onboarding.conftest import (
    API,
    accept_rules,
    application_id_of,
    complete_profile,
    connect_payout,
    default_ladder,  # noqa: F401 (a fixture)
    ok,
    verified_document,
)

pytestmark = [pytest.mark.committing, pytest.mark.usefixtures("default_ladder")]


def _waiting_for_the_call(client, cm):
    """An applicant with every step done but the intro call."""
    applicant = make_actor("member", display_name="Ilse Interview")
    complete_profile(client, applicant)
    verified_document(client, cm, applicant)
    current = client.get(f"{API}/house-rules/current", headers=applicant.headers)
    if current.status_code == 200:
        ok(accept_rules(client, applicant, current.get_json()["version"]))
    connect_payout(client, applicant)
    return applicant


def _signed_in_page(new_page, staff):
    page = new_page()
    page.goto("/console/sign-in")
    page.locator("input[name=email]").fill(staff.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.locator("input[name=code]").fill(staff.code())
    page.locator("main form.stack button[type=submit]").click()
    page.wait_for_url("**/console/my-work")
    return page


def test_a_cm_approves_an_applicant_after_the_intro_call(
    app, client, cm, new_page, screenshot, check_accessibility
):
    applicant = _waiting_for_the_call(client, cm)
    application_id = application_id_of(applicant)
    staff = make_staff()
    page = _signed_in_page(new_page, staff)

    # The queue → the tab of applicants waiting for their intro call → the applicant.
    page.locator("nav.areas a", has_text="Onboarding").click()
    page.wait_for_url("**/console/onboarding/")
    # The tabs' counts arrive with their own request once the queue is shown.
    intro_tab = page.locator('.step-tabs a[data-step="intro_call"] .count')
    intro_tab.wait_for()
    assert int(intro_tab.inner_text()) >= 1
    check_accessibility(page)
    screenshot(page, "queue")
    page.locator('.step-tabs a[data-step="intro_call"]').click()
    page.wait_for_url("**step=intro_call**")
    row = page.locator(f'tr[data-application="{application_id}"]')
    assert row.locator('[data-open-step="intro_call"]').is_visible()
    row.locator("a", has_text="Ilse Interview").click()
    page.wait_for_url(f"**/console/onboarding/applications/{application_id}")
    assert page.locator('[data-ready="no"]').is_visible()
    check_accessibility(page)

    # Schedule the call, then record it passed with notes.
    when = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page.locator("#scheduled-at").fill(when)
    page.locator("form.schedule button[type=submit]").click()
    assert page.locator('[data-call-status="scheduled"]').is_visible()
    page.locator("#outcome").select_option("passed")
    page.locator("#call-note").fill("Friendly, knows the house rules, careful with mains power.")
    page.locator("form.outcome button[type=submit]").click()
    call = page.locator('[data-call-status="passed"]')
    assert "careful with mains power" in call.inner_text()
    assert page.locator('[data-ready="yes"]').is_visible()
    check_accessibility(page)
    screenshot(page, "application")

    # Approve.
    page.locator("#approve-note").fill("Welcome aboard")
    page.locator("form.approve button[type=submit]").click()
    assert page.locator('[data-application-status="approved"]').is_visible()

    # The applicant's own view through the API.
    mine = ok(client.get(f"{API}/me/onboarding", headers=applicant.headers))
    assert mine["application"]["status"] == "approved"
    assert mine["member_status"] == "active"


def test_the_bulk_result_page_is_accessible(
    app, client, cm, new_page, screenshot, check_accessibility
):
    applicant = _waiting_for_the_call(client, cm)
    application_id = application_id_of(applicant)
    page = _signed_in_page(new_page, make_staff())
    page.goto("/console/onboarding/")
    page.locator(f"#pick-{application_id}").check()
    page.locator("#bulk button[type=submit]").first.click()
    summary = page.locator("#bulk-summary")
    assert summary.get_attribute("data-refused") == "1"  # the intro call is still missing
    assert page.locator(f'tr[data-application="{application_id}"][data-result="refused"]')
    check_accessibility(page)
    screenshot(page, "bulk")
