"""Settings, members list and payouts in a real browser (Chromium via Playwright, a real
server): an admin signs in with TOTP, opens Settings from the nav, changes a setting, sees the
new value and the change in the trail, and the API answers with the new value; a bad value
comes back with the field's message. A community manager sees no Settings or Payouts item
and gets the 403 page at the address. axe-core checks the settings, members and payouts pages.
"""

from __future__ import annotations

import pathlib

import pytest

from crowd.core.db import utcnow
from crowd.extensions import db
from payouts.models.payout_runs import Payout, PayoutRun
from tests.console.helpers import make_staff
from tests.factories import PASSWORD, make_actor

pytestmark = pytest.mark.committing
KEY = "JOBS_WAVE_SIZE"


def _signed_in(new_page, staff, locale: str = "en-US"):
    page = new_page(locale)
    page.goto("/console/sign-in")
    page.locator("input[name=email]").fill(staff.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.locator("input[name=code]").fill(staff.code())
    page.locator("main form.stack button[type=submit]").click()
    page.wait_for_url("**/console/my-work")
    return page


def _api_value(client, key: str):
    admin = make_actor("admin")
    listed = client.get("/api/v1/settings", headers=admin.headers).get_json()
    return next(s["value"] for s in listed if s["key"] == key)


def test_an_admin_changes_a_setting_and_sees_it_in_force_and_on_record(
    app, client, new_page, screenshot, check_accessibility
):
    admin = make_staff("admin")
    before = _api_value(client, KEY)
    new = 4 if before != 4 else 5
    page = _signed_in(new_page, admin)
    page.locator("nav.areas a", has_text="Settings").click()
    page.wait_for_url("**/console/settings/")
    row = page.locator(f'tr[data-setting="{KEY}"]')
    assert row.locator("code[data-value]").inner_text() == str(before)
    check_accessibility(page)

    # A bad value: the form again, with the setting's own message.
    row.locator("input[name=value]").fill("lots")
    row.locator("button[type=submit]", has_text="Save").click()
    error = page.locator(f"#error-{KEY}")
    assert "must be a whole number from 1 to 100" in error.inner_text()
    check_accessibility(page)

    row = page.locator(f'tr[data-setting="{KEY}"]')
    row.locator("input[name=value]").fill(str(new))
    row.locator("button[type=submit]", has_text="Save").click()
    page.wait_for_url(f"**/console/settings/?done={KEY}#setting-{KEY}")
    row = page.locator(f'tr[data-setting="{KEY}"]')
    assert row.locator("code[data-value]").inner_text() == str(new)
    assert row.get_attribute("data-source") == "admin"
    change = page.locator(f'#trail tr[data-change-key="{KEY}"]').first
    assert change.locator("code[data-old]").inner_text() == str(before)
    assert change.locator("code[data-new]").inner_text() == str(new)
    assert admin.email.split("@")[0].replace("admin", "Admin ") in change.inner_text()
    check_accessibility(page)
    screenshot(page, "settings")
    db.session.expire_all()
    assert _api_value(client, KEY) == new


def test_a_community_manager_has_no_settings_or_payouts(app, new_page):
    cm = make_staff()
    page = _signed_in(new_page, cm)
    areas = page.locator("nav.areas")
    assert areas.locator("text=Tickets").count() == 1
    assert areas.locator("text=Settings").count() == 0
    assert areas.locator("text=Payouts").count() == 0
    response = page.goto("/console/settings/")
    assert response.status == 403
    assert page.locator("h1").inner_text() == "Forbidden"
    assert page.goto("/console/payouts/").status == 403


def test_members_list_and_payouts_pages_are_accessible(
    app, client, new_page, screenshot, check_accessibility
):
    admin = make_staff("admin")
    members = [make_actor("member", postcode="10115") for _ in range(3)]
    run = PayoutRun(status="completed", minimums={"EUR": 2000}, totals={})
    db.session.add(run)
    db.session.flush()
    for n, member in enumerate(members):
        db.session.add(
            Payout(
                run_id=run.id,
                member_id=member.profile_id,
                amount=2500 + n,
                currency="EUR",
                status="held" if n == 0 else "paid",
                hold_reason="open dispute" if n == 0 else None,
                paid_at=None if n == 0 else utcnow(),
            )
        )
    db.session.commit()
    page = _signed_in(new_page, admin)

    page.goto("/console/people/members?postcode_prefix=101")
    for member in members:
        assert page.locator(f'tr[data-member="{member.profile_id}"]').is_visible()
    assert (
        page.locator("p.export a")
        .get_attribute("href")
        .startswith("/console/people/members.csv?postcode_prefix=101")
    )
    check_accessibility(page)
    screenshot(page, "members")

    page.locator("nav.areas a", has_text="Payouts").click()
    page.wait_for_url("**/console/payouts/")
    assert page.locator(f'tr[data-run="{run.id}"]').is_visible()
    page.locator("#f-status").select_option("held")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_url("**/console/payouts/?status=held**")
    assert page.locator("tr[data-payout]").count() == 1
    assert "open dispute" in page.locator("tr[data-payout]").inner_text()
    check_accessibility(page)
    screenshot(page, "payouts")
    with page.expect_download() as download:
        page.locator("p.export a").click()
    lines = pathlib.Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 2 and "open dispute" in lines[1]
