"""Stripe's automatic bank payouts reconciled to our payouts through their balance transactions
(the real SDK against the local fake): payouts.bank_payouts."""

import pytest
from sqlalchemy import func, select

from crowd.core.background import TASKS
from crowd.core.db import commit
from crowd.extensions import db
from payouts import ledger, payout_run
from payouts.models import BankPayout, BankPayoutItem, Payout, WebhookEvent
from payouts.providers.offline import OfflineProvider
from payouts.providers.stripe_provider import StripeProvider
from tests.factories import make_actor
from tests.jobs.conftest import drain_background
from tests.payouts.conftest import settle
from tests.payouts.test_payout_run_stripe import (
    keys,
    payable,
    run_now,
    stripe_payee,
    the_payout,
    transfer_event,
)
from tests.stripe_fake import post_event, stripe_event

pytestmark = pytest.mark.usefixtures("ledger_sound", "stripe_settings")


def deliver(app, client, type_: str, payout_object: dict, account: str, **kw) -> dict:
    """Deliver the bank payout's event and run the work it queued; the webhook's answer."""
    answer = post_event(client, stripe_event(type_, payout_object, account=account, **kw))
    assert answer.status_code == 200, answer.get_json()
    drain_background(app)
    db.session.expire_all()
    return answer.get_json()


def bank(provider_payout_id: str) -> BankPayout:
    db.session.expire_all()
    return db.session.scalar(
        select(BankPayout).where(BankPayout.provider_payout_id == provider_payout_id)
    )


def items_of(bank_payout: BankPayout) -> list[BankPayoutItem]:
    return list(
        db.session.scalars(
            select(BankPayoutItem)
            .where(BankPayoutItem.bank_payout_id == bank_payout.id)
            .order_by(BankPayoutItem.id)
        )
    )


def payouts_of(member_id: int) -> list[Payout]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(Payout).where(Payout.member_id == member_id).order_by(Payout.id))
    )


def event_note(event_type: str) -> tuple[str, str | None]:
    event = db.session.scalar(
        select(WebhookEvent).where(WebhookEvent.type == event_type).order_by(WebhookEvent.id.desc())
    )
    return event.status, event.note


@pytest.fixture
def sent(app, client, stripe_fake):
    """A member whose 80.00 EUR payout is in transit at Stripe: (actor, payout)."""
    actor = stripe_payee(client, stripe_fake)
    run_now(app)
    return actor, the_payout(actor.profile_id)


# --- paid -----------------------------------------------------------------------------------


def test_an_automatic_bank_payout_is_reconciled_and_makes_our_payout_paid(
    app, client, stripe_fake, sent
):
    actor, payout = sent
    transfer = stripe_fake.transfers[payout.provider_transfer_id]
    assert transfer["destination_payment"].startswith("py_")
    po = stripe_fake.make_bank_payout(actor.account_id, [payout.provider_transfer_id])
    assert po["metadata"] == {}
    answer = deliver(app, client, "payout.paid", po, actor.account_id)
    assert answer["status"] == "processed"

    [call] = stripe_fake.calls("GET", "/v1/balance_transactions")
    assert call.stripe_account == actor.account_id
    assert call.params["payout"] == po["id"]
    assert "data.source" in call.params["expand"].values()
    payout = the_payout(actor.profile_id)
    assert payout.status == "paid" and payout.paid_at is not None
    assert keys(f"payout-{payout.id}-") == [f"payout-{payout.id}-paid", f"payout-{payout.id}-send"]
    assert ledger.balance("payouts:in_transit", "EUR") == 0
    record = bank(po["id"])
    assert (record.account, record.amount, record.currency, record.status) == (
        actor.account_id,
        8000,
        "EUR",
        "paid",
    )
    assert record.arrival_date is not None and record.reconciled_at is not None
    [item] = items_of(record)
    assert (item.payout_id, item.amount, item.transfer_id, item.source_id) == (
        payout.id,
        8000,
        payout.provider_transfer_id,
        transfer["destination_payment"],
    )
    # The member sees it paid.
    mine = client.get("/api/v1/me/payouts", headers=actor.headers).get_json()
    [shown] = mine["items"] if "items" in mine else mine["data"]
    assert shown["status"] == "paid" and shown["paid_at"] is not None


