"""API contract of support tickets: opening, the queue, assignment, status actions, messages,
the audit trail and ratings."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from crowd.core.fields import Trimmed
from crowd.core.files.schemas import AttachedFileSchema, file_ids
from crowd.core.i18n import _
from crowd.core.pagination import PageArgsSchema, page_of
from crowd.core.patterns import Pattern
from support.attachments import MAX_FILES
from support.models import CATEGORIES, OPENABLE_CATEGORIES, PRIORITIES, STATUSES, VISIBILITIES
from support.tickets.actions import MAX_BULK

MAX_ATTACHMENTS = 10
MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
MAX_BODY = 10_000


def _id(**kwargs) -> ma.fields.Integer:
    return ma.fields.Integer(strict=True, validate=validate.Range(min=1, max=2**63 - 1), **kwargs)


def _query_id() -> ma.fields.Integer:
    # Query strings are text: no strict integers here.
    return ma.fields.Integer(validate=validate.Range(min=1, max=2**63 - 1))


class TicketAttachmentSchema(ma.Schema):
    """Metadata of a file stored elsewhere; the API never receives the file itself."""

    filename = Trimmed(required=True, validate=validate.Length(min=1, max=255))
    content_type = ma.fields.String(
        required=True,
        validate=Pattern(r"[\w.+-]+/[\w.+-]+", error="a media type such as image/jpeg"),
    )
    size_bytes = ma.fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(1, MAX_ATTACHMENT_BYTES),
        metadata={"description": "At most 25 MB"},
    )
    url = ma.fields.Url(
        required=True,
        schemes={"https"},
        validate=validate.Length(max=2000),
        metadata={"description": "https only"},
    )


def _attachments() -> ma.fields.List:
    return ma.fields.List(
        ma.fields.Nested(TicketAttachmentSchema),
        load_default=list,
        validate=validate.Length(max=MAX_ATTACHMENTS),
        metadata={"description": f"At most {MAX_ATTACHMENTS}"},
    )


# --- opening and editing ----------------------------------------------------------------------


class TicketCreateSchema(ma.Schema):
    """A new ticket about a job, your account, or (staff) a member or customer."""

    subject = Trimmed(required=True, validate=validate.Length(min=1, max=200))
    category = ma.fields.String(
        required=True,
        validate=validate.OneOf(OPENABLE_CATEGORIES),
        metadata={"description": "chargeback tickets are opened by the platform only"},
    )
    priority = ma.fields.String(
        load_default="normal",
        validate=validate.OneOf(PRIORITIES),
        metadata={"description": "Customers and members: low, normal or high (urgent: 422)"},
    )
    description = Trimmed(
        required=True,
        validate=validate.Length(min=1, max=MAX_BODY),
        metadata={"description": "The first message, visible to the parties"},
    )
    attachments = _attachments()
    attachment_file_ids = file_ids(maximum=MAX_FILES, purpose="ticket_attachment")
    job_id = _id(
        load_default=None,
        metadata={"description": "A job of yours; its customer and member become the parties"},
    )
    customer_id = _id(
        load_default=None, metadata={"description": "Staff only (a party gets 422): the customer"}
    )
    member_id = _id(
        load_default=None, metadata={"description": "Staff only (a party gets 422): the member"}
    )
    follow_up_of = _id(
        load_default=None,
        metadata={"description": "A closed ticket this one continues (same job and parties)"},
    )
    dispute = ma.fields.Boolean(
        load_default=False,
        metadata={
            "description": "Customers and members: dispute the job (completed or confirmed); "
            "it becomes `disputed` and the member's payout for it is held"
        },
    )


class TicketUpdateSchema(ma.Schema):
    """Staff: a new priority re-aims the SLA deadlines from the opening time."""

    subject = Trimmed(validate=validate.Length(min=1, max=200))
    category = ma.fields.String(validate=validate.OneOf(OPENABLE_CATEGORIES))
    priority = ma.fields.String(validate=validate.OneOf(PRIORITIES))

    @ma.validates_schema
    def not_empty(self, data, **kwargs):
        if not data:
            raise ma.ValidationError(_("change at least one of subject, category, priority"))


class TicketAssignSchema(ma.Schema):
    assignee_id = _id(required=True, metadata={"description": "A community manager or admin"})


class TicketBulkAssignSchema(TicketAssignSchema):
    ticket_ids = ma.fields.List(_id(), required=True, validate=validate.Length(min=1, max=MAX_BULK))


class TicketActionSchema(ma.Schema):
    note = Trimmed(
        load_default=None,
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "resolve: how it was settled (required)"},
    )
    reason = Trimmed(
        load_default=None,
        validate=validate.Length(min=1, max=500),
        metadata={"description": "escalate: why (required)"},
    )


# --- reading ----------------------------------------------------------------------------------


class TicketQueryArgsSchema(PageArgsSchema):
    """The queue: most urgent SLA deadline first; repeat status/priority/category for several."""

    status = ma.fields.List(ma.fields.String(validate=validate.OneOf(STATUSES)))
    priority = ma.fields.List(ma.fields.String(validate=validate.OneOf(PRIORITIES)))
    category = ma.fields.List(ma.fields.String(validate=validate.OneOf(CATEGORIES)))
    assignee_id = ma.fields.String(
        validate=Pattern(r"(me|none|[1-9][0-9]{0,17})", error="an id, me or none"),
        metadata={"description": "A user id, `me` or `none` (unassigned)"},
    )
    sla_due_before = ma.fields.AwareDateTime(
        metadata={
            "description": "Running tickets whose first response or resolution is due "
            "before this instant"
        }
    )
    breached = ma.fields.Boolean(metadata={"description": "true: an SLA was breached"})
    job_id = _query_id()
    member_id = _query_id()
    customer_id = _query_id()
    dispute = ma.fields.Boolean()
    region = ma.fields.String(
        validate=Pattern(r"[A-Za-z]{2}(-[0-9A-Za-z]{1,10})?", error="a country code, or DE-80"),
        metadata={"description": "The job's country, optionally with a postcode prefix: DE, DE-80"},
    )
    search = ma.fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={
            "description": "The ticket's number or part of its subject; for staff also part "
            "of the customer's or member's name or email (ignoring case)"
        },
    )


class TicketPersonSchema(ma.Schema):
    id = ma.fields.Integer()
    display_name = ma.fields.String()


class TicketRatingSchema(ma.Schema):
    ticket_id = ma.fields.Integer()
    party = ma.fields.String(metadata={"description": "customer or member"})
    score = ma.fields.Integer()
    comment = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


def _staff(field: ma.fields.Field, description: str) -> ma.fields.Field:
    field.metadata = {**field.metadata, "description": f"Staff only. {description}".strip()}
    return field


class TicketSummarySchema(ma.Schema):
    """A ticket in the queue; the SLA fields are for staff only (absent for parties)."""

    id = ma.fields.Integer()
    subject = ma.fields.String()
    category = ma.fields.String()
    priority = ma.fields.String()
    status = ma.fields.String()
    dispute = ma.fields.Boolean()
    job_id = ma.fields.Integer(allow_none=True)
    customer_id = ma.fields.Integer(allow_none=True)
    member_id = ma.fields.Integer(allow_none=True)
    follow_up_of_id = ma.fields.Integer(allow_none=True)
    opened_by_role = ma.fields.String(metadata={"description": "customer, member or staff"})
    assignee = ma.fields.Nested(TicketPersonSchema, allow_none=True)
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    first_response_at = ma.fields.DateTime(allow_none=True)
    resolved_at = ma.fields.DateTime(allow_none=True)
    auto_close_at = ma.fields.DateTime(
        allow_none=True, metadata={"description": "A resolved ticket closes then unless replied to"}
    )
    closed_at = ma.fields.DateTime(allow_none=True)
    opened_by_id = _staff(ma.fields.Integer(), "")
    sla_due_at = _staff(
        ma.fields.DateTime(allow_none=True), "The next SLA deadline (null: clocks not running)"
    )
    first_response_due_at = _staff(ma.fields.DateTime(), "")
    resolution_due_at = _staff(ma.fields.DateTime(), "")
    sla_paused_at = _staff(ma.fields.DateTime(allow_none=True), "Waiting on a party since")
    sla_paused_seconds = _staff(ma.fields.Integer(), "Time spent waiting on parties so far")
    first_response_breached_at = _staff(ma.fields.DateTime(allow_none=True), "")
    resolution_breached_at = _staff(ma.fields.DateTime(allow_none=True), "")
    escalated_at = _staff(ma.fields.DateTime(allow_none=True), "")
    escalation_reason = _staff(ma.fields.String(allow_none=True), "")
    status_before_escalation = _staff(ma.fields.String(allow_none=True), "")


class TicketSchema(TicketSummarySchema):
    """A ticket in full, with the ratings you may see and the actions you may take."""

    ratings = ma.fields.List(
        ma.fields.Nested(TicketRatingSchema),
        metadata={"description": "Staff: both; a party: its own"},
    )
    allowed_actions = ma.fields.List(
        ma.fields.String(),
        metadata={
            "description": "What you may do next. Staff: the status actions of "
            "/actions/{action}, assign, update, propose, withdraw_proposal, impose_proposal; "
            "parties: answer_proposal, rate (once closed); everyone: message (until closed)"
        },
    )


TicketPageSchema = page_of(TicketSummarySchema)


class TicketListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(TicketSummarySchema))


# --- messages, events, ratings ----------------------------------------------------------------


class TicketMessageCreateSchema(ma.Schema):
    body = Trimmed(required=True, validate=validate.Length(min=1, max=MAX_BODY))
    visibility = ma.fields.String(
        load_default="parties",
        validate=validate.OneOf(VISIBILITIES),
        metadata={
            "description": "parties (both), customer or member (that party only), internal "
            "(staff only). Customers and members write to parties only."
        },
    )
    attachments = _attachments()
    attachment_file_ids = file_ids(maximum=MAX_FILES, purpose="ticket_attachment")


class TicketMessageFileSchema(AttachedFileSchema):
    """A file attached to the message; GET
    /tickets/{ticket_id}/messages/{message_id}/attachments/{id} for its short-lived URL."""


class TicketMessageSchema(ma.Schema):
    id = ma.fields.Integer()
    ticket_id = ma.fields.Integer()
    author_id = ma.fields.Integer(allow_none=True)
    author_role = ma.fields.String(metadata={"description": "customer, member, staff or system"})
    visibility = ma.fields.String()
    body = ma.fields.String()
    attachments = ma.fields.List(
        ma.fields.Nested(TicketAttachmentSchema),
        metadata={"description": "Metadata of files stored elsewhere, as the author sent it"},
    )
    files = ma.fields.List(
        ma.fields.Nested(TicketMessageFileSchema),
        metadata={"description": "Uploads attached to the message (attachment_file_ids), in order"},
    )
    created_at = ma.fields.DateTime()


TicketMessagePageSchema = page_of(TicketMessageSchema)


class TicketEventSchema(ma.Schema):
    id = ma.fields.Integer()
    actor_id = ma.fields.Integer(allow_none=True)
    actor_role = ma.fields.String(metadata={"description": "customer, member, staff or system"})
    action = ma.fields.String()
    from_status = ma.fields.String(allow_none=True)
    to_status = ma.fields.String(allow_none=True)
    data = ma.fields.Dict()
    created_at = ma.fields.DateTime()


TicketEventPageSchema = page_of(TicketEventSchema)


class TicketRatingCreateSchema(ma.Schema):
    score = ma.fields.Integer(required=True, strict=True, validate=validate.Range(1, 5))
    comment = Trimmed(load_default=None, allow_none=True, validate=validate.Length(max=2000))
