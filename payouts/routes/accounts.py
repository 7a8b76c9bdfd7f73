"""HTTP for payout accounts: a member's connected account and its onboarding link."""

from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from payouts import accounts
from payouts.schemas.accounts import (
    PayoutAccountCreateSchema,
    PayoutAccountLinkSchema,
    PayoutAccountSchema,
)

blp = CrowdBlueprint(
    "payouts_accounts",
    __name__,
    url_prefix="/api/v1",
    description="Money: members' payout accounts at the payment provider",
)


@blp.route("/me/payout-account", methods=["POST"])
@blp.auth("member")
@blp.rate_limited("rate_limit_payments", shared="payments")
# The onboarding link lets whoever holds it fill in the member's payout account: never at rest.
@blp.idempotent(secrets=("onboarding_url",))
@blp.arguments(PayoutAccountCreateSchema)
@blp.response(201, PayoutAccountLinkSchema)
@blp.errors(402, 404, 503)
def create_payout_account(data):
    """Create your payout account if you have none, and get a fresh onboarding link."""
    return accounts.ensure_payout_account(actor=current_principal(), **data)


@blp.route("/me/payout-account", methods=["GET"])
@blp.auth("member")
@blp.response(200, PayoutAccountSchema)
@blp.errors(404)
def get_own_payout_account():
    """Your payout account and whether payouts to it are enabled."""
    return accounts.get_own_payout_account(actor=current_principal())


@blp.route("/me/organisation/payout-account", methods=["POST"])
@blp.auth("member")
@blp.rate_limited("rate_limit_payments", shared="payments")
@blp.idempotent(secrets=("onboarding_url",))
@blp.arguments(PayoutAccountCreateSchema)
@blp.response(201, PayoutAccountLinkSchema)
@blp.errors(402, 403, 404, 503)
def create_organisation_payout_account(data):
    """Your company's payout account (owner): created if it has none (in the company's
    country unless given), with a fresh onboarding link. The company's payouts go there."""
    return accounts.ensure_organisation_payout_account(actor=current_principal(), **data)


@blp.route("/me/organisation/payout-account", methods=["GET"])
@blp.auth("member")
@blp.response(200, PayoutAccountSchema)
@blp.errors(403, 404)
def get_organisation_payout_account():
    """Your company's payout account (owner) and whether payouts to it are enabled."""
    return accounts.get_organisation_payout_account(actor=current_principal())


@blp.route("/members/<int:member_id>/payout-account", methods=["GET"])
@blp.auth(*STAFF)
@blp.response(200, PayoutAccountSchema)
@blp.errors(404)
def get_member_payout_account(member_id):
    """A member's payout account and whether payouts to it are enabled."""
    return accounts.get_member_payout_account(actor=current_principal(), member_id=member_id)
