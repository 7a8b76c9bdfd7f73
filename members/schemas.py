"""API contract for the skill catalogue, member profiles, skills, availability and status."""

import re

import marshmallow as ma
from marshmallow import validate

from crowd.core.fields import within_documented_length
from crowd.core.i18n import _
from crowd.core.pagination import PageArgsSchema
from crowd.core.patterns import Pattern
from members.models import COUNTRIES, MEMBER_KINDS, MEMBER_STATUSES
from members.service import MEMBER_ACTIONS, STAFF_ACTIONS

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_SKILLS = 100
MAX_SLOTS = 100


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _strip_strings(schema: ma.Schema, data):
    """Trim surrounding whitespace so that '  ' counts as empty for length checks; a value
    longer than its field's documented maximum stays as sent, so that maximum refuses it."""
    if not isinstance(data, dict):
        return data
    return {
        k: v.strip()
        if isinstance(v, str) and within_documented_length(schema.fields.get(k), v)
        else v
        for k, v in data.items()
    }


# --- catalogue ------------------------------------------------------------------------------


class SkillSchema(ma.Schema):
    slug = ma.fields.String()
    name = ma.fields.String()
    service = ma.fields.String(metadata={"description": "installation, repair or explanation"})


class SkillCategorySchema(ma.Schema):
    slug = ma.fields.String()
    name = ma.fields.String()
    name_de = ma.fields.String()
    requires_verification = ma.fields.Boolean(
        metadata={"description": "Jobs in this category need a skill a CM has verified"}
    )
    skills = ma.fields.List(ma.fields.Nested(SkillSchema))


class CatalogueSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(SkillCategorySchema))


# --- profile --------------------------------------------------------------------------------


class ClockTime(ma.fields.Field):
    """A time of day "HH:MM", held as minutes after midnight; "24:00" is the end of the day."""

    default_error_messages = {"invalid": "Use HH:MM between 00:00 and 24:00."}
    _pattern = re.compile(r"([01]\d|2[0-3]):([0-5]\d)|24:00")

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else _clock(value)

    def _deserialize(self, value, attr, data, **kwargs):
        match = self._pattern.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            raise self.make_error("invalid")
        return 24 * 60 if value == "24:00" else int(match[1]) * 60 + int(match[2])


class AvailabilitySlotSchema(ma.Schema):
    weekday = ma.fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(0, 6),
        metadata={"description": "0 Monday … 6 Sunday"},
    )
    start = ClockTime(required=True, attribute="start_minute", metadata={"example": "08:00"})
    end = ClockTime(required=True, attribute="end_minute", metadata={"example": "24:00"})

    @ma.validates_schema
    def end_after_start(self, data, **kwargs):
        if data["end_minute"] <= data["start_minute"]:
            raise ma.ValidationError(_("must be after start"), "end")


class AvailabilitySchema(ma.Schema):
    """The member's weekly availability in local time; PUT replaces the whole week."""

    slots = ma.fields.List(
        ma.fields.Nested(AvailabilitySlotSchema),
        required=True,
        validate=validate.Length(max=MAX_SLOTS),
    )

    @ma.validates_schema
    def no_overlaps(self, data, **kwargs):
        ordered = sorted(data["slots"], key=lambda s: (s["weekday"], s["start_minute"]))
        for before, after in zip(ordered, ordered[1:], strict=False):
            same_day = before["weekday"] == after["weekday"]
            if same_day and after["start_minute"] < before["end_minute"]:
                raise ma.ValidationError(
                    _(
                        "slots overlap on {value}: {value2}–{value3} and {value4}–{value5}",
                        value=WEEKDAYS[before["weekday"]],
                        value2=_clock(before["start_minute"]),
                        value3=_clock(before["end_minute"]),
                        value4=_clock(after["start_minute"]),
                        value5=_clock(after["end_minute"]),
                    ),
                    "slots",
                )


class MemberSkillSchema(ma.Schema):
    skill = ma.fields.Function(lambda claim: claim.skill.slug)
    name = ma.fields.Function(lambda claim: claim.skill.name)
    service = ma.fields.Function(lambda claim: claim.skill.service)
    category = ma.fields.Function(lambda claim: claim.skill.category.slug)
    proficiency = ma.fields.Integer(metadata={"description": "1 basic, 2 advanced, 3 expert"})
    verified = ma.fields.Boolean()
    verified_by_id = ma.fields.Integer(allow_none=True)
    verified_at = ma.fields.DateTime(allow_none=True)


