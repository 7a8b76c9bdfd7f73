"""The payout run's batches: pages of payables, transfers sent a batch at a time, and what a
failure or a crash in the middle of a batch leaves behind — each member paid exactly once."""

import pytest
from sqlalchemy import func, select

from crowd.core.background import TASKS
from crowd.core.db import commit
from crowd.extensions import db
from payouts import ledger, payout_run
from payouts.models import (
    ConnectedAccount,
    LedgerTransaction,
    OfflineAccount,
    OfflineProviderCall,
    OfflineTransfer,
    Payout,
)
from payouts.providers import (
    PaymentError,
    PaymentProvider,
    PaymentProviderUnavailable,
    TransferRequest,
)
from payouts.providers.offline import OfflineProvider
from payouts.providers.stripe_provider import StripeProvider
from tests.payouts.test_payout_run import payee, payouts_of, postings_like, run_now
from tests.payouts.test_payout_run_stripe import stripe_payee

pytestmark = pytest.mark.usefixtures("ledger_sound")


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def account_of(actor) -> str:
    return db.session.scalar(
        select(ConnectedAccount.provider_account_id).where(
            ConnectedAccount.member_id == actor.profile_id
        )
    )


def payable(member_id: int, currency: str = "EUR") -> int:
    return ledger.balance(f"member:{member_id}:payable", currency)


# --- pages ----------------------------------------------------------------------------------


def test_every_page_is_paid_and_held_members_keep_their_place(app, client, monkeypatch):
    monkeypatch.setattr(payout_run, "RUN_PAGE", 2)
    actors = [payee(client, 3000 + n) for n in range(5)]
    held = payee(client, 4000, account=False)
    run_id = run_now(app)
    for actor in actors:
        [payout] = payouts_of(actor.profile_id)
        assert (payout.status, payout.run_id, payout.amount) == (
            "paid",
            run_id,
            3000 + actors.index(actor),
        )
        assert payout.send_transaction_id is not None
        assert payable(actor.profile_id) == 0
    [waiting] = payouts_of(held.profile_id)
    assert (waiting.status, waiting.hold_reason) == ("held", "no payout account")
    assert count(OfflineTransfer) == 5
    assert db.session.get(payout_run.PayoutRun, run_id).totals["EUR"] == {
        "count": 5,
        "amount": sum(3000 + n for n in range(5)),
        "held_count": 1,
        "held_amount": 4000,
    }


def test_a_page_boundary_between_a_members_currencies_pays_both(app, client, monkeypatch):
    monkeypatch.setattr(payout_run, "RUN_PAGE", 1)
    actor = payee(client, 5000, "EUR")
    payee_chf = payee(client, 0)
    from tests.payouts.conftest import settle

    settle(actor.profile_id, price=8000, commission=2000, currency="CHF", key="test:chf")
    db.session.commit()
    run_now(app)
    assert sorted((p.currency, p.status) for p in payouts_of(actor.profile_id)) == [
        ("CHF", "paid"),
        ("EUR", "paid"),
    ]
    assert payouts_of(payee_chf.profile_id) == []


def test_a_run_killed_in_its_second_page_writes_nothing_and_the_rerun_pays_each_once(
    app, client, monkeypatch
):
    monkeypatch.setattr(payout_run, "RUN_PAGE", 2)
    actors = [payee(client, 3000) for _ in range(5)]
    real_write_page = payout_run._write_page
    pages = []

    def write_then_die(*args, **kwargs):
        pages.append(1)
        if len(pages) == 2:
            raise RuntimeError("worker killed")
        return real_write_page(*args, **kwargs)

    monkeypatch.setattr(payout_run, "_write_page", write_then_die)
    with pytest.raises(RuntimeError):
        TASKS["payouts.run_payouts"].func()
    db.session.rollback()
    assert count(Payout) == 0
    assert postings_like("payout-") == []
    assert all(payable(a.profile_id) == 3000 for a in actors)

    monkeypatch.setattr(payout_run, "_write_page", real_write_page)
    run_now(app)
    run_now(app)  # and again: nothing more
    for actor in actors:
        [payout] = payouts_of(actor.profile_id)
        assert payout.status == "paid"
        assert postings_like(f"payout-{payout.id}-") == [
            f"payout-{payout.id}-paid",
            f"payout-{payout.id}-send",
        ]
    assert count(OfflineTransfer) == 5


