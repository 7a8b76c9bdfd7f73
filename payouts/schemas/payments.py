"""API contract for job payments: customers' payment methods, a job's payment, refunds."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from crowd.core.fields import Amount, ReportedAmount, Trimmed
from crowd.core.patterns import Pattern


class PaymentMethodSetSchema(ma.Schema):
    """The payment method the customer's client created at the provider (e.g. Stripe.js)."""

    payment_method = ma.fields.String(
        required=True,
        validate=Pattern(r"pm_[A-Za-z0-9_]{1,250}", error="must be a payment method id: pm_…"),
        metadata={"example": "pm_card_visa"},
    )
    customer_ref = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=Pattern(r"cus_[A-Za-z0-9_]{1,250}", error="must be a provider customer id: cus_…"),
        metadata={"description": "The provider Customer the method is attached to, if any"},
    )


class PaymentMethodSchema(ma.Schema):
    payment_method = ma.fields.String()
    customer_ref = ma.fields.String(attribute="provider_customer_ref", allow_none=True)
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


class RefundCreateSchema(ma.Schema):
    amount = Amount(
        required=True,
        minimum=1,
        metadata={"description": "Minor units; at most what is captured and not yet refunded"},
    )
    reason = Trimmed(required=True, validate=validate.Length(min=1, max=500))


class RefundSchema(ma.Schema):
    """A refund; customers see amount, status, reason and times, staff everything."""

    id = ma.fields.Integer()
    job_id = ma.fields.Integer()
    amount = Amount()
    currency = ma.fields.String()
    status = ma.fields.String(metadata={"description": "pending, succeeded or failed"})
    reason = ma.fields.String()
    source = ma.fields.String(metadata={"description": "api, or provider (made outside)"})
    key = ma.fields.String(metadata={"description": "Provider idempotency key and ledger key"})
    provider_refund_id = ma.fields.String(allow_none=True)
    ledger_transaction_id = ma.fields.Integer(allow_none=True)
    commission_part = ma.fields.Integer(
        allow_none=True, metadata={"description": "What the platform gave back of its share"}
    )
    member_part = Amount(
        allow_none=True, metadata={"description": "What came off the member's earning"}
    )
    member_receivable = Amount(
        allow_none=True,
        metadata={"description": "Part of member_part already paid out: the member owes it"},
    )
    last_error = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    refunded_at = ma.fields.DateTime(allow_none=True)


class DisputeSchema(ma.Schema):
    id = ma.fields.String()
    status = ma.fields.String()
    reason = ma.fields.String(allow_none=True)
    amount = ReportedAmount(allow_none=True)
    open = ma.fields.Boolean()
    created_at = ma.fields.DateTime(allow_none=True)
    closed_at = ma.fields.DateTime(allow_none=True)


class CommissionViewSchema(ma.Schema):
    """The commission on a job and why (member and staff)."""

    estimate = ma.fields.Boolean(
        metadata={
            "description": "true: not settled yet, what the member's plan would take if the job "
            "were confirmed now; false: as booked when the payment settled"
        }
    )
    amount = Amount(metadata={"description": "The platform's commission"})
    member_earning = Amount()
    price = Amount()
    plan_code = ma.fields.String(allow_none=True)
    plan_name = ma.fields.String(allow_none=True)
    rule = ma.fields.String(
        allow_none=True,
        metadata={"description": "percentage, fixed_fee or standard_percentage_other_currency"},
    )
    percent_bp = ma.fields.Integer(
        allow_none=True, metadata={"description": "The rate applied, in basis points"}
    )
    discount_bp = ma.fields.Integer(metadata={"description": "A perk's discount, basis points"})
    fixed_fee = Amount(allow_none=True)
    plan_since = ma.fields.String(allow_none=True)
    plan_cause = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "standard, chosen, assigned, promotion, demotion, admission, "
            "level_rules, or company (a job done for a provider company follows the "
            "company's plan): how the member came to be on the plan"
        },
    )
    why = ma.fields.String(metadata={"description": "The same, as one sentence for the member"})


