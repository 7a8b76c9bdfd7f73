"""Concurrent postings: sorted row locks keep balances exact and never deadlock."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crowd.core.db import commit
from crowd.core.errors import DomainError
from crowd.extensions import db
from payouts import ledger
from payouts.ledger import Line, account_code_for_member
from payouts.models.ledger import LedgerTransaction
from tests.concurrency import run_concurrently, task_unit
from tests.factories import make_actor
from tests.payouts.conftest import assert_ledger_sound, settlement_lines

pytestmark = [pytest.mark.committing, pytest.mark.usefixtures("ledger_sound")]

THREADS = 20


def _in_own_unit_of_work(app, work):
    """Run work() in a fresh app context and session and commit: ("posted", id) or (status, "")."""
    with task_unit(app):
        try:
            transaction = work()
            commit()
            return "posted", transaction.id
        except DomainError as error:
            db.session.rollback()
            return error.status, error.detail


def _balance(app, code: str, currency: str = "EUR") -> int:
    with app.app_context():
        return ledger.balance(code, currency)


def _transactions(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(LedgerTransaction))


def test_simultaneous_settlements_to_the_same_accounts_sum_exactly(app):
    member_id = make_actor("member").profile_id

    def settle(client, i):
        return _in_own_unit_of_work(
            app,
            lambda: ledger.post(
                key=f"race:settle:{i}",
                kind="job_settlement",
                currency="EUR",
                lines=settlement_lines(member_id, 10_000 + i, 2_000),
            ),
        )

    results = run_concurrently(app, THREADS, settle)

    assert [outcome for outcome, _ in results] == ["posted"] * THREADS, results
    assert len({transaction_id for _, transaction_id in results}) == THREADS
    prices = sum(10_000 + i for i in range(THREADS))
    assert _balance(app, "clearing:payments") == prices
    assert _balance(app, "platform:revenue") == 2_000 * THREADS
    assert _balance(app, account_code_for_member(member_id)) == prices - 2_000 * THREADS


def test_postings_naming_accounts_in_opposite_orders_do_not_deadlock(app):
    first, second = (make_actor("member").profile_id for _ in range(2))
    a, b = account_code_for_member(first), account_code_for_member(second)
    with app.app_context():
        for member_id in (first, second):
            ledger.post(
                key=f"seed:{member_id}",
                kind="job_settlement",
                currency="EUR",
                lines=settlement_lines(member_id, 100_000, 0),
            )
        commit()

    def shuffle(client, i):
        # Half move money a → b listing a first, half b → a listing b first.
        source, target = (a, b) if i % 2 else (b, a)
        return _in_own_unit_of_work(
            app,
            lambda: ledger.post(
                key=f"race:move:{i}",
                kind="adjustment",
                currency="EUR",
                lines=[Line(source, 1_000 + i), Line(target, -(1_000 + i))],
            ),
        )

    results = run_concurrently(app, THREADS, shuffle)

    # All posted: no deadlock (which PostgreSQL would break by failing one), no 409.
    assert [outcome for outcome, _ in results] == ["posted"] * THREADS, results
    moved = sum(1_000 + i for i in range(THREADS) if i % 2) - sum(
        1_000 + i for i in range(THREADS) if not i % 2
    )
    assert _balance(app, a) == 100_000 - moved
    assert _balance(app, b) == 100_000 + moved


def test_simultaneous_payouts_never_overdraw_a_payable(app):
    member_id = make_actor("member").profile_id
    payable = account_code_for_member(member_id)
    with app.app_context():
        ledger.post(
            key="seed",
            kind="job_settlement",
            currency="EUR",
            lines=settlement_lines(member_id, 1_250, 250),
        )
        commit()

    def pay_out(client, i):
        return _in_own_unit_of_work(
            app,
            lambda: ledger.post(
                key=f"race:payout:{i}",
                kind="payout",
                currency="EUR",
                lines=[Line(payable, 100), Line("payouts:in_transit", -100)],
            ),
        )

    results = run_concurrently(app, THREADS, pay_out)

    outcomes = sorted(str(outcome) for outcome, _ in results)
    assert outcomes == ["409"] * (THREADS - 10) + ["posted"] * 10, results
    assert _balance(app, payable) == 0
    assert _balance(app, "payouts:in_transit") == 1_000


def test_simultaneous_retries_of_one_key_post_once(app):
    member_id = make_actor("member").profile_id

    def retry(client, i):
        return _in_own_unit_of_work(
            app,
            lambda: ledger.post(
                key="race:one-key",
                kind="job_settlement",
                currency="EUR",
                lines=settlement_lines(member_id, 10_000, 2_000),
            ),
        )

    results = run_concurrently(app, THREADS, retry)

    assert set(results) == {("posted", results[0][1])}, results
    assert _transactions(app) == 1
    assert _balance(app, account_code_for_member(member_id)) == 8_000


def test_simultaneous_first_postings_create_each_account_once(app):
    members = [make_actor("member").profile_id for _ in range(THREADS)]

    def first_use(client, i):
        # Every thread creates its own payable and all share new platform accounts, in CHF.
        return _in_own_unit_of_work(
            app,
            lambda: ledger.post(
                key=f"race:new:{i}",
                kind="job_settlement",
                currency="CHF",
                lines=settlement_lines(members[i], 5_000, 1_000),
            ),
        )

    results = run_concurrently(app, THREADS, first_use)

    assert [outcome for outcome, _ in results] == ["posted"] * THREADS, results
    assert _balance(app, "platform:revenue", "CHF") == 1_000 * THREADS
    with app.app_context():
        assert_ledger_sound()


def test_simultaneous_reversals_of_one_transaction_reverse_it_once(app):
    member_id = make_actor("member").profile_id
    with app.app_context():
        original = ledger.post(
            key="seed",
            kind="job_settlement",
            currency="EUR",
            lines=settlement_lines(member_id, 10_000, 2_000),
        )
        commit()
        original_id = original.id

    def undo(client, i):
        return _in_own_unit_of_work(
            app, lambda: ledger.reverse(original_id, key=f"race:reverse:{i}")
        )

    results = run_concurrently(app, 10, undo)

    assert sorted(str(outcome) for outcome, _ in results) == ["409"] * 9 + ["posted"], results
    assert _balance(app, account_code_for_member(member_id)) == 0
    assert _transactions(app) == 2


# --- the hot accounts: split over shard rows, never locked by a posting ---------------------

# A posting of the platform's own accounts only: nothing in it is locked before it is written.
HOT_ONLY = [Line("clearing:payments", 500), Line("platform:fees", -500)]


def test_simultaneous_postings_to_the_hot_accounts_sum_exactly(app):
    def post(client, i):
        return _in_own_unit_of_work(
            app,
            lambda: ledger.post(key=f"race:hot:{i}", kind="fee", currency="EUR", lines=HOT_ONLY),
        )

    results = run_concurrently(app, THREADS, post)

    assert [outcome for outcome, _ in results] == ["posted"] * THREADS, results
    assert _balance(app, "platform:fees") == 500 * THREADS
    assert _balance(app, "clearing:payments") == 500 * THREADS
    with app.app_context():
        assert_ledger_sound()


def test_simultaneous_retries_of_a_hot_only_posting_post_once(app):
    def retry(client, i):
        return _in_own_unit_of_work(
            app,
            lambda: ledger.post(key="race:hot-key", kind="fee", currency="EUR", lines=HOT_ONLY),
        )

    results = run_concurrently(app, THREADS, retry)

    assert set(results) == {("posted", results[0][1])}, results
    assert _transactions(app) == 1
    assert _balance(app, "platform:fees") == 500


def test_simultaneous_reversals_of_a_hot_only_transaction_reverse_it_once(app):
    with app.app_context():
        original_id = ledger.post(key="hot-seed", kind="fee", currency="EUR", lines=HOT_ONLY).id
        commit()

    def undo(client, i):
        return _in_own_unit_of_work(
            app, lambda: ledger.reverse(original_id, key=f"race:hot-reverse:{i}")
        )

    results = run_concurrently(app, 10, undo)

    assert sorted(str(outcome) for outcome, _ in results) == ["409"] * 9 + ["posted"], results
    assert _balance(app, "platform:fees") == 0
    assert _transactions(app) == 2
