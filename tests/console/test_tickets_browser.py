"""The dispute story of issue 21 in a real browser (Chromium via Playwright, a real server): a
CM signs in with TOTP, finds the disputed job's ticket from My work, reads the thread, writes an
internal note the customer cannot read (checked through the API as the customer), proposes a
30 % refund after its preview, the parties accept through the API, and the CM sees the
resolution applied and the member's payout hold lifted. axe-core checks each ticket page."""

from __future__ import annotations

import pytest

from tests.console.helpers import make_staff
from tests.console.ticket_helpers import dispute_for
from tests.factories import PASSWORD
from tests.support.ticket_helpers import API

pytestmark = pytest.mark.committing


def test_a_cm_settles_a_dispute_with_a_30_percent_refund(
    app, client, customer, new_page, screenshot, check_accessibility
):
    cm = make_staff()
    job_id, member, ticket_id = dispute_for(app, client, customer, cm.user_id)
    page = new_page("de-DE")
    page.goto("/console/my-work")
    page.locator("input[name=email]").fill(cm.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.locator("input[name=code]").fill(cm.code())
    page.locator("main form.stack button[type=submit]").click()
    assert page.url.endswith("/console/my-work")

    # My work → the disputed job's ticket.
    page.locator(f'#mine tr[data-ticket="{ticket_id}"] a').click()
    assert page.url.endswith(f"/console/tickets/{ticket_id}")
    assert "The TV fell off the wall" in page.locator("h1").inner_text()
    assert page.locator('[data-job-status="disputed"]').is_visible()
    assert page.locator('#payout-hold[data-held="yes"]').is_visible()
    check_accessibility(page)

    # An internal note, unmistakably apart from the shared thread.
    page.locator("#note-body").fill("Photos show the bracket was undersized.")
    page.locator("form.note button[type=submit]").click()
    note = page.locator('li.message[data-visibility="internal"]')
    # German (the browser asks for de-DE): "Internal note — not visible to customer or member".
    assert "Interne Notiz — für Kunde und Mitglied nicht sichtbar" in note.inner_text()
    # Dashed border and the warning colours: not a shared message.
    assert note.evaluate("e => getComputedStyle(e).borderTopStyle") == "dashed"
    seen = client.get(f"{API}/{ticket_id}/messages", headers=customer.headers).get_json()
    assert seen["items"] and not any("undersized" in m["body"] for m in seen["items"])
    screenshot(page, "ticket")

    # Propose a 30 % refund: the preview shows what each party gets.
    page.locator("#kind").select_option("split")
    page.locator("#percent").fill("30")
    page.locator("#note").fill("The bracket was too small; 30 % back is fair.")
    page.locator("form.propose button[type=submit]").click()
    assert "/resolutions/preview" in page.url
    assert page.locator('[data-amount="customer_gets_back"]').inner_text() == "36.00 EUR"
    assert page.locator('[data-amount="member_gives_up"]').inner_text() == "28.80 EUR"
    assert page.locator('[data-amount="member_earning_after"]').inner_text() == "67.20 EUR"
    check_accessibility(page)
    screenshot(page, "preview")
    page.locator("main form button[type=submit]").click()
    assert page.url.endswith(f"/console/tickets/{ticket_id}#resolutions")
    proposal = page.locator('[data-resolution-status="proposed"]')
    resolution_id = int(proposal.get_attribute("data-resolution"))

    # The parties accept through the API; the second acceptance applies it.
    for party in (member, customer):
        answered = client.post(
            f"{API}/{ticket_id}/resolutions/{resolution_id}/answer",
            json={"answer": "accept"},
            headers=party.headers,
        )
        assert answered.status_code == 200, answered.get_json()
    page.wait_for_load_state()
    page.reload()
    assert page.locator(
        f'[data-resolution="{resolution_id}"][data-resolution-status="applied"]'
    ).is_visible()
    assert page.locator('[data-status="resolved"]').is_visible()
    assert page.locator('#payout-hold[data-held="no"]').is_visible()
    assert page.locator('[data-job-status="confirmed"]').is_visible()
    check_accessibility(page)

    # The queue.
    page.goto("/console/tickets/")
    assert page.locator(f'tr[data-ticket="{ticket_id}"]').is_visible()
    check_accessibility(page)
    screenshot(page, "queue")


def _signed_in_page(new_page, cm):
    page = new_page("de-DE")
    page.goto("/console/sign-in")
    page.locator("input[name=email]").fill(cm.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.locator("input[name=code]").fill(cm.code())
    page.locator("main form.stack button[type=submit]").click()
    return page


def test_imposing_asks_first_and_the_page_is_accessible(
    app, client, customer, new_page, screenshot, check_accessibility
):
    cm = make_staff()
    _job, _member, ticket_id = dispute_for(app, client, customer, cm.user_id)
    page = _signed_in_page(new_page, cm)
    page.goto(f"/console/tickets/{ticket_id}")
    page.locator("#kind").select_option("partial_refund")
    page.locator("#amount").fill("30,00")
    page.locator("#note").fill("Part of the work was fine.")
    page.locator("form.propose button[type=submit]").click()
    assert page.locator('[data-amount="customer_gets_back"]').inner_text() == "30.00 EUR"
    page.locator("main form button[type=submit]").click()
    page.locator('[data-resolution-status="proposed"] a.button').click()
    assert "/impose" in page.url
    check_accessibility(page)
    screenshot(page, "impose")
    # The checkbox is required: the browser does not send the form without it.
    page.locator("main form button[type=submit]").click()
    assert "/impose" in page.url
    page.locator("input[name=confirm]").check()
    page.locator("main form button[type=submit]").click()
    assert page.locator('[data-resolution-status="applied"]').is_visible()
    assert page.locator('#payout-hold[data-held="no"]').is_visible()