# Each state of a job's payment, as the OpenAPI document describes it.
PAYMENT_STATES = {
    "pending": "being authorised (no offer goes out yet)",
    "requires_payment_method": "no payment method on file: save one to have the job offered",
    "requires_action": "the bank asks the customer to authenticate (3-D Secure / SCA): "
    "next_action says how; the job waits until it is done",
    "authorized": "the price is held on the card (manual capture); offers go out",
    "invoiced": "the customer pays on invoice by agreement: no authorisation; the price is "
    "booked as their receivable on confirmation, due after their payment terms",
    "captured": "the price was taken on confirmation and split",
    "partially_refunded": "part of the captured price was refunded",
    "refunded": "all of the captured price was refunded",
    "failed": "the authorisation was declined, its authentication failed, or the hold lapsed "
    "(failure_code authorization_lapsed: authorised again at once); dispatch is paused and "
    "the customer told",
    "cancelled": "the job was cancelled and the hold released",
}


class NextActionSchema(ma.Schema):
    """What the customer's client does to authenticate a payment in requires_action."""

    type = ma.fields.String(
        metadata={
            "description": "use_stripe_sdk or redirect_to_url: stripe.handleNextAction with the "
            "client secret; confirm_payment: stripe.confirmPayment with it (the bank declined "
            "the off-session attempt with authentication_required)"
        }
    )
    client_secret = ma.fields.String(
        metadata={"description": "The payment intent's client secret: the job's customer only"}
    )


class JobPaymentSchema(ma.Schema):
    """A job's payment. The assigned member sees job_id, status, currency and their earning;
    the customer what they pay and get back; staff all of it."""

    job_id = ma.fields.Integer()
    status = ma.fields.String(
        validate=validate.OneOf(list(PAYMENT_STATES)),
        metadata={
            "description": "The payment's state (offers go out only in authorized or "
            "invoiced): "
            + "; ".join(f"{state}: {meaning}" for state, meaning in PAYMENT_STATES.items())
        },
    )
    currency = ma.fields.String()
    price_amount = Amount()
    amount_authorized = Amount()
    amount_captured = Amount()
    amount_refunded = Amount()
    payment_method_on_file = ma.fields.Boolean()
    failure_code = ma.fields.String(allow_none=True)
    last_error = ma.fields.String(allow_none=True)
    authorized_at = ma.fields.DateTime(allow_none=True)
    captured_at = ma.fields.DateTime(allow_none=True)
    refunds = ma.fields.List(ma.fields.Nested(RefundSchema))
    authorization_expires_at = ma.fields.DateTime(
        allow_none=True,
        metadata={"description": "When the hold lapses; renewed before if the job needs it"},
    )
    invoice_due_at = ma.fields.DateTime(
        allow_none=True, metadata={"description": "invoiced: when the booked price falls due"}
    )
    next_action = ma.fields.Nested(NextActionSchema, allow_none=True)
    superseded_payment_id = ma.fields.String(allow_none=True)
    member_earning = Amount(
        allow_none=True, metadata={"description": "The member's earning, once settled"}
    )
    commission = ma.fields.Nested(
        CommissionViewSchema,
        allow_none=True,
        metadata={"description": "The assigned member and staff: the commission and why"},
    )
    # staff only
    member_id = ma.fields.Integer(allow_none=True)
    provider = ma.fields.String(allow_none=True)
    provider_payment_id = ma.fields.String(allow_none=True)
    transfer_group = ma.fields.String()
    authorize_attempt = ma.fields.Integer()
    settlement_kind = ma.fields.String(
        allow_none=True, metadata={"description": "job, or cancellation_fee"}
    )
    commission_amount = Amount(allow_none=True)
    plan_code = ma.fields.String(allow_none=True)
    settlement_transaction_id = ma.fields.Integer(allow_none=True)
    dispute = ma.fields.Nested(DisputeSchema, allow_none=True)
