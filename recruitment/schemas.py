"""API contract of recruitment: referral codes and referrals, channels, the funnel."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from crowd.core.fields import ReportedAmount, Trimmed
from crowd.core.pagination import PageArgsSchema, page_of
from crowd.core.patterns import Pattern
from members.models import COUNTRIES
from recruitment.models import CHANNEL_KINDS, PARTNER_TYPES, REFERRAL_STATUSES, SOURCE_KINDS

CHANNEL_CODE = r"[A-Za-z0-9][A-Za-z0-9_\-]{1,39}"


def _id(**kwargs) -> ma.fields.Integer:
    return ma.fields.Integer(strict=True, validate=validate.Range(min=1, max=2**63 - 1), **kwargs)


def _query_id() -> ma.fields.Integer:
    return ma.fields.Integer(validate=validate.Range(min=1, max=2**63 - 1))


# --- fields the sign-up and sign-in bodies take (accounts.schemas) -----------------


def referral_code_field() -> ma.fields.String:
    return ma.fields.String(
        validate=[validate.Length(max=16), Pattern(r"[A-Za-z0-9]{4,16}", error="not a code")],
        metadata={"description": "A member's referral code (the link's ?ref=), any case"},
    )


def source_code_field() -> ma.fields.String:
    return ma.fields.String(
        validate=[validate.Length(max=40), Pattern(CHANNEL_CODE, error="not a code")],
        metadata={"description": "An event's, partner's or campaign's code, any case"},
    )


# --- the member's code and referrals ------------------------------------------------------


class ReferralCountsSchema(ma.Schema):
    pending = ma.fields.Integer()
    review = ma.fields.Integer()
    rewarded = ma.fields.Integer()
    refused = ma.fields.Integer()
    lapsed = ma.fields.Integer()


class RewardTotalSchema(ma.Schema):
    currency = ma.fields.String()
    amount_minor = ReportedAmount(metadata={"description": "Sum of rewards, minor units"})
    count = ma.fields.Integer()


class MyReferralSchema(ma.Schema):
    code = ma.fields.String()
    link = ma.fields.String(metadata={"description": "RECRUITMENT_JOIN_URL?ref=<code>"})
    active = ma.fields.Boolean(
        metadata={"description": "Whether sign-ups with it are accepted now"}
    )
    disabled_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()
    counts = ma.fields.Nested(ReferralCountsSchema)
    rewards = ma.fields.List(ma.fields.Nested(RewardTotalSchema))


class ReferredNameSchema(ma.Schema):
    display_name = ma.fields.String()


class ReferredProgressSchema(ma.Schema):
    done = ma.fields.Integer()
    total = ma.fields.Integer()


class MyReferralItemSchema(ma.Schema):
    """One referral as its referrer sees it: progress, never private data."""

    id = ma.fields.Integer()
    referred = ma.fields.Nested(ReferredNameSchema)
    application_status = ma.fields.String(allow_none=True)
    onboarding = ma.fields.Nested(
        ReferredProgressSchema, metadata={"description": "Steps done / total"}
    )
    milestone = ma.fields.String(metadata={"description": "approved or first_job"})
    milestone_reached = ma.fields.Boolean()
    milestone_reached_at = ma.fields.DateTime(allow_none=True)
    status = ma.fields.String()
    reward_minor = ReportedAmount(allow_none=True)
    reward_currency = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


MyReferralPageSchema = page_of(MyReferralItemSchema)


class MyReferralArgsSchema(PageArgsSchema):
    status = ma.fields.String(validate=validate.OneOf(REFERRAL_STATUSES))


# --- staff ----------------------------------------------------------------------------------


class ReferralMemberSchema(ma.Schema):
    member_id = ma.fields.Integer()
    display_name = ma.fields.String()
    status = ma.fields.String()


class ReferralSchema(ma.Schema):
    id = ma.fields.Integer()
    referrer = ma.fields.Nested(ReferralMemberSchema)
    referred = ma.fields.Nested(ReferralMemberSchema)
    code = ma.fields.String()
    status = ma.fields.String()
    reason = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "same_person, same_device, same_payout_account, same_email_domain, "
            "referrer_inactive, monthly_cap, left_before_milestone, or a CM's reason"
        },
    )
    milestone = ma.fields.String()
    milestone_reached_at = ma.fields.DateTime(allow_none=True)
    reward_minor = ReportedAmount(allow_none=True)
    reward_currency = ma.fields.String(allow_none=True)
    reward_transaction_id = ma.fields.Integer(allow_none=True)
    decided_by_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


ReferralPageSchema = page_of(ReferralSchema)


class ReferralArgsSchema(PageArgsSchema):
    status = ma.fields.String(validate=validate.OneOf(REFERRAL_STATUSES))
    referrer_id = _query_id()
    referred_id = _query_id()


class ReferralRefuseSchema(ma.Schema):
    reason = Trimmed(required=True, validate=validate.Length(min=1, max=60))


class ReferralCodeSchema(ma.Schema):
    code = ma.fields.String()
    member_id = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    disabled_at = ma.fields.DateTime(allow_none=True)


# --- channels -------------------------------------------------------------------------------


class ChannelUpdateSchema(ma.Schema):
    name = Trimmed(validate=validate.Length(min=1, max=200))
    partner_type = ma.fields.String(allow_none=True, validate=validate.OneOf(PARTNER_TYPES))
    event_id = _id(allow_none=True)
    city = Trimmed(allow_none=True, validate=validate.Length(min=1, max=120))
    country = ma.fields.String(allow_none=True, validate=validate.OneOf(COUNTRIES))
    active = ma.fields.Boolean()


class ChannelCreateSchema(ChannelUpdateSchema):
    kind = ma.fields.String(required=True, validate=validate.OneOf(CHANNEL_KINDS))
    code = ma.fields.String(
        required=True,
        validate=Pattern(CHANNEL_CODE, error="2–40 letters, digits, - or _"),
        metadata={"description": "What applicants type (?source=); stored upper case"},
    )
    name = Trimmed(required=True, validate=validate.Length(min=1, max=200))
    active = ma.fields.Boolean(load_default=True)


class ChannelSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    code = ma.fields.String()
    name = ma.fields.String()
    partner_type = ma.fields.String(allow_none=True)
    event_id = ma.fields.Integer(allow_none=True)
    city = ma.fields.String(allow_none=True)
    country = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean()
    created_by_id = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


ChannelPageSchema = page_of(ChannelSchema)


class ChannelArgsSchema(PageArgsSchema):
    kind = ma.fields.String(validate=validate.OneOf(CHANNEL_KINDS))
    active = ma.fields.Boolean()
    country = ma.fields.String(validate=validate.OneOf(COUNTRIES))


# --- funnel ---------------------------------------------------------------------------------


class FunnelArgsSchema(ma.Schema):
    from_ = ma.fields.Date(
        data_key="from", metadata={"description": "First day (UTC); default 89 days before to"}
    )
    to = ma.fields.Date(metadata={"description": "Last day, inclusive (UTC); default today"})
    country = ma.fields.String(validate=validate.OneOf(COUNTRIES))
    source = ma.fields.String(validate=validate.OneOf(SOURCE_KINDS))
    channel_id = _query_id()


class ConversionSchema(ma.Schema):
    passed_skill_test = ma.fields.Float(allow_none=True, metadata={"description": "/ applied"})
    approved = ma.fields.Float(allow_none=True, metadata={"description": "/ passed_skill_test"})
    first_job = ma.fields.Float(allow_none=True, metadata={"description": "/ approved"})
    active_after_90_days = ma.fields.Float(allow_none=True, metadata={"description": "/ first_job"})


class FunnelCountsSchema(ma.Schema):
    applied = ma.fields.Integer()
    passed_skill_test = ma.fields.Integer()
    approved = ma.fields.Integer()
    first_job = ma.fields.Integer()
    active_after_90_days = ma.fields.Integer()
    conversion = ma.fields.Nested(ConversionSchema)


class ChannelFunnelSchema(FunnelCountsSchema):
    channel_id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String()


class SourceFunnelSchema(FunnelCountsSchema):
    source = ma.fields.String()
    channels = ma.fields.List(
        ma.fields.Nested(ChannelFunnelSchema),
        metadata={"description": "For event, partner and campaign: per channel"},
    )


class FunnelSchema(ma.Schema):
    from_ = ma.fields.Date(data_key="from", attribute="from")
    to = ma.fields.Date()
    country = ma.fields.String(allow_none=True)
    source = ma.fields.String(allow_none=True)
    channel_id = ma.fields.Integer(allow_none=True)
    sources = ma.fields.List(ma.fields.Nested(SourceFunnelSchema))
    total = ma.fields.Nested(FunnelCountsSchema)
