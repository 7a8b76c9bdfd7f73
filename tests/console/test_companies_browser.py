"""Companies in a real browser (Chromium via Playwright): a CM signs in, finds a pending
company in the list by name, opens its page — checks, members, invitations — and activates
it with the button; axe-core finds no serious or critical violation, and the pages ask for
nothing outside the console's own origin."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from crowd.extensions import db
from organisations.models import Organisation
from tests.console.helpers import make_staff
from tests.factories import PASSWORD, make_actor
from tests.jobs.conftest import active_member
from tests.organisations.helpers import invite, pass_checks, register

pytestmark = pytest.mark.committing


def _sign_in(page, staff) -> None:
    page.goto("/console/sign-in")
    page.locator("#email").fill(staff.email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    page.locator("#code").fill(staff.code())
    page.locator("#code").press("Enter")
    page.wait_for_url("**/console/my-work")


def test_open_a_company_and_activate_it(new_page, client, screenshot, check_accessibility):
    cm = make_staff()
    owner = active_member(display_name="Olga Owner")
    organisation_id = register(client, owner, legal_name="Browser Elektro GmbH")["id"]
    assert invite(client, owner, "tech@example.test").status_code == 201
    pass_checks(client, make_actor("community_manager"), organisation_id)
    db.session.commit()

    page = new_page("de-DE")
    origins = set()
    page.on("request", lambda request: origins.add(urlsplit(request.url).netloc))
    _sign_in(page, cm)
    page.goto("/console/people/companies/?q=browser")
    row = page.locator(f'tr[data-company="{organisation_id}"]')
    assert "Browser Elektro GmbH" in row.inner_text()
    check_accessibility(page)
    row.get_by_role("link").click()
    assert page.url.endswith(f"/console/people/companies/{organisation_id}")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Browser Elektro GmbH")
    assert page.locator(f'tr[data-member="{owner.profile_id}"]').is_visible()
    assert "tech@example.test" in page.locator("#invitations").inner_text()
    assert page.locator("#check-insurance a").is_visible()
    check_accessibility(page)
    screenshot(page, "company")

    page.locator("#activate").click()
    page.wait_for_url(f"**/console/people/companies/{organisation_id}?done=activate")
    assert page.locator("#company-status").inner_text() == "aktiv"
    assert page.locator("#suspend").is_visible()
    check_accessibility(page)
    db.session.expire_all()
    assert db.session.get(Organisation, organisation_id).status == "active"
    # Everything the pages loaded came from the console's own server.
    assert len(origins) == 1 and next(iter(origins)).startswith("127.0.0.1:"), origins
