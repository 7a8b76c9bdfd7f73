"""The Stripe provider, through the real SDK, against the local fake: the exact requests sent."""

import pytest

from payouts.providers import PaymentError, PaymentProviderUnavailable, get_provider
from tests.stripe_fake import FAKE_API_KEY, FakeStripe


def enabled_account(provider, fake: FakeStripe, member_id: int = 7) -> str:
    account_id = provider.create_connected_account(member_id, "m@example.test", "DE")
    fake.set_account(account_id, payouts_enabled=True, details_submitted=True)
    return account_id


def authorize(provider, **kw):
    params = {
        "amount": 12_000,
        "currency": "EUR",
        "customer_ref": "cus_123",
        "transfer_group": "job-42",
        "idempotency_key": "job-42:authorize:1",
        "metadata": {"job_id": 42, "customer_id": 9},
        "payment_method": "pm_card_visa",
    }
    params.update(kw)
    return provider.authorize_payment(**params)


def test_connected_account_is_an_express_account_with_the_member_in_metadata(
    stripe_provider, stripe_fake
):
    account_id = stripe_provider.create_connected_account(7, "m@example.test", "AT")
    [call] = stripe_fake.calls()
    assert (call.method, call.path) == ("POST", "/v1/accounts")
    assert call.params == {
        "type": "express",
        "country": "AT",
        "email": "m@example.test",
        "capabilities": {"transfers": {"requested": "true"}},
        "metadata": {"member_id": "7"},
    }
    assert call.idempotency_key == "connected-account-member-7"
    assert call.authorization == f"Bearer {FAKE_API_KEY}"
    assert call.stripe_account is None
    assert account_id in stripe_fake.accounts


def test_creating_the_account_again_replays_the_same_account(stripe_provider, stripe_fake):
    first = stripe_provider.create_connected_account(7, "m@example.test", "DE")
    assert stripe_provider.create_connected_account(7, "m@example.test", "DE") == first
    assert [c.replayed for c in stripe_fake.calls("POST", "/v1/accounts")] == [False, True]
    assert len(stripe_fake.accounts) == 1


def test_onboarding_link_names_the_account_and_both_urls(stripe_provider, stripe_fake):
    account_id = stripe_provider.create_connected_account(7, "m@example.test", "DE")
    url = stripe_provider.account_onboarding_link(
        account_id, "https://app.example/refresh", "https://app.example/return"
    )
    assert url.startswith(f"https://connect.stripe.test/setup/e/{account_id}/")
    [call] = stripe_fake.calls("POST", "/v1/account_links")
    assert call.params == {
        "account": account_id,
        "refresh_url": "https://app.example/refresh",
        "return_url": "https://app.example/return",
        "type": "account_onboarding",
    }
    assert call.idempotency_key.startswith(f"account-link-{account_id}-")


def test_retrieve_account_reads_the_payout_state(stripe_provider, stripe_fake):
    account_id = stripe_provider.create_connected_account(7, "m@example.test", "DE")
    assert stripe_provider.retrieve_account(account_id).payouts_enabled is False
    stripe_fake.set_account(account_id, payouts_enabled=True, details_submitted=True)
    state = stripe_provider.retrieve_account(account_id)
    assert (state.payouts_enabled, state.charges_enabled, state.details_submitted) == (
        True,
        False,
        True,
    )
    gets = stripe_fake.calls("GET", f"/v1/accounts/{account_id}")
    assert len(gets) == 2
    assert gets[0].idempotency_key is None


def test_authorize_sends_a_manual_capture_intent_confirmed_off_session(
    stripe_provider, stripe_fake
):
    result = authorize(stripe_provider)
    [call] = stripe_fake.calls()
    assert (call.method, call.path) == ("POST", "/v1/payment_intents")
    assert call.params == {
        "amount": "12000",
        "currency": "eur",
        "capture_method": "manual",
        "transfer_group": "job-42",
        "metadata": {"job_id": "42", "customer_id": "9"},
        "customer": "cus_123",
        "payment_method": "pm_card_visa",
        "confirm": "true",
        "off_session": "true",
        "automatic_payment_methods": {"enabled": "true", "allow_redirects": "never"},
    }
    assert call.idempotency_key == "job-42:authorize:1"
    assert result.authorized
    assert (result.amount, result.currency, result.amount_capturable) == (12_000, "EUR", 12_000)