# --- a failure in the middle of a batch -----------------------------------------------------


def test_a_refused_transfer_in_the_middle_of_a_batch_leaves_the_others_paid(app, client):
    first, middle, last = (payee(client, 6000 + n) for n in range(3))
    db.session.get(OfflineAccount, account_of(middle)).payouts_enabled = False
    db.session.commit()
    run_now(app)
    assert [p.status for p in payouts_of(first.profile_id)] == ["paid"]
    assert [p.status for p in payouts_of(last.profile_id)] == ["paid"]
    [refused] = payouts_of(middle.profile_id)
    assert refused.status == "failed"
    assert refused.failure_reason.startswith("account_invalid")
    assert payable(middle.profile_id) == 6001  # its money is back, for the next run
    assert count(OfflineTransfer) == 2
    assert (
        count(OfflineProviderCall, OfflineProviderCall.idempotency_key == refused.idempotency_key)
        == 0
    )  # a refusal for the account's state is not stored: a later call may succeed

    db.session.get(OfflineAccount, account_of(middle)).payouts_enabled = True
    db.session.commit()
    run_now(app)
    assert [p.status for p in payouts_of(middle.profile_id)] == ["failed", "paid"]
    assert payable(middle.profile_id) == 0
    assert count(OfflineTransfer) == 3


def test_a_crash_after_the_batchs_transfers_sends_none_twice_on_the_rerun(app, client, monkeypatch):
    actors = [payee(client, 5000) for _ in range(3)]
    real = OfflineProvider.transfer_many

    def transfer_then_die(self, requests, **kwargs):
        real(self, requests, **kwargs)
        assert count(OfflineTransfer) == 3  # made at the provider …
        raise RuntimeError("worker killed")  # … and the worker dies before recording any

    monkeypatch.setattr(OfflineProvider, "transfer_many", transfer_then_die)
    run_now(app)
    assert [p.status for a in actors for p in payouts_of(a.profile_id)] == ["pending"] * 3
    assert count(OfflineTransfer) == 0  # the offline transfers went with the unit of work

    monkeypatch.setattr(OfflineProvider, "transfer_many", real)
    run_now(app)
    for actor in actors:
        [payout] = payouts_of(actor.profile_id)
        assert payout.status == "paid"
        assert (
            count(OfflineProviderCall, OfflineProviderCall.idempotency_key == f"payout-{payout.id}")
            == 1
        )
    assert count(OfflineTransfer) == 3


# --- Stripe: concurrent transfers -------------------------------------------------------------


@pytest.mark.usefixtures("stripe_settings")
def test_stripe_unreachable_for_one_transfer_leaves_it_pending_and_the_others_sent(
    app, client, stripe_fake, monkeypatch
):
    first, middle, last = (stripe_payee(client, stripe_fake) for _ in range(3))
    real = StripeProvider.transfer

    def unreachable_for_middle(self, **kwargs):
        if kwargs["destination_account"] == middle.account_id:
            raise PaymentProviderUnavailable("The payment provider is not reachable.")
        return real(self, **kwargs)

    monkeypatch.setattr(StripeProvider, "transfer", unreachable_for_middle)
    run_now(app)
    sent = {a.profile_id: payouts_of(a.profile_id)[0] for a in (first, middle, last)}
    assert sent[first.profile_id].status == sent[last.profile_id].status == "in_transit"
    waiting = sent[middle.profile_id]
    assert (waiting.status, waiting.attempts, waiting.provider_transfer_id) == ("pending", 1, None)
    assert "not reachable" in waiting.last_error
    assert len(stripe_fake.transfers) == 2

    monkeypatch.setattr(StripeProvider, "transfer", real)
    payout_run.send_payouts([waiting.id])
    commit()
    assert payouts_of(middle.profile_id)[0].status == "in_transit"
    assert len(stripe_fake.transfers) == 3
    calls = stripe_fake.calls("POST", "/v1/transfers")
    assert sorted(c.idempotency_key for c in calls) == sorted(
        p.idempotency_key for p in sent.values()
    )


