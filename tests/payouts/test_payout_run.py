"""Payout runs on the offline provider: who is paid, who is held, and exactly once per payout."""

import pytest
from sqlalchemy import func, select

from crowd.core.background import TASKS, OutboxMessage
from crowd.core.db import commit
from crowd.extensions import db
from payouts import ledger, payout_lifecycle, payout_run
from payouts.models import (
    ConnectedAccount,
    LedgerTransaction,
    OfflineAccount,
    OfflineProviderCall,
    OfflineTransfer,
    Payout,
    PayoutRun,
)
from payouts.providers import PaymentProviderUnavailable
from payouts.providers.offline import OfflineProvider
from tests.factories import make_actor
from tests.jobs.conftest import drain_background, force_job_state, post_job_via_api
from tests.payouts.conftest import settle

pytestmark = pytest.mark.usefixtures("ledger_sound")

LINKS = {
    "refresh_url": "https://app.example/payout/refresh",
    "return_url": "https://app.example/payout/done",
}


def with_account(client, actor, country: str = "DE") -> str:
    """The member's offline connected account (enabled at once); its id."""
    response = client.post(
        "/api/v1/me/payout-account", json={**LINKS, "country": country}, headers=actor.headers
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["account"]["account_id"]


def payee(client, earning: int = 8000, currency: str = "EUR", *, account: bool = True):
    """A member with `earning` in their payable (a settled job) and, by default, an account."""
    actor = make_actor("member")
    if account:
        with_account(client, actor)
    if earning:
        settle(
            actor.profile_id,
            price=earning + 2000,
            commission=2000,
            currency=currency,
            key=f"test:settle:{actor.profile_id}:{currency}",
        )
        db.session.commit()
    return actor


def run_now(app, run_id=None) -> int | None:
    """The periodic task, its commit, and the sending it queued (as the runner does it)."""
    result = TASKS["payouts.run_payouts"].func(run_id=run_id)
    commit()
    drain_background(app)
    return result


def payouts_of(member_id: int) -> list[Payout]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(Payout).where(Payout.member_id == member_id).order_by(Payout.id))
    )


def payable(member_id: int, currency: str = "EUR") -> int:
    return ledger.balance(f"member:{member_id}:payable", currency)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def postings_like(prefix: str) -> list[str]:
    return list(
        db.session.scalars(
            select(LedgerTransaction.key)
            .where(LedgerTransaction.key.like(f"{prefix}%"))
            .order_by(LedgerTransaction.key)
        )
    )


# --- who is paid ----------------------------------------------------------------------------


def test_a_balance_above_the_minimum_is_paid_out(app, client):
    actor = payee(client, 8000)
    run_id = run_now(app)
    [payout] = payouts_of(actor.profile_id)
    assert (payout.amount, payout.currency, payout.status) == (8000, "EUR", "paid")
    assert payout.provider_transfer_id.startswith("off_tr_")
    assert payout.idempotency_key == f"payout-{payout.id}"
    assert payout.run_id == run_id
    assert payable(actor.profile_id) == 0
    # Sent (payable → in transit), then paid (in transit → out of the platform's clearing).
    assert postings_like(f"payout-{payout.id}-") == [
        f"payout-{payout.id}-paid",
        f"payout-{payout.id}-send",
    ]
    assert ledger.balance("payouts:in_transit", "EUR") == 0
    transfer = db.session.get(OfflineTransfer, payout.provider_transfer_id)
    assert (transfer.amount, transfer.currency) == (8000, "EUR")
    assert transfer.metadata_["payout_id"] == str(payout.id)
    run = db.session.get(PayoutRun, run_id)
    assert run.status == "completed" and run.finished_at is not None
    assert run.totals["EUR"] == {"count": 1, "amount": 8000, "held_count": 0, "held_amount": 0}


def test_a_balance_below_the_minimum_waits(app, client):
    actor = payee(client, 1999)
    run_now(app)
    assert payouts_of(actor.profile_id) == []
    assert payable(actor.profile_id) == 1999


def test_exactly_the_minimum_is_paid(app, client):
    actor = payee(client, 2000)
    run_now(app)
    assert [p.amount for p in payouts_of(actor.profile_id)] == [2000]


def test_the_minimum_comes_from_the_app_config(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "PAYOUT_MINIMUM_AMOUNT", {"EUR": 10_000, "CHF": 500})
    eur = payee(client, 8000)
    chf = payee(client, 600, "CHF")
    run_now(app)
    assert payouts_of(eur.profile_id) == []
    assert [(p.amount, p.currency) for p in payouts_of(chf.profile_id)] == [(600, "CHF")]


def test_each_currency_is_paid_on_its_own(app, client):
    actor = payee(client, 5000)
    settle(actor.profile_id, price=4000, commission=800, currency="CHF", key="test:chf")
    db.session.commit()
    run_now(app)
    assert sorted((p.currency, p.amount) for p in payouts_of(actor.profile_id)) == [
        ("CHF", 3200),
        ("EUR", 5000),
    ]


