"""API contract for commission plans, members' plan assignments, perks and commissions."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from crowd.core.fields import Amount, Trimmed
from crowd.core.patterns import Pattern
from payouts.models.plans import PLAN_KINDS

CURRENCIES = ("EUR", "CHF")
# Fees of device work: far above any real monthly or per-job fee (below MAX_AMOUNT_MINOR).
MAX_FEE_AMOUNT = 10_000_000


def _basis_points() -> ma.fields.Integer:
    return ma.fields.Integer(
        strict=True,
        validate=validate.Range(0, 10_000),
        metadata={"description": "Commission per job in basis points of the price: 2000 = 20 %"},
    )


def _fee(description: str) -> Amount:
    return Amount(minimum=1, maximum=MAX_FEE_AMOUNT, metadata={"description": description})


class PlanSchema(ma.Schema):
    """A commission plan: a percentage per job, a monthly flat fee, or a fixed fee per job."""

    code = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String(metadata={"description": "percentage, flat_fee or fixed_fee"})
    percent_bp = ma.fields.Integer(metadata={"description": "Commission per job, basis points"})
    monthly_fee_amount = Amount(
        allow_none=True, metadata={"description": "flat_fee: minor units of fee_currency"}
    )
    fixed_fee_amount = Amount(
        allow_none=True, metadata={"description": "fixed_fee: per job, minor units of fee_currency"}
    )
    fee_currency = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean()
    created_at = ma.fields.DateTime(allow_none=True)


class PlanCreateSchema(ma.Schema):
    """A new plan. percentage needs percent_bp; flat_fee needs monthly_fee_amount and
    fee_currency (percent_bp optional, default 0); fixed_fee needs fixed_fee_amount and
    fee_currency."""

    code = ma.fields.String(
        required=True,
        validate=Pattern(r"[a-z0-9][a-z0-9_-]{0,39}", error="1-40 of a-z 0-9 _ -"),
        metadata={"example": "flat29"},
    )
    name = Trimmed(required=True, validate=validate.Length(min=1, max=120))
    kind = ma.fields.String(required=True, validate=validate.OneOf(PLAN_KINDS))
    percent_bp = _basis_points()
    monthly_fee_amount = _fee("flat_fee: the monthly fee in minor units of fee_currency")
    fixed_fee_amount = _fee("fixed_fee: the fee per job in minor units of fee_currency")
    fee_currency = ma.fields.String(validate=validate.OneOf(CURRENCIES))


class PlanUpdateSchema(ma.Schema):
    """Rename or (de)activate a plan; amounts only while no member depends on it (else 409)."""

    name = Trimmed(validate=validate.Length(min=1, max=120))
    active = ma.fields.Boolean(
        metadata={"description": "false: no new assignments; current ones continue"}
    )
    kind = ma.fields.String(validate=validate.OneOf(PLAN_KINDS))
    percent_bp = _basis_points()
    monthly_fee_amount = _fee("flat_fee: the monthly fee in minor units of fee_currency")
    fixed_fee_amount = _fee("fixed_fee: the fee per job in minor units of fee_currency")
    fee_currency = ma.fields.String(validate=validate.OneOf(CURRENCIES))


class PlanQueryArgsSchema(ma.Schema):
    active = ma.fields.Boolean(metadata={"description": "Only active (true) or inactive plans"})


class PlanAssignSchema(ma.Schema):
    """Put the member on a plan from effective_from (default now; not in the past)."""

    plan_code = ma.fields.String(required=True, validate=validate.Length(min=1, max=40))
    effective_from = ma.fields.AwareDateTime()
    effective_to = ma.fields.AwareDateTime(
        metadata={"description": "Optional end (exclusive); then the standard plan applies"}
    )


class MemberPlanSchema(ma.Schema):
    """One period of a member on a plan: [effective_from, effective_to)."""

    id = ma.fields.Integer()
    plan = ma.fields.Nested(PlanSchema)
    effective_from = ma.fields.DateTime()
    effective_to = ma.fields.DateTime(allow_none=True)
    assigned_by_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()


class PerkSchema(ma.Schema):
    """Percentage points off a member's commission for a period (granted by programmes)."""

    id = ma.fields.Integer()
    discount_bp = ma.fields.Integer()
    reason = ma.fields.String()
    valid_from = ma.fields.DateTime()
    valid_to = ma.fields.DateTime(allow_none=True)


class CommissionSchema(ma.Schema):
    """What the platform keeps of a job and what the member earns: amount + earning = price."""

    amount = Amount(metadata={"description": "Commission, minor units"})
    earning = Amount(metadata={"description": "The member's share, minor units"})
    currency = ma.fields.String()
    plan_code = ma.fields.String()
    plan_kind = ma.fields.String()
    percent_bp = ma.fields.Integer(metadata={"description": "Rate applied after the discount"})
    discount_bp = ma.fields.Integer()
    breakdown = ma.fields.Dict(metadata={"description": "Price, rule, rates and perk applied"})


class MemberPlanOverviewSchema(ma.Schema):
    member_id = ma.fields.Integer()
    plan = ma.fields.Nested(PlanSchema, metadata={"description": "The plan in force now"})
    perk = ma.fields.Nested(PerkSchema, allow_none=True)
    assignments = ma.fields.List(ma.fields.Nested(MemberPlanSchema))
    perks = ma.fields.List(ma.fields.Nested(PerkSchema))


class MyPlanSchema(MemberPlanOverviewSchema):
    examples = ma.fields.List(
        ma.fields.Nested(CommissionSchema),
        metadata={"description": "What a 100.00 job costs you now, in EUR and in CHF"},
    )


class OrganisationPlanAssignSchema(ma.Schema):
    """Put the provider company on a plan from now."""

    plan_code = ma.fields.String(required=True, validate=validate.Length(min=1, max=40))


class OrganisationPlanSchema(ma.Schema):
    """A provider company's plan: the commission of its technicians' jobs, its monthly fee."""

    organisation_id = ma.fields.Integer()
    plan = ma.fields.Nested(PlanSchema)
    assigned_by_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
