"""API contract for provider companies, their members and invitations."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from accounts.schemas import Email
from crowd.core.fields import Trimmed
from crowd.core.pagination import PageArgsSchema
from organisations.models import CHECK_DECISIONS, COUNTRIES, ORGANISATION_STATUSES, ROLES


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
        metadata={
            "description": "The insurance certificate (an upload of purpose "
            "insurance_certificate): read it at GET /organisations/{id}/insurance-certificate"
        },
    )
    status = ma.fields.String(metadata={"description": "pending, active, suspended or closed"})
    status_changed_at = ma.fields.DateTime()
    allow_direct_accept = ma.fields.Boolean()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


class HouseRulesCheckSchema(ma.Schema):
    required = ma.fields.Boolean(metadata={"description": "False while none are published"})
    current_version = ma.fields.Integer(allow_none=True)
    accepted_version = ma.fields.Integer(allow_none=True)
    accepted_at = ma.fields.DateTime(allow_none=True)
    accepted_by_member_id = ma.fields.Integer(allow_none=True)


class InsuranceCheckSchema(ma.Schema):
    file_id = ma.fields.Integer(allow_none=True)


class ChecksDecisionSchema(ma.Schema):
    decision = ma.fields.String(
        allow_none=True, metadata={"description": "verified, rejected or null (none yet)"}
    )
    decided_at = ma.fields.DateTime(allow_none=True)
    decided_by_user_id = ma.fields.Integer(allow_none=True)
    note = ma.fields.String(allow_none=True)


class OrganisationChecksSchema(ma.Schema):
    """The company's onboarding: what activation asks for."""

    house_rules = ma.fields.Nested(HouseRulesCheckSchema)
    insurance_certificate = ma.fields.Nested(InsuranceCheckSchema)
    decision = ma.fields.Nested(ChecksDecisionSchema)
    missing = ma.fields.List(
        ma.fields.String(),
        metadata={
            "description": "The checks not done yet: house_rules, insurance_certificate, "
            "checks_verified ([]: the company may be activated)"
        },
    )


class OwnOrganisationSchema(OrganisationSchema):
    """The caller's company with their membership."""

    member_id = ma.fields.Integer(metadata={"description": "Your member id"})
    role = ma.fields.String(metadata={"description": "Your role: owner, dispatcher or technician"})
    checks = ma.fields.Nested(OrganisationChecksSchema)


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
    checks = ma.fields.Nested(OrganisationChecksSchema)


class CompanyHouseRulesAcceptSchema(ma.Schema):
    version = ma.fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1),
        metadata={"description": "The version read (GET /house-rules/current)"},
    )


class InsuranceCertificateSetSchema(ma.Schema):
    """A ready upload of yours of purpose `insurance_certificate` (an image or a PDF)."""

    file_id = ma.fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=2**63 - 1)
    )


class ChecksDecisionCreateSchema(ma.Schema):
    decision = ma.fields.String(
        required=True,
        validate=validate.OneOf(CHECK_DECISIONS),
        metadata={
            "description": "verified: trade register entry (where given) and insurance "
            "certificate seen; rejected: the note says what is wrong"
        },
    )
    note = Trimmed(allow_none=True, validate=validate.Length(max=500))


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
