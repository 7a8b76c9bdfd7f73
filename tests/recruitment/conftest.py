"""Shared helpers for the recruitment tests: referrers with codes, sign-ups through the API."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from crowd.core.background import enqueue
from crowd.core.db import commit
from crowd.extensions import db
from members.models import Member
from onboarding.models import Application
from recruitment.codes import issue_code
from recruitment.models import Referral
from tests.factories import PASSWORD, Actor
from tests.jobs.conftest import active_member, drain_background
from tests.onboarding.conftest import default_ladder  # noqa: F401  (fixture)
from tests.stripe_fake import (  # noqa: F401  (fixtures)
    stripe_fake,
    stripe_fake_server,
    stripe_provider,
    stripe_settings,
    webhook_settings,
)

API = "/api/v1"
_friends = itertools.count(1)


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def problem(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    if field is not None:
        assert field in body["errors"]["json"], body
    return body


def referrer(**kw) -> tuple[Actor, str]:
    """An active member in Berlin with a referral code; (actor, code)."""
    actor = active_member(**kw)
    code = issue_code(actor.profile_id).code
    db.session.commit()
    return actor, code


def friend_email(domain: str = "mail.test") -> str:
    return f"friend{next(_friends)}@{domain}"


def sign_up(client, *, email: str | None = None, **extra):
    """POST /api/v1/accounts/members as a new private member; the response."""
    body = {
        "email": email or friend_email(),
        "password": PASSWORD,
        "display_name": extra.pop("display_name", "Friend"),
        "kind": "private",
        **extra,
    }
    return client.post(f"{API}/accounts/members", json=body)


def signed_up(client, **kw) -> Actor:
    """A new applicant signed up through the API (with `kw`) and signed in."""
    email = kw.pop("email", None) or friend_email()
    ok(sign_up(client, email=email, **kw), 202)
    token = ok(client.post(f"{API}/auth/tokens", json={"email": email, "password": PASSWORD}), 201)
    # Sign-up answers without ids (it must not tell a taken address); the token's user has them.
    user = token["user"]
    return Actor(user["id"], "member", email, token["token"], user["member_id"])


def referral_of(actor: Actor) -> Referral | None:
    """The referral that brought `actor`, fresh from the database."""
    db.session.expire_all()
    return db.session.scalar(
        select(Referral).where(Referral.referred_member_id == actor.profile_id)
    )


def first_application(actor: Actor) -> Application:
    db.session.expire_all()
    return db.session.scalar(
        select(Application)
        .where(Application.member_id == actor.profile_id)
        .order_by(Application.number)
        .limit(1)
    )


def set_status(actor: Actor, status: str) -> None:
    db.session.get(Member, actor.profile_id).status = status
    db.session.commit()


def run_task(app, name: str, **kwargs) -> None:
    """Queue a task through the outbox and run everything due, as the worker would."""
    enqueue(name, **kwargs)
    commit()
    drain_background(app)