def test_one_bank_payout_carrying_several_transfers_pays_each_payout(app, client, stripe_fake):
    actor = stripe_payee(client, stripe_fake)
    run_now(app)
    settle(actor.profile_id, price=5000, commission=1000)
    commit()
    run_now(app)
    first, second = payouts_of(actor.profile_id)
    assert (first.status, second.status, first.amount, second.amount) == (
        "in_transit",
        "in_transit",
        8000,
        4000,
    )
    po = stripe_fake.make_bank_payout(
        actor.account_id, [first.provider_transfer_id, second.provider_transfer_id]
    )
    assert po["amount"] == 12_000
    assert deliver(app, client, "payout.paid", po, actor.account_id)["status"] == "processed"
    assert [p.status for p in payouts_of(actor.profile_id)] == ["paid", "paid"]
    assert len(items_of(bank(po["id"]))) == 2
    assert ledger.balance("payouts:in_transit", "EUR") == 0


def test_many_balance_transactions_are_read_over_several_pages(app, client, stripe_fake, sent):
    actor, payout = sent
    # Eleven other transactions of the account in the same bank payout (not ours): the SDK
    # follows has_more / starting_after until the last page, where our transfer is.
    for _ in range(11):
        stripe_fake._balance_transaction(actor.account_id, "adjustment", 100, "adj_x", None)
    po = stripe_fake.make_bank_payout(actor.account_id, [payout.provider_transfer_id])
    for txn in stripe_fake.account_balance_transactions[actor.account_id]:
        if txn["type"] == "adjustment":
            txn["payout"] = po["id"]
    transactions = StripeProvider(stripe_fake.api_key, api_base=stripe_fake.url)
    listed = transactions.bank_payout_transactions(po["id"], account=actor.account_id)
    assert len(listed) == 13  # our payment, 11 adjustments, the payout itself
    deliver(app, client, "payout.paid", po, actor.account_id)
    assert len(stripe_fake.calls("GET", "/v1/balance_transactions")) >= 2
    assert the_payout(actor.profile_id).status == "paid"
    assert "adjustment" in bank(po["id"]).note


def test_a_transfer_split_over_two_bank_payouts_is_paid_when_both_are(
    app, client, stripe_fake, sent
):
    actor, payout = sent
    tr = payout.provider_transfer_id
    part_one = stripe_fake.make_bank_payout(actor.account_id, {tr: 5000})
    deliver(app, client, "payout.paid", part_one, actor.account_id)
    payout = the_payout(actor.profile_id)
    assert payout.status == "in_transit"  # 50.00 of 80.00 reached the bank
    assert keys(f"payout-{payout.id}-") == [f"payout-{payout.id}-send"]

    part_two = stripe_fake.make_bank_payout(actor.account_id, {tr: None})
    assert part_two["amount"] == 3000
    deliver(app, client, "payout.paid", part_two, actor.account_id)
    payout = the_payout(actor.profile_id)
    assert payout.status == "paid"
    assert keys(f"payout-{payout.id}-") == [f"payout-{payout.id}-paid", f"payout-{payout.id}-send"]

    # Then the first part comes back from the bank: no longer all paid out.
    failed = stripe_fake.fail_bank_payout(part_one["id"], "account_closed", "Closed.")
    deliver(app, client, "payout.failed", failed, actor.account_id)
    payout = the_payout(actor.profile_id)
    assert (payout.status, payout.failure_reason) == (
        "in_transit",
        f"bank payout {part_one['id']} failed: Closed.",
    )
    assert payable(actor.profile_id) == 0
    assert ledger.balance("payouts:in_transit", "EUR") == 8000


# --- failed ---------------------------------------------------------------------------------


