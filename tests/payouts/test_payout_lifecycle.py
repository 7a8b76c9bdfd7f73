"""The payout state machine (payouts.payout_lifecycle): every change of a payout's status goes
through its one transition() and emits payout.<state>, whether a run, our transfer call or a
provider webhook moved it; a move the table refuses changes nothing and emits nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crowd.core.db import commit
from crowd.core.events import wiring
from crowd.extensions import db
from payouts import payout_lifecycle
from payouts.models import LedgerTransaction, OfflineAccount
from payouts.models.payments import ConnectedAccount
from tests.event_recorder import recording
from tests.payouts.test_payout_run import payee, payouts_of
from tests.payouts.test_payout_run import run_now as run_offline
from tests.payouts.test_payout_run_stripe import (
    bank_payout,
    run_now,
    stripe_payee,
    the_payout,
    transfer_event,
)
from tests.stripe_fake import post_event

pytestmark = pytest.mark.usefixtures("ledger_sound")

ALL = payout_lifecycle.EVENTS
ACTIONS = sorted({action for _, action in payout_lifecycle.TRANSITIONS})


def _moves(caught) -> list[tuple[str, str | None, str]]:
    return [(e.name, e.payload["from_status"], e.payload["action"]) for e in caught]


def _postings() -> int:
    return db.session.scalar(select(func.count()).select_from(LedgerTransaction))


def test_an_offline_payout_emits_pending_in_transit_and_paid(app, client):
    actor = payee(client, 8000)

    with recording(*ALL) as caught:
        run_id = run_offline(app)

    [payout] = payouts_of(actor.profile_id)
    assert _moves(caught) == [
        ("payout.pending", None, "write"),
        ("payout.in_transit", "pending", "sent"),
        ("payout.paid", "in_transit", "paid"),
    ]
    for event in caught:
        assert (event.subject_type, event.subject_id, event.actor) == (
            "payout",
            payout.id,
            "system",
        )
        assert event.payload["to_status"] == event.name.removeprefix("payout.")
        assert {k: event.payload[k] for k in ("run_id", "member_id", "amount", "currency")} == {
            "run_id": run_id,
            "member_id": actor.profile_id,
            "amount": 8000,
            "currency": "EUR",
        }


def test_a_member_without_an_account_gets_payout_held_with_the_reason(app, client):
    actor = payee(client, 8000, account=False)

    with recording(*ALL) as caught:
        run_offline(app)

    (event,) = caught
    assert event.name == "payout.held"
    assert event.payload["member_id"] == actor.profile_id
    assert event.payload["reason"] == "no payout account"


def test_a_refused_transfer_emits_payout_failed(app, client):
    actor = payee(client, 8000)
    account_id = db.session.scalar(
        select(ConnectedAccount.provider_account_id).where(
            ConnectedAccount.member_id == actor.profile_id
        )
    )
    db.session.get(OfflineAccount, account_id).payouts_enabled = False
    db.session.commit()

    with recording(*ALL) as caught:
        run_offline(app)

    assert _moves(caught) == [
        ("payout.pending", None, "write"),
        ("payout.failed", "pending", "refused"),
    ]
    assert caught[-1].payload["reason"].startswith("account_invalid")


# --- through Stripe's webhooks -----------------------------------------------------------------


@pytest.fixture
def sent(app, client, stripe_settings, stripe_fake):
    actor = stripe_payee(client, stripe_fake)
    run_now(app)
    return actor, the_payout(actor.profile_id)


def test_webhooks_emit_paid_in_transit_again_and_failed(client, sent):
    actor, payout = sent
    paid = bank_payout("payout.paid", payout, actor.account_id)
    returned = bank_payout(
        "payout.failed", payout, actor.account_id, created=paid["created"], failure_code="closed"
    )
    reversed_ = transfer_event(
        "transfer.reversed",
        payout,
        payout.provider_transfer_id,
        amount_reversed=payout.amount,
        reversed=True,
    )

    with recording(*ALL) as caught:
        for event in (paid, returned, reversed_):
            assert post_event(client, event).get_json()["status"] == "processed"

    assert _moves(caught) == [
        ("payout.paid", "in_transit", "paid"),
        ("payout.in_transit", "paid", "bank_failed"),
        ("payout.failed", "in_transit", "reversed"),
    ]
    assert caught[1].payload["reason"] == "bank payout failed: closed"
    assert caught[2].payload["reason"] == "transfer reversed"
    assert the_payout(actor.profile_id).status == "failed"


def test_a_move_to_the_same_state_is_recorded_not_emitted(client, sent):
    actor, payout = sent
    event = transfer_event("transfer.created", payout, payout.provider_transfer_id)

    with recording(*ALL) as caught:
        assert post_event(client, event).get_json()["status"] == "processed"

    assert caught == []
    assert the_payout(actor.profile_id).status == "in_transit"


def test_a_webhook_the_table_refuses_is_ignored_and_emits_nothing(client, sent):
    actor, payout = sent
    reversed_ = transfer_event(
        "transfer.reversed",
        payout,
        payout.provider_transfer_id,
        amount_reversed=payout.amount,
        reversed=True,
    )
    post_event(client, reversed_)
    late = bank_payout("payout.paid", payout, actor.account_id, created=reversed_["created"] + 1)

    with recording(*ALL) as caught:
        body = post_event(client, late).get_json()

    assert body["status"] == "ignored"
    assert caught == []
    assert the_payout(actor.profile_id).status == "failed"


# --- refused moves -----------------------------------------------------------------------------


@pytest.mark.parametrize("setup", ["paid", "failed", "held"])
def test_every_move_the_table_lacks_changes_nothing(app, client, setup):
    actor = payee(client, 8000, account=setup != "held")
    if setup == "failed":
        account_id = db.session.scalar(
            select(ConnectedAccount.provider_account_id).where(
                ConnectedAccount.member_id == actor.profile_id
            )
        )
        db.session.get(OfflineAccount, account_id).payouts_enabled = False
        db.session.commit()
    run_offline(app)
    [payout] = payouts_of(actor.profile_id)
    assert payout.status == setup
    refused = [a for a in ACTIONS if (setup, a) not in payout_lifecycle.TRANSITIONS]
    assert refused
    before = (payout.status, payout.paid_at, payout.failed_at, payout.failure_reason)
    postings = _postings()

    with recording(*ALL) as caught:
        for action in refused:
            assert payout_lifecycle.transition(payout, action, reason="late") is False
        commit()

    assert caught == []
    payout = payouts_of(actor.profile_id)[0]
    assert (payout.status, payout.paid_at, payout.failed_at, payout.failure_reason) == before
    assert _postings() == postings


def test_every_payout_event_is_listed_in_the_wiring(app):
    assert set(ALL) <= set(wiring())
