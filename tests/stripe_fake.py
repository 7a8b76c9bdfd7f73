"""A local fake of the Stripe endpoints we call, for the real SDK to talk to; and test helpers.

`FakeStripe` is a WSGI app served by werkzeug on 127.0.0.1 (random port) in a thread. It
parses form-encoded bodies the way Stripe does (`metadata[job_id]=7` → nested dicts; values
stay the strings the SDK sent), records every request with its Idempotency-Key and
Stripe-Account headers, replays the first response for a repeated idempotency key (another
body with the same key → 400 idempotency_error), keeps just enough state to answer like
Stripe (accounts, payment intents, refunds, transfers), and can be told to fail the next
matching request (`fail_next`).

Endpoints: POST /v1/accounts, GET /v1/accounts/{id}, POST /v1/account_links,
POST /v1/payment_intents, POST /v1/payment_intents/{id}/capture,
POST /v1/payment_intents/{id}/cancel, POST /v1/refunds, POST /v1/transfers,
GET /v1/balance_transactions (a connected account's, `payout` filter; `make_bank_payout`);
disputes (chargebacks): POST /v1/disputes/{id} (evidence, submit), GET /v1/disputes/{id}, and
the test helpers `create_dispute` / `close_dispute` / `reinstate_dispute` for webhook payloads.

Fixtures: `stripe_fake` (the server, state reset per test), `stripe_settings` (the app
pointed at it: `get_provider()` is the Stripe provider, webhooks have a secret),
`stripe_provider`, and `webhook_settings` (only the webhook secret). Helpers build signed
webhook deliveries: `stripe_event(...)`, `signature_header(...)`, `post_event(...)`.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

FAKE_API_KEY = "sk_test_fake"
WEBHOOK_SECRET = "whsec_testsecret123"
WEBHOOK_PATH = "/api/v1/webhooks/stripe"

# Stripe's test payment methods that require authentication (3-D Secure), as in its docs.
AUTHENTICATING = ("pm_card_threeDSecure2Required", "pm_card_authenticationRequired")

# Stripe's test payment methods that decline (as in its docs), with the decline code.
DECLINES = {
    "pm_card_chargeDeclined": "generic_decline",
    "pm_card_chargeDeclinedInsufficientFunds": "insufficient_funds",
}


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: dict
    idempotency_key: str | None
    stripe_account: str | None
    stripe_version: str | None
    authorization: str | None
    # True when the fake answered from its idempotency store instead of executing.
    replayed: bool = False


@dataclass
class _Failure:
    method: str
    path: re.Pattern
    status: int
    error: dict
    times: int


class StripeFail(Exception):
    """An error response from an endpoint: (HTTP status, Stripe error object)."""

    def __init__(self, status: int, type_: str, message: str, **fields) -> None:
        super().__init__(message)
        self.status = status
        self.error = {"type": type_, "message": message, **fields}


def parse_form(items) -> dict:
    """Stripe's form encoding back into nested dicts: a[b][c]=v → {"a": {"b": {"c": "v"}}}."""
    result: dict = {}
    for key, value in items:
        head, *rest = re.findall(r"[^\[\]]+|\[\]", key)
        path = [head, *rest]
        node = result
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return result


