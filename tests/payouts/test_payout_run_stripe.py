"""Payout runs through Stripe Connect (the SDK against the local fake) and the payout webhooks."""

import pytest
from sqlalchemy import func, select

from crowd.core.background import TASKS
from crowd.core.db import commit
from crowd.extensions import db
from payouts import ledger, payout_run
from payouts.models import LedgerTransaction, Payout, WebhookEvent
from payouts.providers.stripe_provider import StripeProvider
from tests.factories import make_actor
from tests.jobs.conftest import drain_background
from tests.payouts.conftest import settle
from tests.stripe_fake import post_event, stripe_event

pytestmark = pytest.mark.usefixtures("ledger_sound", "stripe_settings")

LINKS = {
    "refresh_url": "https://app.example/payout/refresh",
    "return_url": "https://app.example/payout/done",
    "country": "DE",
}


def stripe_payee(client, stripe_fake, earning: int = 8000):
    """A member with an enabled Stripe connected account and `earning` in their payable."""
    actor = make_actor("member")
    url = "/api/v1/me/payout-account"
    account_id = client.post(url, json=LINKS, headers=actor.headers).get_json()["account"][
        "account_id"
    ]
    stripe_fake.set_account(account_id, payouts_enabled=True, details_submitted=True)
    refreshed = client.post(url, json=LINKS, headers=actor.headers).get_json()["account"]
    assert refreshed["payouts_enabled"] is True
    settle(actor.profile_id, price=earning + 2000, commission=2000)
    db.session.commit()
    actor.account_id = account_id
    return actor


def run_now(app):
    run_id = TASKS["payouts.run_payouts"].func()
    commit()
    drain_background(app)
    return run_id


def the_payout(member_id: int) -> Payout:
    db.session.expire_all()
    [payout] = db.session.scalars(select(Payout).where(Payout.member_id == member_id)).all()
    return payout


def payable(member_id: int) -> int:
    return ledger.balance(f"member:{member_id}:payable", "EUR")


def keys(prefix: str) -> list[str]:
    return list(
        db.session.scalars(
            select(LedgerTransaction.key)
            .where(LedgerTransaction.key.like(f"{prefix}%"))
            .order_by(LedgerTransaction.key)
        )
    )


def bank_payout(type_: str, payout: Payout, account: str, created=None, **fields) -> dict:
    """A payout.* event of the member's connected account naming our payout."""
    obj = {
        "id": "po_fake0001",
        "object": "payout",
        "amount": payout.amount,
        "currency": payout.currency.lower(),
        "metadata": {"payout_id": str(payout.id)},
        "status": "paid" if type_ == "payout.paid" else "failed",
        **fields,
    }
    return stripe_event(type_, obj, account=account, created=created)


def transfer_event(type_: str, payout: Payout, transfer_id: str, **fields) -> dict:
    obj = {
        "id": transfer_id,
        "object": "transfer",
        "amount": payout.amount,
        "amount_reversed": 0,
        "currency": payout.currency.lower(),
        "destination": payout.destination_account,
        "metadata": {"payout_id": str(payout.id), "run_id": str(payout.run_id)},
        "reversed": False,
        **fields,
    }
    return stripe_event(type_, obj)


@pytest.fixture
def sent(app, client, stripe_fake):
    """A member whose 80.00 EUR payout is in transit at Stripe: (actor, payout)."""
    actor = stripe_payee(client, stripe_fake)
    run_now(app)
    return actor, the_payout(actor.profile_id)


# --- the transfer ---------------------------------------------------------------------------


def test_the_transfer_request_carries_our_key_and_exact_parameters(app, client, stripe_fake):
    actor = stripe_payee(client, stripe_fake)
    run_id = run_now(app)
    payout = the_payout(actor.profile_id)
    [call] = stripe_fake.calls("POST", "/v1/transfers")
    assert call.idempotency_key == f"payout-{payout.id}"
    assert call.params == {
        "amount": "8000",
        "currency": "eur",
        "destination": actor.account_id,
        "metadata": {
            "payout_id": str(payout.id),
            "run_id": str(run_id),
            "member_id": str(actor.profile_id),
        },
    }
    [transfer] = stripe_fake.transfers.values()
    assert (payout.status, payout.provider_transfer_id) == ("in_transit", transfer["id"])
    assert (payout.provider, payout.destination_account) == ("stripe", actor.account_id)
    # The money is on its way: out of the payable, not yet out of the platform.
    assert keys(f"payout-{payout.id}-") == [f"payout-{payout.id}-send"]
    assert ledger.balance("payouts:in_transit", "EUR") == 8000
    assert payable(actor.profile_id) == 0


