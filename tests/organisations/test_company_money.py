"""The company is paid, not the technician: a job done for a provider company settles to the
company's payable on the company's plan, its refunds take the earning back from there, the
payout run pays the company's own account once, and the company's statement lists each job
under the technician who did it. A private member's money is as before."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from crowd.core.background import TASKS
from crowd.core.db import commit
from crowd.extensions import db
from payouts.ledger import account_code_for_member, account_code_for_organisation
from payouts.models import CommissionPlan, MemberPlan, MonthlyFee, Payout
from tests.console.helpers import make_staff, sign_in
from tests.jobs.conftest import active_member, drain_background
from tests.organisations.helpers import API, OWN, company_with
from tests.payouts.conftest import assert_ledger_sound, ledger_sound  # noqa: F401
from tests.payouts.job_money_helpers import balance, confirmed_job, lines, payment, refund
from tests.payouts.job_money_helpers import transactions as job_transactions
from tests.support.dispute_helpers import COMMISSION, EARNING, LINKS, PRICE, run_payouts

# Each test leaves a sound committed ledger behind.
pytestmark = pytest.mark.usefixtures("ledger_sound")


def company_account(client, owner) -> dict:
    response = client.post(f"{OWN}/payout-account", json=LINKS, headers=owner.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_the_company_is_paid_for_its_technicians_jobs(app, client, customer, cm):
    owner, first, second = active_member(), active_member(), active_member()
    organisation_id = company_with(client, app, cm, owner, technician=first, technician2=second)
    job_a, _ = confirmed_job(app, client, customer, cm, first)
    job_b, _ = confirmed_job(app, client, customer, cm, second)

    payable = account_code_for_organisation(organisation_id)
    assert balance(payable) == 2 * EARNING
    assert balance(account_code_for_member(first.profile_id)) == 0
    assert balance(account_code_for_member(second.profile_id)) == 0
    settled = payment(job_a)
    assert (settled.organisation_id, settled.member_id) == (organisation_id, first.profile_id)
    assert settled.commission_breakdown["plan_cause"] == "company"
    assert lines(job_transactions(job_a)[0]) == {
        "clearing:payments": PRICE,
        "platform:revenue": -COMMISSION,
        payable: -EARNING,
    }

    # The statement: each job under its technician, the totals, what is pending.
    statement = client.get(f"{OWN}/statements", headers=owner.headers)
    assert statement.status_code == 200, statement.get_json()
    body = statement.get_json()
    by_technician = {t["member_id"]: t for t in body["technicians"]}
    assert set(by_technician) == {first.profile_id, second.profile_id}
    assert [j["job_id"] for j in by_technician[first.profile_id]["jobs"]] == [job_a]
    assert [j["job_id"] for j in by_technician[second.profile_id]["jobs"]] == [job_b]
    line = by_technician[first.profile_id]["jobs"][0]
    assert (line["price"], line["commission"], line["earning"]) == (PRICE, COMMISSION, EARNING)
    (totals,) = body["totals"]
    assert (totals["jobs"], totals["earning"], totals["pending"]) == (2, 2 * EARNING, 2 * EARNING)

    # Without a payout account the company's payout is held; with one it goes out, once.
    (held,) = [p for p in run_payouts(app) if p.organisation_id == organisation_id]
    assert (held.status, held.hold_reason, held.member_id) == ("held", "no payout account", None)
    account = company_account(client, owner)["account"]
    assert account["organisation_id"] == organisation_id
    paid = [p for p in run_payouts(app) if p.organisation_id == organisation_id]
    assert [(p.amount, p.status) for p in paid] == [(2 * EARNING, "paid")]
    assert paid[0].destination_account == account["account_id"]
    assert balance(payable) == 0
    assert [p for p in run_payouts(app) if p.organisation_id == organisation_id] == []
    db.session.expire_all()
    assert db.session.get(Payout, held.id).status == "released"
    # The technicians were paid nothing themselves.
    assert (
        db.session.scalars(
            select(Payout).where(Payout.member_id.in_([first.profile_id, second.profile_id]))
        ).all()
        == []
    )
    # Staff see the company's payout among the others in the console.
    staff = make_staff("admin")
    with app.test_client() as console:
        assert sign_in(console, staff).status_code == 303
        page = console.get("/console/payouts/").get_data(as_text=True)
    assert f'data-payout="{paid[0].id}"' in page
    after = client.get(f"{OWN}/statements", headers=owner.headers).get_json()
    assert after["totals"][0]["paid_out"] == 2 * EARNING
    assert [p["amount"] for p in after["payouts"] if p["status"] == "paid"] == [2 * EARNING]

    # A refund of one job comes off the company's payable (it owes what was paid out already).
    assert refund(client, cm, job_a, 1200).status_code == 202
    drain_background(app)
    receivable = f"organisation:{organisation_id}:receivable"
    assert balance(payable) == 0
    assert balance(receivable) == 1200 - 240  # the company's part; the platform's 20 % is its own
    assert_ledger_sound()

    # Staff read the same statement.
    staff_view = client.get(f"{API}/organisations/{organisation_id}/statements", headers=cm.headers)
    assert staff_view.status_code == 200, staff_view.get_json()
    refunded = {j["job_id"]: j for t in staff_view.get_json()["technicians"] for j in t["jobs"]}[
        job_a
    ]
    assert (refunded["refunds"], refunded["net"]) == (960, EARNING - 960)


def test_a_refund_reduces_the_companys_payable(app, client, customer, cm):
    owner, technician = active_member(), active_member()
    organisation_id = company_with(client, app, cm, owner, technician=technician)
    job_id, _ = confirmed_job(app, client, customer, cm, technician)
    payable = account_code_for_organisation(organisation_id)
    assert refund(client, cm, job_id, 6000).status_code == 202
    drain_background(app)
    assert balance(payable) == EARNING - 4800
    assert balance(account_code_for_member(technician.profile_id)) == 0
    assert_ledger_sound()


def test_a_company_job_follows_the_companys_plan(app, client, customer, cm, admin):
    owner, technician = active_member(), active_member()
    organisation_id = company_with(client, app, cm, owner, technician=technician)
    plan = CommissionPlan(code="company10", name="Company 10 %", kind="percentage", percent_bp=1000)
    db.session.add(plan)
    db.session.commit()
    path = f"{API}/organisations/{organisation_id}/plan"
    assert client.put(path, json={"plan_code": "company10"}, headers=cm.headers).status_code == 403
    put = client.put(path, json={"plan_code": "company10"}, headers=admin.headers)
    assert put.status_code == 200, put.get_json()
    assert put.get_json()["plan"]["code"] == "company10"
    job_id, _ = confirmed_job(app, client, customer, cm, technician)
    settled = payment(job_id)
    assert (settled.plan_code, settled.commission_amount) == ("company10", 1200)
    assert balance(account_code_for_organisation(organisation_id)) == PRICE - 1200


def test_a_private_members_money_is_unchanged(app, client, customer, cm):
    job_id, member = confirmed_job(app, client, customer, cm)
    settled = payment(job_id)
    assert settled.organisation_id is None
    assert lines(job_transactions(job_id)[0]) == {
        "clearing:payments": PRICE,
        "platform:revenue": -COMMISSION,
        account_code_for_member(member.profile_id): -EARNING,
    }


def test_only_the_owner_sets_the_payout_account_and_managers_read_the_statement(app, client, cm):
    owner, dispatcher, technician = active_member(), active_member(), active_member()
    company_with(client, app, cm, owner, dispatcher=dispatcher, technician=technician)
    for actor in (dispatcher, technician):
        response = client.post(f"{OWN}/payout-account", json=LINKS, headers=actor.headers)
        assert response.status_code == 403
        assert client.get(f"{OWN}/payout-account", headers=actor.headers).status_code == 403
    assert client.get(f"{OWN}/payout-account", headers=owner.headers).status_code == 404
    assert client.get(f"{OWN}/statements", headers=dispatcher.headers).status_code == 200
    assert client.get(f"{OWN}/statements", headers=technician.headers).status_code == 403
    outsider = active_member()
    assert client.get(f"{OWN}/statements", headers=outsider.headers).status_code == 404


def test_a_technician_in_a_company_pays_no_monthly_fee_of_their_own(app, client, cm):
    owner, technician, private = active_member(), active_member(), active_member()
    company_with(client, app, cm, owner, technician=technician)
    plan = CommissionPlan(
        code="flat29",
        name="Flat 29",
        kind="flat_fee",
        percent_bp=500,
        monthly_fee_amount=2900,
        fee_currency="EUR",
        active=True,
    )
    db.session.add(plan)
    db.session.flush()
    since = datetime(2020, 1, 1, tzinfo=UTC)
    for member in (technician, private):
        db.session.add(
            MemberPlan(member_id=member.profile_id, plan_id=plan.id, effective_from=since)
        )
    db.session.commit()
    TASKS["payouts.bill_monthly_fees"].func(period=None)
    commit()
    billed = db.session.scalars(select(MonthlyFee.member_id)).all()
    assert billed == [private.profile_id]


def test_a_company_on_a_flat_fee_plan_is_billed_once_a_month(app, client, customer, cm, admin):
    owner, technician = active_member(), active_member()
    organisation_id = company_with(client, app, cm, owner, technician=technician)
    plan = CommissionPlan(
        code="flat49",
        name="Flat 49",
        kind="flat_fee",
        percent_bp=500,
        monthly_fee_amount=4900,
        fee_currency="EUR",
        active=True,
    )
    db.session.add(plan)
    db.session.commit()
    path = f"{API}/organisations/{organisation_id}/plan"
    assert client.put(path, json={"plan_code": "flat49"}, headers=admin.headers).status_code == 200
    for _run in range(2):
        TASKS["payouts.bill_monthly_fees"].func(period=None)
        commit()
    db.session.expire_all()
    (fee,) = db.session.scalars(select(MonthlyFee)).all()
    assert (fee.organisation_id, fee.member_id, fee.status) == (organisation_id, None, "billed")
    assert fee.charged_to == "receivable"  # nothing earned yet: owed, settled before a payout
    receivable = f"organisation:{organisation_id}:receivable"
    assert balance(receivable) == 4900

    # The next payout settles what the company owes from its earnings first.
    company_account(client, owner)
    confirmed_job(app, client, customer, cm, technician)
    earning = PRICE - 600  # 5 % on the flat-fee plan
    (paid,) = [p for p in run_payouts(app) if p.organisation_id == organisation_id]
    assert (paid.amount, paid.status) == (earning - 4900, "paid")
    assert balance(receivable) == 0
    assert balance(account_code_for_organisation(organisation_id)) == 0
    assert_ledger_sound()