def test_authorize_without_a_payment_method_leaves_confirmation_to_the_client(
    stripe_provider, stripe_fake
):
    result = authorize(stripe_provider, payment_method=None, customer_ref=None)
    [call] = stripe_fake.calls()
    assert "confirm" not in call.params and "customer" not in call.params
    assert result.status == "requires_payment_method"
    assert not result.authorized
    assert result.client_secret.startswith(result.id)


def test_partial_capture_sends_the_amount_to_capture(stripe_provider, stripe_fake):
    payment = authorize(stripe_provider)
    captured = stripe_provider.capture_payment(
        payment.id, amount=9_000, idempotency_key="job-42:capture"
    )
    [call] = stripe_fake.calls("POST", f"/v1/payment_intents/{payment.id}/capture")
    assert call.params == {"amount_to_capture": "9000"}
    assert call.idempotency_key == "job-42:capture"
    assert (captured.status, captured.amount_received) == ("succeeded", 9_000)


def test_full_capture_sends_no_amount(stripe_provider, stripe_fake):
    payment = authorize(stripe_provider)
    captured = stripe_provider.capture_payment(payment.id, idempotency_key="job-42:capture")
    [call] = stripe_fake.calls("POST", r"/v1/payment_intents/\w+/capture")
    assert call.params == {}
    assert captured.amount_received == 12_000


def test_capturing_more_than_authorised_is_a_409(stripe_provider, stripe_fake):
    payment = authorize(stripe_provider)
    with pytest.raises(PaymentError) as caught:
        stripe_provider.capture_payment(payment.id, amount=12_001, idempotency_key="cap")
    assert (caught.value.status, caught.value.code) == (409, "amount_too_large")


def test_cancel_releases_the_authorisation(stripe_provider, stripe_fake):
    payment = authorize(stripe_provider)
    result = stripe_provider.cancel_payment(payment.id, idempotency_key="job-42:cancel")
    [call] = stripe_fake.calls("POST", f"/v1/payment_intents/{payment.id}/cancel")
    assert (call.params, call.idempotency_key) == ({}, "job-42:cancel")
    assert result.status == "canceled"


def test_refund_sends_the_intent_amount_and_key(stripe_provider, stripe_fake):
    payment = authorize(stripe_provider)
    stripe_provider.capture_payment(payment.id, idempotency_key="cap")
    refund = stripe_provider.refund(
        payment.id, amount=3_000, idempotency_key="refund:5", metadata={"refund_id": 5}
    )
    [call] = stripe_fake.calls("POST", "/v1/refunds")
    assert call.params == {
        "payment_intent": payment.id,
        "amount": "3000",
        "metadata": {"refund_id": "5"},
    }
    assert call.idempotency_key == "refund:5"
    assert (refund.amount, refund.currency, refund.payment_id) == (3_000, "EUR", payment.id)


def test_refunding_more_than_is_left_is_a_409(stripe_provider, stripe_fake):
    payment = authorize(stripe_provider)
    stripe_provider.capture_payment(payment.id, amount=5_000, idempotency_key="cap")
    stripe_provider.refund(payment.id, amount=4_000, idempotency_key="refund:1")
    with pytest.raises(PaymentError) as caught:
        stripe_provider.refund(payment.id, amount=1_001, idempotency_key="refund:2")
    assert (caught.value.status, caught.value.code) == (409, "amount_too_large")


def test_transfer_sends_destination_group_metadata_and_key(stripe_provider, stripe_fake):
    account_id = enabled_account(stripe_provider, stripe_fake)
    result = stripe_provider.transfer(
        amount=8_000,
        currency="CHF",
        destination_account=account_id,
        transfer_group="job-42",
        idempotency_key="payout:17",
        metadata={"payout_id": 17, "member_id": 7},
    )
    [call] = stripe_fake.calls("POST", "/v1/transfers")
    assert call.params == {
        "amount": "8000",
        "currency": "chf",
        "destination": account_id,
        "transfer_group": "job-42",
        "metadata": {"payout_id": "17", "member_id": "7"},
    }
    assert call.idempotency_key == "payout:17"
    assert (result.amount, result.currency, result.destination) == (8_000, "CHF", account_id)


