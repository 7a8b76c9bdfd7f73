"""Provider events about a job's payment are checked against the payment's own history (issue
16): foreign, stale and inconsistent ones change nothing, and any order of an intent's events
ends as they do in time order."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from crowd.core.db import commit
from crowd.extensions import db
from payouts.job_money.payments import LAPSED
from payouts.models import JobPayment, WebhookEvent
from tests.payouts.job_money_helpers import (
    assigned_job,
    confirmed_job,
    payment,
    refunds,
    transactions,
)
from tests.stripe_fake import post_event, stripe_event

pytestmark = pytest.mark.usefixtures("stripe_settings", "ledger_sound")

DAY = 86_400
PRICE = 12000  # the jobs' price (job_money_helpers.post_job)
STATUS = {
    "capturable": "requires_capture",
    "succeeded": "succeeded",
    "failed": "requires_payment_method",
    "canceled": "canceled",
}
TYPE = {
    "capturable": "payment_intent.amount_capturable_updated",
    "succeeded": "payment_intent.succeeded",
    "failed": "payment_intent.payment_failed",
    "canceled": "payment_intent.canceled",
}


def intent_event(
    kind: str,
    job_id: int,
    *,
    created: int,
    amount: int = PRICE,
    currency: str = "eur",
    account=None,
    code: str = "card_declined",
) -> dict:
    intent = {
        "id": payment(job_id).provider_payment_id,
        "object": "payment_intent",
        "amount": PRICE,
        "currency": currency,
        "capture_method": "manual",
        "status": STATUS[kind],
        "metadata": {"job_id": str(job_id)},
    }
    if kind == "capturable":
        intent["amount_capturable"] = amount
    elif kind == "succeeded":
        intent["amount_received"] = amount
    elif kind == "failed":
        intent["last_payment_error"] = {"code": code, "message": "Declined."}
    return stripe_event(TYPE[kind], intent, created=created, account=account)


def deliver(client, event: dict) -> str:
    response = post_event(client, event)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["status"]


def note_of(event: dict) -> str:
    return db.session.scalar(select(WebhookEvent.note).where(WebhookEvent.event_id == event["id"]))


def waiting_for_the_customer(job_ids: list[int], created: datetime | None = None) -> None:
    """The jobs' payments as after a 3-D Secure request (made at `created`)."""
    values = {"status": "requires_action", "amount_authorized": 0}
    if created is not None:
        values["created_at"] = created
    db.session.execute(update(JobPayment).where(JobPayment.job_id.in_(job_ids)).values(**values))
    commit()


def state(job_id: int) -> tuple:
    row = payment(job_id)
    return row.status, row.amount_authorized, row.amount_captured, row.failure_code


# --- what does not fit ----------------------------------------------------------------------


def test_an_intent_event_of_a_connected_account_is_foreign(app, client, customer, cm):
    job_id, _ = assigned_job(app, client, customer, cm)
    waiting_for_the_customer([job_id])
    event = intent_event("capturable", job_id, created=int(time.time()), account="acct_other")
    assert deliver(client, event) == "ignored"
    assert note_of(event) == "foreign: an event of connected account acct_other, not ours"
    assert payment(job_id).status == "requires_action"


def test_an_intent_event_dated_before_the_payment_existed_is_stale(app, client, customer, cm):
    job_id, _ = assigned_job(app, client, customer, cm)
    waiting_for_the_customer([job_id])
    created = int(payment(job_id).created_at.timestamp()) - DAY
    event = intent_event("capturable", job_id, created=created)
    assert deliver(client, event) == "ignored"
    assert note_of(event).startswith("stale: dated ")
    assert payment(job_id).status == "requires_action"


def test_a_hold_cancelled_later_is_not_authorised_by_an_older_event(app, client, customer, cm):
    # Before: the lapsed payment counted as unauthorised, so the older event authorised it.
    job_id, _ = assigned_job(app, client, customer, cm)
    now = int(time.time())
    assert deliver(client, intent_event("canceled", job_id, created=now)) == "processed"
    older = intent_event("capturable", job_id, created=now - 60)
    assert deliver(client, older) == "ignored"
    assert note_of(older).startswith("stale: older than the intent's state applied at ")
    assert state(job_id) == ("failed", 0, 0, LAPSED)


