"""Stripe webhooks: the signature checked on the raw body, each event stored once, then dispatched.

Verification: the `Stripe-Signature` header (t=…,v1=…) must carry an HMAC-SHA256 of
"<t>.<raw body>" under STRIPE_WEBHOOK_SECRET, with t within 300 s of our clock either way (the
SDK's `WebhookSignature.verify_header` refuses older ones; we refuse later ones, which the SDK
lets through). A missing, wrong, stale or future signature is a 400 and nothing is stored; a
signed body that is not an event (or an event `created` after the tolerance) is a 422.
Without a configured secret the endpoint answers 503: an unsigned event is never trusted, not
even on the embedded default.

Processing happens in the request's unit of work: the event row and its effect commit
together, so a stored event is an applied (or deliberately ignored) one, and a duplicate
delivery — found by the unique event id — is acknowledged with 200 and changes nothing.
Handlers must be quick and touch only our database; slow work (provider calls, mails) they
`enqueue` in the same transaction. A handler that raises is rolled back to its savepoint, the
event is kept as `failed` and the `payouts.retry_webhook_events` task runs it again later.

Out-of-order delivery is the handlers' business: each checks the event against its object's
own history — the event's `created` against the time of the state it last applied, the
account the object belongs to, its amounts — and returns `Ignored(reason)` for a stale, foreign
or inconsistent one, which is kept on the event (see payouts.accounts, payouts.payout_run and
payouts.job_money.webhooks).

Handlers register with `@on_event("type", ...)`; the modules holding them are listed in
HANDLER_MODULES so they are loaded before the first dispatch. An event type without a handler
is stored as `ignored`.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import stripe
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crowd.core import jsonio
from crowd.core.background import task
from crowd.core.db import utcnow
from crowd.core.errors import ServiceUnavailable, Unprocessable
from crowd.core.i18n import _
from crowd.core.locking import ROW_LOCK
from crowd.extensions import db
from payouts.errors import WebhookSignatureInvalid
from payouts.models.payments import WebhookEvent

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Stripe-Signature"
TOLERANCE_SECONDS = 300
# An event dated this much before its object existed is still believed (Stripe's clock and
# ours); anything older is stale.
CLOCK_SKEW = timedelta(seconds=60)
# A failed event is tried this many times in all (Stripe itself gives up after 3 days).
MAX_ATTEMPTS = 10

# Modules whose @on_event handlers must be registered before events are dispatched.
HANDLER_MODULES = ("payouts.accounts", "payouts.payout_run", "payouts.job_money.webhooks")

# What the money flow listens to (configure the Stripe endpoint with these). Types without a
# handler yet are stored as `ignored`; the job money flow and payouts register theirs.
SUBSCRIBED_EVENT_TYPES = (
    "account.updated",
    "payment_intent.amount_capturable_updated",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "charge.refunded",
    "charge.dispute.created",
    "charge.dispute.closed",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
    "transfer.created",
    "transfer.reversed",
    "transfer.updated",
    "payout.paid",
    "payout.failed",
)


@dataclass(frozen=True)
class Ignored:
    """What a handler returns when the event changes nothing (stale, about an unknown object)."""

    reason: str


Handler = Callable[[WebhookEvent], Ignored | None]
HANDLERS: dict[str, Handler] = {}
_loaded = False


def on_event(*event_types: str) -> Callable[[Handler], Handler]:
    """Register a handler for these event types. One handler per type; it gets the stored
    WebhookEvent (use `event.data_object` and `event.created`) and returns None when it
    applied the event or `Ignored(reason)` when the event changes nothing."""

    def decorator(func: Handler) -> Handler:
        for event_type in event_types:
            if event_type in HANDLERS and HANDLERS[event_type] is not func:
                raise ValueError(f"a handler for {event_type!r} is already registered")
            HANDLERS[event_type] = func
        return func

    return decorator


def _load_handlers() -> None:
    global _loaded
    if not _loaded:
        for module in HANDLER_MODULES:
            importlib.import_module(module)
        _loaded = True


# --- verification ---------------------------------------------------------------------------


def _bad_signature(reason: str) -> WebhookSignatureInvalid:
    return WebhookSignatureInvalid(
        f"The webhook signature is not valid: {reason}",
        errors={"headers": {SIGNATURE_HEADER: [reason]}},
    )


def verify_event(payload: bytes, signature: str | None, secret: str) -> dict:
    """The event in `payload` if `signature` proves Stripe sent it within the tolerance."""
    if not signature:
        raise _bad_signature("missing")
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(text, signature, secret, TOLERANCE_SECONDS)
    except UnicodeDecodeError:
        raise _bad_signature("the body is not UTF-8") from None
    except stripe.SignatureVerificationError as error:
        raw = str(error.user_message or error)
        reason = "too old" if "tolerance" in raw else "does not match the body"
        if "Unable to extract" in raw or "No signatures found with expected scheme" in raw:
            reason = "malformed"
        raise _bad_signature(reason) from None
    if _signed_at(signature) > time.time() + TOLERANCE_SECONDS:
        # The SDK only refuses old timestamps; one from the future would stay valid for longer.
        raise _bad_signature("too far in the future")
    # Signed but not an event: Stripe never sends that; refuse it like any invalid body.
    try:
        event = jsonio.loads(text)
    except ValueError:
        raise Unprocessable(
            _("The body is not JSON."), errors={"json": {"_schema": ["not JSON"]}}
        ) from None
    problems = _event_problems(event)
    if problems:
        raise Unprocessable(_("The body is not a Stripe event."), errors={"json": problems})
    return event


def _signed_at(signature: str) -> int:
    """The header's t=…, read as the SDK reads it (verify_header found it an integer)."""
    items = [item.split("=", 2) for item in signature.split(",")]
    return int([item[1] for item in items if item[0] == "t"][0])


