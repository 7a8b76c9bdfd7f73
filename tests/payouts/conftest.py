"""Shared helpers for the money tests: the ledger invariant and ready-made postings.

Opt into the invariant check after every test of a module with
    pytestmark = pytest.mark.usefixtures("ledger_sound")
or for a whole folder with an autouse fixture that requests `ledger_sound`.
Others may append fixtures here; keep the names below stable.
"""

from __future__ import annotations

import pytest

from crowd.extensions import db
from payouts import ledger
from payouts.ledger import Line, account_code_for_member


def assert_ledger_sound() -> None:
    """Fail with every problem check_invariant finds (per-currency zero sum, kept balances…)."""
    problems = ledger.check_invariant()
    assert problems == [], "the ledger is unsound:\n" + "\n".join(problems)


@pytest.fixture
def ledger_sound(db_session):
    """After the test, the committed ledger is sound (what the test left uncommitted is not)."""
    yield
    db.session.rollback()
    assert_ledger_sound()


def settlement_lines(member_id: int, price: int, commission: int) -> list[Line]:
    """A job settlement: the captured price, the platform's commission, the member's earning.

    A zero share (a 0 % plan, a fee as large as the price) has no line: entries are never 0.
    """
    lines = [
        Line("clearing:payments", price),
        Line("platform:revenue", -commission),
        Line(account_code_for_member(member_id), -(price - commission)),
    ]
    return [line for line in lines if line.amount]


def settle(member_id: int, /, price: int = 10_000, commission: int = 2_000, **kw):
    """Post a job settlement for the member (key and currency may be given)."""
    kw.setdefault("key", f"test:settle:{member_id}:{price}:{commission}")
    kw.setdefault("currency", "EUR")
    return ledger.post(
        kind="job_settlement", lines=settlement_lines(member_id, price, commission), **kw
    )


# --- Stripe: the local fake of its API and signed webhook deliveries (tests/stripe_fake.py) ---
from tests.stripe_fake import (  # noqa: E402, F401
    stripe_fake,
    stripe_fake_server,
    stripe_provider,
    stripe_settings,
    webhook_settings,
)
