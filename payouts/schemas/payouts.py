"""API contract for payout runs, payouts and monthly fees."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from crowd.core.fields import Amount, ReportedAmount
from crowd.core.pagination import PageArgsSchema, page_of
from crowd.core.patterns import Pattern
from payouts.models.payout_runs import MONTHLY_FEE_STATUSES, PAYOUT_STATUSES

CURRENCIES = ("EUR", "CHF")
PERIOD = Pattern(r"\d{4}-(0[1-9]|1[0-2])", error="must be a month YYYY-MM")
_ID = validate.Range(min=1, max=2**63 - 1)
FAILURE_REASON = (
    "Why it failed (the money is back in the balance); on a payout in transit, why the bank "
    "sent it back to the payout account, where it waits for the next bank payout"
)


# --- payouts --------------------------------------------------------------------------------


class PayoutSchema(ma.Schema):
    """Money sent to a member's connected account: pending → in_transit → paid | failed, or
    held (not sent, with the reason) → released (a later payout paid it out)."""

    id = ma.fields.Integer()
    run_id = ma.fields.Integer()
    member_id = ma.fields.Integer(allow_none=True)
    organisation_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "A provider company's payout: the company"}
    )
    amount = ReportedAmount(metadata={"description": "Minor units of currency"})
    currency = ma.fields.String()
    status = ma.fields.String(metadata={"description": ", ".join(PAYOUT_STATUSES)})
    hold_reason = ma.fields.String(allow_none=True)
    failure_reason = ma.fields.String(allow_none=True, metadata={"description": FAILURE_REASON})
    provider = ma.fields.String(allow_none=True)
    destination_account = ma.fields.String(allow_none=True)
    provider_transfer_id = ma.fields.String(allow_none=True)
    idempotency_key = ma.fields.String(
        metadata={"description": "The provider idempotency key of the transfer: payout-{id}"}
    )
    attempts = ma.fields.Integer(metadata={"description": "Transfer calls made so far"})
    last_error = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    sent_at = ma.fields.DateTime(allow_none=True)
    paid_at = ma.fields.DateTime(allow_none=True)
    failed_at = ma.fields.DateTime(allow_none=True)
    released_by_id = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "Released: the later payout that paid this held money out"},
    )
    released_at = ma.fields.DateTime(allow_none=True)


class MyPayoutSchema(ma.Schema):
    """One of your payouts and where it stands."""

    id = ma.fields.Integer()
    amount = ReportedAmount(metadata={"description": "Minor units of currency"})
    currency = ma.fields.String()
    status = ma.fields.String(metadata={"description": ", ".join(PAYOUT_STATUSES)})
    hold_reason = ma.fields.String(
        allow_none=True, metadata={"description": "Why it was not sent (held payouts)"}
    )
    failure_reason = ma.fields.String(allow_none=True, metadata={"description": FAILURE_REASON})
    created_at = ma.fields.DateTime()
    sent_at = ma.fields.DateTime(allow_none=True)
    paid_at = ma.fields.DateTime(allow_none=True)
    failed_at = ma.fields.DateTime(allow_none=True)
    released_by_id = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "Released: the later payout that paid this held money out"},
    )
    released_at = ma.fields.DateTime(allow_none=True)


class PayoutQueryArgsSchema(PageArgsSchema):
    status = ma.fields.String(validate=validate.OneOf(PAYOUT_STATUSES))


class PayoutListArgsSchema(PageArgsSchema):
    """?status=&run_id=&member_id=&from=&to=: payouts across runs (from and to are UTC days,
    both included)."""

    status = ma.fields.String(validate=validate.OneOf(PAYOUT_STATUSES))
    run_id = ma.fields.Integer(validate=_ID)
    member_id = ma.fields.Integer(validate=_ID)
    since = ma.fields.Date(data_key="from")
    until = ma.fields.Date(data_key="to")


class PayoutRunSchema(ma.Schema):
    """A payout run: requested → sending → completed (no payout of it pending any more)."""

    id = ma.fields.Integer()
    status = ma.fields.String()
    requested_by_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()
    started_at = ma.fields.DateTime(allow_none=True)
    finished_at = ma.fields.DateTime(allow_none=True)
    minimums = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ReportedAmount(),
        metadata={"description": "Smallest payout per currency used by the run, minor units"},
    )
    totals = ma.fields.Dict(
        metadata={
            "description": "Per currency as written: count and amount of payouts sent, "
            "held_count and held_amount of payouts held"
        }
    )


class PayoutStatusCountSchema(ma.Schema):
    currency = ma.fields.String()
    status = ma.fields.String()
    count = ma.fields.Integer()
    amount = ReportedAmount()


class PayoutRunDetailSchema(ma.Schema):
    run = ma.fields.Nested(PayoutRunSchema)
    by_status = ma.fields.List(
        ma.fields.Nested(PayoutStatusCountSchema),
        metadata={"description": "How the run's payouts stand now"},
    )
    payouts = ma.fields.Nested(page_of(PayoutSchema))


# --- monthly fees ---------------------------------------------------------------------------


class MonthlyFeeSchema(ma.Schema):
    """A flat-fee member's (or provider company's) fee for one month, billed once."""

    id = ma.fields.Integer()
    member_id = ma.fields.Integer(allow_none=True)
    organisation_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "A provider company's fee: the company"}
    )
    period = ma.fields.String(metadata={"example": "2025-03"})
    plan_id = ma.fields.Integer()
    amount = Amount(metadata={"description": "Minor units of currency"})
    currency = ma.fields.String()
    status = ma.fields.String(metadata={"description": ", ".join(MONTHLY_FEE_STATUSES)})
    charged_to = ma.fields.String(
        allow_none=True,
        metadata={"description": "payable (taken from earnings) or receivable (owed)"},
    )
    transaction_id = ma.fields.Integer(allow_none=True)
    attempts = ma.fields.Integer()
    last_error = ma.fields.String(allow_none=True)
    billed_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()


class MonthlyFeeQueryArgsSchema(PageArgsSchema):
    period = ma.fields.String(validate=PERIOD)
    status = ma.fields.String(validate=validate.OneOf(MONTHLY_FEE_STATUSES))
    member_id = ma.fields.Integer(validate=_ID)


class MonthlyFeeRunSchema(ma.Schema):
    period = ma.fields.String(
        validate=PERIOD,
        load_default=None,
        metadata={"description": "The month to bill, YYYY-MM (UTC); default: this month"},
    )


class MonthlyFeeRunQueuedSchema(ma.Schema):
    period = ma.fields.String()
    status = ma.fields.String(metadata={"description": "queued: the run starts after this reply"})
    task_id = ma.fields.Integer(metadata={"description": "The background message carrying it"})