def test_a_worker_dying_after_stripe_made_the_transfer_sends_the_same_key_again(
    app, client, stripe_fake, monkeypatch
):
    actor = stripe_payee(client, stripe_fake)
    real_transfer = StripeProvider.transfer

    def transfer_then_die(self, **kwargs):
        real_transfer(self, **kwargs)
        raise RuntimeError("worker killed after Stripe answered")

    monkeypatch.setattr(StripeProvider, "transfer", transfer_then_die)
    run_now(app)
    payout = the_payout(actor.profile_id)
    assert (payout.status, payout.provider_transfer_id) == ("pending", None)
    assert len(stripe_fake.transfers) == 1

    monkeypatch.setattr(StripeProvider, "transfer", real_transfer)
    run_now(app)
    payout = the_payout(actor.profile_id)
    first, again = stripe_fake.calls("POST", "/v1/transfers")
    assert first.idempotency_key == again.idempotency_key == f"payout-{payout.id}"
    assert first.params == again.params
    assert again.replayed is True
    [transfer] = stripe_fake.transfers.values()
    assert (payout.status, payout.provider_transfer_id) == ("in_transit", transfer["id"])
    assert keys(f"payout-{payout.id}-") == [f"payout-{payout.id}-send"]
    assert stripe_fake.balance["eur"] == 10**9 - 8000


def test_stripe_refusing_the_transfer_fails_the_payout_and_returns_the_money(
    app, client, stripe_fake
):
    actor = stripe_payee(client, stripe_fake)
    stripe_fake.fail_next(
        "/v1/transfers",
        status=400,
        type="invalid_request_error",
        code="balance_insufficient",
        message="You have insufficient available funds in your Stripe account.",
    )
    run_now(app)
    payout = the_payout(actor.profile_id)
    assert payout.status == "failed"
    assert payout.failure_reason.startswith("balance_insufficient")
    assert payable(actor.profile_id) == 8000
    assert keys(f"payout-{payout.id}-") == [
        f"payout-{payout.id}-return",
        f"payout-{payout.id}-send",
    ]


def test_stripe_being_down_leaves_the_payout_pending_for_the_same_key_later(
    app, client, stripe_fake
):
    actor = stripe_payee(client, stripe_fake)
    stripe_fake.fail_next(
        "/v1/transfers", status=500, type="api_error", code=None, message="boom", times=3
    )
    run_now(app)
    payout = the_payout(actor.profile_id)
    assert (payout.status, payout.provider_transfer_id) == ("pending", None)
    assert payable(actor.profile_id) == 0  # it stays promised to this payout
    payout_run.send_payouts([payout.id])
    commit()
    payout = the_payout(actor.profile_id)
    assert payout.status == "in_transit"
    assert {c.idempotency_key for c in stripe_fake.calls("POST", "/v1/transfers")} == {
        f"payout-{payout.id}"
    }
    assert len(stripe_fake.transfers) == 1


# --- webhooks -------------------------------------------------------------------------------


def test_payout_paid_makes_it_paid_and_takes_it_out_of_the_platform(client, sent):
    actor, payout = sent
    response = post_event(client, bank_payout("payout.paid", payout, actor.account_id))
    assert response.get_json()["status"] == "processed"
    payout = the_payout(actor.profile_id)
    assert payout.status == "paid" and payout.paid_at is not None
    assert keys(f"payout-{payout.id}-") == [f"payout-{payout.id}-paid", f"payout-{payout.id}-send"]
    assert ledger.balance("payouts:in_transit", "EUR") == 0
    assert ledger.balance("clearing:payments", "EUR") == 10_000 - 8000


# A bank payout failing sends the money back to the connected account's balance at Stripe,
# not to ours. These three tests used to expect it back in the member's payable — which made
# the next run pay it a second time (issue 16); they now expect it to stay the member's.


