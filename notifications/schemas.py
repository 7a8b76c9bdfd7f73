"""API contract for the in-app inbox."""

import marshmallow as ma

from crowd.core.pagination import PageArgsSchema, page_of


class NotificationQueryArgsSchema(PageArgsSchema):
    """?unread=true lists only unread notifications; without it, all of them."""

    unread = ma.fields.Boolean(load_default=False)


class NotificationSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String(
        metadata={"description": "What happened, e.g. offer.new, job.assigned, review.published"}
    )
    title = ma.fields.String()
    body = ma.fields.String()
    data = ma.fields.Dict(metadata={"description": "Ids to act on, e.g. {job_id, offer_id}"})
    created_at = ma.fields.DateTime()
    read_at = ma.fields.DateTime(allow_none=True, metadata={"description": "null while unread"})


class NotificationPageSchema(page_of(NotificationSchema)):
    """One page of the inbox, newest first, and how many notifications are unread in all."""

    unread_count = ma.fields.Integer(
        metadata={"description": "Unread notifications of the caller, whatever the filter"}
    )


class ReadAllResultSchema(ma.Schema):
    marked = ma.fields.Integer(metadata={"description": "Notifications newly marked read"})


# --- preferences ----------------------------------------------------------------------------


class QuietHoursSchema(ma.Schema):
    start = ma.fields.Time(required=True, metadata={"description": "Local time, e.g. 22:00"})
    end = ma.fields.Time(
        required=True, metadata={"description": "Local time; before start: next day"}
    )


class KindPreferenceSchema(ma.Schema):
    kind = ma.fields.String()
    description = ma.fields.String()
    transactional = ma.fields.Boolean(
        metadata={"description": "At least one channel beyond the inbox stays on"}
    )
    marketing = ma.fields.Boolean(metadata={"description": "Needs a consent (GET /me/consents)"})
    channels = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Boolean(),
        metadata={"description": "{inbox: true, email: …, push: …}; the inbox is always on"},
    )


class PreferencesSchema(ma.Schema):
    time_zone = ma.fields.String()
    quiet_hours = ma.fields.Nested(QuietHoursSchema, allow_none=True)
    kinds = ma.fields.List(ma.fields.Nested(KindPreferenceSchema))


class PreferenceChangeSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=ma.validate.Length(max=60))
    channel = ma.fields.String(required=True, validate=ma.validate.Length(max=20))
    enabled = ma.fields.Boolean(required=True)


class PreferencesUpdateSchema(ma.Schema):
    preferences = ma.fields.List(
        ma.fields.Nested(PreferenceChangeSchema), validate=ma.validate.Length(max=200)
    )
    time_zone = ma.fields.String(validate=ma.validate.Length(min=1, max=64))
    quiet_hours = ma.fields.Nested(
        QuietHoursSchema, allow_none=True, metadata={"description": "null: no quiet hours"}
    )


# --- unsubscribe and consents ---------------------------------------------------------------


class UnsubscribeSchema(ma.Schema):
    kind = ma.fields.String()
    description = ma.fields.String()
    unsubscribed = ma.fields.Boolean()


class ConsentRequestSchema(ma.Schema):
    topic = ma.fields.String(required=True, metadata={"description": "newsletter"})


class ConsentEventSchema(ma.Schema):
    action = ma.fields.String(metadata={"description": "requested, granted or withdrawn"})
    method = ma.fields.String(metadata={"description": "double_opt_in, api or unsubscribe"})
    text_version = ma.fields.String()
    created_at = ma.fields.DateTime()


class ConsentSchema(ma.Schema):
    topic = ma.fields.String()
    status = ma.fields.String(metadata={"description": "none, pending, granted or withdrawn"})
    granted_at = ma.fields.DateTime(allow_none=True)
    withdrawn_at = ma.fields.DateTime(allow_none=True)
    history = ma.fields.List(ma.fields.Nested(ConsentEventSchema))


class ConsentListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ConsentSchema))


# --- admin ----------------------------------------------------------------------------------


class DeliveryQueryArgsSchema(PageArgsSchema):
    status = ma.fields.String(
        validate=ma.validate.OneOf(["queued", "sending", "sent", "failed", "suppressed"])
    )
    channel = ma.fields.String(validate=ma.validate.Length(max=20))
    user_id = ma.fields.Integer(validate=ma.validate.Range(min=1, max=2**63 - 1))
    kind = ma.fields.String(validate=ma.validate.Length(max=60))


class DeliverySchema(ma.Schema):
    id = ma.fields.Integer()
    notification_id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    kind = ma.fields.String()
    channel = ma.fields.String()
    status = ma.fields.String()
    attempts = ma.fields.Integer()
    next_attempt_at = ma.fields.DateTime()
    address = ma.fields.String(allow_none=True)
    last_error = ma.fields.String(allow_none=True)
    provider_message_id = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    sent_at = ma.fields.DateTime(allow_none=True)


class DeliveryPageSchema(page_of(DeliverySchema)):
    """One page of deliveries, newest first."""


class SuppressionSchema(ma.Schema):
    id = ma.fields.Integer()
    channel = ma.fields.String()
    address = ma.fields.String()
    reason = ma.fields.String()
    delivery_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()


class SuppressionPageSchema(page_of(SuppressionSchema)):
    """One page of suppressed addresses, newest first."""


class OutboxEmailSchema(ma.Schema):
    id = ma.fields.Integer()
    delivery_id = ma.fields.Integer(allow_none=True)
    user_id = ma.fields.Integer(allow_none=True)
    to_address = ma.fields.String()
    subject = ma.fields.String()
    body = ma.fields.String(metadata={"description": "The plain-text part"})
    html = ma.fields.String(allow_none=True)
    headers = ma.fields.Dict()
    message_id = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


class OutboxEmailPageSchema(page_of(OutboxEmailSchema)):
    """Emails the offline provider kept (no SMTP relay configured), newest first."""
