"""API contract of messages to segments: composing, previewing, sending, reach and reading."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from crowd.core.fields import Trimmed
from crowd.core.i18n import LOCALES
from crowd.core.pagination import PageArgsSchema, page_of
from crowd.core.patterns import Pattern
from members.models import COUNTRIES, MEMBER_STATUSES
from mentoring.broadcasts.segments import DEFAULT_STATUSES, PROGRAMMES

KINDS = ("announcement", "newsletter")
STATUSES = ("draft", "scheduled", "sending", "sent")
MAX_VALUES = 100


def _values(inner: ma.fields.Field, **kwargs) -> ma.fields.List:
    return ma.fields.List(inner, validate=validate.Length(min=1, max=MAX_VALUES), **kwargs)


class SegmentSchema(ma.Schema):
    """Who receives it: every given key must match, any value within a key. Repeat a query
    parameter for several values (?countries=DE&countries=AT)."""

    levels = _values(
        ma.fields.Integer(validate=validate.Range(0, 20)),
        metadata={"description": "Level ranks (1 = Starter …)"},
    )
    skills = _values(
        ma.fields.String(validate=validate.Length(min=1, max=60)),
        metadata={"description": "Skill slugs the member offers"},
    )
    countries = _values(ma.fields.String(validate=validate.OneOf(COUNTRIES)))
    cities = _values(
        Trimmed(validate=validate.Length(min=1, max=120)),
        metadata={"description": "Case-insensitive"},
    )
    postcode_prefixes = _values(
        ma.fields.String(validate=Pattern(r"[0-9A-Za-z]{1,10}", error="a prefix"))
    )
    programmes = _values(
        ma.fields.String(validate=validate.OneOf(PROGRAMMES)),
        metadata={"description": "mentor, mentee (live mentorship) or top_performer"},
    )
    statuses = _values(
        ma.fields.String(validate=validate.OneOf(MEMBER_STATUSES)),
        load_default=list(DEFAULT_STATUSES),
        metadata={"description": "Member statuses; default active only"},
    )


class BroadcastTextSchema(ma.Schema):
    """The title and body in one language."""

    title = Trimmed(required=True, validate=validate.Length(min=1, max=200))
    body = Trimmed(required=True, validate=validate.Length(min=1, max=20_000))


def _translations(**kwargs) -> ma.fields.Dict:
    return ma.fields.Dict(
        keys=ma.fields.String(validate=validate.OneOf(LOCALES)),
        values=ma.fields.Nested(BroadcastTextSchema),
        metadata={
            "description": "The text per language (de, en): each recipient reads the one of "
            "their language, else `title` and `body`",
            "example": {
                "de": {"title": "Neuigkeiten", "body": "Neue Skills …"},
                "en": {"title": "News", "body": "New skills …"},
            },
        },
        **kwargs,
    )


class BroadcastCreateSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=validate.OneOf(KINDS))
    title = Trimmed(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "For recipients whose language has no translation"},
    )
    body = Trimmed(required=True, validate=validate.Length(min=1, max=20_000))
    translations = _translations(load_default=dict)
    segment = ma.fields.Nested(SegmentSchema, required=True)


class DeliveryCountsSchema(ma.Schema):
    """Deliveries of one channel by status."""

    queued = ma.fields.Integer()
    sending = ma.fields.Integer()
    sent = ma.fields.Integer()
    failed = ma.fields.Integer()
    suppressed = ma.fields.Integer(
        metadata={"description": "Not sent: a dead address, no device, no consent"}
    )


class ReachSchema(ma.Schema):
    recipients = ma.fields.Integer()
    delivered = ma.fields.Integer(metadata={"description": "Recipients with an inbox entry"})
    read = ma.fields.Integer(
        metadata={"description": "Recipients who read it (the inbox entry or /me/broadcasts)"}
    )
    read_rate = ma.fields.Float(
        allow_none=True, metadata={"description": "read / delivered (null before delivery)"}
    )
    channels = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Nested(DeliveryCountsSchema),
        metadata={"description": "Deliveries beyond the inbox per channel (email, push)"},
    )


class BroadcastSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    title = ma.fields.String()
    body = ma.fields.String()
    translations = _translations()
    segment = ma.fields.Dict()
    status = ma.fields.String(
        metadata={"description": "draft, scheduled (waits for scheduled_for), sending or sent"}
    )
    scheduled_for = ma.fields.DateTime(allow_none=True)
    created_by_id = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    sent_at = ma.fields.DateTime(allow_none=True)
    recipients_count = ma.fields.Integer()
    counts = ma.fields.Nested(ReachSchema)


BroadcastPageSchema = page_of(BroadcastSchema)


class BroadcastSendSchema(ma.Schema):
    """Send now (no body, or no send_at), or schedule the send for later."""

    send_at = ma.fields.AwareDateTime(
        load_default=None,
        metadata={
            "description": "When to start sending (in the future, within 90 days); the "
            "broadcast is `scheduled` until then and may be unscheduled"
        },
    )


class BroadcastQueryArgsSchema(PageArgsSchema):
    status = ma.fields.String(validate=validate.OneOf(STATUSES))
    kind = ma.fields.String(validate=validate.OneOf(KINDS))


class PreviewMemberSchema(ma.Schema):
    id = ma.fields.Integer()
    display_name = ma.fields.String()
    status = ma.fields.String()
    level_rank = ma.fields.Integer()
    city = ma.fields.String(allow_none=True)
    postcode = ma.fields.String(allow_none=True)
    country = ma.fields.String(allow_none=True)


class PreviewSchema(ma.Schema):
    count = ma.fields.Integer(metadata={"description": "Members in the segment now"})
    members = ma.fields.List(
        ma.fields.Nested(PreviewMemberSchema), metadata={"description": "The first 20 by id"}
    )


class RecipientDeliverySchema(ma.Schema):
    channel = ma.fields.String(metadata={"description": "email or push"})
    status = ma.fields.String(metadata={"description": "queued, sending, sent, failed, suppressed"})
    attempts = ma.fields.Integer()
    sent_at = ma.fields.DateTime(allow_none=True)
    last_error = ma.fields.String(allow_none=True)


class RecipientSchema(ma.Schema):
    member_id = ma.fields.Integer()
    display_name = ma.fields.String(allow_none=True)
    delivered_at = ma.fields.DateTime(allow_none=True)
    read_at = ma.fields.DateTime(allow_none=True)
    notification_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "The inbox entry (none before delivery)"}
    )
    deliveries = ma.fields.List(ma.fields.Nested(RecipientDeliverySchema))


RecipientPageSchema = page_of(RecipientSchema)


class RecipientQueryArgsSchema(PageArgsSchema):
    read = ma.fields.Boolean(
        load_default=None, metadata={"description": "true: read ones; false: unread ones"}
    )


class ReceivedSchema(ma.Schema):
    id = ma.fields.Integer(metadata={"description": "The broadcast's id"})
    kind = ma.fields.String()
    title = ma.fields.String(metadata={"description": "In your language when it has one"})
    body = ma.fields.String()
    delivered_at = ma.fields.DateTime()
    read_at = ma.fields.DateTime(allow_none=True)
    read = ma.fields.Boolean()


ReceivedPageSchema = page_of(ReceivedSchema)


class ReceivedQueryArgsSchema(PageArgsSchema):
    unread = ma.fields.Boolean(load_default=False)