def test_a_failed_bank_payout_leaves_the_money_at_the_members_account_and_pays_nothing_again(
    app, client, stripe_fake, sent
):
    actor, payout = sent
    event = bank_payout(
        "payout.failed",
        payout,
        actor.account_id,
        failure_code="account_closed",
        failure_message="The bank account has been closed.",
    )
    assert post_event(client, event).get_json()["status"] == "processed"
    payout = the_payout(actor.profile_id)
    assert (payout.status, payout.failure_reason) == (
        "in_transit",
        "bank payout failed: The bank account has been closed.",
    )
    assert payable(actor.profile_id) == 0
    assert ledger.balance("payouts:in_transit", "EUR") == 8000
    assert keys(f"payout-{payout.id}-") == [f"payout-{payout.id}-send"]

    assert post_event(client, event).get_json()["duplicate"] is True
    # The same news under another event id is stored, and ignored.
    again = bank_payout("payout.failed", payout, actor.account_id, created=event["created"])
    assert post_event(client, again).get_json()["status"] == "ignored"
    run_now(app)
    assert len(stripe_fake.transfers) == 1
    assert payable(actor.profile_id) == 0


def test_a_paid_payout_the_bank_returns_is_in_transit_again_and_paid_by_the_next_bank_payout(
    app, client, stripe_fake, sent
):
    actor, payout = sent
    paid = bank_payout("payout.paid", payout, actor.account_id)
    post_event(client, paid)
    failed = bank_payout(
        "payout.failed",
        payout,
        actor.account_id,
        created=paid["created"],
        failure_code="account_closed",
    )
    assert post_event(client, failed).get_json()["status"] == "processed"
    assert the_payout(actor.profile_id).status == "in_transit"
    assert payable(actor.profile_id) == 0
    assert ledger.balance("clearing:payments", "EUR") == 10_000
    assert ledger.balance("payouts:in_transit", "EUR") == 8000
    run_now(app)
    assert len(stripe_fake.transfers) == 1

    # The member fixed their bank account; Stripe pays it out again, a little later.
    again = bank_payout("payout.paid", payout, actor.account_id, created=paid["created"] + 60)
    assert post_event(client, again).get_json()["status"] == "processed"
    payout = the_payout(actor.profile_id)
    assert (payout.status, payout.failure_reason, payout.bank_returns) == ("paid", None, 1)
    assert keys(f"payout-{payout.id}-") == [
        f"payout-{payout.id}-bank-return-1",
        f"payout-{payout.id}-paid",
        f"payout-{payout.id}-paid-2",
        f"payout-{payout.id}-send",
    ]
    assert ledger.balance("clearing:payments", "EUR") == 10_000 - 8000
    assert ledger.balance("payouts:in_transit", "EUR") == 0


def test_a_payout_paid_in_the_same_second_as_a_failure_does_not_outrank_it(client, sent):
    actor, payout = sent
    failed = bank_payout("payout.failed", payout, actor.account_id)
    post_event(client, failed)
    late = bank_payout("payout.paid", payout, actor.account_id, created=failed["created"])
    assert post_event(client, late).get_json()["status"] == "ignored"
    assert the_payout(actor.profile_id).status == "in_transit"
    assert payable(actor.profile_id) == 0


def test_transfer_reversed_fails_the_payout_and_returns_the_money(client, sent):
    actor, payout = sent
    event = transfer_event(
        "transfer.reversed",
        payout,
        payout.provider_transfer_id,
        amount_reversed=payout.amount,
        reversed=True,
    )
    assert post_event(client, event).get_json()["status"] == "processed"
    payout = the_payout(actor.profile_id)
    assert (payout.status, payout.failure_reason) == ("failed", "transfer reversed")
    assert payable(actor.profile_id) == 8000


def test_a_partial_reversal_is_left_for_a_human(client, sent):
    actor, payout = sent
    event = transfer_event(
        "transfer.reversed", payout, payout.provider_transfer_id, amount_reversed=100
    )
    assert post_event(client, event).get_json()["status"] == "ignored"
    assert the_payout(actor.profile_id).status == "in_transit"