@dataclass
class FakeStripe:
    api_key: str = FAKE_API_KEY
    requests: list[RecordedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server = None
        self._thread = None
        self.reset()

    # --- running -------------------------------------------------------------------------

    def start(self) -> FakeStripe:
        self._server = make_server("127.0.0.1", 0, self, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def reset(self) -> None:
        with self._lock:
            self.requests = []
            self.accounts: dict[str, dict] = {}
            self.payment_intents: dict[str, dict] = {}
            self.refunds: dict[str, dict] = {}
            self.transfers: dict[str, dict] = {}
            # The platform's available balance per currency, which transfers draw on.
            self.balance: dict[str, int] = {"eur": 10**9, "chf": 10**9}
            self._idempotency: dict[tuple, tuple] = {}
            self._failures: list[_Failure] = []
            self._ids = itertools.count(1)
            self._reset_bank_payouts()
            self.disputes: dict[str, dict] = {}

    # --- steering from tests -------------------------------------------------------------

    def fail_next(
        self,
        path: str,
        *,
        method: str = "POST",
        status: int = 402,
        type: str = "card_error",
        code: str | None = "card_declined",
        message: str = "Your card was declined.",
        times: int = 1,
        **fields,
    ) -> None:
        """Answer the next `times` requests to `path` (a regex, full match) with this error."""
        error = {"type": type, "code": code, "message": message, **fields}
        with self._lock:
            self._failures.append(
                _Failure(
                    method, re.compile(path), status, {k: v for k, v in error.items() if v}, times
                )
            )

    def set_account(self, account_id: str, bank_fingerprint: str | None = None, **fields) -> dict:
        """Change an account as onboarding would (payouts_enabled=True also activates transfers;
        bank_fingerprint attaches a default bank account with that fingerprint)."""
        with self._lock:
            account = self.accounts[account_id]
            account.update(fields)
            if bank_fingerprint is not None:
                bank = {
                    "id": self._new_id("ba"),
                    "object": "bank_account",
                    "account": account_id,
                    "country": account["country"],
                    "currency": "eur",
                    "default_for_currency": True,
                    "fingerprint": bank_fingerprint,
                    "last4": "3000",
                    "status": "new",
                }
                account["external_accounts"]["data"] = [bank]
                account["external_accounts"]["total_count"] = 1
            if fields.get("payouts_enabled"):
                account["capabilities"]["transfers"] = "active"
            return dict(account)

    def calls(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """Recorded requests, optionally only those with this method and path (regex)."""
        return [
            r
            for r in self.requests
            if (method is None or r.method == method)
            and (path is None or re.fullmatch(path, r.path))
        ]

    # --- WSGI ----------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        request = Request(environ)
        status, body, headers = self._handle(request)
        response = Response(json.dumps(body), status=status, mimetype="application/json")
        response.headers["Request-Id"] = f"req_fake_{secrets.token_hex(6)}"
        for name, value in headers.items():
            response.headers[name] = value
        return response(environ, start_response)

    def _handle(self, request: Request) -> tuple[int, dict, dict]:
        params = parse_form(request.form.items(multi=True)) if request.method == "POST" else {}
        if request.method == "GET":
            params = parse_form(request.args.items(multi=True))
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            params=params,
            idempotency_key=request.headers.get("Idempotency-Key"),
            stripe_account=request.headers.get("Stripe-Account"),
            stripe_version=request.headers.get("Stripe-Version"),
            authorization=request.headers.get("Authorization"),
        )
        with self._lock:
            self.requests.append(recorded)
            if recorded.authorization != f"Bearer {self.api_key}":
                return 401, _error("invalid_request_error", "Invalid API Key provided."), {}
            scope = (recorded.stripe_account, recorded.idempotency_key)
            fingerprint = (request.method, request.path, json.dumps(params, sort_keys=True))
            if request.method == "POST" and recorded.idempotency_key:
                stored = self._idempotency.get(scope)
                if stored is not None:
                    if stored[0] != fingerprint:
                        message = (
                            "Keys for idempotent requests can only be used with the same "
                            "parameters they were first used with."
                        )
                        return 400, _error("idempotency_error", message), {}
                    recorded.replayed = True
                    return stored[1], stored[2], {"Idempotent-Replayed": "true"}
            self._stripe_account = recorded.stripe_account  # for routes scoped to an account
            status, body = self._execute(request.method, request.path, params)
            # Like Stripe: a result is kept for its key unless the server itself failed.
            if request.method == "POST" and recorded.idempotency_key and status < 500:
                self._idempotency[scope] = (fingerprint, status, body)
            return status, body, {"Stripe-Should-Retry": "true"} if status >= 500 else {}

    def _execute(self, method: str, path: str, params: dict) -> tuple[int, dict]:
        for failure in self._failures:
            if failure.times > 0 and failure.method == method and failure.path.fullmatch(path):
                failure.times -= 1
                return failure.status, {"error": dict(failure.error)}
        routes = (
            ("POST", r"/v1/accounts", self._create_account),
            ("GET", r"/v1/accounts/(?P<id>[\w]+)", self._retrieve_account),
            ("POST", r"/v1/account_links", self._create_account_link),
            ("POST", r"/v1/payment_intents", self._create_payment_intent),
            ("POST", r"/v1/payment_intents/(?P<id>\w+)/capture", self._capture),
            ("POST", r"/v1/payment_intents/(?P<id>\w+)/cancel", self._cancel),
            ("POST", r"/v1/refunds", self._create_refund),
            ("POST", r"/v1/transfers", self._create_transfer),
            *self._bank_payout_routes(),
            *self._dispute_routes(),
            *self._authentication_routes(),
        )
        for route_method, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if match and method == route_method:
                try:
                    return 200, handler(params, **match.groupdict())
                except StripeFail as fail:
                    return fail.status, {"error": fail.error}
        return 404, _error("invalid_request_error", f"Unrecognized request URL ({method}: {path}).")

    # --- endpoints -----------------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._ids):06d}{secrets.token_hex(4)}"

    def _required(self, params: dict, *names: str) -> None:
        for name in names:
            if name not in params:
                raise StripeFail(
                    400,
                    "invalid_request_error",
                    f"Missing required param: {name}.",
                    code="parameter_missing",
                    param=name,
                )

    def _amount(self, params: dict, name: str = "amount") -> int:
        raw = params.get(name)
        if raw is None or not str(raw).isdigit() or int(raw) <= 0:
            raise StripeFail(
                400,
                "invalid_request_error",
                f"Invalid positive integer: {name}.",
                code="parameter_invalid_integer",
                param=name,
            )
        return int(raw)

    def _create_account(self, params: dict) -> dict:
        self._required(params, "type", "country")
        account_id = self._new_id("acct")
        account = {
            "id": account_id,
            "object": "account",
            "type": params["type"],
            "country": params["country"],
            "email": params.get("email"),
            "payouts_enabled": False,
            "charges_enabled": False,
            "details_submitted": False,
            "capabilities": {"transfers": "inactive"},
            "external_accounts": {
                "object": "list",
                "data": [],
                "has_more": False,
                "total_count": 0,
                "url": f"/v1/accounts/{account_id}/external_accounts",
            },
            "metadata": params.get("metadata", {}),
            "created": int(time.time()),
        }
        self.accounts[account["id"]] = account
        return account

    def _account(self, account_id: str, param: str = "account") -> dict:
        account = self.accounts.get(account_id)
        if account is None:
            raise StripeFail(
                400 if param != "id" else 404,
                "invalid_request_error",
                f"No such account: '{account_id}'",
                code="resource_missing",
                param=param,
            )
        return account

    def _retrieve_account(self, params: dict, id: str) -> dict:
        return dict(self._account(id, "id"))

    def _create_account_link(self, params: dict) -> dict:
        self._required(params, "account", "refresh_url", "return_url", "type")
        account = self._account(params["account"])
        now = int(time.time())
        return {
            "object": "account_link",
            "created": now,
            "expires_at": now + 300,
            "url": f"https://connect.stripe.test/setup/e/{account['id']}/{secrets.token_hex(8)}",
        }

    def _create_payment_intent(self, params: dict) -> dict:
        self._required(params, "amount", "currency")
        amount = self._amount(params)
        intent = {
            "id": self._new_id("pi"),
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": 0,
            "currency": params["currency"],
            "capture_method": params.get("capture_method", "automatic_async"),
            "customer": params.get("customer"),
            "payment_method": params.get("payment_method"),
            "transfer_group": params.get("transfer_group"),
            "metadata": params.get("metadata", {}),
            "status": "requires_payment_method",
            "latest_charge": None,
            "livemode": False,
            "created": int(time.time()),
        }
        intent["client_secret"] = f"{intent['id']}_secret_{secrets.token_hex(8)}"
        if params.get("payment_method"):
            intent["status"] = "requires_confirmation"
        if params.get("confirm") == "true":
            if not params.get("payment_method"):
                raise StripeFail(
                    400,
                    "invalid_request_error",
                    "You cannot confirm this PaymentIntent because it's missing a payment method.",
                    code="payment_intent_unexpected_state",
                )
            if params["payment_method"] in AUTHENTICATING:
                return self._requires_authentication(params, intent)
            decline = DECLINES.get(params["payment_method"])
            if decline:
                intent["status"] = "requires_payment_method"
                self.payment_intents[intent["id"]] = intent
                raise StripeFail(
                    402,
                    "card_error",
                    "Your card was declined."
                    if decline == "generic_decline"
                    else "Your card has insufficient funds.",
                    code="card_declined",
                    decline_code=decline,
                    payment_intent=dict(intent),
                )
            intent["latest_charge"] = self._new_id("ch")
            if intent["capture_method"] == "manual":
                intent["status"], intent["amount_capturable"] = "requires_capture", amount
            else:
                intent["status"], intent["amount_received"] = "succeeded", amount
        self.payment_intents[intent["id"]] = intent
        return dict(intent)

    def _intent(self, intent_id: str) -> dict:
        intent = self.payment_intents.get(intent_id)
        if intent is None:
            raise StripeFail(
                404,
                "invalid_request_error",
                f"No such payment_intent: '{intent_id}'",
                code="resource_missing",
                param="intent",
            )
        return intent

    def _unexpected_state(self, intent: dict, action: str) -> StripeFail:
        return StripeFail(
            400,
            "invalid_request_error",
            f"This PaymentIntent could not be {action} because it has a status of "
            f"{intent['status']}.",
            code="payment_intent_unexpected_state",
        )

    def _capture(self, params: dict, id: str) -> dict:
        intent = self._intent(id)
        if intent["status"] != "requires_capture":
            raise self._unexpected_state(intent, "captured")
        amount = intent["amount_capturable"]
        if "amount_to_capture" in params:
            amount = self._amount(params, "amount_to_capture")
            if amount > intent["amount_capturable"]:
                raise StripeFail(
                    400,
                    "invalid_request_error",
                    "The amount to capture is more than the amount capturable.",
                    code="amount_too_large",
                    param="amount_to_capture",
                )
        intent.update(status="succeeded", amount_capturable=0, amount_received=amount)
        intent["amount_refunded"] = 0
        return _public(intent)

    def _cancel(self, params: dict, id: str) -> dict:
        intent = self._intent(id)
        if intent["status"] in ("succeeded", "canceled", "processing"):
            raise self._unexpected_state(intent, "canceled")
        intent.update(status="canceled", amount_capturable=0)
        return _public(intent)

    def _create_refund(self, params: dict) -> dict:
        self._required(params, "payment_intent")
        intent = self._intent(params["payment_intent"])
        if intent["status"] != "succeeded":
            raise self._unexpected_state(intent, "refunded")
        left = intent["amount_received"] - intent.get("amount_refunded", 0)
        if left <= 0:
            raise StripeFail(
                400,
                "invalid_request_error",
                f"Charge {intent['latest_charge']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = self._amount(params) if "amount" in params else left
        if amount > left:
            raise StripeFail(
                400,
                "invalid_request_error",
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                code="amount_too_large",
                param="amount",
            )
        intent["amount_refunded"] = intent.get("amount_refunded", 0) + amount
        refund = {
            "id": self._new_id("re"),
            "object": "refund",
            "amount": amount,
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "charge": intent["latest_charge"],
            "status": "succeeded",
            "metadata": params.get("metadata", {}),
            "created": int(time.time()),
        }
        self.refunds[refund["id"]] = refund
        return refund

    def _create_transfer(self, params: dict) -> dict:
        self._required(params, "amount", "currency", "destination")
        amount = self._amount(params)
        account = self._account(params["destination"], "destination")
        if account["capabilities"].get("transfers") != "active":
            raise StripeFail(
                400,
                "invalid_request_error",
                "Your destination account needs to have at least one of the following "
                "capabilities enabled: transfers, crypto_transfers, legacy_payments",
                code="insufficient_capabilities_for_transfer",
                param="destination",
            )
        currency = params["currency"]
        if self.balance.get(currency, 0) < amount:
            raise StripeFail(
                400,
                "invalid_request_error",
                "You have insufficient available funds in your Stripe account.",
                code="balance_insufficient",
            )
        self.balance[currency] -= amount
        transfer = {
            "id": self._new_id("tr"),
            "object": "transfer",
            "amount": amount,
            "amount_reversed": 0,
            "currency": currency,
            "destination": account["id"],
            "transfer_group": params.get("transfer_group"),
            "metadata": params.get("metadata", {}),
            "reversed": False,
            "created": int(time.time()),
        }
        self.transfers[transfer["id"]] = transfer
        self._transfer_arrived(transfer)
        return transfer

    # --- bank payouts of connected accounts (payout reconciliation) ----------------------
    # A transfer makes a payment (`py_…`, its `destination_payment`) on the connected account
    # and a balance transaction there; `make_bank_payout` pays some of them out to the bank
    # as Stripe's automatic payouts do, and GET /v1/balance_transactions?payout=po_… (with
    # the Stripe-Account header) lists what a bank payout contained.

    def _reset_bank_payouts(self) -> None:
        self._stripe_account = None
        # Per connected account: its balance transactions, oldest first.
        self.account_balance_transactions: dict[str, list[dict]] = {}
        # Per connected account: the payments transfers made there (py_… → charge object).
        self.account_payments: dict[str, dict[str, dict]] = {}
        self.bank_payouts: dict[str, dict] = {}

    def _bank_payout_routes(self) -> tuple:
        return (("GET", r"/v1/balance_transactions", self._list_balance_transactions),)

    def _transfer_arrived(self, transfer: dict) -> None:
        account, now = transfer["destination"], int(time.time())
        payment = {
            "id": self._new_id("py"),
            "object": "charge",
            "amount": transfer["amount"],
            "currency": transfer["currency"],
            "source_transfer": transfer["id"],
            "status": "succeeded",
            "created": now,
        }
        transfer["destination_payment"] = payment["id"]
        self.account_payments.setdefault(account, {})[payment["id"]] = payment
        self._balance_transaction(account, "payment", transfer["amount"], payment["id"], None)

    def _balance_transaction(self, account, type_, amount, source, payout, currency="eur"):
        txn = {
            "id": self._new_id("txn"),
            "object": "balance_transaction",
            "amount": amount,
            "currency": currency,
            "fee": 0,
            "net": amount,
            "type": type_,
            "reporting_category": "charge" if type_ == "payment" else type_,
            "source": source,
            "status": "available",
            "created": int(time.time()),
            "payout": payout,  # the fake's own bookkeeping (Stripe filters by it)
        }
        self.account_balance_transactions.setdefault(account, []).append(txn)
        return txn

    def make_bank_payout(
        self,
        account: str,
        transfers: dict[str, int | None] | list[str],
        *,
        status: str = "paid",
        failure_code: str | None = None,
        failure_message: str | None = None,
        payout_id: str | None = None,
    ) -> dict:
        """An automatic bank payout of `account` carrying these transfers (tr_… → the part of
        it paid out, None for the rest of it), as the payout object its webhook delivers.

        A transfer's first whole payout carries its own balance transaction; a part (a split
        over two bank payouts) is one balance transaction per part, with the same source."""
        with self._lock:
            parts = dict.fromkeys(transfers) if isinstance(transfers, list) else dict(transfers)
            payout_id = payout_id or self._new_id("po")
            total, currency = 0, "eur"
            for transfer_id, part in parts.items():
                transfer = self.transfers[transfer_id]
                assert transfer["destination"] == account, "a transfer to another account"
                currency = transfer["currency"]
                source = transfer["destination_payment"]
                original = next(
                    t
                    for t in self.account_balance_transactions[account]
                    if t["source"] == source and t["type"] == "payment"
                )
                if part is None and original["payout"] is None:
                    original["payout"], amount = payout_id, original["amount"]
                else:
                    # What earlier bank payouts carried of it (the original, or parts).
                    paid_before = sum(
                        t["amount"]
                        for t in self.account_balance_transactions[account]
                        if t["source"] == source and t["payout"] not in (None, "(split)")
                    )
                    amount = part if part is not None else transfer["amount"] - paid_before
                    assert 0 < amount <= transfer["amount"] - paid_before, "more than is left"
                    original["payout"] = original["payout"] or "(split)"
                    self._balance_transaction(account, "payment", amount, source, payout_id)
                total += amount
            self._balance_transaction(account, "payout", -total, payout_id, payout_id, currency)
            payout = {
                "id": payout_id,
                "object": "payout",
                "amount": total,
                "currency": currency,
                "arrival_date": int(time.time()) + 86400,
                "automatic": True,
                "created": int(time.time()),
                "destination": "ba_fake_bank",
                "failure_code": failure_code,
                "failure_message": failure_message,
                "metadata": {},
                "method": "standard",
                "status": status,
                "type": "bank_account",
            }
            self.bank_payouts[payout_id] = (account, payout)
            return dict(payout)

    def fail_bank_payout(self, payout_id: str, code: str, message: str) -> dict:
        """The bank sent a (paid) bank payout back: the payout object of its payout.failed."""
        with self._lock:
            _account, payout = self.bank_payouts[payout_id]
            payout.update(status="failed", failure_code=code, failure_message=message)
            return dict(payout)

    def _list_balance_transactions(self, params: dict) -> dict:
        account = self._stripe_account
        listed = self.account_balance_transactions.get(account, []) if account else []
        if "payout" in params:
            known = self.bank_payouts.get(params["payout"])
            if known is None or known[0] != account:
                raise StripeFail(
                    404,
                    "invalid_request_error",
                    f"No such payout: '{params['payout']}'",
                    code="resource_missing",
                    param="payout",
                )
            listed = [t for t in listed if t["payout"] == params["payout"]]
        limit = int(params.get("limit", 10))
        if "starting_after" in params:
            ids = [t["id"] for t in listed]
            listed = listed[ids.index(params["starting_after"]) + 1 :]
        expand = params.get("expand") or {}
        expand = set(expand.values() if isinstance(expand, dict) else expand)
        payments = self.account_payments.get(account, {})
        data = []
        for txn in listed[:limit]:
            shown = {k: v for k, v in txn.items() if k != "payout"}
            if "data.source" in expand and txn["source"] in payments:
                shown["source"] = dict(payments[txn["source"]])
            data.append(shown)
        return {
            "object": "list",
            "data": data,
            "has_more": len(listed) > limit,
            "url": "/v1/balance_transactions",
        }

    # --- disputes (chargebacks) ------------------------------------------------------------
    # Kept apart: the dispute API (evidence, submission) and helpers that make a dispute on a
    # payment intent's charge, as the card issuer would, for webhook payloads.

    DISPUTE_FEE = 1500
    DISPUTE_CLOSED = ("won", "lost", "warning_closed", "charge_refunded")

    def _dispute_routes(self) -> tuple:
        return (
            ("POST", r"/v1/disputes/(?P<id>\w+)", self._update_dispute),
            ("GET", r"/v1/disputes/(?P<id>\w+)", self._retrieve_dispute),
        )

    def _dispute(self, dispute_id: str) -> dict:
        dispute = self.disputes.get(dispute_id)
        if dispute is None:
            raise StripeFail(
                404,
                "invalid_request_error",
                f"No such dispute: '{dispute_id}'",
                code="resource_missing",
                param="dispute",
            )
        return dispute

    def _retrieve_dispute(self, params: dict, id: str) -> dict:
        return json.loads(json.dumps(self._dispute(id)))

    def _update_dispute(self, params: dict, id: str) -> dict:
        dispute = self._dispute(id)
        details = dispute["evidence_details"]
        if dispute["status"] in self.DISPUTE_CLOSED or details["submission_count"]:
            raise StripeFail(
                400,
                "invalid_request_error",
                "This dispute is already closed or its evidence was submitted; it cannot be "
                "updated.",
                code="dispute_already_submitted",
            )
        if int(time.time()) > details["due_by"]:
            raise StripeFail(
                400,
                "invalid_request_error",
                "The evidence deadline of this dispute has passed.",
                code="dispute_past_due",
            )
        evidence = params.get("evidence", {})
        if not isinstance(evidence, dict):
            raise StripeFail(400, "invalid_request_error", "Invalid evidence.", param="evidence")
        dispute["evidence"].update(evidence)
        details["has_evidence"] = True
        if params.get("submit") == "true":
            details["submission_count"] += 1
            dispute["status"] = (
                "warning_under_review"
                if dispute["status"].startswith("warning")
                else "under_review"
            )
        return json.loads(json.dumps(dispute))

    def create_dispute(
        self,
        intent_id: str,
        *,
        amount: int | None = None,
        reason: str = "product_not_received",
        due_in: int = 7 * 24 * 3600,
        fee: int = DISPUTE_FEE,
        withdrawn: bool = True,
    ) -> dict:
        """A dispute of the intent's charge (needs_response), its funds withdrawn with the fee
        (one balance transaction) unless `withdrawn` is False; returns it as Stripe sends it."""
        with self._lock:
            intent = self._intent(intent_id)
            amount = intent["amount_received"] if amount is None else amount
            dispute = {
                "id": self._new_id("dp"),
                "object": "dispute",
                "amount": amount,
                "currency": intent["currency"],
                "charge": intent["latest_charge"],
                "payment_intent": intent_id,
                "reason": reason,
                "status": "needs_response",
                "is_charge_refundable": False,
                "livemode": False,
                "created": int(time.time()),
                "evidence": {},
                "evidence_details": {
                    "due_by": int(time.time()) + due_in,
                    "has_evidence": False,
                    "past_due": False,
                    "submission_count": 0,
                },
                "balance_transactions": [],
            }
            if withdrawn:
                dispute["balance_transactions"].append(
                    self._dispute_balance(dispute, -amount, fee, "dispute")
                )
            self.disputes[dispute["id"]] = dispute
            return json.loads(json.dumps(dispute))

    def _dispute_balance(self, dispute: dict, amount: int, fee: int, category: str) -> dict:
        return {
            "id": self._new_id("txn"),
            "object": "balance_transaction",
            "amount": amount,
            "currency": dispute["currency"],
            "fee": fee,
            "net": amount - fee,
            "reporting_category": category,
            "source": dispute["id"],
            "type": "adjustment",
            "created": int(time.time()),
        }

    def reinstate_dispute(self, dispute_id: str, *, fee_returned: int = 0) -> dict:
        """The issuer decided for the merchant: the amount comes back (and, if given, the fee);
        the dispute is won."""
        with self._lock:
            dispute = self._dispute(dispute_id)
            dispute["balance_transactions"].append(
                self._dispute_balance(dispute, dispute["amount"], -fee_returned, "dispute_reversal")
            )
            dispute["status"] = "won"
            return json.loads(json.dumps(dispute))

    def close_dispute(self, dispute_id: str, status: str) -> dict:
        """The dispute as it closes (lost, warning_closed …), its money as it stands."""
        with self._lock:
            dispute = self._dispute(dispute_id)
            dispute["status"] = status
            return json.loads(json.dumps(dispute))

    # --- 3-D Secure / SCA (the payment-authorisation helper's block) ------------------------
    # Stripe's test methods that require authentication: confirmed on-session, a manual-capture
    # intent waits in requires_action (next_action use_stripe_sdk); confirmed off-session,
    # Stripe declines with authentication_required and names the intent (requires_payment_
    # method), which the customer's client confirms on-session. `complete_authentication`
    # plays the customer's bank answering the challenge.

    def _authentication_routes(self) -> tuple:
        return (("GET", r"/v1/payment_intents/(?P<id>\w+)", self._retrieve_intent),)

    def _retrieve_intent(self, params: dict, id: str) -> dict:
        return _public(self._intent(id))

    def _requires_authentication(self, params: dict, intent: dict) -> dict:
        self.payment_intents[intent["id"]] = intent
        if params.get("off_session") == "true":
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = {
                "type": "card_error",
                "code": "authentication_required",
                "decline_code": "authentication_required",
                "message": "Your card was declined. This transaction requires authentication.",
            }
            raise StripeFail(
                402,
                "card_error",
                "Your card was declined. This transaction requires authentication.",
                code="authentication_required",
                decline_code="authentication_required",
                payment_intent=_public(intent),
            )
        intent["status"] = "requires_action"
        intent["next_action"] = {
            "type": "use_stripe_sdk",
            "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": "https://hooks"},
        }
        return _public(intent)

    def complete_authentication(self, intent_id: str, *, succeed: bool = True) -> dict:
        """The customer answered the bank's challenge: the intent is authorised (requires_
        capture) or back in requires_payment_method with the failure; returns it for a
        webhook (payment_intent.amount_capturable_updated or payment_intent.payment_failed)."""
        with self._lock:
            intent = self._intent(intent_id)
            assert intent["status"] in ("requires_action", "requires_payment_method"), intent
            intent["next_action"] = None
            if succeed:
                intent["latest_charge"] = self._new_id("ch")
                intent.update(status="requires_capture", amount_capturable=intent["amount"])
                intent["last_payment_error"] = None
            else:
                intent["status"] = "requires_payment_method"
                intent["last_payment_error"] = {
                    "type": "card_error",
                    "code": "payment_intent_authentication_failure",
                    "message": "The provided PaymentMethod has failed authentication.",
                }
            return _public(intent)

    def lapse(self, intent_id: str) -> dict:
        """Stripe cancels an uncaptured manual-capture intent after 7 days (reason automatic)."""
        with self._lock:
            intent = self._intent(intent_id)
            intent.update(status="canceled", amount_capturable=0, cancellation_reason="automatic")
            return _public(intent)


def _public(intent: dict) -> dict:
    """The payment intent as Stripe shows it (our refund bookkeeping is not a field there)."""
    return {k: v for k, v in intent.items() if k != "amount_refunded"}


def _error(type_: str, message: str, **fields) -> dict:
    return {"error": {"type": type_, "message": message, **fields}}


# --- signed webhook deliveries -------------------------------------------------------------


def signature_header(payload: str, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None):
    """Stripe's Stripe-Signature header: t=<unix time>,v1=HMAC-SHA256(secret, "<t>.<body>")."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(
        secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


_event_ids = itertools.count(1)


def stripe_event(
    type_: str,
    obj: dict,
    *,
    created: int | None = None,
    event_id: str | None = None,
    account: str | None = None,
) -> dict:
    """An Event object as Stripe delivers it."""
    event = {
        "id": event_id or f"evt_test_{next(_event_ids):06d}{secrets.token_hex(4)}",
        "object": "event",
        "api_version": "2025-01-27.acacia",
        "created": int(time.time()) if created is None else created,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }
    if account:
        event["account"] = account
    return event


def post_event(
    client, event: dict | str, *, secret: str = WEBHOOK_SECRET, timestamp=None, headers=None
):
    """POST `event` to the webhook endpoint, signed with `secret` at `timestamp` (now)."""
    payload = event if isinstance(event, str) else json.dumps(event)
    signed = {"Stripe-Signature": signature_header(payload, secret=secret, timestamp=timestamp)}
    return client.post(
        WEBHOOK_PATH,
        data=payload,
        headers={**signed, **(headers or {})},
        content_type="application/json",
    )


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def stripe_fake_server():
    fake = FakeStripe().start()
    yield fake
    fake.stop()


@pytest.fixture
def stripe_fake(stripe_fake_server) -> FakeStripe:
    """The fake Stripe API, emptied for this test."""
    stripe_fake_server.reset()
    return stripe_fake_server


@pytest.fixture
def webhook_settings(app, monkeypatch):
    """The app with STRIPE_WEBHOOK_SECRET set (payments stay offline)."""
    settings = app.config["CROWD_SETTINGS"].model_copy(
        update={"stripe_webhook_secret": WEBHOOK_SECRET}
    )
    monkeypatch.setitem(app.config, "CROWD_SETTINGS", settings)
    return settings


@pytest.fixture
def stripe_settings(app, stripe_fake, monkeypatch):
    """The app pointed at the fake: get_provider() is the Stripe provider; webhooks signed."""
    settings = app.config["CROWD_SETTINGS"].model_copy(
        update={
            "stripe_api_key": FAKE_API_KEY,
            "stripe_api_base": stripe_fake.url,
            "stripe_webhook_secret": WEBHOOK_SECRET,
        }
    )
    monkeypatch.setitem(app.config, "CROWD_SETTINGS", settings)
    return settings


@pytest.fixture
def stripe_provider(stripe_settings):
    """The Stripe provider (the real SDK) talking to the fake."""
    from payouts.providers.stripe_provider import StripeProvider

    return StripeProvider(stripe_settings.stripe_api_key, api_base=stripe_settings.stripe_api_base)
