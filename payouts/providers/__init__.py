"""The payment provider interface (Stripe Connect, separate charges and transfers).

The customer's card is authorised on the platform (`authorize_payment`, manual capture) and
captured on confirmation; members are paid by `transfer`s to their connected accounts, grouped
per job by `transfer_group`. Every state-changing call takes an idempotency key chosen by the
caller from our own ids, so a retry never charges, refunds or transfers twice.

`get_provider()` returns the offline provider when no STRIPE_API_KEY is set (the embedded
default) and the Stripe provider otherwise. Amounts are integer minor units; currencies are
"EUR" or "CHF" in and out (the Stripe provider translates to Stripe's lower case).

A payout run sends its transfers a batch at a time (`transfer_many`): by default each is one
`transfer` call, several at once on a bounded pool of threads and no more per second than the
provider's rate limit allows; the offline provider does a batch in a few statements.
"""

from __future__ import annotations

import abc
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from flask import current_app

from crowd.core.errors import DomainError, ServiceUnavailable
from crowd.core.i18n import _l

# The PaymentIntent status of an authorised, not yet captured payment.
AUTHORIZED = "requires_capture"
# Waiting for the customer to authenticate (3-D Secure / SCA).
REQUIRES_ACTION = "requires_action"
# The bank's decline of an off-session payment that needs the customer to authenticate.
AUTHENTICATION_REQUIRED = "authentication_required"


@dataclass(frozen=True)
class PaymentResult:
    """A payment intent as the provider reports it after a call (Stripe's status names)."""

    id: str
    # requires_capture (authorised), succeeded (captured), canceled, or requires_payment_method /
    # requires_action / processing while the customer still has to complete it.
    status: str
    amount: int = 0
    currency: str = ""
    amount_capturable: int = 0
    amount_received: int = 0
    # For a payment the customer's client confirms itself (no saved payment method given),
    # or completes (requires_action: 3-D Secure / SCA).
    client_secret: str | None = None
    # requires_action: what the customer's client has to do — the intent's next_action type
    # (use_stripe_sdk, redirect_to_url: stripe.handleNextAction), or "confirm_payment" after an
    # off-session attempt the bank declined with authentication_required (the client confirms
    # the intent on-session with its client secret: stripe.confirmPayment).
    next_action_type: str | None = None
    # The intent's last_payment_error (code, message), e.g. a failed authentication.
    error_code: str | None = None
    error_message: str | None = None

    @property
    def authorized(self) -> bool:
        return self.status == AUTHORIZED


@dataclass(frozen=True)
class RefundResult:
    id: str
    payment_id: str
    amount: int
    currency: str
    status: str = "succeeded"


@dataclass(frozen=True)
class TransferResult:
    id: str
    amount: int = 0
    currency: str = ""
    destination: str = ""
    transfer_group: str | None = None


@dataclass(frozen=True)
class TransferRequest:
    """The arguments of one `transfer`, for `transfer_many`."""

    amount: int
    currency: str
    destination_account: str
    transfer_group: str | None
    idempotency_key: str
    metadata: dict