def test_a_rerun_with_the_same_key_makes_one_transfer(stripe_provider, stripe_fake):
    account_id = enabled_account(stripe_provider, stripe_fake)
    kwargs = dict(
        amount=500,
        currency="EUR",
        destination_account=account_id,
        transfer_group=None,
        idempotency_key="payout:18",
        metadata={"payout_id": 18},
    )
    first = stripe_provider.transfer(**kwargs)
    assert stripe_provider.transfer(**kwargs) == first
    assert len(stripe_fake.transfers) == 1
    calls = stripe_fake.calls("POST", "/v1/transfers")
    assert [c.idempotency_key for c in calls] == ["payout:18", "payout:18"]
    assert "transfer_group" not in calls[0].params


def test_transfer_to_an_account_without_payouts_is_a_409(stripe_provider, stripe_fake):
    account_id = stripe_provider.create_connected_account(7, "m@example.test", "DE")
    with pytest.raises(PaymentError) as caught:
        stripe_provider.transfer(
            amount=500,
            currency="EUR",
            destination_account=account_id,
            transfer_group=None,
            idempotency_key="payout:19",
            metadata={},
        )
    assert (caught.value.status, caught.value.code) == (
        409,
        "insufficient_capabilities_for_transfer",
    )


def test_a_declined_card_is_a_402_with_the_codes(stripe_provider, stripe_fake):
    with pytest.raises(PaymentError) as caught:
        authorize(stripe_provider, payment_method="pm_card_chargeDeclinedInsufficientFunds")
    error = caught.value
    assert (error.status, error.code, error.decline_code) == (
        402,
        "card_declined",
        "insufficient_funds",
    )
    assert error.detail == "Your card has insufficient funds."


def test_an_injected_decline_is_a_402(stripe_provider, stripe_fake):
    stripe_fake.fail_next(r"/v1/payment_intents", decline_code="do_not_honor")
    with pytest.raises(PaymentError) as caught:
        authorize(stripe_provider)
    assert (caught.value.status, caught.value.decline_code) == (402, "do_not_honor")


def test_reusing_a_key_with_other_parameters_is_a_409(stripe_provider, stripe_fake):
    authorize(stripe_provider, idempotency_key="job-42:authorize:1")
    with pytest.raises(PaymentError) as caught:
        authorize(stripe_provider, idempotency_key="job-42:authorize:1", amount=99)
    assert (caught.value.status, caught.value.code) == (409, "idempotency_error")
    assert len(stripe_fake.payment_intents) == 1


def test_a_server_error_is_retried_with_the_same_key(stripe_provider, stripe_fake):
    account_id = enabled_account(stripe_provider, stripe_fake)
    stripe_fake.fail_next(
        r"/v1/transfers", status=500, type="api_error", code=None, message="Boom."
    )
    stripe_provider.transfer(
        amount=700,
        currency="EUR",
        destination_account=account_id,
        transfer_group=None,
        idempotency_key="payout:20",
        metadata={},
    )
    calls = stripe_fake.calls("POST", "/v1/transfers")
    assert [c.idempotency_key for c in calls] == ["payout:20", "payout:20"]
    assert len(stripe_fake.transfers) == 1


def test_refused_credentials_are_a_503(stripe_fake):
    from payouts.providers.stripe_provider import StripeProvider

    provider = StripeProvider("sk_test_wrong", api_base=stripe_fake.url)
    with pytest.raises(PaymentProviderUnavailable) as caught:
        provider.retrieve_account("acct_x")
    assert caught.value.status == 503


def test_an_unreachable_provider_is_a_503(app):
    from payouts.providers.stripe_provider import StripeProvider

    provider = StripeProvider(FAKE_API_KEY, api_base="http://127.0.0.1:9", max_network_retries=0)
    with pytest.raises(PaymentProviderUnavailable):
        provider.retrieve_account("acct_x")


def test_get_provider_with_a_key_talks_to_the_configured_api_base(stripe_settings, stripe_fake):
    get_provider().create_connected_account(3, "m@example.test", "DE")
    assert [c.path for c in stripe_fake.calls()] == ["/v1/accounts"]
