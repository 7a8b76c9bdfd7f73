"""Writing the demo customers: users, profiles, service addresses, favourites and blocks."""

from __future__ import annotations

import random
from collections.abc import Sequence

from sqlalchemy import select

from accounts.models import User
from crowd.extensions import db
from customers.models import BlockedMember, Customer, CustomerAddress, FavouriteMember
from demo.plans import CustomerPlan, MemberPlan

_BLOCK_REASONS = (
    "Termin nicht eingehalten",
    "Unfreundlich am Telefon",
    "Arbeit unsauber ausgeführt",
)


def _address_rows(customer_id: int, plan: CustomerPlan) -> list[CustomerAddress]:
    return [
        CustomerAddress(
            customer_id=customer_id,
            label=label,
            street=street,
            postcode=postcode,
            city=city,
            country=country,
            lat=lat,
            lon=lon,
            is_default=(i == 0),
            created_at=plan.joined,
            updated_at=plan.joined,
        )
        for i, (label, street, postcode, city, country, lat, lon) in enumerate(plan.addresses)
    ]


def write_customers(plans: Sequence[CustomerPlan], password_hash: str) -> list[int]:
    """Insert a batch of customers with their users and service addresses."""
    users = [
        User(
            email=p.email,
            password_hash=password_hash,
            role="customer",
            display_name=p.display_name,
            created_at=p.joined,
            updated_at=p.joined,
        )
        for p in plans
    ]
    db.session.add_all(users)
    db.session.flush()
    customers = [
        Customer(
            user_id=u.id,
            kind=p.kind,
            display_name=p.display_name,
            company_name=p.company_name,
            phone=p.phone,
            created_at=p.joined,
            updated_at=p.joined,
        )
        for u, p in zip(users, plans, strict=True)
    ]
    db.session.add_all(customers)
    db.session.flush()
    for customer, plan in zip(customers, plans, strict=True):
        db.session.add_all(_address_rows(customer.id, plan))
    db.session.flush()
    return [c.id for c in customers]


def complete_named_customer(user: User, plan: CustomerPlan) -> int:
    """Give the freshly registered demo customer their sign-up date and address."""
    customer = db.session.scalar(select(Customer).where(Customer.user_id == user.id))
    user.created_at = customer.created_at = plan.joined
    db.session.add_all(_address_rows(customer.id, plan))
    db.session.flush()
    return customer.id


def write_preferences(
    rng: random.Random,
    customer_ids: list[int],
    customer_plans: list[CustomerPlan],
    member_rows: list[tuple[int, MemberPlan]],
) -> tuple[int, int]:
    """Some customers keep favourite members nearby; a few have blocked one."""
    active_by_city: dict[str, list[int]] = {}
    for member_id, plan in member_rows:
        if plan.status == "active":
            active_by_city.setdefault(plan.city, []).append(member_id)
    favourites = blocks = 0
    for position, (customer_id, plan) in enumerate(zip(customer_ids, customer_plans, strict=True)):
        nearby = active_by_city.get(plan.addresses[0][3], [])
        if position == 0 and member_rows:
            # The demo customer already likes the demo member: both live in Berlin.
            chosen = [member_rows[0][0]]
        elif nearby and rng.random() < 0.35:
            chosen = rng.sample(nearby, min(len(nearby), rng.randint(1, 3)))
        else:
            chosen = []
        db.session.add_all(FavouriteMember(customer_id=customer_id, member_id=m) for m in chosen)
        favourites += len(chosen)
        others = [m for m in nearby if m not in chosen]
        if position and others and rng.random() < 0.08:
            db.session.add(
                BlockedMember(
                    customer_id=customer_id,
                    member_id=rng.choice(others),
                    reason=rng.choice(_BLOCK_REASONS),
                )
            )
            blocks += 1
    db.session.flush()
    return favourites, blocks
