"""API contract for registration, sign-in, tokens, API keys and staff accounts."""

import marshmallow as ma
from marshmallow import validate

from accounts.authentication import answer_profiles
from accounts.models import ALERT_DIGESTS, ALERT_QUEUES
from crowd.core.auth import API_KEY_SCOPES
from crowd.core.i18n import LOCALES, _
from crowd.core.patterns import Pattern

Email = ma.fields.Email(required=True, validate=validate.Length(max=254))
Password = ma.fields.String(
    required=True, load_only=True, validate=validate.Length(min=10, max=200)
)
Name = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))


def device_id_field() -> ma.fields.String:
    return ma.fields.String(
        load_only=True,
        validate=[
            validate.Length(min=8, max=200),
            Pattern(r"[A-Za-z0-9._:\-]{8,200}", error="not a device id"),
        ],
        metadata={"description": "The app's install id; stored only as its SHA-256"},
    )


class UserSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    email = ma.fields.Email(dump_only=True)
    role = ma.fields.String(dump_only=True)
    display_name = ma.fields.String(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)
    customer_id = ma.fields.Function(
        lambda user: answer_profiles(user.id).get("customer_id"), dump_only=True, allow_none=True
    )
    member_id = ma.fields.Function(
        lambda user: answer_profiles(user.id).get("member_id"), dump_only=True, allow_none=True
    )
    locale = ma.fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "Your language (de, en); null: not chosen"},
    )


class UserUpdateSchema(ma.Schema):
    """A change of your own account: your language."""

    locale = ma.fields.String(
        required=True,
        allow_none=True,
        validate=validate.OneOf(LOCALES),
        metadata={
            "description": "de or en: the language of the API's messages, notifications, "
            "emails and pushes to you; null: from each request's Accept-Language"
        },
    )


class StaffCreateSchema(ma.Schema):
    email = Email
    password = Password
    display_name = Name
    role = ma.fields.String(required=True, validate=validate.OneOf(["community_manager", "admin"]))


class TokenCreateSchema(ma.Schema):
    email = ma.fields.Email(required=True)
    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(max=200))
    name = ma.fields.String(load_default="session", validate=validate.Length(min=1, max=120))
    device_id = device_id_field()


_SCOPES_DOC = "; ".join(f"`{scope}`: {what}" for scope, what in API_KEY_SCOPES.items())


def _distinct(values: list) -> None:
    if len(set(values)) != len(values):
        raise ma.ValidationError(_("each scope once"))


class ApiKeyCreateSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))
    expires_in_days = ma.fields.Integer(validate=validate.Range(min=1, max=730))
    scopes = ma.fields.List(
        ma.fields.String(validate=validate.OneOf(list(API_KEY_SCOPES))),
        required=True,
        validate=[validate.Length(min=1, max=len(API_KEY_SCOPES)), _distinct],
        metadata={
            "uniqueItems": True,
            "description": "What the key may do — "
            + _SCOPES_DOC
            + ". Nothing else: an API key never reaches credentials or the account.",
        },
    )


class CredentialSchema(ma.Schema):
    """A token or API key as listed: never the secret itself."""

    id = ma.fields.Integer()
    kind = ma.fields.String()
    name = ma.fields.String()
    hint = ma.fields.String(metadata={"description": "First characters of the secret"})
    created_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime()
    last_used_at = ma.fields.DateTime(allow_none=True)
    revoked_at = ma.fields.DateTime(allow_none=True)
    active = ma.fields.Boolean()
    scopes = ma.fields.List(
        ma.fields.String(),
        attribute="scope_list",
        allow_none=True,
        metadata={"description": "An API key's scopes; null for a session (the role's access)"},
    )


class IssuedCredentialSchema(CredentialSchema):
    """Returned once, at creation: the secret is not stored and cannot be shown again."""

    token = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "Send as Authorization: Bearer <token>. Shown once: null when an "
            "Idempotency-Key replays the creation (the secret is not stored)"
        },
    )
    user = ma.fields.Nested(UserSchema)

    @ma.pre_dump
    def flatten(self, issued, **kwargs):
        fields = {
            field.attribute or name: getattr(issued.token, field.attribute or name)
            for name, field in CredentialSchema._declared_fields.items()
        }
        return {**fields, "token": issued.secret, "user": issued.user}


class CredentialListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CredentialSchema))


class CredentialQueryArgsSchema(ma.Schema):
    include_inactive = ma.fields.Boolean(load_default=False)


# --- account lifecycle ------------------------------------------------------------------------


class SignUpReceiptSchema(ma.Schema):
    """The same answer whether or not the email had an account: sign in to go on."""

    email = ma.fields.Email(metadata={"description": "The address, as the account would have it"})
    detail = ma.fields.String()


class PasswordChangeSchema(ma.Schema):
    current_password = ma.fields.String(
        required=True, load_only=True, validate=validate.Length(max=200)
    )
    new_password = ma.fields.String(
        required=True, load_only=True, validate=validate.Length(min=10, max=200)
    )


class PasswordResetRequestSchema(ma.Schema):
    email = ma.fields.Email(required=True, validate=validate.Length(max=254))


class PasswordResetRequestedSchema(ma.Schema):
    detail = ma.fields.String()


class PasswordResetRedeemSchema(ma.Schema):
    token = ma.fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "The code from the reset email (crp_…)"},
    )
    password = ma.fields.String(
        required=True, load_only=True, validate=validate.Length(min=10, max=200)
    )


class DeactivationSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=validate.Length(min=1, max=500))


class AccountAccessSchema(ma.Schema):
    """Whether an account may sign in, and what its deactivation revoked."""

    id = ma.fields.Integer()
    email = ma.fields.Email()
    role = ma.fields.String()
    active = ma.fields.Boolean()
    disabled_at = ma.fields.DateTime(allow_none=True)
    disabled_reason = ma.fields.String(allow_none=True)
    credentials_revoked = ma.fields.Integer(
        metadata={"description": "Session tokens and API keys revoked by this call"}
    )


class ResponsibilitySchema(ma.Schema):
    queue = ma.fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.OneOf(ALERT_QUEUES),
        metadata={"description": "dispatch, payments, tickets, onboarding or community; null: any"},
    )
    country = ma.fields.String(
        allow_none=True, load_default=None, validate=validate.OneOf(["DE", "AT", "CH"])
    )
    postcode_prefix = ma.fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Regexp(r"^[0-9]{1,5}$", error="1 to 5 digits"),
        metadata={"description": "Jobs whose postcode starts with it (e.g. 80 for Munich)"},
    )

    @ma.validates_schema
    def _says_something(self, data, **kwargs):
        if not any(data.get(name) for name in ("queue", "country", "postcode_prefix")):
            raise ma.ValidationError(_("name a queue, a country or a postcode prefix"), "queue")


class AlertSettingsUpdateSchema(ma.Schema):
    """A change of a staff member's alert settings: the cadence and/or the responsibilities."""

    digest = ma.fields.String(
        validate=validate.OneOf(ALERT_DIGESTS),
        metadata={
            "description": "Alerts by email: immediate (each at once), hourly or daily digest, "
            "or off (inbox only)"
        },
    )
    responsibilities = ma.fields.List(
        ma.fields.Nested(ResponsibilitySchema),
        validate=validate.Length(max=50),
        metadata={
            "description": "What this community manager answers for; alerts go to the CMs a "
            "responsibility of whom matches, else to every CM. Replaced as a whole."
        },
    )


class AlertSettingsSchema(AlertSettingsUpdateSchema):
    user_id = ma.fields.Integer()
