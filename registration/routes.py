"""HTTP: sign-up of customers and crowd members."""

from accounts.lifecycle import sign_up
from accounts.schemas import SignUpReceiptSchema
from crowd.core.i18n import request_locale
from crowd.core.openapi import CrowdBlueprint
from registration import schemas, service

blp = CrowdBlueprint(
    "registration",
    __name__,
    url_prefix="/api/v1",
    description="Sign-up of customers and crowd members",
)


@blp.route("/accounts/customers", methods=["POST"])
@blp.rate_limited("rate_limit_sign_up")
@blp.idempotent
@blp.arguments(schemas.CustomerRegisterSchema)
@blp.response(202, SignUpReceiptSchema)
def register_customer(data):
    """Sign up as a customer (a person or a business), then sign in (POST /auth/tokens).

    The answer is the same whether or not the email has an account already (202, no ids);
    an existing account's owner is told by email and in the app instead."""
    return sign_up(service.register_customer, locale=request_locale(), **data)


@blp.route("/accounts/members", methods=["POST"])
@blp.rate_limited("rate_limit_sign_up")
@blp.idempotent
@blp.arguments(schemas.MemberRegisterSchema)
@blp.response(202, SignUpReceiptSchema)
def register_member(data):
    """Apply to join the crowd: the account starts as an applicant; then sign in.

    The answer is the same whether or not the email has an account already (202, no ids);
    an existing account's owner is told by email and in the app instead."""
    return sign_up(service.register_member, locale=request_locale(), **data)