def test_a_paid_bank_payout_that_fails_later_returns_the_money_once(app, client, stripe_fake, sent):
    actor, payout = sent
    po = stripe_fake.make_bank_payout(actor.account_id, [payout.provider_transfer_id])
    paid_event = stripe_event("payout.paid", po, account=actor.account_id)
    post_event(client, paid_event)
    drain_background(app)
    failed = stripe_fake.fail_bank_payout(po["id"], "account_closed", "The account is closed.")
    failed_event = stripe_event("payout.failed", failed, account=actor.account_id)
    assert post_event(client, failed_event).get_json()["status"] == "processed"
    drain_background(app)
    payout = the_payout(actor.profile_id)
    assert (payout.status, payout.failure_reason, payout.bank_returns) == (
        "in_transit",
        f"bank payout {po['id']} failed: The account is closed.",
        1,
    )
    record = bank(po["id"])
    assert (record.status, record.failure_code) == ("failed", "account_closed")
    # Back at the connected account (the member's), not in their payable: never paid twice.
    assert payable(actor.profile_id) == 0
    assert ledger.balance("payouts:in_transit", "EUR") == 8000
    assert ledger.balance("clearing:payments", "EUR") == 10_000
    expected = [
        f"payout-{payout.id}-bank-return-1",
        f"payout-{payout.id}-paid",
        f"payout-{payout.id}-send",
    ]
    assert keys(f"payout-{payout.id}-") == expected

    # Delivered again, under the same id or another, and a late payout.paid: nothing more.
    assert post_event(client, failed_event).get_json()["duplicate"] is True
    again = stripe_event("payout.failed", failed, account=actor.account_id)
    assert post_event(client, again).get_json()["status"] == "ignored"
    assert (
        post_event(client, stripe_event("payout.paid", po, account=actor.account_id)).get_json()[
            "status"
        ]
        == "ignored"
    )
    TASKS["payouts.reconcile_bank_payout"].func(bank_payout_id=record.id)
    commit()
    run_now(app)
    assert keys(f"payout-{payout.id}-") == expected
    assert len(stripe_fake.transfers) == 1
    assert payable(actor.profile_id) == 0
    mine = client.get("/api/v1/me/payouts", headers=actor.headers).get_json()
    [shown] = mine["items"] if "items" in mine else mine["data"]
    assert shown["status"] == "in_transit"
    assert shown["failure_reason"] == f"bank payout {po['id']} failed: The account is closed."


def test_payout_failed_before_payout_paid_ends_failed_and_moves_no_money(
    app, client, stripe_fake, sent
):
    actor, payout = sent
    po = stripe_fake.make_bank_payout(actor.account_id, [payout.provider_transfer_id])
    failed = stripe_fake.fail_bank_payout(po["id"], "no_account", "No such bank account.")
    assert deliver(app, client, "payout.failed", failed, actor.account_id)["status"] == "processed"
    late = deliver(app, client, "payout.paid", dict(po, status="paid"), actor.account_id)
    assert late["status"] == "ignored"
    payout = the_payout(actor.profile_id)
    assert payout.status == "in_transit"
    assert payout.failure_reason.endswith("No such bank account.")
    assert keys(f"payout-{payout.id}-") == [f"payout-{payout.id}-send"]
    assert event_note("payout.paid")[1] == f"bank payout {po['id']} is failed: payout.paid " + (
        "changes nothing"
    )


# --- out of order, duplicates ---------------------------------------------------------------


def _send_dies(monkeypatch, made: dict) -> None:
    real_transfer = StripeProvider.transfer

    def transfer_then_die(self, **kwargs):
        made["transfer"] = real_transfer(self, **kwargs)
        raise RuntimeError("worker killed after Stripe answered")

    monkeypatch.setattr(StripeProvider, "transfer", transfer_then_die)
    made["real"] = real_transfer


