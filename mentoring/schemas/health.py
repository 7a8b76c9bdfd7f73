"""API contract of programme health."""

import marshmallow as ma
from marshmallow import validate

from crowd_health.schemas import RankTimeSchema
from members.models import COUNTRIES


class HealthQueryArgsSchema(ma.Schema):
    from_ = ma.fields.Date(
        data_key="from", metadata={"description": "First day (UTC); default 89 days before to"}
    )
    to = ma.fields.Date(metadata={"description": "Last day, inclusive (UTC); default today"})
    country = ma.fields.String(validate=validate.OneOf(COUNTRIES))


class GraduationSchema(ma.Schema):
    graduated = ma.fields.Integer()
    ended = ma.fields.Integer()
    rate = ma.fields.Float(
        allow_none=True, metadata={"description": "graduated / (graduated + ended)"}
    )


class TimeToRankSchema(ma.Schema):
    mentored = ma.fields.Nested(RankTimeSchema)
    unmentored = ma.fields.Nested(RankTimeSchema)


class RegionCountSchema(ma.Schema):
    region = ma.fields.String()
    members = ma.fields.Integer()


class CategoryCountSchema(ma.Schema):
    category = ma.fields.String()
    members = ma.fields.Integer()


class TopPerformerCountsSchema(ma.Schema):
    members = ma.fields.Integer(metadata={"description": "Members with a valid badge now"})
    per_region = ma.fields.List(ma.fields.Nested(RegionCountSchema))
    per_category = ma.fields.List(ma.fields.Nested(CategoryCountSchema))


class AttendanceFiguresSchema(ma.Schema):
    invited = ma.fields.Integer()
    accepted = ma.fields.Integer(metadata={"description": "Accepted (incl. attended, no-show)"})
    declined = ma.fields.Integer()
    attended = ma.fields.Integer()
    no_show = ma.fields.Integer()
    attendance_rate = ma.fields.Float(
        allow_none=True, metadata={"description": "attended / accepted"}
    )


class EventAttendanceFiguresSchema(AttendanceFiguresSchema):
    event_id = ma.fields.Integer()
    title = ma.fields.String()
    starts_at = ma.fields.DateTime()


class EventsHealthSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(EventAttendanceFiguresSchema))
    total = ma.fields.Nested(AttendanceFiguresSchema)


class ProgrammeHealthSchema(ma.Schema):
    from_ = ma.fields.Date(data_key="from", attribute="from")
    to = ma.fields.Date()
    country = ma.fields.String(allow_none=True)
    active_mentorships = ma.fields.Integer()
    graduation = ma.fields.Nested(GraduationSchema)
    time_to_rank_2 = ma.fields.Nested(TimeToRankSchema)
    top_performers = ma.fields.Nested(TopPerformerCountsSchema)
    events = ma.fields.Nested(EventsHealthSchema)
