"""The Stripe provider: Stripe Connect with separate charges and transfers, via the official SDK.

Every state-changing call sends the caller's idempotency key (the SDK re-sends it on its own
network retries), our ids travel in `metadata`, and Stripe's errors become a `PaymentError`
(declines 402, state or amount conflicts 409) or `PaymentProviderUnavailable` (503).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import stripe

from crowd.core.i18n import _
from payouts.providers import (
    AUTHENTICATION_REQUIRED,
    REQUIRES_ACTION,
    AccountState,
    BankPayoutTransaction,
    DisputeResult,
    PaymentError,
    PaymentProvider,
    PaymentProviderUnavailable,
    PaymentResult,
    RefundResult,
    TransferResult,
    bank_fingerprint_of,
    check_amount,
    check_currency,
)

log = logging.getLogger(__name__)

# Seconds to wait for Stripe; its SDK default (80 s) would hold a request or worker far too long.
TIMEOUT_SECONDS = 30
# Network errors, 409 and 5xx are retried by the SDK with the same idempotency key.
MAX_NETWORK_RETRIES = 2


def _strings(metadata: dict | None) -> dict:
    return {str(k): str(v) for k, v in (metadata or {}).items()}


def _payment_result(intent) -> PaymentResult:
    next_action = getattr(intent, "next_action", None)
    error = getattr(intent, "last_payment_error", None)
    return PaymentResult(
        id=intent.id,
        status=intent.status,
        amount=intent.amount,
        currency=(intent.currency or "").upper(),
        amount_capturable=getattr(intent, "amount_capturable", None) or 0,
        amount_received=getattr(intent, "amount_received", None) or 0,
        client_secret=getattr(intent, "client_secret", None),
        next_action_type=getattr(next_action, "type", None) if next_action else None,
        error_code=(getattr(error, "decline_code", None) or getattr(error, "code", None))
        if error
        else None,
        error_message=getattr(error, "message", None) if error else None,
    )


def _authentication_required(error: stripe.CardError) -> PaymentResult | None:
    """An off-session attempt the bank wants the customer to authenticate: Stripe declines it
    with authentication_required and names the intent, which the customer's client confirms
    on-session with its client secret — for us the payment requires action, not a decline."""
    intent = getattr(error.error, "payment_intent", None)
    code = getattr(error.error, "decline_code", None) or error.code
    if code != AUTHENTICATION_REQUIRED or intent is None or not getattr(intent, "id", None):
        return None
    return PaymentResult(
        id=intent.id,
        status=REQUIRES_ACTION,
        amount=intent.amount,
        currency=(intent.currency or "").upper(),
        client_secret=getattr(intent, "client_secret", None),
        next_action_type="confirm_payment",
    )


# Evidence Stripe takes as uploaded files (ids); our text for them goes into uncategorized_text,
# under a heading each, after any text given for it.
FILE_EVIDENCE = {
    "service_documentation": "Service documentation",
    "customer_communication": "Customer communication",
}
MAX_EVIDENCE_TEXT = 20_000


def _stripe_evidence(evidence: dict[str, str]) -> dict[str, str]:
    sent = {k: v for k, v in evidence.items() if k not in FILE_EVIDENCE}
    parts = [sent.pop("uncategorized_text", "")]
    parts += [
        f"{title}:\n{evidence[name]}" for name, title in FILE_EVIDENCE.items() if evidence.get(name)
    ]
    text = "\n\n".join(part for part in parts if part)
    if text:
        sent["uncategorized_text"] = text[:MAX_EVIDENCE_TEXT]
    return sent


@contextmanager
def _translated_errors() -> Iterator[None]:
    """Stripe's exceptions as our domain errors; nothing of the SDK leaks to the callers."""
    try:
        yield
    except stripe.CardError as error:
        raise PaymentError(
            error.user_message or "The card was declined.",
            code=error.code or "card_declined",
            decline_code=getattr(error.error, "decline_code", None),
            status=402,
        ) from error
    except (stripe.IdempotencyError, stripe.InvalidRequestError) as error:
        code = error.code or (
            "idempotency_error" if isinstance(error, stripe.IdempotencyError) else None
        )
        raise PaymentError(
            error.user_message or "The payment provider refused the request.",
            code=code,
            status=409,
        ) from error
    except (stripe.AuthenticationError, stripe.PermissionError) as error:
        log.error("Stripe refused our credentials: %s", error.user_message)
        raise PaymentProviderUnavailable(
            _("The payment provider refused our credentials; the operators have been told.")
        ) from error
    except stripe.StripeError as error:
        # Connection errors, rate limits and Stripe's own 5xx: safe to retry with the same key.
        log.warning("Stripe unavailable: %s", error)
        raise PaymentProviderUnavailable(
            _("The payment provider is not reachable right now; try again shortly.")
        ) from error


