"""People in a real browser (Chromium via Playwright): sign in with TOTP, find a member by
email from the header's search, open their page, log a call in the contact history, suspend
them with a reason and see it; axe-core finds no serious or critical violation on the pages."""

from __future__ import annotations

import pytest

from crowd.extensions import db
from members.models import Member
from support.models import Sanction, StaffContact
from tests.console.helpers import make_staff
from tests.factories import PASSWORD, make_actor
from tests.jobs.conftest import active_member, post_job_via_api

pytestmark = pytest.mark.committing


# The browser asks for German (de-DE): the fields are found by id, the texts are German.
def _sign_in(page, staff) -> None:
    page.goto("/console/sign-in")
    page.locator("#email").fill(staff.email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    page.locator("#code").fill(staff.code())
    page.locator("#code").press("Enter")
    page.wait_for_url("**/console/my-work")


def test_find_a_member_log_a_call_and_suspend(new_page, client, screenshot, check_accessibility):
    cm = make_staff()
    member = active_member(display_name="Paula Browser", phone="+49 30 1234567")
    customer = make_actor("customer", display_name="Konrad Kunde")
    assert post_job_via_api(client, customer, title="Fix a shelf").status_code == 201
    db.session.commit()
    page = new_page("de-DE")
    _sign_in(page, cm)
    page.locator("#quick-q").fill(member.email)
    page.locator("#quick-q").press("Enter")
    page.wait_for_url("**/console/people/?q=*")
    found = page.locator(f'li[data-member="{member.profile_id}"]')
    assert "Paula Browser" in found.inner_text()
    check_accessibility(page)
    screenshot(page, "search")
    found.get_by_role("link").click()
    assert page.url.endswith(f"/console/people/members/{member.profile_id}")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Paula Browser")
    check_accessibility(page)

    assert page.get_by_role("heading", name="Notizen und Kontaktverlauf").is_visible()
    page.locator("#contact-kind").select_option("call")
    page.locator("#contact-channel").select_option("phone")
    page.locator("#contact-summary").fill("Called: she was ill on Tuesday, will report sooner.")
    page.locator("#contacts button[type=submit]").click()
    page.wait_for_url("**#contacts")
    history = page.locator("#contacts .history")
    assert "Called: she was ill on Tuesday" in history.inner_text()

    page.locator("#sanction-kind").select_option("suspend")
    page.locator("#sanction-reason").fill("Third no-show this month (house rules § 4.2)")
    page.locator("#sanctions button[type=submit]").click()
    page.wait_for_url("**#sanctions")
    assert page.locator("#member-status").inner_text() == "gesperrt"
    assert "Third no-show this month" in page.locator("#sanctions table").inner_text()
    check_accessibility(page)
    screenshot(page, "member")

    db.session.expire_all()
    assert db.session.get(Member, member.profile_id).status == "suspended"
    assert db.session.query(Sanction).filter_by(member_id=member.profile_id).count() == 1
    assert db.session.query(StaffContact).filter_by(member_id=member.profile_id).count() == 1

    page.goto(f"/console/people/customers/{customer.profile_id}")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Konrad Kunde")
    check_accessibility(page)
    screenshot(page, "customer")
