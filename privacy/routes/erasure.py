"""HTTP for erasure requests."""

from accounts import throttle
from crowd.core.auth import current_principal
from crowd.core.openapi import CrowdBlueprint
from privacy.erasure import schemas, service

blp = CrowdBlueprint(
    "privacy_erasure", __name__, url_prefix="/api/v1", description="Privacy: erasure"
)


@blp.route("/me/erasure", methods=["POST"])
@blp.auth("customer", "member")
@blp.rate_limited("rate_limit_sign_in")
@blp.arguments(schemas.OwnErasureSchema)
@blp.response(200, schemas.ErasureSchema)
@blp.errors(409, 422, 429)
def erase_own_account(data):
    """Erase your own account (with a session token and your password): your personal data
    is anonymised at once and you can no longer sign in. 409 `erasure-blocked` while money is
    in transit or a job, ticket, dispute or chargeback of yours is open (`blocking`)."""
    with throttle.keeping_failures():
        return service.erase_own_account(actor=current_principal(), **data)


@blp.route("/users/<int:user_id>/erasure", methods=["POST"])
@blp.auth("admin")
@blp.idempotent
@blp.arguments(schemas.ErasureRequestSchema)
@blp.response(200, schemas.ErasureSchema)
@blp.errors(404, 409)
def erase_account(data, user_id):
    """Erase a customer's or member's account, with a reason (audited). 409
    `erasure-blocked` (with `blocking`) while something is under way, `already-erased` when
    it was erased before."""
    return service.erase_account(actor=current_principal(), user_id=user_id, **data)
