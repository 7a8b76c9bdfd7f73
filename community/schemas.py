"""API contract of topic groups: groups, threads and replies, moderation, reports, mutes."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from community.models import GROUP_KINDS, MODERATION_ACTIONS, PROGRAMMES, REPORT_STATUSES
from community.reports import DECISIONS, REPORT_REASONS
from crowd.core.fields import Trimmed
from crowd.core.i18n import _
from crowd.core.pagination import PageArgsSchema, page_of
from crowd.core.patterns import Pattern
from members.models import COUNTRIES

MAX_ID = 2**63 - 1
BODY_MAX = 10_000


def _id(**kwargs) -> ma.fields.Integer:
    return ma.fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def _query_id() -> ma.fields.Integer:
    # Query strings carry text: not strict, unlike ids in a JSON body.
    return ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


def _text(max_length: int, **kwargs) -> Trimmed:
    return Trimmed(validate=validate.Length(min=1, max=max_length), **kwargs)


# --- groups ------------------------------------------------------------------------------------


class TopicGroupUpdateSchema(ma.Schema):
    """Change a group's name, description or who qualifies (not its kind). Fields of another
    kind than the group's are refused (422 naming the field)."""

    slug = ma.fields.String(
        validate=[
            validate.Length(min=2, max=80),
            Pattern(r"[a-z0-9]+(-[a-z0-9]+)*", error="lower-case words joined by -"),
        ]
    )
    name = _text(120)
    description = _text(5000, allow_none=True)
    skill_id = _id(allow_none=True, metadata={"description": "Skill groups: the skill"})
    requires_verified_skill = ma.fields.Boolean(
        metadata={"description": "Skill groups: only members whose skill is verified"}
    )
    country = ma.fields.String(
        allow_none=True,
        validate=validate.OneOf(COUNTRIES),
        metadata={"description": "Region groups: the country members live in"},
    )
    postcode_prefix = ma.fields.String(
        allow_none=True,
        validate=Pattern(r"\d{1,5}", error="must be 1 to 5 digits"),
        metadata={"description": "Region groups: members' postcodes start with it"},
    )
    city = _text(120, allow_none=True, metadata={"description": "Region groups: the city"})
    programme = ma.fields.String(
        allow_none=True,
        validate=validate.OneOf(PROGRAMMES),
        metadata={"description": "Programme groups: mentors, mentees or top_performers"},
    )
    min_level_rank = ma.fields.Integer(
        strict=True,
        validate=validate.Range(0, 100),
        metadata={"description": "Members below this level rank do not qualify (0: any)"},
    )

    @ma.validates_schema
    def not_empty(self, data, **kwargs):
        if not data:
            raise ma.ValidationError(_("change at least one field"))


class TopicGroupCreateSchema(TopicGroupUpdateSchema):
    """A group about a skill (skill_id), a region (country, optionally postcode_prefix and
    city) or a programme (programme)."""

    kind = ma.fields.String(required=True, validate=validate.OneOf(GROUP_KINDS))
    requires_verified_skill = ma.fields.Boolean(load_default=False)
    min_level_rank = ma.fields.Integer(strict=True, validate=validate.Range(0, 100), load_default=0)

    class Meta:
        required = ("slug", "name")

    def on_bind_field(self, field_name, field_obj):
        if field_name in self.Meta.required:
            field_obj.required = True
        super().on_bind_field(field_name, field_obj)


class TopicGroupSchema(ma.Schema):
    id = ma.fields.Integer()
    slug = ma.fields.String()
    name = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    kind = ma.fields.String(metadata={"description": "skill, region or programme"})
    skill_id = ma.fields.Integer(allow_none=True)
    skill_slug = ma.fields.String(allow_none=True)
    requires_verified_skill = ma.fields.Boolean()
    country = ma.fields.String(allow_none=True)
    postcode_prefix = ma.fields.String(allow_none=True)
    city = ma.fields.String(allow_none=True)
    programme = ma.fields.String(allow_none=True)
    min_level_rank = ma.fields.Integer()
    archived_at = ma.fields.DateTime(allow_none=True)
    member_count = ma.fields.Integer()
    created_by_id = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    joined = ma.fields.Boolean(
        allow_none=True, metadata={"description": "You belong to it (null for staff)"}
    )
    qualifies = ma.fields.Boolean(
        allow_none=True, metadata={"description": "You may join it (null for staff)"}
    )
    can_moderate = ma.fields.Boolean(metadata={"description": "You may moderate it"})


TopicGroupPageSchema = page_of(TopicGroupSchema)


class TopicGroupQueryArgsSchema(PageArgsSchema):
    """By name; filters: kind, archived, joined (members: the groups you belong to)."""

    kind = ma.fields.String(validate=validate.OneOf(GROUP_KINDS))
    archived = ma.fields.Boolean()
    joined = ma.fields.Boolean()


class GroupArchiveSchema(ma.Schema):
    reason = _text(500, load_default=None, allow_none=True)


# --- threads and replies -------------------------------------------------------------------------


class TopicThreadCreateSchema(ma.Schema):
    title = _text(200, required=True)
    body = _text(BODY_MAX, required=True)


class TopicReplyCreateSchema(ma.Schema):
    body = _text(BODY_MAX, required=True)


class TopicPostUpdateSchema(ma.Schema):
    """New body, and for a thread a new title."""

    title = _text(200)
    body = _text(BODY_MAX)

    @ma.validates_schema
    def not_empty(self, data, **kwargs):
        if not data:
            raise ma.ValidationError(_("change at least one field"))


class PostAuthorSchema(ma.Schema):
    display_name = ma.fields.String()
    member_id = ma.fields.Integer(allow_none=True)
    staff = ma.fields.Boolean(metadata={"description": "A community manager or admin"})


