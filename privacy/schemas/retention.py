"""API contract for retention rules and their runs."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from crowd.core.pagination import PageArgsSchema


class RetentionRuleSchema(ma.Schema):
    """How long one kind of personal data is kept, from when, and what happens then."""

    kind = ma.fields.String(metadata={"example": "identity_document_images"})
    action = ma.fields.String(
        metadata={
            "description": "delete, anonymise or keep (a legal duty to keep it: never enforced)"
        }
    )
    keep_days = ma.fields.Integer(metadata={"description": "Days from starts_from until due"})
    min_days = ma.fields.Integer(metadata={"description": "The shortest period admins may set"})
    max_days = ma.fields.Integer(metadata={"description": "The longest period admins may set"})
    starts_from = ma.fields.String(metadata={"description": "What the clock starts from"})
    legal_basis = ma.fields.String(metadata={"description": "Why the period: purpose, law"})
    updated_at = ma.fields.DateTime()
    updated_by_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "Null for the rules the platform came with"}
    )


class RetentionRuleUpdateSchema(ma.Schema):
    """A rule's new period (within its min_days and max_days) and, optionally, legal basis."""

    keep_days = ma.fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(0, 36500),
        metadata={"example": 30},
    )
    legal_basis = ma.fields.String(validate=validate.Length(min=1, max=2000))


class RetentionRunSchema(ma.Schema):
    """One enforcement of the rules and what it deleted per kind."""

    id = ma.fields.Integer()
    started_at = ma.fields.DateTime()
    finished_at = ma.fields.DateTime(
        allow_none=True, metadata={"description": "Null while running, or if interrupted"}
    )
    as_of = ma.fields.DateTime(metadata={"description": "The instant the rules were applied at"})
    counts = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        metadata={"description": "{kind: rows or files deleted} for every rule that deletes"},
    )
    total = ma.fields.Integer()
    cause = ma.fields.String(metadata={"description": "schedule or command"})


class RetentionRunQueryArgsSchema(PageArgsSchema):
    """?limit=&cursor="""
