"""Statements and the revenue report: numbers that agree with the ledger, as JSON and CSV."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from crowd.core.background import TASKS
from crowd.core.db import commit, utcnow
from crowd.extensions import db
from payouts import ledger
from payouts.ledger import Line, account_code_for_member
from payouts.models import CommissionPlan, LedgerTransaction, MemberPlan
from tests.factories import make_actor
from tests.jobs.conftest import drain_background

pytestmark = pytest.mark.usefixtures("ledger_sound")

MINE = "/api/v1/me/statements"
REVENUE = "/api/v1/reports/revenue"
LINKS = {
    "refresh_url": "https://app.example/payout/refresh",
    "return_url": "https://app.example/payout/done",
    "country": "DE",
}


# Postings as the job money flow makes them (payouts/job_money): same accounts, same kinds.


def settlement(member_id, key, price, commission, currency="EUR", kind="job_settlement"):
    platform = "platform:fees" if kind == "cancellation_fee" else "platform:revenue"
    return ledger.post(
        key=key,
        kind=kind,
        currency=currency,
        lines=[
            Line("clearing:payments", price),
            Line(platform, -commission),
            Line(account_code_for_member(member_id), commission - price),
        ],
        member_id=member_id,
    )


def refund(member_id, key, amount, platform_part, currency="EUR"):
    return ledger.post(
        key=key,
        kind="job_refund",
        currency=currency,
        lines=[
            Line("clearing:payments", -amount),
            Line("platform:revenue", platform_part),
            Line(account_code_for_member(member_id), amount - platform_part),
        ],
        member_id=member_id,
        memo='=HYPERLINK("http://evil.example")',
    )


def flat_fee_member(client, actor):
    plan = CommissionPlan(
        code=f"flat-{actor.profile_id}",
        name="Flat 29",
        kind="flat_fee",
        percent_bp=0,
        monthly_fee_amount=2900,
        fee_currency="EUR",
        active=True,
    )
    db.session.add(plan)
    db.session.flush()
    db.session.add(
        MemberPlan(
            member_id=actor.profile_id,
            plan_id=plan.id,
            effective_from=datetime(2020, 1, 1, tzinfo=UTC),
        )
    )
    db.session.commit()


@pytest.fixture
def history(app, client):
    """A member's month: two jobs, a late-cancellation fee, a half refund, the monthly fee, a
    payout, one more job; and a CHF job after the payout. Another member has a job too."""
    actor = make_actor("member")
    m = actor.profile_id
    assert (
        client.post("/api/v1/me/payout-account", json=LINKS, headers=actor.headers).status_code
        == 201
    )
    flat_fee_member(client, actor)
    settlement(m, "s1", 10_000, 2000)
    settlement(m, "s2", 5000, 1000)
    settlement(m, "c1", 1500, 300, kind="cancellation_fee")
    refund(m, "r1", 5000, 1000)
    db.session.commit()
    TASKS["payouts.bill_monthly_fees"].func()  # 29.00 from the payable (92.00 there)
    commit()
    TASKS["payouts.run_payouts"].func()  # pays out the 63.00 left
    commit()
    drain_background(app)
    settlement(m, "s3", 2500, 500)
    settlement(m, "chf1", 4000, 800, currency="CHF")
    other = make_actor("member")
    settlement(other.profile_id, "o1", 7000, 1400)
    db.session.commit()
    return actor


def statement(client, actor, **query):
    response = client.get(MINE, query_string=query, headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return {c["currency"]: c for c in response.get_json()["currencies"]}


def test_a_statement_adds_up_the_members_ledger(client, history):
    eur = statement(client, history)["EUR"]
    assert eur == {
        "currency": "EUR",
        "gross": 10_000 + 5000 + 1500 + 2500,
        "cancellation_fees": 1500,
        # The platform's 3.00 of the late-cancellation fee is a fee, not commission.
        "commission": 2000 + 1000 + 500,
        "fees": 2900 + 300,
        "refunds": 4000,
        "adjustments": 0,
        "net": 8000 + 4000 + 1200 - 4000 - 2900 + 2000,
        "paid_out": 6300,
        "pending": 2000,
        "owed": 0,
        "transactions": 7,
    }
    assert eur["net"] == eur["gross"] - eur["commission"] - eur["fees"] - eur["refunds"]


def test_what_the_statement_says_is_what_the_ledger_holds(client, history):
    for currency, totals in statement(client, history).items():
        payable = ledger.balance(account_code_for_member(history.profile_id), currency)
        owed = ledger.balance(f"member:{history.profile_id}:receivable", currency)
        # Everything happened in this period: what is owed now is what was earned, less paid.
        assert totals["net"] - totals["paid_out"] == payable - owed
        assert (totals["pending"], totals["owed"]) == (payable, owed)


def test_each_currency_stands_alone(client, history):
    chf = statement(client, history, currency="CHF")
    assert list(chf) == ["CHF"]
    assert (chf["CHF"]["gross"], chf["CHF"]["commission"], chf["CHF"]["net"]) == (4000, 800, 3200)
    assert chf["CHF"]["paid_out"] == 0 and chf["CHF"]["pending"] == 3200


def test_fees_owed_appear_as_fees_and_owed(client):
    actor = make_actor("member")
    flat_fee_member(client, actor)
    TASKS["payouts.bill_monthly_fees"].func()
    commit()
    eur = statement(client, actor)["EUR"]
    assert (eur["fees"], eur["net"], eur["owed"], eur["pending"]) == (2900, -2900, 2900, 0)


def test_only_transactions_in_the_period_count(client, history):
    last_year = utcnow() - timedelta(days=400)
    db.session.execute(
        update(LedgerTransaction).where(LedgerTransaction.key == "s1").values(created_at=last_year)
    )
    db.session.commit()
    eur = statement(client, history)["EUR"]
    assert (eur["gross"], eur["transactions"]) == (9000, 6)
    old_day = last_year.date().isoformat()
    then = statement(client, history, **{"from": old_day, "to": old_day})["EUR"]
    assert (then["gross"], then["commission"], then["net"]) == (10_000, 2000, 8000)
    # What is pending is always now.
    assert then["pending"] == 2000


def test_the_default_period_is_this_month_so_far(client, history):
    response = client.get(MINE, headers=history.headers).get_json()
    today = utcnow().date()
    assert (response["from"], response["to"]) == (
        today.replace(day=1).isoformat(),
        today.isoformat(),
    )
    assert response["member_id"] == history.profile_id


# --- CSV ------------------------------------------------------------------------------------


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_a_statement_as_csv_has_a_line_per_transaction_and_the_totals(client, history):
    response = client.get(MINE, query_string={"format": "csv"}, headers=history.headers)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    header, *rows = csv_rows(response)
    assert header == ["date", "transaction_id", "kind", "job_id", "currency", "memo", "amount"]
    lines = [r for r in rows if r[0]]
    totals = {(r[4], r[2]): int(r[6]) for r in rows if not r[0]}
    assert [(r[2], r[4], int(r[6])) for r in lines] == [
        ("job_settlement", "EUR", 8000),
        ("job_settlement", "EUR", 4000),
        ("cancellation_fee", "EUR", 1200),
        ("job_refund", "EUR", -4000),
        ("monthly_fee", "EUR", -2900),
        ("payout", "EUR", -6300),
        ("job_settlement", "EUR", 2000),
        ("job_settlement", "CHF", 3200),
    ]
    assert totals[("EUR", "total:gross")] == 19_000
    assert totals[("EUR", "total:paid_out")] == 6300
    assert totals[("CHF", "total:net")] == 3200
    # The lines add up to the net change less what was paid out.
    eur_sum = sum(int(r[6]) for r in lines if r[4] == "EUR")
    assert eur_sum == totals[("EUR", "total:net")] - totals[("EUR", "total:paid_out")]


def test_a_memo_never_becomes_a_spreadsheet_formula(client, history):
    response = client.get(MINE, query_string={"format": "csv"}, headers=history.headers)
    [refund_line] = [r for r in csv_rows(response) if r[2] == "job_refund"]
    assert refund_line[5] == '\'=HYPERLINK("http://evil.example")'


def test_accept_text_csv_asks_for_csv_too(client, history):
    response = client.get(
        MINE, query_string={"currency": "CHF"}, headers={**history.headers, "Accept": "text/csv"}
    )
    assert response.mimetype == "text/csv"
    rows = csv_rows(response)
    assert {r[4] for r in rows[1:]} == {"CHF"}
    assert client.get(MINE, headers=history.headers).mimetype == "application/json"


# --- the revenue report ---------------------------------------------------------------------


def test_the_revenue_report_sums_the_platform_accounts_per_month(client, admin, history):
    ledger.post(
        key="dispute-lost-1",
        kind="dispute_lost",
        currency="EUR",
        lines=[Line("platform:disputes", 700), Line("clearing:payments", -700)],
    )
    last_month = utcnow().replace(day=1) - timedelta(days=1)
    db.session.execute(
        update(LedgerTransaction).where(LedgerTransaction.key == "o1").values(created_at=last_month)
    )
    db.session.commit()
    response = client.get(
        REVENUE,
        query_string={"from": (last_month.date() - timedelta(days=2)).isoformat()},
        headers=admin.headers,
    )
    assert response.status_code == 200
    rows = {(r["month"], r["currency"]): r for r in response.get_json()["rows"]}
    this = utcnow().strftime("%Y-%m")
    assert rows[(this, "EUR")] == {
        "month": this,
        "currency": "EUR",
        "commission": 2000 + 1000 + 500,
        "fees": 300 + 2900,
        "refunds": 1000,
        "costs": 700,
        "net": 3500 + 3200 - 1000 - 700,
    }
    assert rows[(this, "CHF")]["commission"] == 800
    assert rows[(last_month.strftime("%Y-%m"), "EUR")]["commission"] == 1400


def test_the_revenue_report_as_csv(client, admin, history):
    response = client.get(REVENUE, headers={**admin.headers, "Accept": "text/csv"})
    assert response.mimetype == "text/csv"
    header, *rows = csv_rows(response)
    assert header == ["month", "currency", "commission", "fees", "refunds", "costs", "net"]
    eur = next(r for r in rows if r[1] == "EUR")
    assert int(eur[2]) == 2000 + 1000 + 500 + 1400


# --- who may see what, and bad input --------------------------------------------------------


def test_a_member_sees_only_their_own_statement(client, history):
    own = client.get(f"/api/v1/members/{history.profile_id}/statements", headers=history.headers)
    assert own.status_code == 200
    stranger = make_actor("member")
    other = client.get(f"/api/v1/members/{history.profile_id}/statements", headers=stranger.headers)
    assert other.status_code == 404
    assert other.content_type == "application/problem+json"
    assert statement(client, stranger)["EUR"]["gross"] == 0


def test_staff_read_any_members_statement(client, cm, admin, history):
    for actor in (cm, admin):
        response = client.get(
            f"/api/v1/members/{history.profile_id}/statements",
            query_string={"format": "csv"},
            headers=actor.headers,
        )
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
    missing = client.get("/api/v1/members/987654/statements", headers=cm.headers)
    assert missing.status_code == 404


def test_customers_and_strangers_get_no_statements(client, customer):
    assert client.get(MINE, headers=customer.headers).status_code == 403
    assert client.get("/api/v1/members/1/statements", headers=customer.headers).status_code == 403
    assert client.get(MINE).status_code == 401


def test_the_revenue_report_is_for_admins_only(client, cm, member):
    assert client.get(REVENUE, headers=cm.headers).status_code == 403
    assert client.get(REVENUE, headers=member.headers).status_code == 403


@pytest.mark.parametrize(
    "query, field",
    [
        ({"from": "2025-03-10", "to": "2025-03-01"}, "to"),
        ({"from": "2020-01-01", "to": "2025-01-01"}, "to"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2025-02-30"}, "to"),
        ({"format": "xml"}, "format"),
        ({"currency": "USD"}, "currency"),
    ],
)
def test_bad_statement_queries_are_a_422_naming_the_field(client, member, query, field):
    response = client.get(MINE, query_string=query, headers=member.headers)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]["query"]


def test_a_period_may_not_run_backwards_in_the_report(client, admin):
    response = client.get(
        REVENUE, query_string={"from": "2025-03-10", "to": "2025-03-01"}, headers=admin.headers
    )
    assert response.status_code == 422
