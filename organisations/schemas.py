"""API contract for provider companies, their members and invitations."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from accounts.schemas import Email
from crowd.core.fields import Trimmed
from crowd.core.pagination import PageArgsSchema
from organisations.models import COUNTRIES, ORGANISATION_STATUSES, ROLES


def _text(max_length: int, **kwargs) -> Trimmed:
    return Trimmed(validate=validate.Length(min=1, max=max_length), **kwargs)


def _optional(max_length: int) -> Trimmed:
    return Trimmed(allow_none=True, validate=validate.Length(max=max_length))


def _particulars(required: bool) -> dict:
    return {
        "legal_name": _text(200, required=required),
        "trade_name": _optional(200),
        "street": _text(200, required=required),
        "postcode": Trimmed(
            required=required,
            validate=validate.Length(min=4, max=10),
            metadata={"description": "DE: 5 digits, AT and CH: 4 digits"},
        ),
        "city": _text(120, required=required),
        "country": ma.fields.String(required=required, validate=validate.OneOf(COUNTRIES)),
        "vat_id": Trimmed(
            allow_none=True,
            validate=validate.Length(max=40),
            metadata={"description": "The company's VAT ID (of its country); or a tax number"},
        ),
        "tax_number": Trimmed(
            allow_none=True,
            validate=validate.Length(max=40),
            metadata={"description": "DE Steuernummer, AT Abgabenkontonummer or CH UID"},
        ),
        "register_court": Trimmed(
            allow_none=True,
            validate=validate.Length(max=120),
            metadata={"description": "The trade register's court (with register_number)"},
        ),
        "register_number": _optional(40),
        "allow_direct_accept": ma.fields.Boolean(
            metadata={
                "description": "Whether technicians may accept offers to the company "
                "themselves (else the dispatcher assigns them)"
            },
            **({"load_default": False} if required else {}),
        ),
    }


OrganisationCreateSchema = ma.Schema.from_dict(
    _particulars(required=True), name="OrganisationCreateSchema"
)
OrganisationUpdateSchema = ma.Schema.from_dict(
    _particulars(required=False), name="OrganisationUpdateSchema"
)


class OrganisationSchema(ma.Schema):
    id = ma.fields.Integer()
    legal_name = ma.fields.String()
    trade_name = ma.fields.String(allow_none=True)
    street = ma.fields.String()
    postcode = ma.fields.String()
    city = ma.fields.String()
    country = ma.fields.String()
    vat_id = ma.fields.String(allow_none=True)
    tax_number = ma.fields.String(allow_none=True)
    register_court = ma.fields.String(allow_none=True)
    register_number = ma.fields.String(allow_none=True)
    insurance_file_id = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "The insurance certificate, once uploads of it are wired"},
    )
    status = ma.fields.String(metadata={"description": "pending, active, suspended or closed"})
    status_changed_at = ma.fields.DateTime()
    allow_direct_accept = ma.fields.Boolean()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


class OwnOrganisationSchema(OrganisationSchema):
    """The caller's company with their membership."""

    member_id = ma.fields.Integer(metadata={"description": "Your member id"})
    role = ma.fields.String(metadata={"description": "Your role: owner, dispatcher or technician"})


class OrganisationMemberSchema(ma.Schema):
    """A member of a company: their membership and their own standing."""

    member_id = ma.fields.Integer()
    display_name = ma.fields.String()
    role = ma.fields.String(metadata={"description": "owner, dispatcher or technician"})
    status = ma.fields.String(metadata={"description": "The membership: active, left or removed"})
    joined_at = ma.fields.DateTime()
    left_at = ma.fields.DateTime(allow_none=True)
    member_status = ma.fields.String(
        metadata={"description": "The member's own status (applicant, active …)"}
    )
    level_rank = ma.fields.Integer(metadata={"description": "The member's own level rank"})


class OrganisationMemberListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(OrganisationMemberSchema))


class OrganisationDetailSchema(OrganisationSchema):
    members = ma.fields.List(ma.fields.Nested(OrganisationMemberSchema))


class MembershipUpdateSchema(ma.Schema):
    role = ma.fields.String(required=True, validate=validate.OneOf(ROLES))


class OrganisationQueryArgsSchema(PageArgsSchema):
    status = ma.fields.String(validate=validate.OneOf(ORGANISATION_STATUSES))
    q = Trimmed(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Legal or trade name contains (case-insensitive)"},
    )


# --- invitations ------------------------------------------------------------------------------


class OrganisationInvitationCreateSchema(ma.Schema):
    email = Email
    role = ma.fields.String(
        required=True,
        validate=validate.OneOf(ROLES),
        metadata={"description": "Owners invite in any role, dispatchers technicians only"},
    )


class OrganisationInvitationSchema(ma.Schema):
    id = ma.fields.Integer()
    email = ma.fields.String()
    role = ma.fields.String()
    invited_by_member_id = ma.fields.Integer(attribute="invited_by_id")
    created_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime()
    accepted_at = ma.fields.DateTime(allow_none=True)
    revoked_at = ma.fields.DateTime(allow_none=True)


class OrganisationInvitationListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(OrganisationInvitationSchema))


class OrganisationInvitationAcceptSchema(ma.Schema):
    token = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "The token of the emailed link"},
    )