class TopicPostSchema(ma.Schema):
    id = ma.fields.Integer()
    group_id = ma.fields.Integer()
    thread_id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"description": "thread or reply"})
    title = ma.fields.String(allow_none=True, metadata={"description": "Threads only"})
    body = ma.fields.String(
        allow_none=True, metadata={"description": "null when hidden (except for moderators)"}
    )
    author = ma.fields.Nested(PostAuthorSchema, allow_none=True)
    mine = ma.fields.Boolean()
    created_at = ma.fields.DateTime()
    edited_at = ma.fields.DateTime(allow_none=True)
    hidden = ma.fields.Boolean()
    hidden_at = ma.fields.DateTime(allow_none=True, metadata={"description": "Moderators only"})
    hidden_reason = ma.fields.String(allow_none=True, metadata={"description": "Moderators only"})
    editable = ma.fields.Boolean(metadata={"description": "You may edit it now"})


class TopicThreadSchema(TopicPostSchema):
    pinned = ma.fields.Boolean()
    locked = ma.fields.Boolean()
    locked_at = ma.fields.DateTime(allow_none=True)
    reply_count = ma.fields.Integer(metadata={"description": "Every reply, hidden ones too"})
    last_activity_at = ma.fields.DateTime()


TopicThreadPageSchema = page_of(TopicThreadSchema)
TopicReplyPageSchema = page_of(TopicPostSchema)


class TopicThreadDetailSchema(ma.Schema):
    thread = ma.fields.Nested(TopicThreadSchema)
    replies = ma.fields.Nested(TopicReplyPageSchema)
    can_moderate = ma.fields.Boolean()


# --- moderation ----------------------------------------------------------------------------------


class PostHideSchema(ma.Schema):
    reason = _text(500, required=True, metadata={"description": "Told to the author"})


class ModerationReasonSchema(ma.Schema):
    reason = _text(500, load_default=None, allow_none=True)


class ModerationActionSchema(ma.Schema):
    id = ma.fields.Integer()
    group_id = ma.fields.Integer(allow_none=True)
    post_id = ma.fields.Integer(allow_none=True)
    member_id = ma.fields.Integer(allow_none=True)
    action = ma.fields.String(metadata={"description": ", ".join(MODERATION_ACTIONS)})
    reason = ma.fields.String(allow_none=True)
    actor_user_id = ma.fields.Integer()
    actor_name = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


ModerationActionPageSchema = page_of(ModerationActionSchema)


# --- reports -------------------------------------------------------------------------------------


class PostReportCreateSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=validate.OneOf(REPORT_REASONS))
    note = _text(1000, load_default=None, allow_none=True)


class PostReportSchema(ma.Schema):
    id = ma.fields.Integer()
    post_id = ma.fields.Integer()
    reason = ma.fields.String()
    note = ma.fields.String(allow_none=True)
    status = ma.fields.String()
    created_at = ma.fields.DateTime()


class ReportedPostSchema(ma.Schema):
    id = ma.fields.Integer()
    group_id = ma.fields.Integer()
    thread_id = ma.fields.Integer()
    kind = ma.fields.String()
    title = ma.fields.String(allow_none=True)
    excerpt = ma.fields.String()
    author = ma.fields.Nested(PostAuthorSchema, allow_none=True)
    hidden = ma.fields.Boolean()


class QueuedPostReportSchema(ma.Schema):
    id = ma.fields.Integer()
    reason = ma.fields.String()
    note = ma.fields.String(allow_none=True)
    status = ma.fields.String(metadata={"description": ", ".join(REPORT_STATUSES)})
    created_at = ma.fields.DateTime()
    decided_by_id = ma.fields.Integer(allow_none=True)
    decided_at = ma.fields.DateTime(allow_none=True)
    reporter = ma.fields.Nested(PostAuthorSchema, allow_none=True)
    post = ma.fields.Nested(ReportedPostSchema)


QueuedPostReportPageSchema = page_of(QueuedPostReportSchema)


class PostReportQueryArgsSchema(PageArgsSchema):
    status = ma.fields.String(validate=validate.OneOf(REPORT_STATUSES))
    group_id = _query_id()


class ReportDecisionSchema(ma.Schema):
    decision = ma.fields.String(required=True, validate=validate.OneOf(DECISIONS))


class ReportDecisionResultSchema(ma.Schema):
    decision = ma.fields.String()
    post_id = ma.fields.Integer()
    post_hidden = ma.fields.Boolean()
    reports = ma.fields.List(
        ma.fields.Nested(QueuedPostReportSchema),
        metadata={"description": "Every report of the post decided now"},
    )


# --- mutes ---------------------------------------------------------------------------------------


class CommunityMuteCreateSchema(ma.Schema):
    reason = _text(500, required=True, metadata={"description": "Told to the member"})
    until = ma.fields.AwareDateTime(
        load_default=None,
        allow_none=True,
        metadata={"description": "In the future; none: until lifted"},
    )


class CommunityMuteSchema(ma.Schema):
    id = ma.fields.Integer()
    member_id = ma.fields.Integer()
    display_name = ma.fields.String(allow_none=True)
    reason = ma.fields.String()
    until = ma.fields.DateTime(allow_none=True)
    active = ma.fields.Boolean(metadata={"description": "In force now"})
    created_by_id = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    lifted_at = ma.fields.DateTime(allow_none=True)
    lifted_by_id = ma.fields.Integer(allow_none=True)


CommunityMutePageSchema = page_of(CommunityMuteSchema)


class CommunityMuteQueryArgsSchema(PageArgsSchema):
    active = ma.fields.Boolean()
    member_id = _query_id()
