"""The offline payment provider: the embedded default's stand-in for Stripe, kept in our tables.

It follows Stripe's rules where the money flow depends on them: a payment is authorised, then
captured at most once for at most the authorised amount (the rest is released), refunds add
up to at most the captured amount, an idempotency key replays its first result and refuses
other parameters. Ids are derived from the idempotency key (`off_pi_<uuid5>` …), so a replay
names the same object. Accounts are enabled at once (there is no onboarding to complete).

Writes join the caller's unit of work: when the caller rolls back, the offline payment is gone
too (unlike at Stripe, where it would stay); a retry then simply makes it again.

To see a decline offline, authorise with Stripe's test payment methods
`pm_card_chargeDeclined` or `pm_card_chargeDeclinedInsufficientFunds`. To see 3-D Secure,
use `pm_card_threeDSecure2Required` or `pm_card_authenticationRequired`: the payment waits in
requires_action (next action use_stripe_sdk, a client secret) until a developer completes
the simulated authentication — `flask crowd payments authenticate JOB_ID [--fail]`
(`complete_authentication` here) — as the customer's bank would.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict

from sqlalchemy import BigInteger, String, bindparam, insert, select, text
from sqlalchemy.dialects.postgresql import ARRAY

from crowd.core.db import UTCDateTime, is_postgres, one_of, utcnow
from crowd.core.locking import ROW_LOCK
from crowd.extensions import db
from payouts.models.payments import (
    OfflineAccount,
    OfflinePayment,
    OfflineProviderCall,
    OfflineRefund,
    OfflineTransfer,
)
from payouts.providers import (
    AUTHORIZED,
    REQUIRES_ACTION,
    AccountState,
    BankPayoutTransaction,
    DisputeResult,
    PaymentError,
    PaymentProvider,
    PaymentResult,
    RefundResult,
    TransferOutcome,
    TransferRequest,
    TransferResult,
    check_amount,
    check_currency,
    conflict,
    declined,
)

_NAMESPACE = uuid.UUID("5f0c1c8e-3a4b-4d0e-9a51-6c2f4f1e7b20")

# Stripe's test payment methods that decline, honoured offline so the failure path can be run.
DECLINING_PAYMENT_METHODS = {
    "pm_card_chargeDeclined": ("Your card was declined.", "generic_decline"),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "Your card has insufficient funds.",
        "insufficient_funds",
    ),
}

# Stripe's test payment methods that require authentication (3-D Secure), simulated offline.
AUTHENTICATING_PAYMENT_METHODS = ("pm_card_threeDSecure2Required", "pm_card_authenticationRequired")
AUTHENTICATION_FAILED = "payment_intent_authentication_failure"

_RESULT_TYPES = {
    "create_account": dict,
    "authorize": PaymentResult,
    "capture": PaymentResult,
    "cancel": PaymentResult,
    "refund": RefundResult,
    "transfer": TransferResult,
    "dispute_evidence": DisputeResult,
}


def _offline_id(prefix: str, operation: str, key: str) -> str:
    return f"off_{prefix}_{uuid.uuid5(_NAMESPACE, f'{operation}:{key}').hex}"


def _fingerprint(operation: str, params: dict) -> str:
    raw = json.dumps({"operation": operation, "params": params}, sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def _strings(metadata: dict | None) -> dict:
    return {str(k): str(v) for k, v in (metadata or {}).items()}


def _payment_result(payment: OfflinePayment) -> PaymentResult:
    waiting = payment.status == REQUIRES_ACTION
    return PaymentResult(
        id=payment.id,
        status=payment.status,
        amount=payment.amount,
        currency=payment.currency,
        amount_capturable=payment.amount if payment.status == AUTHORIZED else 0,
        amount_received=payment.amount_captured,
        client_secret=payment.client_secret,
        next_action_type="use_stripe_sdk" if waiting else None,
        error_code=payment.last_error_code,
        error_message="The customer did not complete the authentication."
        if payment.last_error_code
        else None,
    )


def _client_secret_of(payment_id: str) -> str:
    """Like Stripe's: the intent's id, "_secret_", and a part derived from it (a replay of
    the authorisation names the same)."""
    return "_secret_".join((payment_id, uuid.uuid5(_NAMESPACE, payment_id).hex[:16]))


def complete_authentication(payment_id: str, *, succeed: bool = True) -> PaymentResult:
    """The customer's bank answering a simulated 3-D Secure challenge (development only):
    the payment becomes authorised, or fails with payment_intent_authentication_failure."""
    payment = OfflineProvider._payment(payment_id)
    if payment.status != REQUIRES_ACTION:
        raise conflict(
            f"This payment is {payment.status}; only one requiring action can be authenticated.",
            "payment_intent_unexpected_state",
        )
    if succeed:
        payment.status, payment.last_error_code = AUTHORIZED, None
    else:
        payment.status, payment.last_error_code = "requires_payment_method", AUTHENTICATION_FAILED
    db.session.flush()
    return _payment_result(payment)


class OfflineProvider(PaymentProvider):
    """Payments, refunds, transfers and accounts in our own tables (no network)."""

    name = "offline"

    # --- idempotency ----------------------------------------------------------------------

    def _once(self, operation: str, key: str, params: dict, run: Callable[[], object]):
        """Run `run` once per idempotency key; the same key replays, other parameters → 409."""
        if not key or len(key) > 255:
            raise ValueError("idempotency_key must be 1 to 255 characters")
        fingerprint = _fingerprint(operation, params)
        call = db.session.scalar(
            select(OfflineProviderCall).where(OfflineProviderCall.idempotency_key == key)
        )
        if call is not None:
            if call.fingerprint != fingerprint:
                raise conflict(
                    "This idempotency key was already used with other parameters.",
                    "idempotency_error",
                )
            return self._replay(call)
        try:
            result = run()
        except PaymentError as error:
            # A decline is a result like any other (Stripe replays it for the same key);
            # a state conflict is not stored, so a retry after the state changed can succeed.
            if error.status == 402:
                self._record(key, operation, fingerprint, {"error": _error_dict(error)})
            raise
        stored = result if isinstance(result, dict) else asdict(result)
        self._record(key, operation, fingerprint, {"result": stored})
        return result

    @staticmethod
    def _record(key: str, operation: str, fingerprint: str, response: dict) -> None:
        db.session.add(
            OfflineProviderCall(
                idempotency_key=key, operation=operation, fingerprint=fingerprint, response=response
            )
        )
        db.session.flush()

    @staticmethod
    def _replay(call: OfflineProviderCall):
        if "error" in call.response:
            error = call.response["error"]
            raise PaymentError(
                error["detail"],
                code=error.get("code"),
                decline_code=error.get("decline_code"),
                status=error["status"],
            )
        result_type = _RESULT_TYPES[call.operation]
        return result_type(**call.response["result"])

    @staticmethod
    def _payment(payment_id: str) -> OfflinePayment:
        payment = db.session.get(
            OfflinePayment, payment_id, with_for_update=ROW_LOCK, populate_existing=True
        )
        if payment is None:
            raise conflict(f"No such payment: {payment_id}.", "resource_missing")
        return payment

    # --- accounts -------------------------------------------------------------------------

    def create_connected_account(
        self, member_id: int, email: str, country: str, *, idempotency_key: str | None = None
    ) -> str:
        key = idempotency_key or f"connected-account-member-{member_id}"
        params = {"member_id": member_id, "email": email, "country": country}

        def run() -> dict:
            account = OfflineAccount(
                id=_offline_id("acct", "create_account", key),
                member_id=member_id,
                email=email,
                country=country,
                payouts_enabled=True,
            )
            db.session.add(account)
            return {"id": account.id}

        return self._once("create_account", key, params, run)["id"]

    def account_onboarding_link(self, account_id: str, refresh_url: str, return_url: str) -> str:
        # Nothing to fill in offline: the member goes straight back to where they came from.
        self.retrieve_account(account_id)
        return return_url

    def retrieve_account(self, account_id: str) -> AccountState:
        account = db.session.get(OfflineAccount, account_id)
        if account is None:
            raise conflict(f"No such account: {account_id}.", "resource_missing")
        return AccountState(
            payouts_enabled=account.payouts_enabled,
            charges_enabled=account.payouts_enabled,
            details_submitted=True,
            account_id=account.id,
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
        params = {
            "amount": amount,
            "currency": currency,
            "customer_ref": customer_ref,
            "transfer_group": transfer_group,
            "metadata": _strings(metadata),
            "payment_method": payment_method,
        }

        def run() -> PaymentResult:
            if payment_method in DECLINING_PAYMENT_METHODS:
                message, reason = DECLINING_PAYMENT_METHODS[payment_method]
                raise declined(message, decline_code=reason)
            payment_id = _offline_id("pi", "authorize", idempotency_key)
            authenticate = payment_method in AUTHENTICATING_PAYMENT_METHODS
            payment = OfflinePayment(
                id=payment_id,
                amount=amount,
                currency=currency,
                status=REQUIRES_ACTION if authenticate else AUTHORIZED,
                client_secret=_client_secret_of(payment_id) if authenticate else None,
                amount_captured=0,
                amount_refunded=0,
                customer_ref=customer_ref,
                transfer_group=transfer_group,
                metadata_=_strings(metadata),
            )
            db.session.add(payment)
            db.session.flush()
            return _payment_result(payment)

        return self._once("authorize", idempotency_key, params, run)

    def retrieve_payment(self, payment_id: str) -> PaymentResult:
        payment = db.session.get(OfflinePayment, payment_id, populate_existing=True)
        if payment is None:
            raise conflict(f"No such payment: {payment_id}.", "resource_missing")
        return _payment_result(payment)

    def capture_payment(
        self, payment_id: str, *, amount: int | None = None, idempotency_key: str
    ) -> PaymentResult:
        if amount is not None:
            check_amount(amount)

        def run() -> PaymentResult:
            payment = self._payment(payment_id)
            if payment.status != AUTHORIZED:
                raise conflict(
                    f"This payment is {payment.status}; only an authorised one can be captured.",
                    "payment_intent_unexpected_state",
                )
            to_capture = payment.amount if amount is None else amount
            if to_capture > payment.amount:
                raise conflict(
                    f"Cannot capture {to_capture}: only {payment.amount} is authorised.",
                    "amount_too_large",
                )
            payment.amount_captured = to_capture
            payment.status = "succeeded"
            db.session.flush()
            return _payment_result(payment)

        params = {"payment_id": payment_id, "amount": amount}
        return self._once("capture", idempotency_key, params, run)

    def cancel_payment(self, payment_id: str, *, idempotency_key: str) -> PaymentResult:
        def run() -> PaymentResult:
            payment = self._payment(payment_id)
            if payment.status in ("succeeded", "canceled"):
                raise conflict(
                    f"This payment is {payment.status}; it cannot be cancelled.",
                    "payment_intent_unexpected_state",
                )
            payment.status = "canceled"
            db.session.flush()
            return _payment_result(payment)

        return self._once("cancel", idempotency_key, {"payment_id": payment_id}, run)

    def refund(
        self, payment_id: str, *, amount: int, idempotency_key: str, metadata: dict | None = None
    ) -> RefundResult:
        check_amount(amount)

        def run() -> RefundResult:
            payment = self._payment(payment_id)
            if payment.status != "succeeded":
                raise conflict(
                    f"This payment is {payment.status}; only a captured one can be refunded.",
                    "payment_intent_unexpected_state",
                )
            left = payment.amount_captured - payment.amount_refunded
            if left == 0:
                raise conflict("This payment has been refunded in full.", "charge_already_refunded")
            if amount > left:
                raise conflict(
                    f"Cannot refund {amount}: only {left} of the captured amount is left.",
                    "amount_too_large",
                )
            refund = OfflineRefund(
                id=_offline_id("re", "refund", idempotency_key),
                payment_id=payment.id,
                amount=amount,
                currency=payment.currency,
                metadata_=_strings(metadata),
            )
            payment.amount_refunded += amount
            db.session.add(refund)
            db.session.flush()
            return RefundResult(
                id=refund.id, payment_id=payment.id, amount=amount, currency=payment.currency
            )

        params = {"payment_id": payment_id, "amount": amount, "metadata": _strings(metadata)}
        return self._once("refund", idempotency_key, params, run)

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
        params = {
            "amount": amount,
            "currency": currency,
            "destination": destination_account,
            "transfer_group": transfer_group,
            "metadata": _strings(metadata),
        }

        def run() -> TransferResult:
            account = db.session.get(OfflineAccount, destination_account)
            if account is None or not account.payouts_enabled:
                raise conflict(
                    f"{destination_account} is not an account that can receive transfers.",
                    "account_invalid",
                )
            transfer = OfflineTransfer(
                id=_offline_id("tr", "transfer", idempotency_key),
                amount=amount,
                currency=currency,
                destination=account.id,
                transfer_group=transfer_group,
                metadata_=_strings(metadata),
            )
            db.session.add(transfer)
            db.session.flush()
            return TransferResult(
                id=transfer.id,
                amount=amount,
                currency=currency,
                destination=account.id,
                transfer_group=transfer_group,
            )

        return self._once("transfer", idempotency_key, params, run)

    def transfer_many(
        self, requests: Sequence[TransferRequest], *, concurrency: int = 1, per_second: float = 0
    ) -> list[TransferOutcome]:
        """The batch as `transfer` makes each (same ids, same replays and refusals), in a few
        statements: the keys and accounts read at once, the transfers and the calls inserted
        multi-row. No network, so no concurrency or rate limit to honour."""
        for request in requests:
            check_amount(request.amount)
            check_currency(request.currency)
        keys = sorted({r.idempotency_key for r in requests})
        if any(not key or len(key) > 255 for key in keys):
            raise ValueError("idempotency_key must be 1 to 255 characters")
        by_key = OfflineProviderCall.idempotency_key
        known = {
            call.idempotency_key: call
            for start in range(0, len(keys), 1000)
            for call in db.session.scalars(
                select(OfflineProviderCall).where(
                    one_of(by_key, keys[start : start + 1000], String())
                )
            )
        }
        destinations = sorted({r.destination_account for r in requests})
        enabled = {
            account_id
            for start in range(0, len(destinations), 1000)
            for account_id in db.session.scalars(
                select(OfflineAccount.id).where(
                    one_of(OfflineAccount.id, destinations[start : start + 1000], String()),
                    OfflineAccount.payouts_enabled.is_(True),
                )
            )
        }
        outcomes: list[TransferOutcome] = []
        made: dict[str, tuple[str, TransferResult]] = {}  # this batch's, by key
        transfers, calls = [], []
        for request in requests:
            key = request.idempotency_key
            params = {
                "amount": request.amount,
                "currency": request.currency,
                "destination": request.destination_account,
                "transfer_group": request.transfer_group,
                "metadata": _strings(request.metadata),
            }
            fingerprint = _fingerprint("transfer", params)
            first = known.get(key)
            if first is not None or key in made:
                stored = first.fingerprint if first is not None else made[key][0]
                if stored != fingerprint:
                    outcomes.append(
                        conflict(
                            "This idempotency key was already used with other parameters.",
                            "idempotency_error",
                        )
                    )
                elif first is not None:
                    outcomes.append(_replayed(first))
                else:
                    outcomes.append(made[key][1])
                continue
            if request.destination_account not in enabled:
                # A state conflict, not stored (as by `transfer`): a retry may succeed later.
                outcomes.append(
                    conflict(
                        f"{request.destination_account} is not an account that can receive "
                        "transfers.",
                        "account_invalid",
                    )
                )
                continue
            result = TransferResult(
                id=_offline_id("tr", "transfer", key),
                amount=request.amount,
                currency=request.currency,
                destination=request.destination_account,
                transfer_group=request.transfer_group,
            )
            made[key] = (fingerprint, result)
            transfers.append(
                {
                    "id": result.id,
                    "amount": result.amount,
                    "currency": result.currency,
                    "destination": result.destination,
                    "transfer_group": result.transfer_group,
                    "metadata_": params["metadata"],
                }
            )
            calls.append(
                {
                    "idempotency_key": key,
                    "operation": "transfer",
                    "fingerprint": fingerprint,
                    "response": {"result": asdict(result)},
                }
            )
            outcomes.append(result)
        if transfers:
            _insert_made(transfers, calls)
        return outcomes

    # --- bank payouts ---------------------------------------------------------------------

    def bank_payout_transactions(
        self, bank_payout_id: str, *, account: str
    ) -> list[BankPayoutTransaction]:
        # Offline there is no bank leg: a transfer is final (paid at once) and no account
        # ever makes a bank payout, so none has transactions. Answered like Stripe answers
        # for a payout it does not know on the account: nothing to reconcile.
        return []

    # --- chargebacks ----------------------------------------------------------------------

    def update_dispute_evidence(
        self, dispute_id: str, *, evidence: dict[str, str], submit: bool, idempotency_key: str
    ) -> DisputeResult:
        """Recorded like every offline call (OfflineProviderCall, with the evidence); there is
        no card issuer offline, so a submitted dispute just stays under review."""
        params = {"dispute": dispute_id, "evidence": dict(evidence), "submit": submit}

        def run() -> DisputeResult:
            return DisputeResult(
                id=dispute_id,
                status="under_review" if submit else "needs_response",
                submission_count=1 if submit else 0,
            )

        return self._once("dispute_evidence", idempotency_key, params, run)


_INSERT_TRANSFERS = text(
    "INSERT INTO offline_transfers (id, amount, currency, destination, transfer_group, "
    "metadata, created_at) SELECT v.id, v.amount, v.currency, v.destination, v.transfer_group, "
    "CAST(v.metadata AS json), :created_at FROM unnest(:ids, :amounts, :currencies, "
    ":destinations, :groups, :metadata) AS v (id, amount, currency, destination, "
    "transfer_group, metadata)"
).bindparams(
    *(bindparam(n, type_=ARRAY(String())) for n in ("ids", "currencies", "destinations")),
    *(bindparam(n, type_=ARRAY(String())) for n in ("groups", "metadata")),
    bindparam("amounts", type_=ARRAY(BigInteger())),
    bindparam("created_at", type_=UTCDateTime()),
)
_INSERT_CALLS = text(
    "INSERT INTO offline_provider_calls (idempotency_key, operation, fingerprint, response, "
    "created_at) SELECT v.key, v.operation, v.fingerprint, CAST(v.response AS json), "
    ":created_at FROM unnest(:keys, :operations, :fingerprints, :responses) "
    "AS v (key, operation, fingerprint, response)"
).bindparams(
    *(bindparam(n, type_=ARRAY(String())) for n in ("keys", "operations", "fingerprints")),
    bindparam("responses", type_=ARRAY(String())),
    bindparam("created_at", type_=UTCDateTime()),
)


def _insert_made(transfers: list[dict], calls: list[dict]) -> None:
    """A batch's transfers and their calls: on PostgreSQL two INSERT … SELECT FROM unnest
    (statements of fixed text, one round trip each), elsewhere two executemany."""
    if not is_postgres():
        db.session.execute(insert(OfflineTransfer), transfers)
        db.session.execute(insert(OfflineProviderCall), calls)
        return
    now = utcnow()
    db.session.execute(
        _INSERT_TRANSFERS,
        {
            "ids": [t["id"] for t in transfers],
            "amounts": [t["amount"] for t in transfers],
            "currencies": [t["currency"] for t in transfers],
            "destinations": [t["destination"] for t in transfers],
            "groups": [t["transfer_group"] for t in transfers],
            "metadata": [json.dumps(t["metadata_"]) for t in transfers],
            "created_at": now,
        },
    )
    db.session.execute(
        _INSERT_CALLS,
        {
            "keys": [c["idempotency_key"] for c in calls],
            "operations": [c["operation"] for c in calls],
            "fingerprints": [c["fingerprint"] for c in calls],
            "responses": [json.dumps(c["response"]) for c in calls],
            "created_at": now,
        },
    )


def _replayed(call: OfflineProviderCall) -> TransferOutcome:
    try:
        return OfflineProvider._replay(call)
    except PaymentError as error:
        return error


def _error_dict(error: PaymentError) -> dict:
    return {
        "detail": error.detail,
        "code": error.code,
        "decline_code": error.decline_code,
        "status": error.status,
    }