def _event_problems(event) -> dict:
    if not isinstance(event, dict):
        return {"_schema": ["expected an event object"]}
    problems = {}
    if not isinstance(event.get("id"), str) or not 0 < len(event["id"]) <= 255:
        problems["id"] = ["expected the event id"]
    if not isinstance(event.get("type"), str) or not 0 < len(event["type"]) <= 100:
        problems["type"] = ["expected the event type"]
    created = event.get("created")
    if isinstance(created, bool) or not isinstance(created, int) or created < 0:
        problems["created"] = ["expected a Unix time"]
    elif created > time.time() + TOLERANCE_SECONDS:
        # It would outrank every real event about its object for as long as it is "newest".
        problems["created"] = ["in the future"]
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        problems["data"] = ["expected data.object"]
    return problems


# --- intake ---------------------------------------------------------------------------------


def _find(event_id: str) -> WebhookEvent | None:
    return db.session.scalar(select(WebhookEvent).where(WebhookEvent.event_id == event_id))


def receive_stripe_event(*, payload: bytes, signature: str | None) -> tuple[WebhookEvent, bool]:
    """Verify, store and apply one delivery; returns the event and whether it was a duplicate."""
    secret = current_app.config["CROWD_SETTINGS"].stripe_webhook_secret
    if not secret:
        raise ServiceUnavailable(_("Stripe webhooks are not configured (STRIPE_WEBHOOK_SECRET)."))
    data = verify_event(payload, signature, secret)
    existing = _find(data["id"])
    if existing is not None:
        return existing, True
    account = data.get("account")
    event = WebhookEvent(
        event_id=data["id"],
        type=data["type"],
        created=datetime.fromtimestamp(data["created"], UTC),
        account=account if isinstance(account, str) else None,
        livemode=bool(data.get("livemode")),
        payload=data,
        status="received",
        attempts=0,
    )
    try:
        with db.session.begin_nested():
            db.session.add(event)
    except IntegrityError:
        # The same event, delivered twice at once: the other delivery stored (and applied) it.
        existing = _find(data["id"])
        if existing is None:
            raise
        return existing, True
    process_event(event)
    return event, False


def process_event(event: WebhookEvent) -> None:
    """Run the event's handler once more; the outcome is recorded on the event."""
    _load_handlers()
    event.attempts += 1
    handler = HANDLERS.get(event.type)
    if handler is None:
        _finish(event, "ignored", "no handler for this event type")
        return
    try:
        with db.session.begin_nested():
            outcome = handler(event)
    except Exception as error:  # kept and retried: one bad event must not block the others
        log.exception("webhook %s (%s) failed", event.event_id, event.type)
        event.status, event.note = "failed", f"{type(error).__name__}: {error}"[:2000]
        return
    if isinstance(outcome, Ignored):
        _finish(event, "ignored", outcome.reason)
    else:
        _finish(event, "processed", None)


def _finish(event: WebhookEvent, status: str, note: str | None) -> None:
    event.status, event.note, event.processed_at = status, note, utcnow()


@task("payouts.retry_webhook_events")
def retry_webhook_events(limit: int = 200) -> int:
    """Run failed events again, oldest first (periodic); returns how many were tried."""
    ids = list(
        db.session.scalars(
            select(WebhookEvent.id)
            .where(WebhookEvent.status == "failed", WebhookEvent.attempts < MAX_ATTEMPTS)
            .order_by(WebhookEvent.created, WebhookEvent.id)
            .limit(limit)
        )
    )
    for event_id in ids:
        event = db.session.get(
            WebhookEvent, event_id, with_for_update=ROW_LOCK, populate_existing=True
        )
        if event is not None and event.status == "failed":
            process_event(event)
    return len(ids)
