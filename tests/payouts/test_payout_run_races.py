"""Payout runs and monthly fees racing each other and postings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from crowd.core.db import commit
from crowd.core.errors import DomainError
from crowd.extensions import db
from payouts import billing, ledger, payout_run
from payouts.ledger import account_code_for_member
from payouts.models import (
    CommissionPlan,
    LedgerTransaction,
    MemberPlan,
    MonthlyFee,
    OfflineTransfer,
    Payout,
)
from tests.concurrency import run_concurrently, task_unit
from tests.factories import make_actor
from tests.jobs.conftest import drain_background
from tests.payouts.conftest import settlement_lines

pytestmark = [pytest.mark.committing, pytest.mark.usefixtures("ledger_sound")]

MEMBERS = 12
LINKS = {
    "refresh_url": "https://app.example/payout/refresh",
    "return_url": "https://app.example/payout/done",
    "country": "DE",
}


def _payees(client, count: int) -> list[int]:
    ids = []
    for n in range(count):
        actor = make_actor("member")
        response = client.post("/api/v1/me/payout-account", json=LINKS, headers=actor.headers)
        assert response.status_code == 201
        ledger.post(
            key=f"seed:{n}",
            kind="job_settlement",
            currency="EUR",
            lines=settlement_lines(actor.profile_id, 5_000 + n, 1_000),
        )
        commit()
        ids.append(actor.profile_id)
    return ids


def _in_own_unit_of_work(app, work):
    with task_unit(app):
        try:
            result = work()
            commit()
            return "ok", result
        except DomainError as error:
            db.session.rollback()
            return error.status, error.detail


def _count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_simultaneous_runs_pay_each_member_once(app, client):
    members = _payees(client, MEMBERS)

    results = run_concurrently(
        app, 4, lambda c, i: _in_own_unit_of_work(app, lambda: payout_run.run_payouts().id)
    )

    # No deadlock and no refused posting: the later runs found the payables already sent.
    assert [outcome for outcome, _ in results] == ["ok"] * 4, results
    drain_background(app)
    assert _count(Payout) == MEMBERS
    assert _count(Payout, Payout.status == "paid") == MEMBERS
    assert _count(OfflineTransfer) == MEMBERS
    assert _count(LedgerTransaction, LedgerTransaction.kind == "payout") == 2 * MEMBERS
    for member_id in members:
        assert ledger.balance(account_code_for_member(member_id), "EUR") == 0


def test_settlements_during_a_run_are_kept_for_the_next_one(app, client):
    members = _payees(client, MEMBERS)

    def work(c, i):
        if i == 0:
            return _in_own_unit_of_work(app, lambda: payout_run.run_payouts().id)
        member_id = members[i % MEMBERS]
        return _in_own_unit_of_work(
            app,
            lambda: (
                ledger.post(
                    key=f"race:late:{i}",
                    kind="job_settlement",
                    currency="EUR",
                    lines=settlement_lines(member_id, 3_000, 500),
                ).id
            ),
        )

    results = run_concurrently(app, 9, work)

    assert [outcome for outcome, _ in results] == ["ok"] * 9, results
    drain_background(app)
    paid = db.session.execute(
        select(Payout.member_id, func.sum(Payout.amount)).group_by(Payout.member_id)
    ).all()
    for member_id, amount in paid:
        left = ledger.balance(account_code_for_member(member_id), "EUR")
        # Whatever was paid plus what is left is everything earned: nothing lost or doubled.
        earned = 5_000 + members.index(member_id) - 1_000
        earned += 2_500 * sum(1 for i in range(1, 9) if members[i % MEMBERS] == member_id)
        assert amount + left == earned


def test_simultaneous_fee_runs_bill_each_member_once(app, client):
    plan = CommissionPlan(
        code="flat-race",
        name="Flat",
        kind="flat_fee",
        percent_bp=0,
        monthly_fee_amount=2_900,
        fee_currency="EUR",
        active=True,
    )
    db.session.add(plan)
    db.session.flush()
    for _ in range(MEMBERS):
        member_id = make_actor("member").profile_id
        db.session.add(
            MemberPlan(
                member_id=member_id,
                plan_id=plan.id,
                effective_from=datetime(2020, 1, 1, tzinfo=UTC),
            )
        )
    commit()

    results = run_concurrently(
        app,
        4,
        lambda c, i: _in_own_unit_of_work(app, lambda: billing.bill_monthly_fees().as_dict()),
    )

    assert [outcome for outcome, _ in results] == ["ok"] * 4, results
    assert sum(summary["billed"] for _, summary in results) == MEMBERS
    assert _count(MonthlyFee, MonthlyFee.status == "billed") == MEMBERS
    assert _count(LedgerTransaction, LedgerTransaction.kind == "monthly_fee") == MEMBERS
    assert ledger.balance("platform:fees", "EUR") == 2_900 * MEMBERS
