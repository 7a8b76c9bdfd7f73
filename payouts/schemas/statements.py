"""API contract for members' statements and the platform's revenue report."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

CURRENCIES = ("EUR", "CHF")
FORMATS = ("json", "csv")


class _PeriodArgsSchema(ma.Schema):
    date_from = ma.fields.Date(
        data_key="from",
        load_default=None,
        metadata={"description": "First day, YYYY-MM-DD (UTC); default: the 1st of this month"},
    )
    date_to = ma.fields.Date(
        data_key="to",
        load_default=None,
        metadata={"description": "Last day, inclusive, YYYY-MM-DD (UTC); default: today"},
    )
    format = ma.fields.String(
        validate=validate.OneOf(FORMATS),
        load_default=None,
        metadata={"description": "csv for text/csv (as does Accept: text/csv)"},
    )


class StatementQueryArgsSchema(_PeriodArgsSchema):
    currency = ma.fields.String(validate=validate.OneOf(CURRENCIES), load_default=None)


class StatementTotalsSchema(ma.Schema):
    """One currency of a statement, minor units; net = gross − commission − fees − refunds +
    adjustments."""

    currency = ma.fields.String()
    gross = ma.fields.Integer(
        metadata={"description": "Prices of your jobs settled and late-cancellation fees"}
    )
    cancellation_fees = ma.fields.Integer(
        metadata={"description": "Late-cancellation fees in gross (your share and commission)"}
    )
    commission = ma.fields.Integer(metadata={"description": "The platform's share of them"})
    fees = ma.fields.Integer(metadata={"description": "Monthly and cancellation fees charged"})
    refunds = ma.fields.Integer(metadata={"description": "Earnings given back by refunds"})
    adjustments = ma.fields.Integer(metadata={"description": "Corrections and other credits"})
    net = ma.fields.Integer(metadata={"description": "Change of what you are owed, payouts aside"})
    paid_out = ma.fields.Integer(metadata={"description": "Sent to you, less payouts returned"})
    pending = ma.fields.Integer(metadata={"description": "Earned and not paid out yet (now)"})
    owed = ma.fields.Integer(metadata={"description": "What you owe the platform (now)"})
    transactions = ma.fields.Integer()


class StatementSchema(ma.Schema):
    member_id = ma.fields.Integer()
    date_from = ma.fields.Date(data_key="from")
    date_to = ma.fields.Date(data_key="to")
    currencies = ma.fields.List(ma.fields.Nested(StatementTotalsSchema))


class RevenueQueryArgsSchema(_PeriodArgsSchema):
    pass


class RevenueRowSchema(ma.Schema):
    """The platform's revenue in one currency and month, minor units."""

    month = ma.fields.String(metadata={"example": "2025-03"})
    currency = ma.fields.String()
    commission = ma.fields.Integer()
    fees = ma.fields.Integer()
    refunds = ma.fields.Integer()
    costs = ma.fields.Integer(metadata={"description": "Provider fees, goodwill, disputes lost"})
    net = ma.fields.Integer(metadata={"description": "commission + fees − refunds − costs"})


class RevenueReportSchema(ma.Schema):
    date_from = ma.fields.Date(data_key="from")
    date_to = ma.fields.Date(data_key="to")
    rows = ma.fields.List(ma.fields.Nested(RevenueRowSchema))
