"""API contract of events: managing them, eligible lists, invitations, RSVP and attendance."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from crowd.core.fields import Trimmed
from crowd.core.i18n import _
from crowd.core.pagination import PageArgsSchema, page_of
from members.models import COUNTRIES
from mentoring.models import EVENT_KINDS, INVITATION_STATUSES

EVENT_STATUSES = ("draft", "published", "cancelled", "done")
MAX_IDS = 500


def _id(**kwargs) -> ma.fields.Integer:
    return ma.fields.Integer(strict=True, validate=validate.Range(min=1, max=2**63 - 1), **kwargs)


def _ids(*, min_length: int = 0, **kwargs) -> ma.fields.List:
    return ma.fields.List(_id(), validate=validate.Length(min=min_length, max=MAX_IDS), **kwargs)


# --- events -----------------------------------------------------------------------------------


class EventUpdateSchema(ma.Schema):
    """Change any of the event's details; a new start must lie in the future."""

    kind = ma.fields.String(validate=validate.OneOf(EVENT_KINDS))
    title = Trimmed(validate=validate.Length(min=1, max=200))
    description = Trimmed(allow_none=True, validate=validate.Length(max=10_000))
    starts_at = ma.fields.AwareDateTime(metadata={"example": "2030-07-01T10:00:00+02:00"})
    ends_at = ma.fields.AwareDateTime(metadata={"example": "2030-07-01T17:00:00+02:00"})
    venue = Trimmed(validate=validate.Length(min=1, max=200))
    city = Trimmed(validate=validate.Length(min=1, max=120))
    country = ma.fields.String(validate=validate.OneOf(COUNTRIES))
    lat = ma.fields.Float(allow_none=True, validate=validate.Range(-90, 90))
    lon = ma.fields.Float(allow_none=True, validate=validate.Range(-180, 180))
    capacity = ma.fields.Integer(
        strict=True,
        validate=validate.Range(1, 10_000),
        metadata={"description": "Accepted invitations never exceed it"},
    )

    @ma.validates_schema
    def not_empty(self, data, **kwargs):
        if not data:
            raise ma.ValidationError(_("change at least one field"))


class EventCreateSchema(EventUpdateSchema):
    """A trade fair, meetup or training: starts in the future, ends after it starts."""

    class Meta:
        # Everything but the description and coordinates is required on creation.
        required = ("kind", "title", "starts_at", "ends_at", "venue", "city", "country", "capacity")

    def on_bind_field(self, field_name, field_obj):
        if field_name in self.Meta.required:
            field_obj.required = True
        super().on_bind_field(field_name, field_obj)


class InvitationCountsSchema(ma.Schema):
    eligible = ma.fields.Integer()
    invited = ma.fields.Integer()
    accepted = ma.fields.Integer()
    declined = ma.fields.Integer()
    attended = ma.fields.Integer()
    no_show = ma.fields.Integer()


class EventSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"description": "trade_fair, meetup or training"})
    title = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    starts_at = ma.fields.DateTime()
    ends_at = ma.fields.DateTime()
    venue = ma.fields.String()
    city = ma.fields.String()
    country = ma.fields.String()
    lat = ma.fields.Float(allow_none=True)
    lon = ma.fields.Float(allow_none=True)
    capacity = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": "draft, published, cancelled or done"})
    created_by_id = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    counts = ma.fields.Nested(
        InvitationCountsSchema, metadata={"description": "Invitations by status"}
    )


EventPageSchema = page_of(EventSchema)


class EventQueryArgsSchema(PageArgsSchema):
    """Soonest first; ?upcoming=true hides events that have ended."""

    status = ma.fields.String(validate=validate.OneOf(EVENT_STATUSES))
    kind = ma.fields.String(validate=validate.OneOf(EVENT_KINDS))
    upcoming = ma.fields.Boolean(load_default=False)


# --- invitations (staff) ------------------------------------------------------------------------


class EligibleCreateSchema(ma.Schema):
    """List eligible members; `countries` keeps those living there (default: everywhere)."""

    countries = ma.fields.List(
        ma.fields.String(validate=validate.OneOf(COUNTRIES)),
        load_default=None,
        validate=validate.Length(min=1),
    )


class EligibleResultSchema(ma.Schema):
    added = ma.fields.Integer(metadata={"description": "Eligible members listed just now"})
    counts = ma.fields.Nested(InvitationCountsSchema)


class InviteSchema(ma.Schema):
    member_ids = _ids(required=True, min_length=1)


class InviteResultSchema(ma.Schema):
    invited = ma.fields.List(ma.fields.Integer(), metadata={"description": "Invited just now"})
    unchanged = ma.fields.List(
        ma.fields.Integer(), metadata={"description": "Invited before (or answered already)"}
    )


class InvitationSchema(ma.Schema):
    id = ma.fields.Integer()
    event_id = ma.fields.Integer()
    member_id = ma.fields.Integer()
    display_name = ma.fields.String(allow_none=True)
    status = ma.fields.String(
        metadata={"description": "eligible, invited, accepted, declined, attended or no_show"}
    )
    qualifies_as = ma.fields.String(
        metadata={"description": "mentor, top_performer or mentor,top_performer"}
    )
    invited_at = ma.fields.DateTime(allow_none=True)
    invited_by_id = ma.fields.Integer(allow_none=True)
    responded_at = ma.fields.DateTime(allow_none=True)
    attendance_marked_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()


InvitationPageSchema = page_of(InvitationSchema)


class InvitationQueryArgsSchema(PageArgsSchema):
    status = ma.fields.String(validate=validate.OneOf(INVITATION_STATUSES))


class AttendanceSchema(ma.Schema):
    """Members with accepted invitations who came, and who did not."""

    attended = _ids(load_default=list)
    no_show = _ids(load_default=list)

    @ma.validates_schema
    def not_empty(self, data, **kwargs):
        if not data["attended"] and not data["no_show"]:
            raise ma.ValidationError(_("name at least one member"), "attended")


class AttendanceResultSchema(ma.Schema):
    changed = ma.fields.Integer()
    counts = ma.fields.Nested(InvitationCountsSchema)


# --- the member's invitations ------------------------------------------------------------------


class MyEventSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    title = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    starts_at = ma.fields.DateTime()
    ends_at = ma.fields.DateTime()
    venue = ma.fields.String()
    city = ma.fields.String()
    country = ma.fields.String()
    lat = ma.fields.Float(allow_none=True)
    lon = ma.fields.Float(allow_none=True)
    status = ma.fields.String()


class MyInvitationSchema(ma.Schema):
    id = ma.fields.Integer()
    status = ma.fields.String()
    qualifies_as = ma.fields.String()
    invited_at = ma.fields.DateTime(allow_none=True)
    responded_at = ma.fields.DateTime(allow_none=True)
    actions = ma.fields.List(
        ma.fields.String(), metadata={"description": "Answers open to you now: accept, decline"}
    )
    event = ma.fields.Nested(MyEventSchema)


class MyInvitationListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(MyInvitationSchema))


class RsvpSchema(ma.Schema):
    answer = ma.fields.String(required=True, validate=validate.OneOf(("accept", "decline")))