class MemberStatsSchema(ma.Schema):
    jobs_completed = ma.fields.Integer()
    acceptance_rate = ma.fields.Float(allow_none=True)
    cancellation_rate = ma.fields.Float(allow_none=True)
    average_rating = ma.fields.Float(allow_none=True)
    rating_count = ma.fields.Integer()
    median_response_seconds = ma.fields.Integer(allow_none=True)
    jobs_disputed = ma.fields.Integer(metadata={"description": "Jobs of theirs disputed"})
    disputes_lost = ma.fields.Integer(
        metadata={"description": "Disputes support mediation settled against them (levels)"}
    )


class MemberSchema(ma.Schema):
    """A crowd member's full profile, as the member and staff see it."""

    id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    kind = ma.fields.String()
    display_name = ma.fields.String()
    phone = ma.fields.String(allow_none=True)
    bio = ma.fields.String(allow_none=True)
    business_name = ma.fields.String(allow_none=True)
    lat = ma.fields.Float(allow_none=True)
    lon = ma.fields.Float(allow_none=True)
    postcode = ma.fields.String(allow_none=True)
    city = ma.fields.String(allow_none=True)
    country = ma.fields.String(allow_none=True)
    service_radius_km = ma.fields.Integer()
    max_concurrent_jobs = ma.fields.Integer()
    status = ma.fields.String()
    status_changed_at = ma.fields.DateTime()
    level_rank = ma.fields.Integer(metadata={"description": "0 = no level yet"})
    skills = ma.fields.List(ma.fields.Nested(MemberSkillSchema))
    availability = ma.fields.List(ma.fields.Nested(AvailabilitySlotSchema))
    stats = ma.fields.Nested(MemberStatsSchema, allow_none=True)
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


class MemberSummarySchema(ma.Schema):
    """A lean row of the community managers' member list."""

    id = ma.fields.Integer()
    display_name = ma.fields.String()
    kind = ma.fields.String()
    status = ma.fields.String()
    city = ma.fields.String(allow_none=True)
    country = ma.fields.String(allow_none=True)
    level_rank = ma.fields.Integer()
    skills = ma.fields.Function(lambda member: [claim.skill.slug for claim in member.skills])
    average_rating = ma.fields.Function(
        lambda member: member.stats.average_rating if member.stats else None, allow_none=True
    )
    jobs_completed = ma.fields.Function(
        lambda member: member.stats.jobs_completed if member.stats else 0
    )


class MemberUpdateSchema(ma.Schema):
    """What a member may change about themselves: not status, level, stats or verification."""

    display_name = ma.fields.String(validate=validate.Length(min=1, max=120))
    phone = ma.fields.String(allow_none=True, validate=validate.Length(max=40))
    bio = ma.fields.String(allow_none=True, validate=validate.Length(max=2000))
    business_name = ma.fields.String(allow_none=True, validate=validate.Length(max=200))
    kind = ma.fields.String(validate=validate.OneOf(MEMBER_KINDS))
    lat = ma.fields.Float(allow_none=True, validate=validate.Range(-90, 90))
    lon = ma.fields.Float(allow_none=True, validate=validate.Range(-180, 180))
    postcode = ma.fields.String(
        allow_none=True,
        validate=Pattern(r"\d{4,5}", error="must be 4 (AT, CH) or 5 (DE) digits"),
    )
    city = ma.fields.String(allow_none=True, validate=validate.Length(max=120))
    country = ma.fields.String(allow_none=True, validate=validate.OneOf(COUNTRIES))
    service_radius_km = ma.fields.Integer(strict=True, validate=validate.Range(1, 200))
    max_concurrent_jobs = ma.fields.Integer(strict=True, validate=validate.Range(1, 20))

    @ma.pre_load
    def strip(self, data, **kwargs):
        data = _strip_strings(self, data)
        if not isinstance(data, dict):
            return data  # not an object: the schema refuses it (422)
        # An empty optional text clears it rather than storing "".
        optional = ("phone", "bio", "business_name", "postcode", "city")
        return {k: None if k in optional and v == "" else v for k, v in data.items()}

    @ma.validates_schema
    def coordinates_together(self, data, **kwargs):
        if ("lat" in data) != ("lon" in data):
            missing = "lon" if "lat" in data else "lat"
            raise ma.ValidationError(_("send lat and lon together"), missing)
        if "lat" in data and (data["lat"] is None) != (data["lon"] is None):
            raise ma.ValidationError(_("lat and lon are both set or both null"), "lon")


