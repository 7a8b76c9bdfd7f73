"""HTTP: sign-in, tokens, API keys, staff accounts, passwords, deactivation and /me (sign-up is
registration.routes)."""

from accounts import lifecycle, schemas, service, staff_alerts, throttle
from crowd.core.auth import current_principal
from crowd.core.i18n import use_user_locale
from crowd.core.openapi import CrowdBlueprint

blp = CrowdBlueprint(
    "accounts", __name__, url_prefix="/api/v1", description="Accounts and credentials"
)


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
@blp.errors(401, 403, 429)
def sign_in(data):
    """Exchange email and password for a bearer token (shown once).

    After SIGN_IN_LOCKOUT_THRESHOLD wrong passwords in a row the address is locked (429 with
    Retry-After, the right password too); a deactivated account gets 403."""
    with throttle.keeping_failures():
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


@blp.route("/me", methods=["PATCH"])
@blp.auth()
@blp.arguments(schemas.UserUpdateSchema)
@blp.response(200, schemas.UserSchema)
@blp.errors(422)
def update_me(data):
    """Choose your language (de or en): the API answers you in it, and your notifications,
    emails and pushes come in it."""
    user = service.set_locale(current_principal().user_id, data["locale"])
    # This answer already speaks the new language.
    use_user_locale(user.locale)
    return user


# --- account lifecycle ------------------------------------------------------------------------


@blp.route("/me/password", methods=["POST"])
@blp.auth()
@blp.rate_limited("rate_limit_sign_in")
@blp.arguments(schemas.PasswordChangeSchema)
@blp.response(204)
@blp.errors(422, 429)
def change_password(data):
    """Change your password (with a session token): every other session and every API key
    of yours is revoked."""
    with throttle.keeping_failures():
        lifecycle.change_password(actor=current_principal(), **data)


@blp.route("/auth/password-resets", methods=["POST"])
@blp.rate_limited("rate_limit_sign_in")
@blp.arguments(schemas.PasswordResetRequestSchema)
@blp.response(202, schemas.PasswordResetRequestedSchema)
def request_password_reset(data):
    """Ask for a single-use reset link by email (valid PASSWORD_RESET_TTL_MINUTES); the
    answer is the same whether or not the address has an account."""
    return lifecycle.request_password_reset(**data)


@blp.route("/auth/password-resets/redeem", methods=["POST"])
@blp.rate_limited("rate_limit_sign_in")
@blp.arguments(schemas.PasswordResetRedeemSchema)
@blp.response(204)
@blp.errors(422)
def redeem_password_reset(data):
    """Set a new password with the code from the reset email (once); every session token
    and API key of the account is revoked."""
    lifecycle.redeem_password_reset(**data)


@blp.route("/users/<int:user_id>/deactivation", methods=["POST"])
@blp.auth("community_manager", "admin")
@blp.arguments(schemas.DeactivationSchema)
@blp.response(200, schemas.AccountAccessSchema)
@blp.errors(404, 409)
def deactivate_user(data, user_id):
    """Deactivate an account at once: sign-in refused, every token and API key revoked.
    Community managers act on customers and members, admins on anyone; nobody on themselves."""
    return lifecycle.deactivate_user(actor=current_principal(), user_id=user_id, **data)


@blp.route("/users/<int:user_id>/deactivation", methods=["DELETE"])
@blp.auth("community_manager", "admin")
@blp.response(200, schemas.AccountAccessSchema)
@blp.errors(404, 409)
def reactivate_user(user_id):
    """Let a deactivated account sign in again (its old tokens stay revoked). A suspended
    member is reinstated through sanctions instead; an offboarded member stays closed."""
    return lifecycle.reactivate_user(actor=current_principal(), user_id=user_id)


# --- alerts for community managers ------------------------------------------------------------


@blp.route("/staff/me/alerts", methods=["GET"])
@blp.auth("community_manager", "admin")
@blp.response(200, schemas.AlertSettingsSchema)
def my_alert_settings():
    """How alerts reach you beyond the inbox, and what you are responsible for."""
    actor = current_principal()
    return staff_alerts.alert_settings(actor=actor, user_id=actor.user_id)


@blp.route("/staff/me/alerts", methods=["PATCH"])
@blp.auth("community_manager", "admin")
@blp.arguments(schemas.AlertSettingsUpdateSchema)
@blp.response(200, schemas.AlertSettingsSchema)
@blp.errors(422)
def set_my_alert_settings(data):
    """Choose your cadence (immediate, hourly, daily, off) and your responsibilities."""
    actor = current_principal()
    return staff_alerts.set_alert_settings(actor=actor, user_id=actor.user_id, **data)


@blp.route("/accounts/staff/<int:user_id>/alerts", methods=["GET"])
@blp.auth("admin")
@blp.response(200, schemas.AlertSettingsSchema)
@blp.errors(404)
def staff_alert_settings(user_id):
    """A staff member's alert cadence and responsibilities (admins)."""
    return staff_alerts.alert_settings(actor=current_principal(), user_id=user_id)


@blp.route("/accounts/staff/<int:user_id>/alerts", methods=["PATCH"])
@blp.auth("admin")
@blp.arguments(schemas.AlertSettingsUpdateSchema)
@blp.response(200, schemas.AlertSettingsSchema)
@blp.errors(404, 422)
def set_staff_alert_settings(data, user_id):
    """Set a community manager's responsibilities or cadence (admins)."""
    return staff_alerts.set_alert_settings(actor=current_principal(), user_id=user_id, **data)
