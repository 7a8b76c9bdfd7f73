"""Monthly fees: flat-fee members billed once per month, to payable or receivable, retried."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from crowd.core.background import TASKS
from crowd.core.db import commit, utcnow
from crowd.core.errors import Conflict
from crowd.extensions import db
from payouts import billing, ledger
from payouts.models import CommissionPlan, LedgerTransaction, MemberPlan, MonthlyFee
from tests.factories import make_actor
from tests.jobs.conftest import drain_background
from tests.payouts.conftest import settle

pytestmark = pytest.mark.usefixtures("ledger_sound")

URL = "/api/v1/billing/monthly-fees"


def this_month() -> str:
    return billing.current_period()


def last_month() -> str:
    first = utcnow().replace(day=1)
    return billing.current_period(first - timedelta(days=1))


def flat_plan(code: str = "flat29", amount: int = 2900, currency: str = "EUR") -> CommissionPlan:
    plan = CommissionPlan(
        code=code,
        name=f"Flat {amount / 100:.0f} {currency}",
        kind="flat_fee",
        percent_bp=500,
        monthly_fee_amount=amount,
        fee_currency=currency,
        active=True,
    )
    db.session.add(plan)
    db.session.flush()
    return plan


def put_on(member_id: int, plan: CommissionPlan, start: datetime, end: datetime | None = None):
    # Directly: the service refuses assignments in the past, and billing looks at past months.
    db.session.add(
        MemberPlan(member_id=member_id, plan_id=plan.id, effective_from=start, effective_to=end)
    )
    db.session.commit()


def long_ago() -> datetime:
    return datetime(2020, 1, 1, tzinfo=UTC)


def bill(period: str | None = None) -> dict:
    summary = TASKS["payouts.bill_monthly_fees"].func(period=period)
    commit()
    return summary


def fees(member_id: int | None = None) -> list[MonthlyFee]:
    query = select(MonthlyFee).order_by(MonthlyFee.id)
    if member_id is not None:
        query = query.where(MonthlyFee.member_id == member_id)
    db.session.expire_all()
    return list(db.session.scalars(query))


def postings(key: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(LedgerTransaction).where(LedgerTransaction.key == key)
    )


@pytest.fixture
def plan():
    return flat_plan()


def test_a_run_twice_bills_each_flat_fee_member_once(plan):
    members = [make_actor("member") for _ in range(3)]
    for actor in members:
        put_on(actor.profile_id, plan, long_ago())
    first = bill()
    assert (first["billed"], first["already_billed"], first["failed"]) == (3, 0, 0)
    second = bill()
    assert (second["billed"], second["already_billed"]) == (0, 3)
    assert len(fees()) == 3
    for actor in members:
        assert postings(f"fee-{actor.profile_id}-{this_month()}") == 1
    assert ledger.balance("platform:fees", "EUR") == 3 * 2900


def test_an_empty_payable_is_charged_to_the_receivable(plan, member):
    put_on(member.profile_id, plan, long_ago())
    assert bill()["to_receivable"] == 1
    [fee] = fees(member.profile_id)
    assert (fee.status, fee.charged_to, fee.amount, fee.attempts) == (
        "billed",
        "receivable",
        2900,
        1,
    )
    assert ledger.balance(f"member:{member.profile_id}:receivable", "EUR") == 2900
    assert ledger.balance(f"member:{member.profile_id}:payable", "EUR") == 0


def test_a_payable_that_covers_the_fee_pays_it(plan, member):
    put_on(member.profile_id, plan, long_ago())
    settle(member.profile_id, price=5000, commission=1000)
    assert bill()["to_payable"] == 1
    [fee] = fees(member.profile_id)
    assert fee.charged_to == "payable"
    assert ledger.balance(f"member:{member.profile_id}:payable", "EUR") == 4000 - 2900
    assert ledger.balance(f"member:{member.profile_id}:receivable", "EUR") == 0
    posting = db.session.get(LedgerTransaction, fee.transaction_id)
    assert (posting.kind, posting.key, posting.member_id) == (
        "monthly_fee",
        f"fee-{member.profile_id}-{this_month()}",
        member.profile_id,
    )


def test_a_payable_short_of_the_fee_is_left_alone_and_the_fee_owed(plan, member):
    put_on(member.profile_id, plan, long_ago())
    settle(member.profile_id, price=2000, commission=400)
    bill()
    assert fees(member.profile_id)[0].charged_to == "receivable"
    assert ledger.balance(f"member:{member.profile_id}:payable", "EUR") == 1600


def test_a_chf_plan_bills_chf_even_with_eur_earnings(member):
    plan = flat_plan("flat35chf", 3500, "CHF")
    put_on(member.profile_id, plan, long_ago())
    settle(member.profile_id, price=10_000, commission=2000)  # EUR
    bill()
    [fee] = fees(member.profile_id)
    assert (fee.currency, fee.amount, fee.charged_to) == ("CHF", 3500, "receivable")
    assert ledger.balance("platform:fees", "CHF") == 3500
    assert ledger.balance("platform:fees", "EUR") == 0
    assert ledger.balance(f"member:{member.profile_id}:payable", "EUR") == 8000


def test_members_on_other_plans_or_whose_flat_fee_ended_pay_nothing(plan):
    standard = make_actor("member")
    ended = make_actor("member")
    put_on(ended.profile_id, plan, long_ago(), datetime(2021, 1, 1, tzinfo=UTC))
    assert bill()["billed"] == 0
    assert fees() == []
    assert standard.profile_id not in [f.member_id for f in fees()]


def test_a_member_who_joined_mid_month_is_billed_for_it(plan, member):
    put_on(member.profile_id, plan, datetime(2024, 3, 20, tzinfo=UTC))
    assert bill("2024-02")["billed"] == 0
    assert bill("2024-03")["billed"] == 1
    assert bill("2024-04")["billed"] == 1
    assert [f.period for f in fees(member.profile_id)] == ["2024-03", "2024-04"]


def test_the_first_flat_fee_plan_of_the_month_sets_the_fee(plan, member):
    cheaper = flat_plan("flat19", 1900)
    put_on(
        member.profile_id, plan, datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 5, 10, tzinfo=UTC)
    )
    put_on(member.profile_id, cheaper, datetime(2024, 5, 10, tzinfo=UTC))
    bill("2024-05")
    bill("2024-06")
    assert [(f.period, f.amount) for f in fees(member.profile_id)] == [
        ("2024-05", 2900),
        ("2024-06", 1900),
    ]


def test_a_refused_posting_is_recorded_and_a_later_run_bills_it(plan, member, monkeypatch):
    put_on(member.profile_id, plan, long_ago())
    real_post = ledger.post

    def refusing(**kwargs):
        raise Conflict("The ledger is closed for maintenance.", state="closed")

    monkeypatch.setattr(ledger, "post", refusing)
    summary = bill()
    assert summary["failed"] == 1
    [fee] = fees(member.profile_id)
    assert (fee.status, fee.attempts, fee.transaction_id) == ("failed", 1, None)
    assert "closed for maintenance" in fee.last_error
    assert postings(fee.ledger_key) == 0

    monkeypatch.setattr(ledger, "post", real_post)
    assert bill()["billed"] == 1
    [fee] = fees(member.profile_id)
    assert (fee.status, fee.attempts, fee.last_error) == ("billed", 2, None)
    assert postings(fee.ledger_key) == 1


def test_failures_of_an_earlier_month_are_retried_by_a_later_run(plan, member, monkeypatch):
    put_on(
        member.profile_id, plan, datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)
    )
    real_post = ledger.post
    monkeypatch.setattr(ledger, "post", lambda **kw: (_ for _ in ()).throw(Conflict("no")))
    bill("2024-01")
    monkeypatch.setattr(ledger, "post", real_post)
    summary = bill()  # this month: the member is no longer on the flat fee
    assert (summary["retried"], summary["billed"]) == (1, 1)
    assert fees(member.profile_id)[0].status == "billed"


def test_a_fee_posted_but_not_recorded_is_adopted_not_posted_twice(plan, member):
    put_on(member.profile_id, plan, long_ago())
    key = f"fee-{member.profile_id}-{this_month()}"
    ledger.post(
        key=key,
        kind="monthly_fee",
        currency="EUR",
        lines=[
            ledger.Line(f"member:{member.profile_id}:receivable", 2900),
            ledger.Line("platform:fees", -2900),
        ],
        memo=f"Monthly fee {this_month()}",
        member_id=member.profile_id,
    )
    db.session.commit()
    assert bill()["billed"] == 1
    assert postings(key) == 1
    assert fees(member.profile_id)[0].charged_to == "receivable"


def test_members_are_selected_in_one_query(app, plan):
    for _ in range(4):
        put_on(make_actor("member").profile_id, plan, long_ago())
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if "member_plans" in statement:
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        bill()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1


def test_a_month_not_begun_or_malformed_is_refused():
    with pytest.raises(Exception) as refused:
        billing.bill_monthly_fees(period="2999-01")
    assert refused.value.errors == {"json": {"period": ["that month has not begun"]}}
    with pytest.raises(Exception) as malformed:
        billing.bill_monthly_fees(period="2024-13")
    assert "period" in malformed.value.errors["json"]


# --- the API --------------------------------------------------------------------------------


def test_an_admin_runs_the_billing_and_lists_the_fees(app, client, admin, plan, member):
    put_on(member.profile_id, plan, long_ago())
    response = client.post(f"{URL}/run", json={"period": last_month()}, headers=admin.headers)
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert (body["period"], body["status"]) == (last_month(), "queued")
    drain_background(app)

    listed = client.get(URL, query_string={"period": last_month()}, headers=admin.headers)
    assert listed.status_code == 200
    [fee] = listed.get_json()["items"]
    assert (fee["member_id"], fee["amount"], fee["status"], fee["charged_to"]) == (
        member.profile_id,
        2900,
        "billed",
        "receivable",
    )
    empty = client.get(URL, query_string={"status": "failed"}, headers=admin.headers)
    assert empty.get_json()["items"] == []


def test_without_a_period_the_current_month_is_billed(app, client, admin, plan, member):
    put_on(member.profile_id, plan, long_ago())
    response = client.post(f"{URL}/run", json={}, headers=admin.headers)
    assert response.status_code == 202
    assert response.get_json()["period"] == this_month()
    drain_background(app)
    assert [f.period for f in fees(member.profile_id)] == [this_month()]


@pytest.mark.parametrize("period", ["2024-13", "24-01", "2999-12", "", 202401])
def test_a_bad_period_is_a_422_naming_it(client, admin, period):
    response = client.post(f"{URL}/run", json={"period": period}, headers=admin.headers)
    assert response.status_code == 422
    assert "period" in response.get_json()["errors"]["json"]


def test_unknown_fields_are_refused(client, admin):
    response = client.post(f"{URL}/run", json={"members": [1]}, headers=admin.headers)
    assert response.status_code == 422


def test_only_admins_run_or_list_fees(client, cm, member):
    for actor in (cm, member):
        assert client.post(f"{URL}/run", json={}, headers=actor.headers).status_code == 403
        assert client.get(URL, headers=actor.headers).status_code == 403
    assert client.get(URL).status_code == 401


def test_listing_with_a_malformed_period_is_a_422(client, admin):
    response = client.get(URL, query_string={"period": "March"}, headers=admin.headers)
    assert response.status_code == 422
    assert "period" in response.get_json()["errors"]["query"]