@pytest.mark.usefixtures("stripe_settings")
def test_stripe_a_crash_mid_batch_then_the_rerun_replays_every_key_and_makes_no_second_transfer(
    app, client, stripe_fake, monkeypatch
):
    actors = [stripe_payee(client, stripe_fake) for _ in range(4)]
    real = StripeProvider.transfer
    made = []

    def transfer_die_on_second(self, **kwargs):
        result = real(self, **kwargs)
        made.append(kwargs["idempotency_key"])
        if len(made) == 2:
            raise RuntimeError("worker killed after Stripe answered")
        return result

    monkeypatch.setattr(StripeProvider, "transfer", transfer_die_on_second)
    run_now(app)  # concurrent (PAYOUT_TRANSFER_CONCURRENCY): the calls under way finish first
    assert [p.status for a in actors for p in payouts_of(a.profile_id)] == ["pending"] * 4
    before = len(stripe_fake.transfers)
    assert 2 <= before <= 4

    monkeypatch.setattr(StripeProvider, "transfer", real)
    run_now(app)
    assert len(stripe_fake.transfers) == 4  # one per payout, however many the crash left
    by_key: dict[str, list] = {}
    for call in stripe_fake.calls("POST", "/v1/transfers"):
        by_key.setdefault(call.idempotency_key, []).append(call)
    for actor in actors:
        [payout] = payouts_of(actor.profile_id)
        assert payout.status == "in_transit"
        calls = by_key[payout.idempotency_key]
        assert all(c.params == calls[0].params for c in calls)
        if len(calls) == 2:
            assert calls[1].replayed is True
    assert sum(len(c) for c in by_key.values()) == 4 + before


# --- the offline provider's batch -----------------------------------------------------------


def _request(account: str, key: str, amount: int = 1000) -> TransferRequest:
    return TransferRequest(
        amount=amount,
        currency="EUR",
        destination_account=account,
        transfer_group=None,
        idempotency_key=key,
        metadata={"n": 1},
    )


def test_offline_transfer_many_answers_as_transfer_does(client):
    a, b = payee(client, 0), payee(client, 0)
    provider = OfflineProvider()
    single = provider.transfer(**_request(account_of(a), "k-single").__dict__)
    db.session.get(OfflineAccount, account_of(b)).payouts_enabled = False
    outcomes = provider.transfer_many(
        [
            _request(account_of(a), "k-single"),  # a replay
            _request(account_of(a), "k-new"),
            _request(account_of(a), "k-single", amount=999),  # the key, other parameters
            _request(account_of(b), "k-disabled"),
            _request(account_of(a), "k-new"),  # twice in the batch: the same transfer
        ]
    )
    replay, new, other, disabled, again = outcomes
    assert replay == single
    assert new.id == OfflineProvider().transfer(**_request(account_of(a), "k-new").__dict__).id
    assert again == new
    assert isinstance(other, PaymentError) and other.code == "idempotency_error"
    assert isinstance(disabled, PaymentError) and disabled.code == "account_invalid"
    assert count(OfflineTransfer) == 2
    assert count(OfflineProviderCall, OfflineProviderCall.operation == "transfer") == 2
    assert count(LedgerTransaction) == 0


def test_the_default_transfer_many_keeps_the_order_and_the_errors_per_request(client):
    class OneByOne(OfflineProvider):
        """The interface's own transfer_many (a pool of threads) over the offline transfer."""

        transfer_many = PaymentProvider.transfer_many

    a = payee(client, 0)
    results = OneByOne().transfer_many(
        [_request(account_of(a), f"k-{n}", 100 + n) for n in range(3)]
        + [_request("off_acct_missing", "k-missing")],
        concurrency=1,
        per_second=1000,
    )
    assert [r.amount for r in results[:3]] == [100, 101, 102]
    assert isinstance(results[3], PaymentError) and results[3].code == "account_invalid"


# --- set-based ------------------------------------------------------------------------------


def test_the_statements_of_a_run_do_not_grow_with_its_payouts(app, client):
    from tests.sql_recorder import sql_statements

    [payee(client, 3000) for _ in range(2)]
    run_now(app)  # the accounts a run posts to exist from here on

    def statements_to_pay(members: int) -> int:
        actors = [payee(client, 3000) for _ in range(members)]
        with sql_statements() as sent:
            run_now(app)
        assert all(payouts_of(a.profile_id)[0].status == "paid" for a in actors)
        return len(sent)

    assert statements_to_pay(3) == statements_to_pay(9)
