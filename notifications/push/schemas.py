"""API contract for device registration and the push outbox."""

from __future__ import annotations

import re

import marshmallow as ma
from marshmallow import validate

from crowd.core.fields import Trimmed
from crowd.core.pagination import PageArgsSchema, page_of
from crowd.core.patterns import Pattern
from notifications.push.models import PLATFORMS

# APNs device tokens are hex (32 bytes today; Apple says not to rely on the length); FCM
# registration tokens are URL-safe text with colons, ~150–200 characters today.
TOKEN_FORMATS = {
    "ios": (re.compile(r"(?:[0-9a-fA-F]{2}){32,100}"), "must be 64 to 200 hex digits for ios"),
    "android": (
        re.compile(r"[A-Za-z0-9_:\-]{100,1024}"),
        "must be 100 to 1024 characters of letters, digits, '_', '-' and ':' for android",
    ),
}


class PushDeviceCreateSchema(ma.Schema):
    platform = ma.fields.String(required=True, validate=validate.OneOf(PLATFORMS))
    token = Trimmed(
        required=True,
        validate=validate.Length(min=1, max=1024),
        metadata={"description": "The APNs device token (hex) or the FCM registration token"},
    )
    app_version = Trimmed(
        required=True,
        validate=Pattern(r"[0-9]{1,5}(\.[0-9]{1,5}){0,3}([-+][0-9A-Za-z.\-]{1,20})?"),
        metadata={"description": "The app's version, e.g. 2.4.1 or 2.5.0-beta.1"},
    )
    locale = Trimmed(
        required=True,
        validate=Pattern(r"[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?"),
        metadata={"description": "The device's language, e.g. de-DE, de-CH or en"},
    )
    name = Trimmed(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "A name the user recognises, e.g. “Anna's iPhone”"},
    )

    @ma.validates_schema(skip_on_field_errors=True)
    def token_fits_platform(self, data, **kwargs):
        pattern, message = TOKEN_FORMATS[data["platform"]]
        if not pattern.fullmatch(data["token"]):
            raise ma.ValidationError(message, "token")

    @ma.post_load
    def normalise(self, data, **kwargs):
        # APNs tokens are case-insensitive hex: one spelling, so a re-registration matches.
        if data["platform"] == "ios":
            data["token"] = data["token"].lower()
        return data


class PushDeviceSchema(ma.Schema):
    id = ma.fields.Integer()
    platform = ma.fields.String()
    token = ma.fields.String()
    app_version = ma.fields.String()
    locale = ma.fields.String()
    name = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean(
        metadata={"description": "false once retired: pushes no longer go to it"}
    )
    created_at = ma.fields.DateTime()
    last_seen_at = ma.fields.DateTime(
        metadata={"description": "When the app last registered the token"}
    )
    retired_at = ma.fields.DateTime(allow_none=True)
    retired_reason = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "unregistered, invalid_token, sender_mismatch (the provider said the "
            "token is dead: register it anew), replaced (a newer device took its place) or "
            "signed_out (the account was deactivated)"
        },
    )


class PushDeviceListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PushDeviceSchema))


class PushOutboxQueryArgsSchema(PageArgsSchema):
    user_id = ma.fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**63 - 1))


class PushOutboxEntrySchema(ma.Schema):
    id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    device_id = ma.fields.Integer(allow_none=True)
    platform = ma.fields.String()
    token_tail = ma.fields.String(metadata={"description": "The last 8 characters of the token"})
    kind = ma.fields.String()
    title = ma.fields.String()
    body = ma.fields.String()
    data = ma.fields.Dict(metadata={"description": "Deep-link data, string values"})
    badge = ma.fields.Integer(allow_none=True)
    collapse_key = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


PushOutboxPageSchema = page_of(PushOutboxEntrySchema)
