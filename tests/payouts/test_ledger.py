"""The double-entry ledger service: balanced, retry-safe, immutable, never-negative postings."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import func, select, text

from crowd.core.errors import Conflict, NotFound, Unprocessable
from crowd.extensions import db
from organisations.models import Organisation
from payouts import ledger
from payouts.ledger import (
    ACCOUNT_TYPES,
    Line,
    account_code_for_member,
    balance,
    post,
    reverse,
    whole_balances,
)
from payouts.models.ledger import (
    ImmutableLedgerError,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
)
from tests.factories import make_actor
from tests.payouts.conftest import assert_ledger_sound, settle, settlement_lines

pytestmark = pytest.mark.usefixtures("ledger_sound")


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _payout_lines(member_id: int, amount: int) -> list[Line]:
    return [Line(account_code_for_member(member_id), amount), Line("payouts:in_transit", -amount)]


# --- posting --------------------------------------------------------------------------------


def test_settlement_moves_each_balance_in_its_normal_direction(member):
    payable = account_code_for_member(member.profile_id)
    transaction = settle(member.profile_id, 12_345, 2_469, key="job:1:settle")
    db.session.commit()

    assert balance("clearing:payments", "EUR") == 12_345  # asset: debits − credits
    assert balance("platform:revenue", "EUR") == 2_469  # revenue: credits − debits
    assert balance(payable, "EUR") == 9_876  # what we owe the member
    assert [(e.account.code, e.amount) for e in transaction.entries] == [
        ("clearing:payments", 12_345),
        ("platform:revenue", -2_469),
        (payable, -9_876),
    ]
    account = db.session.scalar(select(LedgerAccount).where(LedgerAccount.code == payable))
    assert (account.kind, account.allow_negative, account.member_id) == (
        "liability",
        False,
        member.profile_id,
    )


def test_account_codes_of_members_are_their_payables():
    assert account_code_for_member(42) == "member:42:payable"


def test_accounts_in_eur_and_chf_are_separate(member):
    settle(member.profile_id, 10_000, 2_000, key="eur", currency="EUR")
    settle(member.profile_id, 5_000, 1_000, key="chf", currency="CHF")

    assert balance("platform:revenue", "EUR") == 2_000
    assert balance("platform:revenue", "CHF") == 1_000
    codes = db.session.execute(
        select(LedgerAccount.code, LedgerAccount.currency).where(
            LedgerAccount.code == "platform:revenue"
        )
    ).all()
    assert sorted(codes) == [("platform:revenue", "CHF"), ("platform:revenue", "EUR")]


def test_several_lines_on_one_account_are_summed(member):
    payable = account_code_for_member(member.profile_id)
    post(
        key="split",
        kind="job_settlement",
        currency="EUR",
        lines=[
            Line("clearing:payments", 10_000),
            Line(payable, -5_000),
            Line(payable, -3_000),
            Line("platform:revenue", -2_000),
        ],
    )
    assert balance(payable, "EUR") == 8_000


def test_unbalanced_posting_gets_422_and_writes_nothing(member):
    lines = settlement_lines(member.profile_id, 10_000, 2_000)[:2]
    with pytest.raises(Unprocessable) as refused:
        post(key="unbalanced", kind="job_settlement", currency="EUR", lines=lines)
    assert refused.value.errors == {
        "json": {"lines": ["not balanced: the amounts sum to 8000, not 0"]}
    }
    assert _count(LedgerTransaction) == 0
    assert _count(LedgerAccount) == 0


@pytest.mark.parametrize(
    "lines, message",
    [
        ([Line("clearing:payments", 0), Line("platform:revenue", 0)], "zero amount"),
        ([Line("clearing:payments", 100)], "at least two lines"),
        ([], "at least two lines"),
        ([Line("clearing:payments", 1.5), Line("platform:revenue", -1.5)], "integers"),
        ([Line("clearing:payments", True), Line("platform:revenue", -1)], "integers"),
        ([Line("clearing:payments", 10**14), Line("platform:revenue", -(10**14))], "range"),
        (["clearing:payments"], "account code and an amount"),
    ],
)
def test_malformed_lines_get_422(lines, message):
    with pytest.raises(Unprocessable) as refused:
        post(key="bad", kind="adjustment", currency="EUR", lines=lines)
    assert message in refused.value.errors["json"]["lines"][0]


@pytest.mark.parametrize("currency", ["USD", "eur", "", None])
def test_a_currency_other_than_eur_or_chf_gets_422(currency):
    lines = [Line("clearing:payments", 100), Line("platform:revenue", -100)]
    with pytest.raises(Unprocessable) as refused:
        post(key="usd", kind="adjustment", currency=currency, lines=lines)
    assert "currency" in refused.value.errors["json"]


@pytest.mark.parametrize(
    "code",
    [
        "platform:bonus",
        "member:abc:payable",
        "member:0:payable",
        "member:7:payable:extra",
        "Platform:Revenue",
        "clearing:payments ",
        "",
    ],
)
def test_an_account_outside_the_table_gets_422(code):
    lines = [Line(code, 100), Line("platform:revenue", -100)]
    with pytest.raises(Unprocessable) as refused:
        post(key="unknown", kind="adjustment", currency="EUR", lines=lines)
    assert "unknown account" in refused.value.errors["json"]["lines"][0]
    assert _count(LedgerAccount) == 0


def test_a_member_account_of_nobody_gets_422():
    with pytest.raises(Unprocessable) as refused:
        settle(999_999, key="ghost")
    assert "no member 999999" in refused.value.errors["json"]["lines"][0]


def test_an_unknown_job_or_member_reference_gets_422(member):
    with pytest.raises(Unprocessable) as refused:
        settle(member.profile_id, key="nojob", job_id=999_999)
    assert "job_id" in refused.value.errors["json"]
    with pytest.raises(Unprocessable) as refused:
        settle(member.profile_id, key="nomember", member_id=999_999)
    assert "member_id" in refused.value.errors["json"]


@pytest.mark.parametrize(
    "field, overrides",
    [("key", {"key": ""}), ("key", {"key": "k" * 256}), ("kind", {"kind": "Job Settlement"})],
)
def test_malformed_key_or_kind_gets_422(member, field, overrides):
    with pytest.raises(Unprocessable) as refused:
        post(
            **{"key": "k", "kind": "job_settlement", "currency": "EUR", **overrides},
            lines=settlement_lines(member.profile_id, 100, 20),
        )
    assert field in refused.value.errors["json"]


def test_every_account_type_can_be_posted_to(member):
    company = Organisation(
        legal_name="Elektro Huber GmbH",
        street="Werkstraße 5",
        postcode="80331",
        city="München",
        country="DE",
        tax_number="143/123/45678",
    )
    db.session.add(company)
    db.session.flush()
    for number, account_type in enumerate(ACCOUNT_TYPES):
        owner = company.id if account_type.owner == "organisation" else member.profile_id
        code = account_type.pattern.replace("{id}", str(owner))
        # Debit the never-negative debit-normal accounts, credit the credit-normal ones.
        amount = 100 if account_type.kind in ("asset", "expense") else -100
        post(
            key=f"type:{number}",
            kind="adjustment",
            currency="CHF",
            lines=[Line(code, amount), Line("clearing:payments", -amount)],
        )
    db.session.commit()
    assert _count(LedgerAccount) == len(ACCOUNT_TYPES)


# --- retries by key -------------------------------------------------------------------------


def test_the_same_key_and_content_returns_the_first_transaction(member):
    first = settle(member.profile_id, key="job:7:settle", job_id=None, memo="job 7")
    db.session.commit()
    again = settle(member.profile_id, key="job:7:settle", job_id=None, memo="job 7")

    assert again.id == first.id
    assert _count(LedgerTransaction) == 1
    assert balance(account_code_for_member(member.profile_id), "EUR") == 8_000


@pytest.mark.parametrize(
    "change",
    [
        {"price": 10_001},
        {"commission": 2_001},
        {"memo": "another memo"},
        {"currency": "CHF"},
    ],
)
def test_the_same_key_with_other_content_gets_409(member, change):
    first = settle(member.profile_id, key="job:8:settle", memo="job 8")
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        settle(member.profile_id, **{"key": "job:8:settle", "memo": "job 8", **change})
    assert refused.value.extra["transaction_id"] == first.id
    assert _count(LedgerTransaction) == 1


def test_line_order_does_not_make_a_retry_different(member):
    lines = settlement_lines(member.profile_id, 10_000, 2_000)
    first = post(key="order", kind="job_settlement", currency="EUR", lines=lines)
    again = post(key="order", kind="job_settlement", currency="EUR", lines=lines[::-1])
    assert again.id == first.id


# --- never negative -------------------------------------------------------------------------


def test_a_member_payable_never_goes_negative_and_nothing_is_written(member):
    settle(member.profile_id, 10_000, 2_000, key="earn")
    db.session.commit()
    before = {a.code: a.balance for a in db.session.scalars(select(LedgerAccount))}

    with pytest.raises(Conflict) as refused:
        post(
            key="overpay",
            kind="payout",
            currency="EUR",
            lines=_payout_lines(member.profile_id, 8_001),
        )

    assert refused.value.extra["state"] == "insufficient_balance"
    assert refused.value.extra["account"] == account_code_for_member(member.profile_id)
    db.session.rollback()
    assert {a.code: a.balance for a in db.session.scalars(select(LedgerAccount))} == before
    assert _count(LedgerTransaction) == 1
    assert (
        db.session.scalar(select(LedgerTransaction).where(LedgerTransaction.key == "overpay"))
        is None
    )


def test_a_refused_posting_leaves_nothing_in_the_unit_of_work_that_goes_on(member):
    # On PostgreSQL the customer's account (first in code order) is changed before the payable
    # is found short; the refusal undoes that within the call, so the commit keeps nothing.
    settle(member.profile_id, 10_000, 2_000, key="earn")
    post(
        key="fee",
        kind="fee",
        currency="EUR",
        lines=[Line("customer:7:receivable", 500), Line("platform:fees", -500)],
    )
    db.session.commit()
    before = {a.code: a.balance for a in db.session.scalars(select(LedgerAccount))}

    with pytest.raises(Conflict) as refused:
        post(
            key="take",
            kind="adjustment",
            currency="EUR",
            lines=[
                Line("customer:7:receivable", -8_001),
                Line(account_code_for_member(member.profile_id), 8_001),
            ],
        )
    assert refused.value.extra["state"] == "insufficient_balance"
    post(
        key="take-less",
        kind="adjustment",
        currency="EUR",
        lines=[
            Line("customer:7:receivable", -8_000),
            Line(account_code_for_member(member.profile_id), 8_000),
        ],
    )
    db.session.commit()

    after = {a.code: a.balance for a in db.session.scalars(select(LedgerAccount))}
    assert after == before | {
        "customer:7:receivable": 500 - 8_000,
        account_code_for_member(member.profile_id): 0,
    }
    taken = select(LedgerTransaction.id).where(LedgerTransaction.key == "take")
    assert db.session.scalar(taken) is None
    assert_ledger_sound()


def test_a_first_line_on_a_hot_account_beside_known_accounts_is_posted_once(member):
    # On PostgreSQL the function changes the known payable and writes the key before it finds
    # platform:goodwill missing; it undoes both, and the posting goes the general way.
    settle(member.profile_id, 10_000, 2_000, key="earn")
    db.session.commit()
    payable = account_code_for_member(member.profile_id)

    post(
        key="goodwill",
        kind="goodwill",
        currency="EUR",
        lines=[Line("platform:goodwill", 700), Line(payable, -700)],
    )
    db.session.commit()

    assert balance(payable, "EUR") == 8_700
    assert balance("platform:goodwill", "EUR") == 700
    assert _count(LedgerTransaction) == 2
    assert_ledger_sound()


def test_a_payable_can_be_paid_out_to_exactly_zero(member):
    settle(member.profile_id, 10_000, 2_000, key="earn")
    post(key="pay", kind="payout", currency="EUR", lines=_payout_lines(member.profile_id, 8_000))
    assert balance(account_code_for_member(member.profile_id), "EUR") == 0
    assert balance("payouts:in_transit", "EUR") == 8_000


def test_a_payable_in_chf_does_not_cover_a_payout_in_eur(member):
    settle(member.profile_id, 10_000, 2_000, key="earn", currency="CHF")
    with pytest.raises(Conflict):
        post(key="pay", kind="payout", currency="EUR", lines=_payout_lines(member.profile_id, 1))


def test_the_database_refuses_a_negative_protected_balance_too(member):
    settle(member.profile_id, key="earn")
    db.session.commit()
    with pytest.raises(Exception, match="balance_not_negative|CHECK constraint"):
        db.session.execute(
            text("UPDATE ledger_accounts SET balance = -1 WHERE code = :code"),
            {"code": account_code_for_member(member.profile_id)},
        )
    db.session.rollback()


# --- reversal -------------------------------------------------------------------------------


def test_a_reversal_posts_the_negated_lines_and_restores_the_balances(member):
    original = settle(member.profile_id, 10_000, 2_000, key="earn", memo="job 9")
    reversal = reverse(original.id, key="earn:reverse", memo="customer refunded")
    db.session.commit()

    assert reversal.reverses_id == original.id
    assert reversal.kind == "reversal"
    assert reversal.currency == original.currency
    assert sorted((e.account.code, e.amount) for e in reversal.entries) == sorted(
        (e.account.code, -e.amount) for e in original.entries
    )
    for code in (
        "clearing:payments",
        "platform:revenue",
        account_code_for_member(member.profile_id),
    ):
        assert balance(code, "EUR") == 0


def test_reversing_twice_gets_409_but_retrying_the_reversal_returns_it(member):
    original = settle(member.profile_id, key="earn")
    first = reverse(original.id, key="earn:reverse")
    db.session.commit()

    assert reverse(original.id, key="earn:reverse").id == first.id
    with pytest.raises(Conflict) as refused:
        reverse(original.id, key="earn:reverse-again")
    assert refused.value.extra == {"state": "reversed", "transaction_id": first.id}
    with pytest.raises(Conflict) as refused:
        reverse(first.id, key="reverse-the-reversal")
    assert refused.value.extra["state"] == "reversal"
    assert _count(LedgerTransaction) == 2


def test_reversing_a_transaction_that_does_not_exist_gets_404():
    with pytest.raises(NotFound):
        reverse(123_456, key="nothing")


def test_a_reversal_that_would_overdraw_the_payable_gets_409(member):
    earned = settle(member.profile_id, key="earn")
    post(key="pay", kind="payout", currency="EUR", lines=_payout_lines(member.profile_id, 8_000))
    db.session.commit()

    with pytest.raises(Conflict) as refused:
        reverse(earned.id, key="earn:reverse")
    assert refused.value.extra["state"] == "insufficient_balance"
    db.session.rollback()
    assert balance(account_code_for_member(member.profile_id), "EUR") == 0


# --- immutability ---------------------------------------------------------------------------


def test_the_service_offers_no_way_to_change_or_delete_history():
    public = {
        name
        for name, value in vars(ledger).items()
        if callable(value)
        and getattr(value, "__module__", "") == ledger.__name__
        and not name.startswith("_")
    }
    assert {"post", "reverse", "balance", "check_invariant"} <= public
    verbs = ("update", "delete", "remove", "edit", "change", "modify", "set_", "amend", "purge")
    assert not [name for name in public if name.lower().startswith(verbs)]


def test_changing_a_posted_entry_through_the_orm_is_refused(member):
    transaction = settle(member.profile_id, key="earn")
    db.session.commit()
    entry = transaction.entries[0]
    entry.amount = 1
    with pytest.raises(ImmutableLedgerError):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("model", [LedgerTransaction, LedgerEntry, LedgerAccount])
def test_deleting_ledger_rows_through_the_orm_is_refused(member, model):
    settle(member.profile_id, key="earn")
    db.session.commit()
    db.session.delete(db.session.scalars(select(model)).first())
    with pytest.raises(ImmutableLedgerError):
        db.session.flush()
    db.session.rollback()


def test_setting_a_balance_through_the_orm_is_refused(member):
    settle(member.profile_id, key="earn")
    db.session.commit()
    db.session.scalars(select(LedgerAccount)).first().balance += 1
    with pytest.raises(ImmutableLedgerError):
        db.session.flush()
    db.session.rollback()


# --- reading and checking -------------------------------------------------------------------


def test_balance_of_an_account_never_used_is_zero_and_of_an_unknown_one_422():
    assert balance("platform:revenue", "EUR") == 0
    assert balance("member:5:payable", "CHF") == 0
    with pytest.raises(Unprocessable):
        balance("platform:bonus", "EUR")
    with pytest.raises(Unprocessable):
        balance("platform:revenue", "USD")


def test_the_invariant_check_finds_a_tampered_balance(member):
    settle(member.profile_id, key="earn")
    db.session.commit()
    db.session.execute(
        text("UPDATE ledger_accounts SET balance = balance + 1 WHERE code = 'platform:revenue'")
    )
    problems = ledger.check_invariant()
    assert problems == ["platform:revenue (EUR): balance 2001, entries say 2000"]
    db.session.rollback()


def test_the_invariant_check_finds_an_unbalanced_entry(member):
    transaction = settle(member.profile_id, key="earn")
    db.session.commit()
    db.session.execute(
        text("UPDATE ledger_entries SET amount = amount + 1 WHERE id = :id"),
        {"id": transaction.entries[0].id},
    )
    problems = ledger.check_invariant()
    assert "EUR: entries sum to 1, not 0" in problems
    assert "transaction 'earn': 3 entries summing to 1" in problems
    db.session.rollback()


def test_random_postings_and_reversals_keep_the_ledger_sound():
    """A seeded random walk of settlements, payouts, fees and reversals, checked as it goes."""
    rng = random.Random(20240604)
    members = [make_actor("member").profile_id for _ in range(4)]
    expected: dict[tuple[str, str], int] = {}
    posted: list[tuple[int, list[Line], str]] = []
    refused = 0

    def apply(lines, currency, sign=1):
        for line in lines:
            kind = ledger.account_type(line.account)[0].kind
            key = (line.account, currency)
            expected[key] = expected.get(key, 0) + sign * ledger.normal_sign(kind) * line.amount

    for step in range(300):
        member_id, currency = rng.choice(members), rng.choice(("EUR", "CHF"))
        payable = account_code_for_member(member_id)
        roll = rng.random()
        if roll < 0.5:
            price = rng.randint(1, 50_000)
            lines = settlement_lines(member_id, price, rng.randint(0, price - 1))
            kind = "job_settlement"
        elif roll < 0.7:
            lines, kind = _payout_lines(member_id, rng.randint(1, 20_000)), "payout"
        elif roll < 0.8:
            fee = rng.randint(1, 5_000)
            lines, kind = [Line(payable, fee), Line("platform:fees", -fee)], "monthly_fee"
        else:
            candidates = [p for p in posted if p[0] is not None]
            if not candidates:
                continue
            index = rng.randrange(len(candidates))
            transaction_id, lines, currency = candidates[index]
            try:
                reverse(transaction_id, key=f"reverse:{transaction_id}")
            except Conflict:
                refused += 1
            else:
                apply(lines, currency, sign=-1)
                posted[posted.index(candidates[index])] = (None, lines, currency)
            db.session.commit()
            continue
        try:
            transaction = post(key=f"step:{step}", kind=kind, currency=currency, lines=lines)
        except Conflict:
            refused += 1
            db.session.rollback()
            continue
        apply(lines, currency)
        posted.append((transaction.id, lines, currency))
        db.session.commit()
        if step % 50 == 0:
            assert_ledger_sound()

    assert refused > 0, "the walk should also hit never-negative payables"
    # The hot accounts' balances are their rows' plus their shards' (whole_balances).
    accounts = list(db.session.scalars(select(LedgerAccount)))
    whole = whole_balances(accounts)
    kept = {(a.code, a.currency): whole[a.id] for a in accounts}
    assert kept == {key: value for key, value in expected.items() if key in kept}
    assert all(value == 0 for key, value in expected.items() if key not in kept)
    assert all(v >= 0 for (code, _), v in kept.items() if code.startswith("member:"))
    assert_ledger_sound()