class StripeProvider(PaymentProvider):
    """The provider behind STRIPE_API_KEY (and STRIPE_API_BASE, e.g. a local fake in tests)."""

    name = "stripe"

    def __init__(
        self,
        api_key: str,
        *,
        api_base: str | None = None,
        max_network_retries: int = MAX_NETWORK_RETRIES,
    ) -> None:
        base_addresses = {"api": api_base.rstrip("/")} if api_base else None
        self.client = stripe.StripeClient(
            api_key,
            base_addresses=base_addresses,
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
        )

    # --- accounts -------------------------------------------------------------------------

    def create_connected_account(
        self, member_id: int, email: str, country: str, *, idempotency_key: str | None = None
    ) -> str:
        params = {
            "type": "express",
            "country": country,
            "email": email,
            # Separate charges and transfers: the member's account only receives transfers.
            "capabilities": {"transfers": {"requested": True}},
            "metadata": {"member_id": str(member_id)},
        }
        key = idempotency_key or f"connected-account-member-{member_id}"
        with _translated_errors():
            account = self.client.v1.accounts.create(params, {"idempotency_key": key})
        return account.id

    def account_onboarding_link(self, account_id: str, refresh_url: str, return_url: str) -> str:
        params = {
            "account": account_id,
            "refresh_url": refresh_url,
            "return_url": return_url,
            "type": "account_onboarding",
        }
        # Links are single-use; a fresh key per link, kept across the SDK's own retries.
        key = f"account-link-{account_id}-{uuid.uuid4().hex}"
        with _translated_errors():
            link = self.client.v1.account_links.create(params, {"idempotency_key": key})
        return link.url

    def retrieve_account(self, account_id: str) -> AccountState:
        with _translated_errors():
            account = self.client.v1.accounts.retrieve(account_id)
        return AccountState(
            payouts_enabled=bool(getattr(account, "payouts_enabled", None)),
            charges_enabled=bool(getattr(account, "charges_enabled", None)),
            details_submitted=bool(getattr(account, "details_submitted", None)),
            account_id=account.id,
            bank_fingerprint=bank_fingerprint_of(account.to_dict()),
        )

    # --- payments -------------------------------------------------------------------------

    def authorize_payment(
        self,
        *,
        amount: int,
        currency: str,
        customer_ref: str | None,
        transfer_group: str,
        idempotency_key: str,
        metadata: dict,
        payment_method: str | None = None,
    ) -> PaymentResult:
        check_amount(amount)
        check_currency(currency)
        params: dict = {
            "amount": amount,
            "currency": currency.lower(),
            "capture_method": "manual",
            "transfer_group": transfer_group,
            "metadata": _strings(metadata),
        }
        if customer_ref:
            params["customer"] = customer_ref
        if payment_method:
            # The customer is not there when a member is assigned: confirm off-session, and
            # never with a method that would need a redirect.
            params.update(
                payment_method=payment_method,
                confirm=True,
                off_session=True,
                automatic_payment_methods={"enabled": True, "allow_redirects": "never"},
            )
        try:
            with _translated_errors():
                intent = self.client.v1.payment_intents.create(
                    params, {"idempotency_key": idempotency_key}
                )
        except PaymentError as error:
            cause = error.__cause__
            waiting = (
                _authentication_required(cause) if isinstance(cause, stripe.CardError) else None
            )
            if waiting is None:
                raise
            return waiting
        return _payment_result(intent)

    def retrieve_payment(self, payment_id: str) -> PaymentResult:
        with _translated_errors():
            intent = self.client.v1.payment_intents.retrieve(payment_id)
        return _payment_result(intent)

    def capture_payment(
        self, payment_id: str, *, amount: int | None = None, idempotency_key: str
    ) -> PaymentResult:
        params = {}
        if amount is not None:
            check_amount(amount)
            params["amount_to_capture"] = amount
        with _translated_errors():
            intent = self.client.v1.payment_intents.capture(
                payment_id, params, {"idempotency_key": idempotency_key}
            )
        return _payment_result(intent)

    def cancel_payment(self, payment_id: str, *, idempotency_key: str) -> PaymentResult:
        with _translated_errors():
            intent = self.client.v1.payment_intents.cancel(
                payment_id, {}, {"idempotency_key": idempotency_key}
            )
        return _payment_result(intent)

    def refund(
        self, payment_id: str, *, amount: int, idempotency_key: str, metadata: dict | None = None
    ) -> RefundResult:
        check_amount(amount)
        params = {"payment_intent": payment_id, "amount": amount}
        if metadata:
            params["metadata"] = _strings(metadata)
        with _translated_errors():
            refund = self.client.v1.refunds.create(params, {"idempotency_key": idempotency_key})
        return RefundResult(
            id=refund.id,
            payment_id=getattr(refund, "payment_intent", None) or payment_id,
            amount=refund.amount,
            currency=(refund.currency or "").upper(),
            status=getattr(refund, "status", None) or "succeeded",
        )

    # --- transfers ------------------------------------------------------------------------

    def transfer(
        self,
        *,
        amount: int,
        currency: str,
        destination_account: str,
        transfer_group: str | None,
        idempotency_key: str,
        metadata: dict,
    ) -> TransferResult:
        check_amount(amount)
        check_currency(currency)
        params: dict = {
            "amount": amount,
            "currency": currency.lower(),
            "destination": destination_account,
            "metadata": _strings(metadata),
        }
        if transfer_group:
            params["transfer_group"] = transfer_group
        with _translated_errors():
            transfer = self.client.v1.transfers.create(params, {"idempotency_key": idempotency_key})
        return TransferResult(
            id=transfer.id,
            amount=transfer.amount,
            currency=(transfer.currency or "").upper(),
            destination=getattr(transfer, "destination", None) or destination_account,
            transfer_group=getattr(transfer, "transfer_group", None),
        )

    # --- bank payouts of connected accounts ------------------------------------------------

    def bank_payout_transactions(
        self, bank_payout_id: str, *, account: str
    ) -> list[BankPayoutTransaction]:
        # Stripe's payout reconciliation: list the payout's balance transactions on the
        # connected account, the source (the payment our transfer made there) expanded so
        # that it names the transfer; every page (auto-pagination).
        params = {"payout": bank_payout_id, "limit": 100, "expand": ["data.source"]}
        with _translated_errors():
            page = self.client.v1.balance_transactions.list(params, {"stripe_account": account})
            return [_bank_payout_transaction(txn) for txn in page.auto_paging_iter()]

    # --- chargebacks ----------------------------------------------------------------------

    def update_dispute_evidence(
        self, dispute_id: str, *, evidence: dict[str, str], submit: bool, idempotency_key: str
    ) -> DisputeResult:
        params = {"evidence": _stripe_evidence(evidence), "submit": submit}
        with _translated_errors():
            dispute = self.client.v1.disputes.update(
                dispute_id, params, {"idempotency_key": idempotency_key}
            )
        details = getattr(dispute, "evidence_details", None)
        return DisputeResult(
            id=dispute.id,
            status=dispute.status,
            submission_count=(getattr(details, "submission_count", None) or 0) if details else 0,
        )


def _bank_payout_transaction(txn) -> BankPayoutTransaction:
    source = getattr(txn, "source", None)
    source_id, transfer_id = (source, None) if isinstance(source, str) else (None, None)
    if source is not None and not isinstance(source, str):
        source_id = getattr(source, "id", None)
        transfer = getattr(source, "source_transfer", None)
        transfer_id = transfer if isinstance(transfer, str) else getattr(transfer, "id", None)
    return BankPayoutTransaction(
        id=txn.id,
        type=getattr(txn, "type", None) or "",
        amount=txn.amount,
        currency=(txn.currency or "").upper(),
        source_id=source_id,
        transfer_id=transfer_id,
    )
