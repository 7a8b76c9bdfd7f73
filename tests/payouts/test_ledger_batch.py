"""ledger.post_many: a batch of postings as each `post` would make them, in a few statements."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crowd.core.errors import Conflict
from crowd.extensions import db
from payouts import ledger
from payouts.ledger import Line, Posting, account_code_for_member, balance
from payouts.models.ledger import LedgerEntry, LedgerTransaction
from tests.factories import make_actor
from tests.payouts.conftest import settle

pytestmark = pytest.mark.usefixtures("ledger_sound")


def _payout(member_id: int, amount: int, key: str) -> Posting:
    return Posting(
        key=key,
        kind="payout",
        currency="EUR",
        lines=[
            Line(account_code_for_member(member_id), amount),
            Line("payouts:in_transit", -amount),
        ],
        memo=f"test {key}",
        member_id=member_id,
    )


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _members(n: int, earning: int = 8_000) -> list[int]:
    ids = []
    for _ in range(n):
        member_id = make_actor("member").profile_id
        settle(member_id, earning + 2_000, 2_000, key=f"test:batch:settle:{member_id}")
        ids.append(member_id)
    db.session.commit()
    return ids


def test_a_batch_posts_each_transaction_with_its_entries_and_summed_balances():
    members = _members(3)
    ids = ledger.post_many([_payout(m, 5_000 + m, f"b-{m}") for m in members])
    db.session.commit()
    assert set(ids) == {f"b-{m}" for m in members}
    for member_id in members:
        transaction = db.session.get(LedgerTransaction, ids[f"b-{member_id}"])
        assert (transaction.kind, transaction.member_id) == ("payout", member_id)
        assert sorted((e.account.code, e.amount) for e in transaction.entries) == sorted(
            [
                (account_code_for_member(member_id), 5_000 + member_id),
                ("payouts:in_transit", -(5_000 + member_id)),
            ]
        )
        assert balance(account_code_for_member(member_id), "EUR") == 3_000 - member_id
    assert balance("payouts:in_transit", "EUR") == sum(5_000 + m for m in members)


def test_hot_accounts_in_a_batch_add_up_like_single_postings():
    members = _members(2)
    ledger.post_many(
        [_payout(m, 1_000, f"send-{m}") for m in members]
        + [
            Posting(
                key=f"paid-{m}",
                kind="payout",
                currency="EUR",
                lines=[Line("payouts:in_transit", 1_000), Line("clearing:payments", -1_000)],
            )
            for m in members
        ]
    )
    db.session.commit()
    assert balance("clearing:payments", "EUR") == 2 * 10_000 - 2_000
    assert balance("payouts:in_transit", "EUR") == 0


def test_a_key_posted_before_with_the_same_content_answers_with_that_posting():
    members = _members(2)
    first = ledger.post(**{**_payout(members[0], 4_000, "again").__dict__})
    db.session.commit()
    ids = ledger.post_many(
        [_payout(m, 4_000, "again" if m == members[0] else "new") for m in members]
    )
    db.session.commit()
    assert ids["again"] == first.id
    assert _count(LedgerTransaction, LedgerTransaction.key == "again") == 1
    assert balance(account_code_for_member(members[0]), "EUR") == 4_000  # taken once
    assert balance(account_code_for_member(members[1]), "EUR") == 4_000


def test_a_key_used_for_other_content_refuses_the_whole_batch():
    members = _members(2)
    ledger.post(**{**_payout(members[0], 4_000, "used").__dict__})
    db.session.commit()
    entries = _count(LedgerEntry)
    with pytest.raises(Conflict):
        ledger.post_many([_payout(members[1], 1_000, "fresh"), _payout(members[0], 3_000, "used")])
    db.session.rollback()
    assert _count(LedgerEntry) == entries
    assert _count(LedgerTransaction, LedgerTransaction.key == "fresh") == 0


def test_floors_are_checked_posting_by_posting_and_nothing_of_the_batch_is_written():
    (member_id,) = _members(1)
    entries = _count(LedgerEntry)
    # 5,000 + 4,000 of an 8,000 payable: the second would take it below zero.
    with pytest.raises(Conflict) as refused:
        ledger.post_many([_payout(member_id, 5_000, "first"), _payout(member_id, 4_000, "second")])
    assert refused.value.extra["account"] == account_code_for_member(member_id)
    db.session.rollback()
    assert _count(LedgerEntry) == entries
    assert balance(account_code_for_member(member_id), "EUR") == 8_000


def test_a_key_twice_in_one_batch_is_a_bug():
    (member_id,) = _members(1)
    with pytest.raises(ValueError):
        ledger.post_many([_payout(member_id, 1, "twice"), _payout(member_id, 2, "twice")])