def test_a_member_with_an_open_dispute_is_held_with_the_reason(app, client, customer):
    actor = payee(client, 8000)
    job = post_job_via_api(client, customer).get_json()
    force_job_state(job["id"], status="disputed", assigned_member_id=actor.profile_id)
    run_now(app)
    [payout] = payouts_of(actor.profile_id)
    assert (payout.status, payout.hold_reason) == ("held", f"open dispute on job {job['id']}")
    assert payout.provider_transfer_id is None
    assert payable(actor.profile_id) == 8000
    assert count(OfflineTransfer) == 0


def test_a_resolved_dispute_no_longer_holds(app, client, customer):
    actor = payee(client, 8000)
    job = post_job_via_api(client, customer).get_json()
    force_job_state(job["id"], status="confirmed", assigned_member_id=actor.profile_id)
    run_now(app)
    assert [p.status for p in payouts_of(actor.profile_id)] == ["paid"]


def test_without_a_payout_account_the_payout_is_held(app, client):
    actor = payee(client, 8000, account=False)
    run_now(app)
    [payout] = payouts_of(actor.profile_id)
    assert (payout.status, payout.hold_reason) == ("held", "no payout account")
    assert payable(actor.profile_id) == 8000


def test_with_payouts_not_enabled_the_payout_is_held(app, client):
    actor = payee(client, 8000)
    _payouts_disabled(actor)
    run_id = run_now(app)
    [payout] = payouts_of(actor.profile_id)
    assert payout.hold_reason == "payouts are not enabled on the payout account"
    totals = db.session.get(PayoutRun, run_id).totals["EUR"]
    assert (totals["held_count"], totals["held_amount"], totals["count"]) == (1, 8000, 0)


def _payouts_disabled(actor) -> ConnectedAccount:
    """The member's payout account, with payouts switched off (their payouts are held)."""
    account = db.session.scalar(
        select(ConnectedAccount).where(ConnectedAccount.member_id == actor.profile_id)
    )
    account.payouts_enabled = False
    db.session.commit()
    return account


def test_held_members_are_paid_by_a_later_run_once_they_may_be(app, client):
    actor = payee(client, 8000)
    account = _payouts_disabled(actor)
    run_now(app)
    account.payouts_enabled = True
    db.session.commit()
    run_now(app)
    held, paid = payouts_of(actor.profile_id)
    # The held row is released by the payout that paid its money out (it moved none itself).
    assert (held.status, held.released_by_id) == ("released", paid.id)
    assert held.hold_reason == "payouts are not enabled on the payout account"
    assert (paid.status, paid.amount) == ("paid", held.amount)
    assert held.released_at is not None
    assert payable(actor.profile_id) == 0


def test_held_twice_then_paid_releases_both_and_shows_it_to_the_member(app, client):
    actor = payee(client, 8000)
    account = _payouts_disabled(actor)
    run_now(app)
    run_now(app)
    first, second = payouts_of(actor.profile_id)
    # Still held: nothing went out yet, so nothing is released.
    assert [first.status, second.status] == ["held", "held"]
    account.payouts_enabled = True
    db.session.commit()
    run_now(app)

    first, second, paid = payouts_of(actor.profile_id)
    assert paid.status == "paid"
    assert [(p.status, p.released_by_id) for p in (first, second)] == [
        ("released", paid.id),
        ("released", paid.id),
    ]
    mine = client.get("/api/v1/me/payouts", headers=actor.headers).get_json()["items"]
    by_id = {item["id"]: item for item in mine}
    assert by_id[first.id]["status"] == "released"
    assert by_id[first.id]["released_by_id"] == paid.id
    assert by_id[paid.id]["status"] == "paid"
    assert payable(actor.profile_id) == 0


def test_a_payout_in_another_currency_releases_nothing(app, client):
    actor = payee(client, 8000)
    _payouts_disabled(actor)
    run_now(app)
    (held,) = payouts_of(actor.profile_id)
    paying = Payout(
        run_id=held.run_id,
        member_id=held.member_id,
        amount=500,
        currency="CHF",
        status="paid",
    )
    db.session.add(paying)
    db.session.flush()
    assert payout_lifecycle.release_held(paying) == 0
    assert held.status == "held"


def test_fees_owed_are_settled_before_the_payout(app, client):
    actor = payee(client, 8000)
    member_id = actor.profile_id
    ledger.post(
        key="test:fee-owed",
        kind="monthly_fee",
        currency="EUR",
        lines=[
            ledger.Line(f"member:{member_id}:receivable", 2900),
            ledger.Line("platform:fees", -2900),
        ],
        member_id=member_id,
    )
    db.session.commit()
    run_now(app)
    assert [p.amount for p in payouts_of(member_id)] == [8000 - 2900]
    assert ledger.balance(f"member:{member_id}:receivable", "EUR") == 0
    assert payable(member_id) == 0


def test_many_members_in_one_run(app, client):
    paid = [payee(client, 2500 + n) for n in range(5)]
    small = payee(client, 100)
    run_id = run_now(app)
    assert count(Payout, Payout.run_id == run_id, Payout.status == "paid") == 5
    assert payouts_of(small.profile_id) == []
    assert all(payable(a.profile_id) == 0 for a in paid)


# --- exactly once ---------------------------------------------------------------------------


