"""API contract of the top-performer programme: runs, decisions, badges, a member's standing."""

import marshmallow as ma
from marshmallow import validate

from crowd.core.fields import id_range, within_documented_length
from crowd.core.pagination import PageArgsSchema, page_of
from payouts.schemas.plans import PerkSchema

REGION = validate.Length(min=1, max=20)
CATEGORY = validate.Length(min=1, max=60)


class RunCreateSchema(ma.Schema):
    period = ma.fields.String(
        validate=validate.Length(min=4, max=20),
        metadata={"description": 'e.g. "2026-Q4" (quarterly) or "2026-11" (monthly); default '
                  "the current period. Periods that have not begun are refused."},
    )  # fmt: skip


class RunSchema(ma.Schema):
    id = ma.fields.Integer()
    period = ma.fields.String()
    period_start = ma.fields.DateTime()
    period_end = ma.fields.DateTime()
    window_start = ma.fields.DateTime()
    window_end = ma.fields.DateTime()
    criteria = ma.fields.Dict(metadata={"description": "The gates and top share applied"})
    status = ma.fields.String()
    evaluated = ma.fields.Integer(metadata={"description": "(member, category) pairs evaluated"})
    awarded = ma.fields.Integer(metadata={"description": "Badges awarded"})
    started_by_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()
    finished_at = ma.fields.DateTime(allow_none=True)


RunPageSchema = page_of(RunSchema)


class CellSchema(ma.Schema):
    category = ma.fields.String()
    region = ma.fields.String()
    evaluated = ma.fields.Integer()
    passed = ma.fields.Integer(metadata={"description": "Passed every gate (ranked)"})
    awarded = ma.fields.Integer()


class RunDetailSchema(ma.Schema):
    run = ma.fields.Nested(RunSchema)
    cells = ma.fields.List(ma.fields.Nested(CellSchema))


class FiguresSchema(ma.Schema):
    jobs = ma.fields.Integer()
    rating = ma.fields.Float(allow_none=True)
    rating_count = ma.fields.Integer()
    rating_sum = ma.fields.Integer()
    cancellations = ma.fields.Integer()
    cancellation_permille = ma.fields.Integer()
    offers_answered = ma.fields.Integer()
    offers_accepted = ma.fields.Integer()
    acceptance_permille = ma.fields.Integer(allow_none=True)
    sanctions = ma.fields.Integer()
    lost_disputes = ma.fields.Integer()


class DecisionSchema(ma.Schema):
    id = ma.fields.Integer()
    run_id = ma.fields.Integer()
    period = ma.fields.String()
    member_id = ma.fields.Integer()
    category = ma.fields.String()
    region = ma.fields.String()
    figures = ma.fields.Nested(FiguresSchema)
    failed_gates = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "status, volume, rating, cancellation, acceptance, sanction, "
                  "lost_dispute; [] = passed every gate"},
    )  # fmt: skip
    score = ma.fields.Float(allow_none=True, metadata={"description": "Average rating"})
    rank = ma.fields.Integer(allow_none=True, metadata={"description": "Rank in the cell"})
    cell_size = ma.fields.Integer(metadata={"description": "Passing members in the cell"})
    awarded = ma.fields.Boolean()


DecisionPageSchema = page_of(DecisionSchema)


class DecisionQueryArgsSchema(PageArgsSchema):
    member_id = ma.fields.Integer(validate=id_range())
    category = ma.fields.String(validate=CATEGORY, metadata={"description": "Category slug"})
    region = ma.fields.String(validate=REGION)
    awarded = ma.fields.Boolean()


class BadgeSchema(ma.Schema):
    id = ma.fields.Integer()
    run_id = ma.fields.Integer()
    period = ma.fields.String(allow_none=True)
    member_id = ma.fields.Integer()
    category = ma.fields.String()
    region = ma.fields.String()
    valid_from = ma.fields.DateTime()
    valid_until = ma.fields.DateTime(metadata={"description": "End of the grace period"})
    revoked_at = ma.fields.DateTime(allow_none=True)
    revoke_reason = ma.fields.String(allow_none=True)
    perk_id = ma.fields.Integer(allow_none=True)


BadgePageSchema = page_of(BadgeSchema)


class HolderQueryArgsSchema(PageArgsSchema):
    region = ma.fields.String(validate=REGION)
    category = ma.fields.String(validate=CATEGORY, metadata={"description": "Category slug"})


class RevokeSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=validate.Length(min=1, max=500))

    @ma.pre_load
    def strip(self, data, **kwargs):
        reason = data.get("reason") if isinstance(data, dict) else None
        # Longer than documented as sent: left alone, so the maximum refuses it.
        if isinstance(reason, str) and within_documented_length(self.fields["reason"], reason):
            return {**data, "reason": reason.strip()}
        return data


class PerksInForceSchema(ma.Schema):
    commission = ma.fields.List(
        ma.fields.Nested(PerkSchema), metadata={"description": "Perks granted with your badges"}
    )
    commission_perk_in_force = ma.fields.Nested(
        PerkSchema,
        allow_none=True,
        metadata={"description": "The perk your commission uses now (the largest valid one)"},
    )
    matching_boost = ma.fields.Boolean()
    priority_support = ma.fields.Boolean()


class MyTopPerformerSchema(ma.Schema):
    member_id = ma.fields.Integer()
    top_performer = ma.fields.Boolean()
    badges = ma.fields.List(ma.fields.Nested(BadgeSchema))
    perks = ma.fields.Nested(PerksInForceSchema)
    history = ma.fields.List(
        ma.fields.Nested(DecisionSchema),
        metadata={"description": "Every decision about you with its figures, newest first"},
    )
