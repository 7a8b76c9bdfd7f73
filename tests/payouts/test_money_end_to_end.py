"""Issue 4's story through the API: a job's payment, commission and payout land exactly once."""

import pytest

from payouts import ledger
from tests.jobs.conftest import active_member, drain_background
from tests.payouts.job_money_helpers import confirmed_job, save_method

pytestmark = pytest.mark.usefixtures("ledger_sound")

LINKS = {"refresh_url": "https://app.example/r", "return_url": "https://app.example/d"}


def test_payment_commission_and_payout_land_once(app, client, customer, cm, admin):
    member = active_member()
    assert save_method(client, customer).status_code == 200
    account = client.post(
        "/api/v1/me/payout-account", json={**LINKS, "country": "DE"}, headers=member.headers
    )
    assert account.status_code == 201

    job_id, worker = confirmed_job(app, client, customer, cm, member)
    drain_background(app)
    payment = client.get(f"/api/v1/jobs/{job_id}/payment", headers=customer.headers).json
    assert payment["status"] == "captured"
    assert payment["amount_captured"] == 12000

    # 20 % standard commission: 2,400 to the platform, 9,600 owed to the member.
    assert ledger.balance("platform:revenue", "EUR") == 2400
    assert ledger.balance(f"member:{member.profile_id}:payable", "EUR") == 9600

    # A payout run pays the balance once; a second run finds nothing to pay.
    for _ in range(2):
        started = client.post("/api/v1/payouts/runs", headers=admin.headers)
        assert started.status_code in (201, 202), started.json
        drain_background(app)
    payouts = client.get("/api/v1/me/payouts", headers=member.headers).json["items"]
    assert [(p["amount"], p["currency"], p["status"]) for p in payouts] == [(9600, "EUR", "paid")]
    assert ledger.balance(f"member:{member.profile_id}:payable", "EUR") == 0

    statement = client.get("/api/v1/me/statements", headers=member.headers).json
    eur = next(item for item in statement["currencies"] if item["currency"] == "EUR")
    assert (eur["gross"], eur["commission"], eur["net"], eur["paid_out"]) == (
        12000,
        2400,
        9600,
        9600,
    )
    assert eur["pending"] == 0
    assert ledger.check_invariant() == []
