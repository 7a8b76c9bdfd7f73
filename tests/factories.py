"""Factories for users of every role, with a bearer token each (pytest plugin)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from accounts import service as accounts
from accounts.authentication import profiles_of
from crowd.extensions import db
from registration import service as registration

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


@dataclass
class Actor:
    user_id: int
    role: str
    email: str
    token: str
    profile_id: int | None = None

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


def make_actor(role: str, **profile) -> Actor:
    """A user of `role` with a session token; customers and members get their profile."""
    n = next(_counter)
    email = profile.pop("email", f"{role}{n}@example.test")
    name = profile.pop("display_name", f"{role.title()} {n}")
    if role == "customer":
        user = registration.register_customer(
            email=email, password=PASSWORD, display_name=name, **profile
        )
    elif role == "member":
        user = registration.register_member(
            email=email,
            password=PASSWORD,
            display_name=name,
            kind=profile.pop("kind", "private"),
            **profile,
        )
    else:
        user = accounts.create_staff(
            actor_id=None, email=email, password=PASSWORD, display_name=name, role=role
        )
    issued = accounts.sign_in(email=email, password=PASSWORD)
    db.session.commit()
    profiles = profiles_of(user.id)
    profile_id = profiles.get("customer_id") or profiles.get("member_id")
    return Actor(user.id, role, email, issued.secret, profile_id)


@pytest.fixture
def customer() -> Actor:
    return make_actor("customer")


@pytest.fixture
def other_customer() -> Actor:
    return make_actor("customer")


@pytest.fixture
def member() -> Actor:
    return make_actor("member")


@pytest.fixture
def other_member() -> Actor:
    return make_actor("member")


@pytest.fixture
def cm() -> Actor:
    return make_actor("community_manager")


@pytest.fixture
def admin() -> Actor:
    return make_actor("admin")
