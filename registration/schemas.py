"""API contract of sign-up: a customer, or a would-be crowd member with where they came from."""

import marshmallow as ma
from marshmallow import validate

from accounts.schemas import Email, Name, Password, device_id_field
from crowd.core.i18n import _
from members.models import COUNTRIES, MEMBER_KINDS
from recruitment.schemas import referral_code_field, source_code_field


class CustomerRegisterSchema(ma.Schema):
    email = Email
    password = Password
    display_name = Name
    kind = ma.fields.String(load_default="person", validate=validate.OneOf(["person", "business"]))
    company_name = ma.fields.String(validate=validate.Length(max=200))
    phone = ma.fields.String(validate=validate.Length(max=40))

    @ma.validates_schema
    def business_needs_company(self, data, **kwargs):
        if data.get("kind") == "business" and not data.get("company_name"):
            raise ma.ValidationError(_("required for business customers"), "company_name")


class MemberRegisterSchema(ma.Schema):
    email = Email
    password = Password
    display_name = Name
    kind = ma.fields.String(required=True, validate=validate.OneOf(MEMBER_KINDS))
    phone = ma.fields.String(validate=validate.Length(max=40))
    postcode = ma.fields.String(validate=validate.Length(min=4, max=10))
    city = ma.fields.String(validate=validate.Length(max=120))
    country = ma.fields.String(validate=validate.OneOf(COUNTRIES))
    referral_code = referral_code_field()
    source_code = source_code_field()
    device_id = device_id_field()