# --- skills ---------------------------------------------------------------------------------


class SkillClaimSchema(ma.Schema):
    skill = ma.fields.String(required=True, validate=validate.Length(min=1, max=60))
    proficiency = ma.fields.Integer(
        load_default=1,
        strict=True,
        validate=validate.Range(1, 3),
        metadata={"description": "1 basic (default), 2 advanced, 3 expert"},
    )


class SkillClaimsSchema(ma.Schema):
    """The complete set of skills the member offers; PUT replaces it."""

    skills = ma.fields.List(
        ma.fields.Nested(SkillClaimSchema), required=True, validate=validate.Length(max=MAX_SKILLS)
    )

    @ma.validates_schema
    def no_duplicates(self, data, **kwargs):
        seen = set()
        for claim in data["skills"]:
            if claim["skill"] in seen:
                raise ma.ValidationError(
                    _("'{value}' is listed more than once", value=claim["skill"]), "skills"
                )
            seen.add(claim["skill"])


class MemberSkillsSchema(ma.Schema):
    skills = ma.fields.List(ma.fields.Nested(MemberSkillSchema))


# --- time off -------------------------------------------------------------------------------


class TimeOffCreateSchema(ma.Schema):
    """A period the member cannot work; times carry their UTC offset."""

    starts_at = ma.fields.AwareDateTime(
        required=True, metadata={"example": "2030-07-01T08:00+02:00"}
    )
    ends_at = ma.fields.AwareDateTime(required=True, metadata={"example": "2030-07-15T18:00+02:00"})
    reason = ma.fields.String(allow_none=True, validate=validate.Length(max=200))

    @ma.validates_schema
    def ends_after_start(self, data, **kwargs):
        if data["ends_at"] <= data["starts_at"]:
            raise ma.ValidationError(_("must be after starts_at"), "ends_at")


class TimeOffSchema(ma.Schema):
    id = ma.fields.Integer()
    starts_at = ma.fields.DateTime()
    ends_at = ma.fields.DateTime()
    reason = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


# --- status ---------------------------------------------------------------------------------


class MemberStatusActionSchema(ma.Schema):
    action = ma.fields.String(required=True, validate=validate.OneOf(MEMBER_ACTIONS))
    reason = ma.fields.String(validate=validate.Length(max=500))

    @ma.pre_load
    def strip(self, data, **kwargs):
        return _strip_strings(self, data)


class StaffStatusActionSchema(ma.Schema):
    action = ma.fields.String(required=True, validate=validate.OneOf(STAFF_ACTIONS))
    reason = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=500),
        metadata={"description": "Why; kept in the member's status history"},
    )

    @ma.pre_load
    def strip(self, data, **kwargs):
        return _strip_strings(self, data)


class StatusChangeSchema(ma.Schema):
    id = ma.fields.Integer()
    from_status = ma.fields.String(allow_none=True)
    to_status = ma.fields.String()
    reason = ma.fields.String()
    changed_by_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()


# --- directory ------------------------------------------------------------------------------


class MemberQueryArgsSchema(PageArgsSchema):
    skill = ma.fields.String(validate=validate.Length(min=1, max=60))
    status = ma.fields.String(validate=validate.OneOf(MEMBER_STATUSES))
    country = ma.fields.String(validate=validate.OneOf(COUNTRIES))
    city = ma.fields.String(validate=validate.Length(min=1, max=120))
    postcode_prefix = ma.fields.String(validate=Pattern(r"\d{1,5}", error="must be 1 to 5 digits"))
    min_level = ma.fields.Integer(validate=validate.Range(min=0))
    q = ma.fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Part of the display name (case-insensitive)"},
    )


# --- profile photo --------------------------------------------------------------------------


class ProfilePhotoSetSchema(ma.Schema):
    """A ready upload of yours of purpose `profile_photo` (POST /files, then confirm)."""

    file_id = ma.fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=2**63 - 1)
    )


class ProfilePhotoSchema(ma.Schema):
    """Short-lived URLs of the photo and its thumbnail (null until it is made)."""

    url = ma.fields.String(required=True)
    thumbnail_url = ma.fields.String(allow_none=True)
    expires_at = ma.fields.AwareDateTime(required=True)
