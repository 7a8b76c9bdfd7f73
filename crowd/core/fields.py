"""Marshmallow fields every API schema shares: amounts in minor units, ids, trimmed strings.

Every amount a caller sends is an `Amount`: a whole number of minor units (cents, Rappen)
between its minimum and at most MAX_AMOUNT_MINOR, documented in the OpenAPI as `minimum` and
`maximum`. A domain may cap lower (a job's price, a plan's fee), never higher. Amounts the
API reports but never takes — sums and balances (statements, totals, ledger entries, payouts),
amounts from settings or the payment provider — are `ReportedAmount`: same unit, no bounds.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

# 1,000,000.00 in EUR and CHF (both 2 decimals): ten times the dearest job (jobs cap prices at
# 100,000.00), a hundred million times below where 64-bit sums of amounts could overflow.
MAX_AMOUNT_MINOR = 100_000_000
UNIT = "minor units (cents, Rappen) of the currency"


# Ids are BIGINTs: a larger number names nothing (422 naming the parameter, not a driver error).
MAX_ID = 2**63 - 1


def id_range() -> validate.Range:
    """The range of an id a caller passes (path ids are bounded by the URL converter)."""
    return validate.Range(min=1, max=MAX_ID)


class Amount(ma.fields.Integer):
    """An amount of money in minor units: a strict integer in [minimum, maximum]."""

    def __init__(
        self,
        *,
        minimum: int = 0,
        maximum: int = MAX_AMOUNT_MINOR,
        validate: Any = None,
        **kwargs: Any,
    ) -> None:
        if maximum > MAX_AMOUNT_MINOR:
            raise ValueError(f"an amount's maximum is at most {MAX_AMOUNT_MINOR}")
        extra = [] if validate is None else validate if isinstance(validate, list) else [validate]
        kwargs.setdefault("strict", True)
        super().__init__(validate=[_range(minimum, maximum), *extra], **kwargs)


class ReportedAmount(ma.fields.Integer):
    """An amount in minor units the API reports but never takes: may be negative, no maximum."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("strict", True)
        super().__init__(**kwargs)


def _range(minimum: int, maximum: int) -> validate.Range:
    return validate.Range(
        min=minimum,
        max=maximum,
    )


def within_documented_length(field: ma.fields.Field | None, raw: str) -> bool:
    """Whether `raw`, as sent, respects the maximum length the field documents (maxLength)."""
    validators = field.validators if field is not None else ()
    return not any(
        isinstance(v, validate.Length) and v.max is not None and len(raw) > v.max
        for v in validators
    )


class Trimmed(ma.fields.String):
    """A string with surrounding whitespace removed before it is validated.

    The documented maximum length holds for the value as sent: a longer one is refused even
    when trimming would bring it under (clients validate against the spec's maxLength).
    """

    def _deserialize(self, value, attr, data, **kwargs):
        raw = super()._deserialize(value, attr, data, **kwargs)
        return raw.strip() if within_documented_length(self, raw) else raw