@pytest.mark.parametrize(
    ("kind", "fields", "note"),
    [
        ("capturable", {"amount": PRICE + 1}, "inconsistent: amount_capturable 12001"),
        ("succeeded", {"amount": PRICE + 1}, "inconsistent: amount_received 12001"),
        ("succeeded", {"amount": 0}, "inconsistent: amount_received 0"),
        ("succeeded", {"currency": "chf"}, "inconsistent: CHF, the payment is in EUR"),
        ("failed", {"currency": "usd"}, "inconsistent: USD, the payment is in EUR"),
    ],
)
def test_an_intent_event_with_other_money_is_inconsistent(
    app, client, customer, cm, kind, fields, note
):
    job_id, _ = assigned_job(app, client, customer, cm)
    waiting_for_the_customer([job_id])
    event = intent_event(kind, job_id, created=int(time.time()), **fields)
    assert deliver(client, event) == "ignored"
    assert note_of(event) == note + (" is not between 1 and 12000" if "amount_" in note else "")
    assert state(job_id) == ("requires_action", 0, 0, None)


def charge(job_id: int, **fields) -> dict:
    return {
        "id": f"ch_job{job_id}",
        "object": "charge",
        "payment_intent": payment(job_id).provider_payment_id,
        "amount": PRICE,
        "amount_captured": PRICE,
        "currency": "eur",
        **fields,
    }


def a_refund(refund_id: str, amount: int, currency: str = "eur") -> dict:
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "currency": currency,
        "status": "succeeded",
        "metadata": {},
    }


@pytest.mark.parametrize(
    ("fields", "note"),
    [
        (
            {"amount_refunded": PRICE + 1, "refunds": {"data": [a_refund("re_1", PRICE + 1)]}},
            "inconsistent: amount_refunded 12001 is not between 1 and 12000",
        ),
        (
            {"refunds": {"data": [a_refund("re_1", 8000), a_refund("re_2", 8000)]}},
            "inconsistent: new refunds of 16000 exceed the 12000 left",
        ),
        (
            {"refunds": {"data": [a_refund("re_1", 2000, "chf")]}},
            "inconsistent: refund re_1 is not in EUR",
        ),
        ({"currency": "chf", "amount_refunded": 2000}, "inconsistent: CHF, the payment is in EUR"),
        ({"amount_refunded": 2000}, None),
    ],
)
def test_refunds_that_do_not_fit_the_capture_change_nothing(
    app, client, customer, cm, fields, note
):
    job_id, _ = confirmed_job(app, client, customer, cm)
    event = stripe_event("charge.refunded", charge(job_id, **fields), account=None)
    if note is None:  # the control: a refund that fits is posted
        assert deliver(client, event) == "processed"
        assert [r.amount for r in refunds(job_id)] == [2000]
        return
    assert deliver(client, event) == "ignored"
    assert note_of(event) == note
    assert refunds(job_id) == []
    assert [t.kind for t in transactions(job_id)] == ["job_settlement"]


def dispute(job_id: int, dispute_id: str, status: str, amount: int = PRICE) -> dict:
    return {
        "id": dispute_id,
        "object": "dispute",
        "charge": f"ch_job{job_id}",
        "payment_intent": payment(job_id).provider_payment_id,
        "amount": amount,
        "currency": "eur",
        "reason": "fraudulent",
        "status": status,
    }


def test_a_second_dispute_id_or_a_dispute_beyond_the_capture_changes_nothing(
    app, client, customer, cm
):
    job_id, _ = confirmed_job(app, client, customer, cm)
    too_much = stripe_event("charge.dispute.closed", dispute(job_id, "dp_1", "lost", PRICE + 1))
    assert deliver(client, too_much) == "ignored"
    assert note_of(too_much) == "inconsistent: dispute amount 12001 is not between 1 and 12000"
    assert payment(job_id).dispute_id is None

    won = stripe_event("charge.dispute.closed", dispute(job_id, "dp_1", "won"))
    assert deliver(client, won) == "processed"
    other = stripe_event("charge.dispute.closed", dispute(job_id, "dp_2", "lost"))
    assert deliver(client, other) == "ignored"
    assert note_of(other) == "inconsistent: the payment's dispute is dp_1"
    assert (payment(job_id).dispute_id, payment(job_id).dispute_status) == ("dp_1", "won")
    assert [t.kind for t in transactions(job_id)] == ["job_settlement"]


