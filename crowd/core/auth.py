"""Bearer authentication: opaque random tokens, stored as SHA-256 hashes, looked up per request.

Session tokens carry the full access of the user's role. API keys carry scopes chosen at
creation, and an API key gets through only to the operations its scopes open
(API_KEY_OPERATIONS): every other endpoint refuses API keys, whatever their scopes.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from flask import has_request_context, request

from crowd.core.errors import Forbidden, NotFound, Unauthorized
from crowd.core.i18n import _, _l, use_user_locale

ROLES = ("customer", "member", "community_manager", "admin")
STAFF = ("community_manager", "admin")

TOKEN_PREFIXES = {"session": "crs_", "api_key": "crk_"}
_PRINCIPAL = "crowd.principal"

# What a customer's business system may be allowed: posting and reading jobs, and payments.
API_KEY_SCOPES = {
    "jobs:read": "read your jobs, their events and their reviews",
    "jobs:write": "post jobs, confirm and cancel them",
    "payments:read": "read your payment method and your jobs' payments",
    "payments:write": "set your payment method",
}
# The only operations an API key can reach ("METHOD rule" → the scope it needs). Anything not
# listed — credentials, the account, tickets, reviews, addresses … — needs a session token.
API_KEY_OPERATIONS = {
    "GET /api/v1/jobs": "jobs:read",
    "GET /api/v1/jobs/<int:job_id>": "jobs:read",
    "GET /api/v1/jobs/<int:job_id>/events": "jobs:read",
    "GET /api/v1/jobs/<int:job_id>/reviews": "jobs:read",
    "POST /api/v1/jobs": "jobs:write",
    "POST /api/v1/jobs/<int:job_id>/confirm": "jobs:write",
    "POST /api/v1/jobs/<int:job_id>/cancel": "jobs:write",
    "GET /api/v1/me/customer/payment-method": "payments:read",
    "GET /api/v1/jobs/<int:job_id>/payment": "payments:read",
    "PUT /api/v1/me/customer/payment-method": "payments:write",
}


class ScopeMissing(Forbidden):
    """An API key without the scope the operation needs; `scope` names it."""

    title, type_slug = _l("Scope missing"), "scope-missing"


class SessionRequired(Forbidden):
    """An API key on an operation no API key may call (credentials, the account …)."""

    title, type_slug = _l("Session token required"), "session-required"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user, their role and the credential used."""

    user_id: int
    role: str
    token_id: int
    via: str
    # The caller's profiles, read with the token: most requests need one, and asking for it
    # again would cost a query each time.
    member_id: int | None = None
    customer_id: int | None = None
    # An API key's scopes; a session token has none and needs none.
    scopes: frozenset[str] = frozenset()
    # The user's chosen language ("de", "en"; None: not chosen), read with the token.
    locale: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    @property
    def scope(self) -> str:
        return f"user:{self.user_id}"

    def require_member_id(self) -> int:
        """The caller's own member profile id (read with the token); 404 when they have none."""
        if self.member_id is None:
            raise NotFound(_("You have no crowd member profile."))
        return self.member_id


def new_token(kind: str) -> tuple[str, str]:
    """A fresh secret for `kind` and its hash; only the hash is ever stored."""
    secret = TOKEN_PREFIXES[kind] + secrets.token_urlsafe(32)
    return secret, hash_token(secret)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    # Business systems may prefer a dedicated header for API keys.
    return request.headers.get("X-API-Key") or None


# Who resolves a secret to a principal: installed by the accounts package at start (its
# `wiring`), so the core names no domain. The function raises Unauthorized for a bad token.
_authenticator: Callable[[str], Principal] | None = None


def install_authenticator(resolve: Callable[[str], Principal]) -> None:
    """Make `resolve(secret) -> Principal` the one lookup behind every request's token."""
    global _authenticator
    _authenticator = resolve


def authenticate() -> Principal | None:
    """The principal behind this request's credentials, or None when none were sent."""
    # Per request, not per app context: an app context may outlive one request.
    if _PRINCIPAL in request.environ:
        return request.environ[_PRINCIPAL]
    secret = _bearer_secret()
    if secret is None:
        request.environ[_PRINCIPAL] = None
        return None
    if _authenticator is None:
        raise RuntimeError("No authenticator installed (the accounts package installs it).")
    principal = _authenticator(secret)
    request.environ[_PRINCIPAL] = principal
    use_user_locale(principal.locale)
    return principal


def require_principal(roles: tuple[str, ...] = ()) -> Principal:
    principal = authenticate()
    if principal is None:
        raise Unauthorized(_("Send a bearer token: Authorization: Bearer <token>."))
    if roles and principal.role not in roles:
        raise Forbidden(_("This endpoint is for: {value}.", value=", ".join(roles)))
    if principal.via == "api_key":
        _check_scope(principal, api_key_scope(request.method, request.url_rule.rule))
    return principal


def api_key_scope(method: str, rule: str) -> str | None:
    """The scope an API key needs for this operation; None: API keys may not call it."""
    return API_KEY_OPERATIONS.get(f"{'GET' if method == 'HEAD' else method} {rule}")


def _check_scope(principal: Principal, needed: str | None) -> None:
    if needed is None:
        raise SessionRequired(
            _("API keys cannot call this endpoint; use a session token (POST /api/v1/auth/tokens).")
        )
    if needed not in principal.scopes:
        raise ScopeMissing(_("This API key lacks the scope {needed}.", needed=needed), scope=needed)


def require_session(principal: Principal) -> None:
    """Refuse API keys: for credentials and the account, whatever an endpoint table says."""
    if principal.via != "session":
        _check_scope(principal, None)


def principal_if_any() -> Principal | None:
    """The request's authenticated caller, if one was authenticated; never authenticates."""
    return request.environ.get(_PRINCIPAL) if has_request_context() else None


def current_principal() -> Principal:
    """The authenticated caller; views decorated with blp.auth always have one."""
    principal = request.environ.get(_PRINCIPAL)
    if principal is None:
        raise Unauthorized(_("Send a bearer token: Authorization: Bearer <token>."))
    return principal
