"""A lost chargeback of a company's job under `member_liable`: whoever the settlement credited
bears it — the company's payable, not the technician's."""

from __future__ import annotations

import pytest

from payouts.ledger import account_code_for_member, account_code_for_organisation
from tests.jobs.conftest import active_member
from tests.organisations.helpers import company_with
from tests.payouts.conftest import (  # noqa: F401  (fixtures)
    assert_ledger_sound,
    ledger_sound,
    stripe_fake,
    stripe_fake_server,
    stripe_settings,
)
from tests.payouts.job_money_helpers import balance, confirmed_job, lines, transactions
from tests.payouts.test_job_money_webhooks import deliver
from tests.stripe_fake import stripe_event
from tests.support.test_chargebacks import EARNING, chargeback

pytestmark = pytest.mark.usefixtures("stripe_settings", "ledger_sound")


def test_a_lost_chargeback_of_a_company_job_comes_off_the_companys_payable(
    app,
    client,
    customer,
    cm,
    stripe_fake,  # noqa: F811
    monkeypatch,
):
    monkeypatch.setitem(app.config, "PAYMENTS_CHARGEBACK_LOST_POLICY", "member_liable")
    owner, technician = active_member(), active_member()
    organisation_id = company_with(client, app, cm, owner, technician=technician)
    job_id, _ = confirmed_job(app, client, customer, cm, technician)
    dispute = chargeback(app, client, stripe_fake, job_id, amount=5000)
    lost = stripe_fake.close_dispute(dispute["id"], "lost")

    deliver(app, client, stripe_event("charge.dispute.closed", lost))

    payable = account_code_for_organisation(organisation_id)
    (loss,) = [t for t in transactions(job_id) if t.kind == "dispute_lost"]
    assert lines(loss) == {payable: 5000, "clearing:disputes": -5000}
    assert balance(payable) == EARNING - 5000
    assert balance(account_code_for_member(technician.profile_id)) == 0
    assert_ledger_sound()
