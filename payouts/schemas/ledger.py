"""API contract for reading the ledger: accounts, transactions with entries, balances."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from crowd.core.fields import ReportedAmount
from crowd.core.pagination import PageArgsSchema

CURRENCIES = ("EUR", "CHF")


class AccountSchema(ma.Schema):
    """A ledger account; balance in its normal direction (what a payable owes, say)."""

    id = ma.fields.Integer()
    code = ma.fields.String(metadata={"example": "member:7:payable"})
    currency = ma.fields.String()
    kind = ma.fields.String(metadata={"description": "asset, liability, revenue or expense"})
    member_id = ma.fields.Integer(allow_none=True)
    balance = ma.fields.Integer(metadata={"description": "Minor units, normal direction"})
    allow_negative = ma.fields.Boolean()
    created_at = ma.fields.DateTime()


class AccountQueryArgsSchema(PageArgsSchema):
    prefix = ma.fields.String(
        validate=validate.Length(min=1, max=120),
        metadata={"description": "Codes starting with this, e.g. member: or platform:"},
    )
    currency = ma.fields.String(validate=validate.OneOf(CURRENCIES))


class EntrySchema(ma.Schema):
    account = ma.fields.Function(lambda entry: entry.account.code)
    amount = ReportedAmount(metadata={"description": "> 0 debit, < 0 credit, minor units"})


class TransactionSchema(ma.Schema):
    """An immutable posting; reverses_id names the transaction it undoes."""

    id = ma.fields.Integer()
    key = ma.fields.String()
    kind = ma.fields.String()
    currency = ma.fields.String()
    memo = ma.fields.String()
    job_id = ma.fields.Integer(allow_none=True)
    member_id = ma.fields.Integer(allow_none=True)
    reverses_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()
    entries = ma.fields.List(ma.fields.Nested(EntrySchema))


class TransactionQueryArgsSchema(PageArgsSchema):
    account = ma.fields.String(
        validate=validate.Length(min=1, max=120),
        metadata={"description": "Only transactions with an entry on this account code"},
    )
    currency = ma.fields.String(validate=validate.OneOf(CURRENCIES))
    job_id = ma.fields.Integer(validate=validate.Range(min=1, max=2**63 - 1))
    member_id = ma.fields.Integer(validate=validate.Range(min=1, max=2**63 - 1))
    kind = ma.fields.String(validate=validate.Length(min=1, max=40))


class BalanceSchema(ma.Schema):
    currency = ma.fields.String()
    payable = ma.fields.Integer(
        metadata={"description": "What the platform owes you, minor units (never negative)"}
    )


class MemberBalanceSchema(ma.Schema):
    member_id = ma.fields.Integer()
    balances = ma.fields.List(ma.fields.Nested(BalanceSchema))