def test_a_bank_payout_before_our_transfer_is_known_waits_for_transfer_created(
    app, client, stripe_fake, monkeypatch
):
    actor = stripe_payee(client, stripe_fake)
    made = {}
    _send_dies(monkeypatch, made)
    run_now(app)
    monkeypatch.setattr(StripeProvider, "transfer", made["real"])
    payout = the_payout(actor.profile_id)
    assert (payout.status, payout.provider_transfer_id) == ("pending", None)
    po = stripe_fake.make_bank_payout(actor.account_id, [made["transfer"].id])
    assert deliver(app, client, "payout.paid", po, actor.account_id)["status"] == "processed"
    [item] = items_of(bank(po["id"]))
    assert (item.payout_id, item.transfer_id) == (None, made["transfer"].id)
    assert the_payout(actor.profile_id).status == "pending"

    event = transfer_event("transfer.created", payout, made["transfer"].id)
    assert post_event(client, event).get_json()["status"] == "processed"
    payout = the_payout(actor.profile_id)
    assert payout.status == "paid"
    assert keys(f"payout-{payout.id}-") == [f"payout-{payout.id}-paid", f"payout-{payout.id}-send"]
    assert payout_run.send_payouts([payout.id])["sent"] == 0


def test_a_bank_payout_before_our_send_committed_is_reconciled_by_the_resend(
    app, client, stripe_fake, monkeypatch
):
    actor = stripe_payee(client, stripe_fake)
    made = {}
    _send_dies(monkeypatch, made)
    run_now(app)
    monkeypatch.setattr(StripeProvider, "transfer", made["real"])
    po = stripe_fake.make_bank_payout(actor.account_id, [made["transfer"].id])
    deliver(app, client, "payout.paid", po, actor.account_id)
    assert payout_run.send_payouts([the_payout(actor.profile_id).id])["sent"] == 1
    commit()
    payout = the_payout(actor.profile_id)
    assert (payout.status, payout.provider_transfer_id) == ("paid", made["transfer"].id)
    assert len(stripe_fake.transfers) == 1


def test_the_periodic_task_reconciles_what_the_provider_could_not_answer(
    app, client, stripe_fake, sent
):
    actor, payout = sent
    po = stripe_fake.make_bank_payout(actor.account_id, [payout.provider_transfer_id])
    stripe_fake.fail_next(
        "/v1/balance_transactions",
        method="GET",
        status=500,
        type="api_error",
        code=None,
        message="boom",
        times=3,
    )
    assert deliver(app, client, "payout.paid", po, actor.account_id)["status"] == "processed"
    assert bank(po["id"]).reconciled_at is None  # asked again later (in 10 minutes)
    assert the_payout(actor.profile_id).status == "in_transit"
    assert TASKS["payouts.reconcile_bank_payouts"].func() == {"queued": 1, "linked": 0}
    commit()
    drain_background(app)
    assert the_payout(actor.profile_id).status == "paid"
    assert bank(po["id"]).reconciled_at is not None


def test_the_same_bank_payout_delivered_twice_books_nothing_twice(app, client, stripe_fake, sent):
    actor, payout = sent
    po = stripe_fake.make_bank_payout(actor.account_id, [payout.provider_transfer_id])
    event = stripe_event("payout.paid", po, account=actor.account_id)
    post_event(client, event)
    assert post_event(client, event).get_json()["duplicate"] is True
    other_id = stripe_event("payout.paid", po, account=actor.account_id)
    assert post_event(client, other_id).get_json()["status"] == "ignored"
    drain_background(app)
    record = bank(po["id"])
    # The reconciliation run again (a task delivered twice) books nothing more.
    TASKS["payouts.reconcile_bank_payout"].func(bank_payout_id=record.id)
    record.reconciled_at = None  # even read from the provider again
    TASKS["payouts.reconcile_bank_payout"].func(bank_payout_id=record.id)
    commit()
    assert len(items_of(bank(po["id"]))) == 1
    payout = the_payout(actor.profile_id)
    assert payout.status == "paid"
    assert keys(f"payout-{payout.id}-") == [f"payout-{payout.id}-paid", f"payout-{payout.id}-send"]
    assert db.session.scalar(select(func.count()).select_from(BankPayout)) == 1


# --- not ours -------------------------------------------------------------------------------


