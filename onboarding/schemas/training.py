"""API contract for training modules and members' completions."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from crowd.core.fields import Trimmed
from crowd.core.pagination import PageArgsSchema, page_of
from crowd.core.patterns import Pattern
from helpcentre.schemas import HelpArticleBriefSchema
from onboarding.models import COMPLETION_MODES

SLUG = Pattern(r"[a-z0-9][a-z0-9_-]{0,59}", error="1-60 of a-z 0-9 _ -")


def _duration(**kwargs) -> ma.fields.Integer:
    return ma.fields.Integer(
        strict=True,
        validate=validate.Range(1, 2400),
        metadata={"description": "How long the module takes, in minutes"},
        **kwargs,
    )


class TrainingModuleCreateSchema(ma.Schema):
    """A new module of the training catalogue."""

    code = ma.fields.String(required=True, validate=SLUG, metadata={"example": "customer-care"})
    title = Trimmed(required=True, validate=validate.Length(min=1, max=200))
    description = ma.fields.String(allow_none=True, validate=validate.Length(max=10_000))
    category = ma.fields.String(
        allow_none=True,
        validate=validate.Length(min=1, max=60),
        metadata={"description": "Slug of the skill category it focuses on (optional)"},
    )
    duration_minutes = _duration(required=True)
    completion_mode = ma.fields.String(
        load_default="self_paced",
        validate=validate.OneOf(COMPLETION_MODES),
        metadata={
            "description": "self_paced: the member marks it done; attended: a community "
            "manager records it"
        },
    )


class TrainingModuleUpdateSchema(ma.Schema):
    """What may change about a module; deactivating it stops it counting for levels."""

    title = Trimmed(validate=validate.Length(min=1, max=200))
    description = ma.fields.String(allow_none=True, validate=validate.Length(max=10_000))
    duration_minutes = _duration()
    active = ma.fields.Boolean()


class TrainingModuleQueryArgsSchema(PageArgsSchema):
    active = ma.fields.Boolean(
        metadata={"description": "Staff: only active (true) or inactive modules"}
    )
    category = ma.fields.String(validate=validate.Length(min=1, max=60))


class TrainingModuleSchema(ma.Schema):
    """A training module; `completed_at` is when you (a member) completed it, else null."""

    code = ma.fields.String()
    title = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    category = ma.fields.String(allow_none=True)
    duration_minutes = ma.fields.Integer()
    completion_mode = ma.fields.String()
    active = ma.fields.Boolean()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    completed_at = ma.fields.DateTime(allow_none=True)
    articles = ma.fields.List(
        ma.fields.Nested(HelpArticleBriefSchema),
        metadata={"description": "Help centre articles on this module (published, for you)"},
    )


class LevelChangeBriefSchema(ma.Schema):
    from_rank = ma.fields.Integer()
    to_rank = ma.fields.Integer()
    to_code = ma.fields.String()
    ruleset_version = ma.fields.Integer()


class TrainingCompletionSchema(ma.Schema):
    """A module a member completed."""

    member_id = ma.fields.Integer()
    module = ma.fields.String(metadata={"description": "The module's code"})
    title = ma.fields.String()
    completion_mode = ma.fields.String()
    counts = ma.fields.Boolean(
        metadata={"description": "Whether it counts for levels (the module is active)"}
    )
    completed_at = ma.fields.DateTime()
    recorded_by_id = ma.fields.Integer(allow_none=True)


class TrainingRecordedSchema(TrainingCompletionSchema):
    level_change = ma.fields.Nested(
        LevelChangeBriefSchema,
        allow_none=True,
        metadata={"description": "The promotion this completion brought, if any"},
    )


TrainingModulePageSchema = page_of(TrainingModuleSchema)
TrainingCompletionPageSchema = page_of(TrainingCompletionSchema)
