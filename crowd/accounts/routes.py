"""HTTP: sign-up, sign-in, tokens, API keys, staff accounts and /me."""

from crowd.accounts import schemas, service
from crowd.core.auth import current_principal
from crowd.core.openapi import CrowdBlueprint

blp = CrowdBlueprint(
    "accounts", __name__, url_prefix="/api/v1", description="Accounts and credentials"
)


@blp.route("/accounts/customers", methods=["POST"])
@blp.rate_limited("rate_limit_sign_up")
@blp.idempotent
@blp.arguments(schemas.CustomerRegisterSchema)
@blp.response(201, schemas.UserSchema)
@blp.errors(409)
def register_customer(data):
    """Sign up as a customer (a person or a business)."""
    return service.register_customer(**data)


@blp.route("/accounts/members", methods=["POST"])
@blp.rate_limited("rate_limit_sign_up")
@blp.idempotent
@blp.arguments(schemas.MemberRegisterSchema)
@blp.response(201, schemas.UserSchema)
@blp.errors(409)
def register_member(data):
    """Apply to join the crowd: the account starts as an applicant."""
    return service.register_member(**data)


@blp.route("/accounts/staff", methods=["POST"])
@blp.auth("admin")
@blp.idempotent
@blp.arguments(schemas.StaffCreateSchema)
@blp.response(201, schemas.UserSchema)
@blp.errors(409)
def create_staff(data):
    """Create a community manager or admin account."""
    return service.create_staff(actor_id=current_principal().user_id, **data)


@blp.route("/auth/tokens", methods=["POST"])
@blp.rate_limited("rate_limit_sign_in")
@blp.arguments(schemas.TokenCreateSchema)
@blp.response(201, schemas.IssuedCredentialSchema)
@blp.errors(401)
def sign_in(data):
    """Exchange email and password for a bearer token (shown once)."""
    return service.sign_in(**data)


@blp.route("/auth/tokens", methods=["GET"])
@blp.auth()
@blp.arguments(schemas.CredentialQueryArgsSchema, location="query")
@blp.response(200, schemas.CredentialListSchema)
def list_credentials(args):
    """List your own tokens and API keys (never their secrets)."""
    return {"items": service.list_credentials(actor=current_principal(), **args)}


@blp.route("/auth/tokens/<int:token_id>", methods=["DELETE"])
@blp.auth()
@blp.response(200, schemas.CredentialSchema)
@blp.errors(404)
def revoke_credential(token_id):
    """Revoke one of your tokens or API keys; it stops working at once."""
    return service.revoke_credential(actor=current_principal(), token_id=token_id)


@blp.route("/auth/api-keys", methods=["POST"])
@blp.auth("customer")
@blp.rate_limited("rate_limit_tokens")
@blp.idempotent(secrets=("token",))
@blp.arguments(schemas.ApiKeyCreateSchema)
@blp.response(201, schemas.IssuedCredentialSchema)
def create_api_key(data):
    """Create a long-lived API key for your systems, limited to the scopes you choose (shown
    once: only its hash is stored, and an Idempotency-Key replay answers with `token` null)."""
    return service.create_api_key(actor=current_principal(), **data)


@blp.route("/me", methods=["GET"])
@blp.auth()
@blp.response(200, schemas.UserSchema)
def me():
    """Who you are, with your customer or member profile id."""
    return service.get_user(current_principal().user_id)