def test_a_bank_payout_of_a_foreign_account_is_ignored_with_the_reason(
    app, client, stripe_fake, sent
):
    actor, payout = sent
    po = stripe_fake.make_bank_payout(actor.account_id, [payout.provider_transfer_id])
    answer = deliver(app, client, "payout.paid", po, "acct_someone_else")
    assert answer["status"] == "ignored"
    assert event_note("payout.paid") == (
        "ignored",
        f"foreign: acct_someone_else is not a connected account of ours ({po['id']})",
    )
    answer = post_event(client, stripe_event("payout.paid", po)).get_json()
    assert answer["status"] == "ignored"
    assert event_note("payout.paid")[1] == "foreign: payout.paid names no connected account"
    assert the_payout(actor.profile_id).status == "in_transit"
    assert db.session.scalar(select(func.count()).select_from(BankPayout)) == 0
    assert stripe_fake.calls("GET", "/v1/balance_transactions") == []


@pytest.mark.parametrize(
    "change", [{"amount": 0}, {"amount": "8000"}, {"currency": "usd"}, {"id": None}]
)
def test_a_malformed_bank_payout_is_ignored(app, client, stripe_fake, sent, change):
    actor, payout = sent
    po = stripe_fake.make_bank_payout(actor.account_id, [payout.provider_transfer_id])
    answer = deliver(app, client, "payout.paid", {**po, **change}, actor.account_id)
    assert answer["status"] == "ignored"
    assert event_note("payout.paid")[1].startswith("inconsistent")
    assert the_payout(actor.profile_id).status == "in_transit"


def test_a_bank_payout_of_transfers_not_ours_changes_none_of_our_payouts(
    app, client, stripe_fake, stripe_provider, sent
):
    actor, payout = sent
    # Someone else's transfer to the same account (not a payout of ours), and a payment on the
    # account that is no transfer at all.
    other = stripe_provider.transfer(
        amount=2500,
        currency="EUR",
        destination_account=actor.account_id,
        transfer_group=None,
        idempotency_key="not-ours-1",
        metadata={},
    )
    po = stripe_fake.make_bank_payout(actor.account_id, [other.id])
    stripe_fake._balance_transaction(actor.account_id, "payment", 700, "py_direct", po["id"])
    assert deliver(app, client, "payout.paid", po, actor.account_id)["status"] == "processed"
    record = bank(po["id"])
    [item] = items_of(record)
    assert (item.transfer_id, item.payout_id) == (other.id, None)
    assert "py_direct" in record.note
    assert the_payout(actor.profile_id).status == "in_transit"
    assert TASKS["payouts.reconcile_bank_payouts"].func() == {"queued": 0, "linked": 0}


def test_a_bank_payout_naming_our_payout_in_its_metadata_still_pays_it_and_is_recorded(
    app, client, stripe_fake, sent
):
    actor, payout = sent
    obj = {
        "id": "po_ours_manual",
        "object": "payout",
        "amount": payout.amount,
        "currency": "eur",
        "metadata": {"payout_id": str(payout.id)},
        "status": "paid",
    }
    assert deliver(app, client, "payout.paid", obj, actor.account_id)["status"] == "processed"
    assert the_payout(actor.profile_id).status == "paid"
    record = bank("po_ours_manual")
    assert (record.named_payout_id, record.status, items_of(record)) == (payout.id, "paid", [])
    assert stripe_fake.calls("GET", "/v1/balance_transactions") == []


# --- the embedded default -------------------------------------------------------------------


def test_the_offline_provider_has_no_bank_payouts_to_reconcile(app):
    assert OfflineProvider().bank_payout_transactions("po_x", account="off_acct_x") == []


def test_offline_payouts_are_paid_at_once_and_no_bank_payout_is_needed(app, client, monkeypatch):
    settings = app.config["CROWD_SETTINGS"].model_copy(
        update={"stripe_api_key": None, "stripe_api_base": None}
    )
    monkeypatch.setitem(app.config, "CROWD_SETTINGS", settings)
    actor = make_actor("member")
    url = "/api/v1/me/payout-account"
    links = {"refresh_url": "https://a.example/r", "return_url": "https://a.example/d"}
    assert client.post(url, json={**links, "country": "DE"}, headers=actor.headers).status_code in (
        200,
        201,
    )
    settle(actor.profile_id, price=10_000, commission=2000)
    commit()
    run_now(app)
    assert the_payout(actor.profile_id).status == "paid"
    assert TASKS["payouts.reconcile_bank_payouts"].func() == {"queued": 0, "linked": 0}
