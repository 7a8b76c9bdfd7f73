"""The offline provider: Stripe's payment rules kept in our tables on the embedded default."""

import pytest
from sqlalchemy import func, select

from crowd.extensions import db
from payouts.models import OfflinePayment, OfflineProviderCall, OfflineRefund, OfflineTransfer
from payouts.providers import PaymentError, get_provider
from payouts.providers.offline import OfflineProvider
from payouts.providers.stripe_provider import StripeProvider


@pytest.fixture
def provider(app) -> OfflineProvider:
    return OfflineProvider()


def authorize(provider, amount=12_000, key="pay:job-1:1", **kw):
    kw.setdefault("currency", "EUR")
    kw.setdefault("customer_ref", None)
    kw.setdefault("transfer_group", "job-1")
    kw.setdefault("metadata", {"job_id": 1})
    return provider.authorize_payment(amount=amount, idempotency_key=key, **kw)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_without_a_stripe_key_the_provider_is_offline(app):
    assert isinstance(get_provider(), OfflineProvider)


def test_with_a_stripe_key_the_provider_is_stripe(stripe_settings):
    provider = get_provider()
    assert isinstance(provider, StripeProvider)
    assert get_provider() is provider


def test_authorised_payment_is_captured_in_full(provider):
    authorized = authorize(provider)
    assert authorized.authorized
    assert authorized.id.startswith("off_pi_")
    assert (authorized.amount, authorized.currency, authorized.amount_capturable) == (
        12_000,
        "EUR",
        12_000,
    )
    captured = provider.capture_payment(authorized.id, idempotency_key="cap:job-1")
    assert (captured.status, captured.amount_received, captured.amount_capturable) == (
        "succeeded",
        12_000,
        0,
    )
    payment = db.session.get(OfflinePayment, authorized.id)
    assert (payment.transfer_group, payment.metadata_) == ("job-1", {"job_id": "1"})


def test_partial_capture_takes_only_that_amount(provider):
    authorized = authorize(provider)
    captured = provider.capture_payment(authorized.id, amount=9_000, idempotency_key="cap")
    assert captured.amount_received == 9_000
    assert db.session.get(OfflinePayment, authorized.id).amount_captured == 9_000


def test_capturing_more_than_authorised_is_a_409(provider):
    authorized = authorize(provider)
    with pytest.raises(PaymentError) as caught:
        provider.capture_payment(authorized.id, amount=12_001, idempotency_key="cap")
    assert (caught.value.status, caught.value.code) == (409, "amount_too_large")
    assert db.session.get(OfflinePayment, authorized.id).status == "requires_capture"


def test_second_capture_with_another_key_is_a_409(provider):
    authorized = authorize(provider)
    provider.capture_payment(authorized.id, idempotency_key="cap-1")
    with pytest.raises(PaymentError) as caught:
        provider.capture_payment(authorized.id, idempotency_key="cap-2")
    assert (caught.value.status, caught.value.code) == (409, "payment_intent_unexpected_state")


def test_the_same_key_replays_the_first_result(provider):
    first = authorize(provider, key="pay:job-7")
    again = authorize(provider, key="pay:job-7")
    assert again == first
    assert count(OfflinePayment) == 1
    captured = provider.capture_payment(first.id, amount=5_000, idempotency_key="cap:job-7")
    assert provider.capture_payment(first.id, amount=5_000, idempotency_key="cap:job-7") == captured


def test_the_same_key_with_other_parameters_is_a_409(provider):
    authorize(provider, key="pay:job-8", amount=12_000)
    with pytest.raises(PaymentError) as caught:
        authorize(provider, key="pay:job-8", amount=13_000)
    assert (caught.value.status, caught.value.code) == (409, "idempotency_error")
    assert count(OfflinePayment) == 1


def test_cancel_releases_the_authorisation(provider):
    authorized = authorize(provider)
    cancelled = provider.cancel_payment(authorized.id, idempotency_key="cancel")
    assert (cancelled.status, cancelled.amount_capturable) == ("canceled", 0)
    with pytest.raises(PaymentError) as caught:
        provider.capture_payment(authorized.id, idempotency_key="cap")
    assert caught.value.code == "payment_intent_unexpected_state"


def test_a_captured_payment_cannot_be_cancelled(provider):
    authorized = authorize(provider)
    provider.capture_payment(authorized.id, idempotency_key="cap")
    with pytest.raises(PaymentError) as caught:
        provider.cancel_payment(authorized.id, idempotency_key="cancel")
    assert caught.value.status == 409


