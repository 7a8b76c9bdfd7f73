"""API contract for members' payout accounts (connected accounts at the payment provider)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from members.models import COUNTRIES

_HTTPS = {"schemes": {"https"}, "require_tld": True}


class PayoutAccountCreateSchema(ma.Schema):
    """Where the provider's onboarding sends the member back to (https; defaults configured)."""

    refresh_url = ma.fields.Url(
        **_HTTPS,
        validate=validate.Length(max=2000),
        metadata={"description": "Where an expired or revisited onboarding link leads"},
    )
    return_url = ma.fields.Url(
        **_HTTPS,
        validate=validate.Length(max=2000),
        metadata={"description": "Where the member lands after onboarding"},
    )
    country = ma.fields.String(
        validate=validate.OneOf(COUNTRIES),
        metadata={"description": "Country of the account; default: your profile's country"},
    )


class PayoutAccountSchema(ma.Schema):
    member_id = ma.fields.Integer(allow_none=True)
    organisation_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "A provider company's account: the company"}
    )
    provider = ma.fields.String(metadata={"description": "offline or stripe"})
    account_id = ma.fields.String(attribute="provider_account_id")
    country = ma.fields.String()
    payouts_enabled = ma.fields.Boolean(
        metadata={"description": "Payouts are only made while this is true"}
    )
    charges_enabled = ma.fields.Boolean()
    details_submitted = ma.fields.Boolean()
    state_as_of = ma.fields.DateTime(
        attribute="updated_from_event_at",
        allow_none=True,
        metadata={"description": "Provider time of the state shown"},
    )
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


class PayoutAccountLinkSchema(ma.Schema):
    account = ma.fields.Nested(PayoutAccountSchema)
    onboarding_url = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "Single-use link to the provider's onboarding; expires soon. Shown "
            "once: null when an Idempotency-Key replays the request (the link is not stored); "
            "POST again without the key for a fresh one"
        },
    )
