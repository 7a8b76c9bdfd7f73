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
