"""A chargeback from the ticket page: the deadline beside the thread, the evidence drafted from
the job, edited and submitted through the payment provider (the real Stripe SDK against the
local fake), as POST /tickets/{id}/chargeback-evidence does."""

from __future__ import annotations

import pytest

from crowd.extensions import db
from tests.console.helpers import csrf_of, make_staff, sign_in
from tests.factories import PASSWORD, make_actor
from tests.payouts.conftest import (  # noqa: F401  (fixtures)
    ledger_sound,
    stripe_fake,
    stripe_fake_server,
    stripe_settings,
)
from tests.payouts.job_money_helpers import confirmed_job, payment
from tests.support.test_chargebacks import case_ticket, chargeback

pytestmark = pytest.mark.usefixtures("stripe_settings", "ledger_sound")


def test_evidence_is_drafted_edited_and_submitted(app, client, customer, stripe_fake):  # noqa: F811
    bank = stripe_fake
    admin = make_actor("admin")
    job_id, _member = confirmed_job(app, client, customer, admin)
    chargeback(app, client, bank, job_id)
    ticket = case_ticket(job_id)
    cm = make_staff()
    sign_in(client, cm)
    html = client.get(f"/console/tickets/{ticket.id}").get_data(as_text=True)
    assert "Evidence due" in html and "Chargeback evidence" in html
    page = f"/console/tickets/{ticket.id}/chargeback-evidence"
    form = client.get(page)
    assert form.status_code == 200
    text = form.get_data(as_text=True)
    assert "Member checked in" in text  # the draft's service documentation
    sent = client.post(
        page,
        data={
            "csrf_token": csrf_of(text),
            "uncategorized_text": "The bracket held for a week.",
            "submit": "yes",
        },
    )
    assert sent.status_code == 303, sent.get_data(as_text=True)[:1000]
    db.session.expire_all()
    assert payment(job_id).dispute_evidence_submitted_at is not None
    (call,) = bank.calls("POST", r"/v1/disputes/\w+")
    assert "The bracket held for a week." in str(call)
    again = client.post(
        page, data={"csrf_token": csrf_of(text), "uncategorized_text": "More", "submit": "yes"}
    )
    assert again.status_code == 409


@pytest.mark.committing
def test_the_evidence_page_in_a_browser_is_accessible(
    app,
    client,
    customer,
    stripe_fake,  # noqa: F811
    new_page,
    screenshot,
    check_accessibility,
):
    admin = make_actor("admin")
    job_id, _member = confirmed_job(app, client, customer, admin)
    chargeback(app, client, stripe_fake, job_id)
    ticket = case_ticket(job_id)
    cm = make_staff()
    page = new_page("de-DE")
    page.goto("/console/sign-in")
    page.locator("input[name=email]").fill(cm.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.locator("input[name=code]").fill(cm.code())
    page.locator("main form.stack button[type=submit]").click()
    page.goto(f"/console/tickets/{ticket.id}")
    page.locator("#money a").click()
    assert page.url.endswith(f"/console/tickets/{ticket.id}/chargeback-evidence")
    assert "Member checked in" in page.locator("#ev-service_documentation").input_value()
    check_accessibility(page)
    screenshot(page, "evidence")
