"""Concurrent requests of one customer: the row lock keeps the rules intact."""

import pytest
from sqlalchemy import func, select

from crowd.extensions import db
from customers.models import BlockedMember, CustomerAddress, FavouriteMember
from customers.service import MAX_ADDRESSES
from members.models import Member
from tests.concurrency import run_concurrently
from tests.factories import make_actor

pytestmark = pytest.mark.committing

URL = "/api/v1/me/customer"


def _address(label):
    return {
        "label": label,
        "street": "Ring 1",
        "postcode": "10115",
        "city": "Berlin",
        "country": "DE",
        "lat": 52.5,
        "lon": 13.4,
    }


def _count(app, query):
    with app.app_context():
        return db.session.scalar(query)


def test_simultaneous_first_addresses_make_one_default(app):
    customer = make_actor("customer")

    def post(client, i):
        return client.post(
            f"{URL}/addresses", json=_address(f"A{i}"), headers=customer.headers
        ).status_code

    statuses = run_concurrently(app, 8, post)
    assert statuses == [201] * 8
    defaults = (
        select(func.count())
        .select_from(CustomerAddress)
        .where(CustomerAddress.customer_id == customer.profile_id, CustomerAddress.is_default)
    )
    assert _count(app, defaults) == 1


def test_simultaneous_addresses_stop_at_the_cap(app):
    customer = make_actor("customer")
    extra = 5

    def post(client, i):
        return client.post(
            f"{URL}/addresses", json=_address(f"A{i}"), headers=customer.headers
        ).status_code

    statuses = run_concurrently(app, MAX_ADDRESSES + extra, post)
    assert statuses.count(201) == MAX_ADDRESSES
    assert statuses.count(409) == extra
    total = (
        select(func.count())
        .select_from(CustomerAddress)
        .where(CustomerAddress.customer_id == customer.profile_id)
    )
    assert _count(app, total) == MAX_ADDRESSES


def test_simultaneous_favourite_and_block_never_leave_both(app, db_session):
    customer = make_actor("customer")
    crew = make_actor("member")
    db_session.get(Member, crew.profile_id).status = "active"
    db_session.commit()

    def put(client, i):
        kind = "favourites" if i % 2 else "blocked"
        return client.put(f"{URL}/{kind}/{crew.profile_id}", headers=customer.headers).status_code

    statuses = run_concurrently(app, 10, put)
    assert set(statuses) <= {200, 409}, statuses
    favourites = (
        select(func.count())
        .select_from(FavouriteMember)
        .where(FavouriteMember.customer_id == customer.profile_id)
    )
    blocks = (
        select(func.count())
        .select_from(BlockedMember)
        .where(BlockedMember.customer_id == customer.profile_id)
    )
    assert _count(app, blocks) == 1
    assert _count(app, favourites) == 0