def test_transfer_created_confirms_a_payout_whose_send_was_not_recorded(
    app, client, stripe_fake, monkeypatch
):
    actor = stripe_payee(client, stripe_fake)
    real_transfer = StripeProvider.transfer
    made = {}

    def transfer_then_die(self, **kwargs):
        made["transfer"] = real_transfer(self, **kwargs)
        raise RuntimeError("worker killed")

    monkeypatch.setattr(StripeProvider, "transfer", transfer_then_die)
    run_now(app)
    payout = the_payout(actor.profile_id)
    assert payout.status == "pending"
    event = transfer_event("transfer.created", payout, made["transfer"].id)
    assert post_event(client, event).get_json()["status"] == "processed"
    payout = the_payout(actor.profile_id)
    assert (payout.status, payout.provider_transfer_id) == ("in_transit", made["transfer"].id)
    # Sending it again now finds nothing pending: Stripe is not asked a second time.
    monkeypatch.undo()
    assert payout_run.send_payouts([payout.id])["sent"] == 0
    assert len(stripe_fake.calls("POST", "/v1/transfers")) == 1


def test_transfer_created_for_a_payout_in_transit_changes_nothing(client, sent):
    actor, payout = sent
    event = transfer_event("transfer.created", payout, payout.provider_transfer_id)
    assert post_event(client, event).get_json()["status"] == "processed"
    assert the_payout(actor.profile_id).status == "in_transit"
    assert keys(f"payout-{payout.id}-") == [f"payout-{payout.id}-send"]


@pytest.mark.parametrize(
    "change",
    [
        # (No metadata at all: Stripe's automatic payout, reconciled instead — see
        # tests/payouts/test_bank_payouts.py.)
        {"metadata": {"payout_id": "999999"}},
        {"metadata": {"payout_id": "not a number"}},
        {"amount": 1},
        {"currency": "chf"},
    ],
)
def test_a_bank_payout_that_is_not_ours_is_ignored(client, sent, change):
    actor, payout = sent
    event = bank_payout("payout.paid", payout, actor.account_id, **change)
    assert post_event(client, event).get_json()["status"] == "ignored"
    assert the_payout(actor.profile_id).status == "in_transit"


def test_a_bank_payout_of_another_account_is_ignored(client, sent):
    actor, payout = sent
    event = bank_payout("payout.paid", payout, "acct_someone_else")
    assert post_event(client, event).get_json()["status"] == "ignored"
    assert the_payout(actor.profile_id).status == "in_transit"


def test_a_transfer_to_another_destination_is_ignored(client, sent):
    actor, payout = sent
    event = transfer_event(
        "transfer.reversed",
        payout,
        "tr_unknown",
        destination="acct_someone_else",
        amount_reversed=payout.amount,
    )
    assert post_event(client, event).get_json()["status"] == "ignored"
    assert the_payout(actor.profile_id).status == "in_transit"


def test_the_run_completes_when_its_last_payout_leaves_pending(app, client, sent):
    actor, payout = sent
    from payouts.models import PayoutRun

    assert db.session.get(PayoutRun, payout.run_id).status == "completed"
    stored = db.session.scalar(select(func.count()).select_from(WebhookEvent))
    assert stored == 0


def test_payout_handlers_are_registered_for_the_subscribed_types():
    from payouts import webhooks

    webhooks._load_handlers()
    for type_ in ("transfer.created", "transfer.reversed", "payout.paid", "payout.failed"):
        assert webhooks.HANDLERS[type_].__module__ == "payouts.payout_run"
        assert type_ in webhooks.SUBSCRIBED_EVENT_TYPES


def test_an_account_made_with_another_provider_is_held(app, client):
    from payouts.models import ConnectedAccount

    actor = make_actor("member")
    db.session.add(
        ConnectedAccount(
            member_id=actor.profile_id,
            provider="offline",
            provider_account_id="off_acct_old",
            country="DE",
            payouts_enabled=True,
        )
    )
    settle(actor.profile_id, price=10_000, commission=2000)
    db.session.commit()
    run_now(app)
    payout = the_payout(actor.profile_id)
    assert (payout.status, payout.hold_reason) == (
        "held",
        "the payout account was made with the offline provider",
    )
    assert payable(actor.profile_id) == 8000
