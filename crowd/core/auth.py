"""Bearer authentication: opaque random tokens, stored as SHA-256 hashes, looked up per request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import request
from sqlalchemy import select, update

from crowd.core.db import utcnow
from crowd.core.errors import Forbidden, Unauthorized

ROLES = ("customer", "member", "community_manager", "admin")
STAFF = ("community_manager", "admin")

TOKEN_PREFIXES = {"session": "crs_", "api_key": "crk_"}
_LAST_USED_RESOLUTION = timedelta(minutes=5)
_PRINCIPAL = "crowd.principal"


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

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    @property
    def scope(self) -> str:
        return f"user:{self.user_id}"


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


def authenticate() -> Principal | None:
    """The principal behind this request's credentials, or None when none were sent."""
    # Per request, not per app context: an app context may outlive one request.
    if _PRINCIPAL in request.environ:
        return request.environ[_PRINCIPAL]
    from crowd.accounts.models import AuthToken, User
    from crowd.customers.models import Customer
    from crowd.extensions import db
    from crowd.members.models import Member

    secret = _bearer_secret()
    if secret is None:
        request.environ[_PRINCIPAL] = None
        return None
    digest = hash_token(secret)
    # Columns, not entities: one cheap row per request, profiles included.
    row = db.session.execute(
        select(
            AuthToken.id,
            AuthToken.kind,
            AuthToken.token_hash,
            AuthToken.expires_at,
            AuthToken.revoked_at,
            AuthToken.last_used_at,
            User.id.label("user_id"),
            User.role,
            User.disabled_at,
            Member.id.label("member_id"),
            Customer.id.label("customer_id"),
        )
        .join(User, User.id == AuthToken.user_id)
        .outerjoin(Member, Member.user_id == User.id)
        .outerjoin(Customer, Customer.user_id == User.id)
        .where(AuthToken.token_hash == digest)
    ).first()
    # The lookup is by hash; compare again in constant time so timing says nothing.
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        raise Unauthorized("The token is not valid.")
    now = utcnow()
    if row.revoked_at is not None or row.expires_at <= now:
        raise Unauthorized("The token has expired or was revoked.")
    if row.disabled_at is not None:
        raise Unauthorized("This account is disabled.")
    if row.last_used_at is None or now - row.last_used_at > _LAST_USED_RESOLUTION:
        # A coarse timestamp keeps reads from writing on every request.
        db.session.execute(update(AuthToken).where(AuthToken.id == row.id).values(last_used_at=now))
        db.session.commit()
    principal = Principal(
        user_id=row.user_id,
        role=row.role,
        token_id=row.id,
        via=row.kind,
        member_id=row.member_id,
        customer_id=row.customer_id,
    )
    request.environ[_PRINCIPAL] = principal
    return principal


def require_principal(roles: tuple[str, ...] = ()) -> Principal:
    principal = authenticate()
    if principal is None:
        raise Unauthorized("Send a bearer token: Authorization: Bearer <token>.")
    if roles and principal.role not in roles:
        raise Forbidden(f"This endpoint is for: {', '.join(roles)}.")
    return principal


def current_principal() -> Principal:
    """The authenticated caller; views decorated with blp.auth always have one."""
    principal = request.environ.get(_PRINCIPAL)
    if principal is None:
        raise Unauthorized("Send a bearer token: Authorization: Bearer <token>.")
    return principal
