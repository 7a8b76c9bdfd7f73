"""The payout bank account's fingerprint, from Stripe, that the same-payout-account check uses."""

import time
from datetime import UTC, datetime

from crowd.extensions import db
from payouts.models import ConnectedAccount
from payouts.providers import bank_fingerprint_of
from tests.factories import make_actor
from tests.stripe_fake import post_event, stripe_event

NOW = int(time.time())


def test_the_default_bank_account_gives_the_fingerprint():
    listed = {
        "external_accounts": {
            "data": [
                {"object": "card", "fingerprint": "fp_card"},
                {"object": "bank_account", "fingerprint": "fp_old"},
                {"object": "bank_account", "fingerprint": "fp_new", "default_for_currency": True},
            ]
        }
    }
    assert bank_fingerprint_of(listed) == "fp_new"
    assert bank_fingerprint_of({"external_accounts": {"data": []}}) is None
    assert bank_fingerprint_of({}) is None


def test_retrieving_a_stripe_account_reads_its_bank_fingerprint(stripe_provider, stripe_fake):
    account_id = stripe_provider.create_connected_account(7, "m@example.test", "DE")
    assert stripe_provider.retrieve_account(account_id).bank_fingerprint is None
    stripe_fake.set_account(account_id, payouts_enabled=True, bank_fingerprint="fpBank123")
    assert stripe_provider.retrieve_account(account_id).bank_fingerprint == "fpBank123"


def test_account_updated_events_store_the_fingerprint_and_keep_it_when_absent(
    client, webhook_settings
):
    member = make_actor("member", country="DE")
    account = ConnectedAccount(
        member_id=member.profile_id,
        provider="stripe",
        provider_account_id=f"acct_fp{member.profile_id}",
        country="DE",
        updated_from_event_at=datetime.fromtimestamp(NOW - 600, UTC),
    )
    db.session.add(account)
    db.session.commit()
    obj = {
        "id": account.provider_account_id,
        "object": "account",
        "payouts_enabled": True,
        "charges_enabled": True,
        "details_submitted": True,
        "external_accounts": {
            "object": "list",
            "data": [
                {"object": "bank_account", "fingerprint": "fpXYZ", "default_for_currency": True}
            ],
        },
    }
    event = stripe_event("account.updated", obj, created=NOW - 60, account=obj["id"])
    assert post_event(client, event).status_code == 200
    db.session.expire_all()
    assert db.session.get(ConnectedAccount, account.id).bank_fingerprint == "fpXYZ"

    later = {k: v for k, v in obj.items() if k != "external_accounts"}
    event = stripe_event("account.updated", later, created=NOW, account=obj["id"])
    assert post_event(client, event).status_code == 200
    db.session.expire_all()
    assert db.session.get(ConnectedAccount, account.id).bank_fingerprint == "fpXYZ"
