"""API contract for members' statements and the platform's revenue report."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from crowd.core.fields import ReportedAmount

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
    gross = ReportedAmount(
        metadata={"description": "Prices of your jobs settled and late-cancellation fees"}
    )
    cancellation_fees = ReportedAmount(
        metadata={"description": "Late-cancellation fees in gross (your share and commission)"}
    )
    commission = ReportedAmount(metadata={"description": "The platform's share of them"})
    fees = ReportedAmount(metadata={"description": "Monthly and cancellation fees charged"})
    refunds = ReportedAmount(metadata={"description": "Earnings given back by refunds"})
    adjustments = ReportedAmount(metadata={"description": "Corrections and other credits"})
    net = ReportedAmount(metadata={"description": "Change of what you are owed, payouts aside"})
    paid_out = ReportedAmount(metadata={"description": "Sent to you, less payouts returned"})
    pending = ReportedAmount(metadata={"description": "Earned and not paid out yet (now)"})
    owed = ReportedAmount(metadata={"description": "What you owe the platform (now)"})
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
    commission = ReportedAmount()
    fees = ReportedAmount()
    refunds = ReportedAmount()
    costs = ReportedAmount(metadata={"description": "Provider fees, goodwill, disputes lost"})
    net = ReportedAmount(metadata={"description": "commission + fees − refunds − costs"})


class RevenueReportSchema(ma.Schema):
    date_from = ma.fields.Date(data_key="from")
    date_to = ma.fields.Date(data_key="to")
    rows = ma.fields.List(ma.fields.Nested(RevenueRowSchema))


class OrganisationStatementQueryArgsSchema(ma.Schema):
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


class OrganisationJobLineSchema(ma.Schema):
    """One job of the company in the period; net = earning − refunds."""

    job_id = ma.fields.Integer()
    title = ma.fields.String()
    date = ma.fields.DateTime(
        allow_none=True, metadata={"description": "When the job's payment settled"}
    )
    currency = ma.fields.String()
    price = ReportedAmount(metadata={"description": "What the customer paid for the job"})
    commission = ReportedAmount(metadata={"description": "The platform's share (company plan)"})
    earning = ReportedAmount(metadata={"description": "The company's share"})
    refunds = ReportedAmount(metadata={"description": "Earnings given back (refunds, losses)"})
    net = ReportedAmount()


class OrganisationTechnicianSchema(ma.Schema):
    member_id = ma.fields.Integer(allow_none=True)
    display_name = ma.fields.String(allow_none=True)
    jobs = ma.fields.List(ma.fields.Nested(OrganisationJobLineSchema))


class OrganisationTotalsSchema(ma.Schema):
    currency = ma.fields.String()
    jobs = ma.fields.Integer()
    price = ReportedAmount()
    commission = ReportedAmount()
    earning = ReportedAmount()
    refunds = ReportedAmount()
    net = ReportedAmount()
    paid_out = ReportedAmount(metadata={"description": "Sent to the company, less returns"})
    pending = ReportedAmount(metadata={"description": "The company's payable now"})


class OrganisationPayoutLineSchema(ma.Schema):
    id = ma.fields.Integer()
    amount = ReportedAmount()
    currency = ma.fields.String()
    status = ma.fields.String()
    hold_reason = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    paid_at = ma.fields.DateTime(allow_none=True)


class OrganisationStatementSchema(ma.Schema):
    organisation_id = ma.fields.Integer()
    legal_name = ma.fields.String()
    date_from = ma.fields.Date(data_key="from")
    date_to = ma.fields.Date(data_key="to")
    technicians = ma.fields.List(ma.fields.Nested(OrganisationTechnicianSchema))
    totals = ma.fields.List(ma.fields.Nested(OrganisationTotalsSchema))
    payouts = ma.fields.List(ma.fields.Nested(OrganisationPayoutLineSchema))