# --- the property ---------------------------------------------------------------------------

# An intent's history as Stripe makes it: declines, then maybe a hold, then maybe its end.
history = st.tuples(
    st.integers(0, 2),
    st.booleans(),
    st.sampled_from((None, "succeeded", "canceled")),
    st.lists(st.integers(1, 5000), min_size=4, max_size=4, unique=True),
)
# What does not fit: (kind, how): back-dated, from a connected account, in another currency,
# more than the price.
noise = st.lists(
    st.tuples(
        st.sampled_from(tuple(STATUS)),
        st.sampled_from(("backdated", "foreign", "currency", "too_much")),
        st.integers(1, 6000),
    ),
    max_size=3,
)


def timeline(spec) -> list[tuple[str, int, str]]:
    """The history's events in time order: (kind, offset, decline code)."""
    declines, held, end, offsets = spec
    kinds = ["failed"] * declines + (["capturable"] if held else []) + ([end] if end else [])
    at = sorted(offsets)[: len(kinds)]
    return [(k, t, f"decline_{n}") for n, (k, t) in enumerate(zip(kinds, at, strict=True))]


def expected(spec) -> tuple:
    """(status, authorised, captured, failure code) after the history's last event."""
    events = timeline(spec)
    if not events:
        return ("requires_action", 0, 0, None)
    kind, _, code = events[-1]
    return {
        "failed": ("failed", 0, 0, code),
        "capturable": ("authorized", PRICE, 0, None),
        "succeeded": ("captured", PRICE, PRICE, None),
        "canceled": ("failed", 0, 0, LAPSED),
    }[kind]


def make(kind, job_id, base, offset, code="card_declined", how=None) -> dict:
    if how == "backdated":
        return intent_event(kind, job_id, created=base - DAY, code=code)
    extra = {
        "foreign": {"account": "acct_member"},
        "currency": {"currency": "chf"},
        "too_much": {
            "amount": PRICE + 1,
            "currency": "eur" if kind in ("capturable", "succeeded") else "usd",
        },
    }.get(how, {})
    return intent_event(kind, job_id, created=base + offset, code=code, **extra)


@settings(
    max_examples=12,
    derandomize=True,
    deadline=None,
    database=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=history, extra=noise, keys=st.lists(st.integers(0, 30), min_size=12, max_size=12))
# A decline, the hold, its cancellation, delivered newest first; two declines in reverse.
@example((1, True, "canceled", [10, 20, 30, 40]), [], list(range(12, 0, -1)))
@example((2, False, None, [10, 20, 30, 40]), [], list(range(12, 0, -1)))
@example((0, True, "succeeded", [10, 20, 30, 40]), [("capturable", "backdated", 1)], [0] * 12)
# What does not fit, newer than the history: from a member's account, more than the price.
@example((1, False, None, [10, 20, 30, 40]), [("succeeded", "foreign", 99)], [0] * 12)
@example((1, True, None, [10, 20, 30, 40]), [("succeeded", "too_much", 99)], [0] * 12)
def test_any_order_of_an_intents_events_ends_as_in_time_order(
    app, client, customer, cm, spec, extra, keys
):
    in_order, _ = assigned_job(app, client, customer, cm)
    shuffled, _ = assigned_job(app, client, customer, cm)
    base = int(time.time()) - 3 * DAY
    waiting_for_the_customer([in_order, shuffled], datetime.fromtimestamp(base, UTC))

    def events_of(job_id: int) -> list[tuple[int, dict]]:
        made = [(t, make(k, job_id, base, t, code)) for k, t, code in timeline(spec)]
        made += [(t, make(k, job_id, base, t, how=how)) for k, how, t in extra]
        return made

    for _, event in sorted(events_of(in_order), key=lambda e: e[0]):
        deliver(client, event)
    deliveries = [event for _, event in events_of(shuffled)]
    deliveries += deliveries[:2] + [event for _, event in events_of(shuffled)][:2]
    for n in sorted(range(len(deliveries)), key=lambda n: (keys[n % 12], n)):
        deliver(client, deliveries[n])

    assert state(in_order) == state(shuffled) == expected(spec)
    # Nothing is posted before the job is confirmed, whatever the events said.
    assert transactions(in_order) == transactions(shuffled) == []