def test_refunds_add_up_to_the_captured_amount_and_no_more(provider):
    authorized = authorize(provider)
    provider.capture_payment(authorized.id, amount=10_000, idempotency_key="cap")
    first = provider.refund(authorized.id, amount=4_000, idempotency_key="ref-1")
    assert (first.amount, first.currency, first.payment_id) == (4_000, "EUR", authorized.id)
    with pytest.raises(PaymentError) as caught:
        provider.refund(authorized.id, amount=6_001, idempotency_key="ref-2")
    assert (caught.value.status, caught.value.code) == (409, "amount_too_large")
    provider.refund(authorized.id, amount=6_000, idempotency_key="ref-3")
    with pytest.raises(PaymentError) as caught:
        provider.refund(authorized.id, amount=1, idempotency_key="ref-4")
    assert caught.value.code == "charge_already_refunded"
    assert db.session.get(OfflinePayment, authorized.id).amount_refunded == 10_000
    assert count(OfflineRefund) == 2


def test_a_refund_replayed_with_its_key_refunds_once(provider):
    authorized = authorize(provider)
    provider.capture_payment(authorized.id, idempotency_key="cap")
    first = provider.refund(authorized.id, amount=2_000, idempotency_key="ref")
    assert provider.refund(authorized.id, amount=2_000, idempotency_key="ref") == first
    assert db.session.get(OfflinePayment, authorized.id).amount_refunded == 2_000


def test_an_uncaptured_payment_cannot_be_refunded(provider):
    authorized = authorize(provider)
    with pytest.raises(PaymentError) as caught:
        provider.refund(authorized.id, amount=100, idempotency_key="ref")
    assert (caught.value.status, caught.value.code) == (409, "payment_intent_unexpected_state")


def test_unknown_payment_is_a_409(provider):
    with pytest.raises(PaymentError) as caught:
        provider.capture_payment("off_pi_nope", idempotency_key="cap")
    assert caught.value.code == "resource_missing"


def test_a_declining_test_card_is_a_402_and_replays_as_one(provider):
    with pytest.raises(PaymentError) as caught:
        authorize(provider, key="pay:x", payment_method="pm_card_chargeDeclinedInsufficientFunds")
    error = caught.value
    assert (error.status, error.code, error.decline_code) == (
        402,
        "card_declined",
        "insufficient_funds",
    )
    with pytest.raises(PaymentError) as again:
        authorize(provider, key="pay:x", payment_method="pm_card_chargeDeclinedInsufficientFunds")
    assert again.value.decline_code == "insufficient_funds"
    assert count(OfflinePayment) == 0
    assert count(OfflineProviderCall) == 1


def test_connected_account_is_enabled_at_once_and_one_per_member(provider):
    account_id = provider.create_connected_account(7, "m@example.test", "DE")
    assert account_id.startswith("off_acct_")
    assert provider.create_connected_account(7, "m@example.test", "DE") == account_id
    state = provider.retrieve_account(account_id)
    assert (state.payouts_enabled, state.details_submitted) == (True, True)
    url = "https://app.example/back"
    assert provider.account_onboarding_link(account_id, "https://app.example/again", url) == url


def test_transfer_reaches_an_offline_account(provider):
    account_id = provider.create_connected_account(7, "m@example.test", "CH")
    result = provider.transfer(
        amount=8_000,
        currency="CHF",
        destination_account=account_id,
        transfer_group="payout-3",
        idempotency_key="payout:3",
        metadata={"payout_id": 3},
    )
    assert (result.amount, result.currency, result.destination) == (8_000, "CHF", account_id)
    again = provider.transfer(
        amount=8_000,
        currency="CHF",
        destination_account=account_id,
        transfer_group="payout-3",
        idempotency_key="payout:3",
        metadata={"payout_id": 3},
    )
    assert again == result
    assert count(OfflineTransfer) == 1


def test_transfer_to_an_unknown_account_is_a_409(provider):
    with pytest.raises(PaymentError) as caught:
        provider.transfer(
            amount=100,
            currency="EUR",
            destination_account="off_acct_nope",
            transfer_group=None,
            idempotency_key="payout:4",
            metadata={},
        )
    assert (caught.value.status, caught.value.code) == (409, "account_invalid")


@pytest.mark.parametrize("amount", [0, -5, 10.5, True, "100"])
def test_amounts_must_be_positive_whole_minor_units(provider, amount):
    with pytest.raises(ValueError):
        authorize(provider, amount=amount)


def test_currencies_other_than_eur_and_chf_are_refused(provider):
    with pytest.raises(ValueError):
        authorize(provider, currency="USD")