class _RateLimit:
    """At most `per_second` starts per second across threads: each caller waits its slot."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.lock = threading.Lock()
        self.next_slot = time.monotonic()

    def wait(self) -> None:
        with self.lock:
            now = time.monotonic()
            slot = max(now, self.next_slot)
            self.next_slot = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


@dataclass(frozen=True)
class BankPayoutTransaction:
    """One balance transaction a connected account's bank payout contained (Stripe's
    `GET /v1/balance_transactions?payout=po_…` on that account). For one of our transfers the
    source is the payment it made on the account (`py_…`) and `transfer_id` names the
    transfer; other transactions (fees, the payout itself) have none."""

    id: str
    type: str
    amount: int
    currency: str
    source_id: str | None = None
    transfer_id: str | None = None


@dataclass(frozen=True)
class DisputeResult:
    """A dispute after evidence was sent: its status (under_review once submitted) and how
    many times evidence was submitted (Stripe's evidence_details.submission_count)."""

    id: str
    status: str
    submission_count: int = 0


@dataclass(frozen=True)
class AccountState:
    """What decides whether a member can be paid out."""

    payouts_enabled: bool
    charges_enabled: bool
    details_submitted: bool
    account_id: str = ""
    # The provider's fingerprint of the bank account payouts go to (the referral checks compare
    # it across members); None when the provider reported no external account.
    bank_fingerprint: str | None = None


def bank_fingerprint_of(account: dict) -> str | None:
    """The fingerprint of an account's payout bank account: Stripe's `external_accounts` list,
    the bank account that is default for its currency first, else the first with one."""
    listed = (account.get("external_accounts") or {}).get("data") or []
    banks = [a for a in listed if isinstance(a, dict) and a.get("fingerprint")]
    banks.sort(key=lambda a: (a.get("object") != "bank_account", not a.get("default_for_currency")))
    return str(banks[0]["fingerprint"])[:64] if banks else None


class PaymentError(DomainError):
    """The provider refused a payment call: declined card (402) or a state/amount conflict (409).

    `code` is the provider's error code (card_declined, amount_too_large…) and `decline_code`
    the card issuer's reason (insufficient_funds…), both also in the problem+json body.
    """

    status, title, type_slug = 402, _l("Payment failed"), "payment-failed"
    other_types = {"payment-conflict": (409, _l("Payment conflict"))}

    def __init__(
        self,
        detail: str = "",
        *,
        code: str | None = None,
        decline_code: str | None = None,
        status: int = 402,
        **extra,
    ) -> None:
        super().__init__(detail, code=code, decline_code=decline_code, **extra)
        self.status = status
        self.code = code
        self.decline_code = decline_code
        if status == 409:
            self.title, self.type_slug = "Payment conflict", "payment-conflict"


class PaymentProviderUnavailable(ServiceUnavailable):
    """The provider could not be reached or answered with an error of its own; retry later."""

    title, type_slug = _l("Payment provider unavailable"), "payment-provider-unavailable"


def declined(
    detail: str, code: str = "card_declined", decline_code: str | None = None
) -> PaymentError:
    return PaymentError(detail, code=code, decline_code=decline_code, status=402)


def conflict(detail: str, code: str) -> PaymentError:
    return PaymentError(detail, code=code, status=409)


# What `transfer_many` answers per request.
TransferOutcome = TransferResult | PaymentError | PaymentProviderUnavailable


class PaymentProvider(abc.ABC):
    """The calls the marketplace makes to its payment provider."""

    name: str

    @abc.abstractmethod
    def create_connected_account(
        self, member_id: int, email: str, country: str, *, idempotency_key: str | None = None
    ) -> str:
        """Create the member's connected account; returns its id. The key defaults to one
        derived from the member, so a retry (or a race) gets the same account."""

    @abc.abstractmethod
    def account_onboarding_link(self, account_id: str, refresh_url: str, return_url: str) -> str:
        """A single-use URL where the member completes onboarding."""

    @abc.abstractmethod
    def retrieve_account(self, account_id: str) -> AccountState:
        """The account's current state."""

    @abc.abstractmethod
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
        """Create a manual-capture payment intent. With a saved `payment_method` (of the
        provider customer `customer_ref`) it is confirmed off-session at once and comes back
        authorised; without one the customer's client confirms it with `client_secret`."""

    @abc.abstractmethod
    def retrieve_payment(self, payment_id: str) -> PaymentResult:
        """The payment intent as it stands now (after the customer authenticated, say)."""

    @abc.abstractmethod
    def capture_payment(
        self, payment_id: str, *, amount: int | None = None, idempotency_key: str
    ) -> PaymentResult:
        """Capture an authorised payment, in full or `amount` of it (the rest is released)."""

    @abc.abstractmethod
    def cancel_payment(self, payment_id: str, *, idempotency_key: str) -> PaymentResult:
        """Release an authorisation that will not be captured."""

    @abc.abstractmethod
    def refund(
        self, payment_id: str, *, amount: int, idempotency_key: str, metadata: dict | None = None
    ) -> RefundResult:
        """Refund `amount` of a captured payment (partial refunds add up to the capture)."""

    @abc.abstractmethod
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
        """Send `amount` from the platform balance to a connected account."""

    def transfer_many(
        self, requests: Sequence[TransferRequest], *, concurrency: int = 1, per_second: float = 0
    ) -> list[TransferOutcome]:
        """Each request as `transfer` makes it: per request, in order, its TransferResult or the
        PaymentError / PaymentProviderUnavailable it met. At most `concurrency` calls at once
        (threads: the calls must not use the caller's database session) and at most
        `per_second` started per second (0: no limit). Any other error is raised once every
        started call has ended: whether those calls made a transfer is then unknown, and
        only their keys may ask again."""
        limit = _RateLimit(per_second)

        def one(request: TransferRequest) -> TransferOutcome:
            limit.wait()
            try:
                return self.transfer(**asdict(request))
            except (PaymentError, PaymentProviderUnavailable) as error:
                return error

        if concurrency <= 1 or len(requests) <= 1:
            return [one(request) for request in requests]
        with ThreadPoolExecutor(max_workers=min(concurrency, len(requests))) as pool:
            futures = [pool.submit(one, request) for request in requests]
        return [future.result() for future in futures]

    @abc.abstractmethod
    def bank_payout_transactions(
        self, bank_payout_id: str, *, account: str
    ) -> list[BankPayoutTransaction]:
        """The balance transactions the connected account's bank payout `bank_payout_id`
        contained, every page of them (read-only, safe to repeat)."""

    @abc.abstractmethod
    def update_dispute_evidence(
        self, dispute_id: str, *, evidence: dict[str, str], submit: bool, idempotency_key: str
    ) -> DisputeResult:
        """Stage evidence for a chargeback (Stripe's dispute evidence fields, as text), and
        with `submit` hand it to the card issuer: then no more evidence is taken."""


def check_amount(amount: int, name: str = "amount") -> None:
    """Amounts reach the provider validated; a bad one here is a bug, not a client error."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError(f"{name} must be a positive integer of minor units, got {amount!r}")


def check_currency(currency: str) -> None:
    if currency not in ("EUR", "CHF"):
        raise ValueError(f"currency must be EUR or CHF, got {currency!r}")


_CACHE_KEY = "payouts.provider"


def get_provider() -> PaymentProvider:
    """The provider for the current app: offline without STRIPE_API_KEY, else Stripe."""
    settings = current_app.config["CROWD_SETTINGS"]
    if settings.offline_payments:
        from payouts.providers.offline import OfflineProvider

        return OfflineProvider()
    # Imported here: the Stripe SDK is large and the embedded default never needs it.
    from payouts.providers.stripe_provider import StripeProvider

    key = (settings.stripe_api_key, settings.stripe_api_base)
    cached = current_app.extensions.get(_CACHE_KEY)
    if cached is None or cached[0] != key:
        cached = (key, StripeProvider(settings.stripe_api_key, api_base=settings.stripe_api_base))
        current_app.extensions[_CACHE_KEY] = cached
    return cached[1]