def test_running_twice_makes_one_transfer_and_one_posting(app, client):
    actor = payee(client, 8000)
    first = run_now(app)
    second = run_now(app)
    assert first != second
    [payout] = payouts_of(actor.profile_id)
    assert count(OfflineTransfer) == 1
    assert postings_like(f"payout-{payout.id}-send") == [f"payout-{payout.id}-send"]
    assert db.session.get(PayoutRun, second).status == "completed"
    assert db.session.get(PayoutRun, second).totals == {}


def test_a_run_message_delivered_twice_does_the_run_once(app, client, admin):
    actor = payee(client, 8000)
    run = payout_run.request_run(actor=_principal(admin))
    db.session.flush()
    run_id = run.id
    TASKS["payouts.run_payouts"].func(run_id=run_id)
    TASKS["payouts.run_payouts"].func(run_id=run_id)
    commit()
    drain_background(app)
    assert len(payouts_of(actor.profile_id)) == 1
    assert count(OfflineTransfer) == 1


def test_a_worker_dying_after_the_transfer_leaves_one_transfer_and_one_posting(
    app, client, monkeypatch
):
    actor = payee(client, 8000)
    real_transfer = OfflineProvider.transfer_many

    def transfer_then_die(self, requests, **kwargs):
        real_transfer(self, requests, **kwargs)
        assert count(OfflineTransfer) == 1  # recorded at the provider …
        raise RuntimeError("worker killed")  # … and the worker dies before recording it

    monkeypatch.setattr(OfflineProvider, "transfer_many", transfer_then_die)
    run_now(app)
    [payout] = payouts_of(actor.profile_id)
    # The payout and its posting were committed before the provider call; the rest was not.
    assert (payout.status, payout.provider_transfer_id) == ("pending", None)
    assert postings_like(f"payout-{payout.id}-") == [f"payout-{payout.id}-send"]
    failed = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.task == "payouts.send_payouts")
    ).all()
    assert [m.status for m in failed] == ["pending"]  # to be retried by the outbox, later
    assert "worker killed" in failed[0].last_error

    monkeypatch.setattr(OfflineProvider, "transfer_many", real_transfer)
    run_now(app)  # the next run sends it again, under the same key
    [payout] = payouts_of(actor.profile_id)
    assert payout.status == "paid"
    assert count(OfflineTransfer) == 1
    assert (
        count(OfflineProviderCall, OfflineProviderCall.idempotency_key == f"payout-{payout.id}")
        == 1
    )
    assert postings_like(f"payout-{payout.id}-") == [
        f"payout-{payout.id}-paid",
        f"payout-{payout.id}-send",
    ]
    # The outbox's own retry of the dead message finds nothing left to send.
    assert payout_run.send_payouts([payout.id]) == {"sent": 0, "failed": 0, "waiting": 0}
    assert payable(actor.profile_id) == 0


def test_a_provider_that_is_down_leaves_the_payout_pending_and_retries(app, client, monkeypatch):
    actor = payee(client, 8000)

    def down(self, requests, **kwargs):
        raise PaymentProviderUnavailable("The payment provider is not reachable.")

    monkeypatch.setattr(OfflineProvider, "transfer_many", down)
    run_id = run_now(app)
    [payout] = payouts_of(actor.profile_id)
    assert (payout.status, payout.attempts) == ("pending", 1)
    assert "not reachable" in payout.last_error
    assert db.session.get(PayoutRun, run_id).status == "sending"
    later = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.task == "payouts.send_payouts", OutboxMessage.status == "pending"
        )
    ).all()
    assert [m.kwargs for m in later] == [{"payout_ids": [payout.id]}]

    monkeypatch.undo()
    TASKS["payouts.send_payouts"].func(payout_ids=[payout.id])
    commit()
    [payout] = payouts_of(actor.profile_id)
    assert (payout.status, payout.attempts, payout.last_error) == ("paid", 2, None)
    assert db.session.get(PayoutRun, run_id).status == "completed"


def test_a_refused_transfer_fails_and_returns_the_money(app, client):
    actor = payee(client, 8000)
    account_id = db.session.scalar(
        select(ConnectedAccount.provider_account_id).where(
            ConnectedAccount.member_id == actor.profile_id
        )
    )
    # The provider no longer accepts transfers to the account (we have not heard yet).
    db.session.get(OfflineAccount, account_id).payouts_enabled = False
    db.session.commit()
    run_now(app)
    [payout] = payouts_of(actor.profile_id)
    assert payout.status == "failed"
    assert payout.failure_reason.startswith("account_invalid")
    assert payable(actor.profile_id) == 8000
    assert postings_like(f"payout-{payout.id}-") == [
        f"payout-{payout.id}-return",
        f"payout-{payout.id}-send",
    ]
    assert ledger.balance("payouts:in_transit", "EUR") == 0


def _principal(actor):
    from crowd.core.auth import Principal

    return Principal(user_id=actor.user_id, role=actor.role, token_id=0, via="session")


def test_a_run_id_that_does_not_exist_does_nothing(app):
    assert run_now(app, run_id=987654) is None
    assert count(PayoutRun) == 0
