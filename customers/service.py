"""Rules for customers: own profile, service addresses, favourite and blocked members.

A customer only ever reaches their own profile, found by the caller's user id; another
customer's objects answer 404 so that ids reveal nothing. Writes to a customer's addresses
or member lists lock the customer row first, so concurrent requests of the same customer
cannot break the one-default rule, the caps or the favourite/blocked exclusivity.
Services never commit: the request's unit of work does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, exists, func, or_, select

from accounts.service import rename_user
from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import Forbidden, NotFound, field_error
from crowd.core.i18n import _
from crowd.core.locking import ROW_LOCK
from crowd.core.pagination import like_prefix, paginate
from crowd.core.postcodes import postcode_problem
from crowd.extensions import db
from customers.errors import (
    AddressLimitReached,
    BlockLimitReached,
    FavouriteLimitReached,
    MemberBlocked,
)
from customers.models import BlockedMember, Customer, CustomerAddress, FavouriteMember
from members.access import visible_member
from members.models import Member, MemberStats

MAX_ADDRESSES = 20
# A customer keeps a short personal list, not a directory: the lists are returned whole.
MAX_FAVOURITES = 200
MAX_BLOCKED = 200


@dataclass(frozen=True)
class ListedMember:
    """A member as shown on a customer's favourites or blocked list."""

    member_id: int
    display_name: str
    city: str | None
    average_rating: float | None
    created_at: datetime
    reason: str | None = None


# --- lookups other domains use ----------------------------------------------------------------


def customer_for_user(user_id: int) -> Customer:
    """The customer profile of a user; NotFound when the user has none."""
    customer = db.session.scalar(select(Customer).where(Customer.user_id == user_id))
    if customer is None:
        raise NotFound(_("No customer profile for this account."))
    return customer


def customer_id_for(actor: Principal) -> int:
    """The calling customer's profile id (read with the token); NotFound when there is none."""
    if actor.customer_id is not None:
        return actor.customer_id
    return customer_for_user(actor.user_id).id


def blocked_member_ids(customer_id: int) -> set[int]:
    """Members the customer never wants offered their jobs (matching must exclude them)."""
    query = select(BlockedMember.member_id).where(BlockedMember.customer_id == customer_id)
    return set(db.session.scalars(query))


def own_customer(actor: Principal, *, lock: bool = False) -> Customer:
    """The caller's own customer profile, locked when asked (ROW_LOCK, re-read); else 404.

    The lock serialises one customer's writes (their lists, their payment method) on
    PostgreSQL; SQLite has one writer anyway."""
    customer_id = customer_id_for(actor)
    if lock:
        customer = db.session.get(
            Customer, customer_id, with_for_update=ROW_LOCK, populate_existing=True
        )
    else:
        customer = db.session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(_("No customer profile for this account."))
    return customer


# --- profile ---------------------------------------------------------------------------------


def get_own_profile(*, actor: Principal) -> Customer:
    """The caller's own customer profile."""
    return own_customer(actor)


def update_own_profile(*, actor: Principal, **changes) -> Customer:
    """Change display name, phone, company name or kind; a business needs a company name."""
    customer = own_customer(actor)
    kind = changes.get("kind", customer.kind)
    company_name = changes.get("company_name", customer.company_name)
    if kind == "business" and not company_name:
        raise field_error("company_name", _("required for business customers"))
    for name, value in changes.items():
        setattr(customer, name, value)
    if "display_name" in changes:
        rename_user(actor.user_id, changes["display_name"])
    db.session.flush()
    return customer


def get_customer(*, actor: Principal, customer_id: int) -> Customer:
    """A customer with addresses: staff see any, a customer only themself (others are 404)."""
    customer = db.session.get(Customer, customer_id)
    if actor.is_staff:
        visible = customer is not None
    elif actor.role == "customer":
        visible = customer is not None and customer.user_id == actor.user_id
    else:
        raise Forbidden(_("Only staff and the customer themself may see a customer."))
    if not visible:
        raise NotFound(_("No such customer."))
    return customer


def set_billing(
    *, actor: Principal, customer_id: int, billing: str, payment_terms_days: int | None
) -> Customer:
    """Record how a customer pays (staff only): by card, or on invoice with payment terms —
    for business customers, by agreement. Who set it and when is kept on the customer. Jobs
    posted from now on follow it; posted ones keep how they were to be paid."""
    if not actor.is_staff:
        raise Forbidden(_("Only community managers and admins set a customer's billing."))
    customer = db.session.get(
        Customer, customer_id, with_for_update=ROW_LOCK, populate_existing=True
    )
    if customer is None:
        raise NotFound(_("No such customer."))
    if billing == "invoice" and customer.kind != "business":
        raise field_error("billing", _("invoicing by agreement is for business customers only"))
    customer.billing = billing
    customer.payment_terms_days = payment_terms_days
    customer.billing_set_by_user_id = actor.user_id
    customer.billing_set_at = utcnow()
    db.session.flush()
    return customer


def search_customers(
    *,
    actor: Principal,
    q: str | None = None,
    kind: str | None = None,
    country: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict:
    """One page of customers for staff, filtered by name, kind and address country."""
    if not actor.is_staff:
        raise Forbidden(_("Only community managers and admins may list customers."))
    query: Select = select(Customer)
    if q:
        pattern = "%" + _escape_like(q) + "%"
        query = query.where(
            or_(
                Customer.display_name.ilike(pattern, escape="\\"),
                Customer.company_name.ilike(pattern, escape="\\"),
            )
        )
    if kind:
        query = query.where(Customer.kind == kind)
    if country:
        query = query.where(
            exists().where(
                CustomerAddress.customer_id == Customer.id, CustomerAddress.country == country
            )
        )
    return paginate(query, {"limit": limit, "cursor": cursor}, order=[Customer.id])


def _escape_like(text: str) -> str:
    """Match `text` literally inside LIKE: its % and _ are not wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- addresses -------------------------------------------------------------------------------


def _addresses(customer_id: int) -> list[CustomerAddress]:
    query = select(CustomerAddress).where(CustomerAddress.customer_id == customer_id)
    return list(db.session.scalars(query.order_by(CustomerAddress.id)))


def _own_address(customer: Customer, address_id: int) -> CustomerAddress:
    address = db.session.get(CustomerAddress, address_id)
    if address is None or address.customer_id != customer.id:
        raise NotFound(_("No such address."))
    return address


def _make_default(address: CustomerAddress, addresses: list[CustomerAddress]) -> None:
    # Clear the old default first: a partial unique index allows one default per customer.
    for other in addresses:
        if other is not address and other.is_default:
            other.is_default = False
    db.session.flush()
    address.is_default = True


def list_addresses(*, actor: Principal) -> list[CustomerAddress]:
    """The caller's addresses, oldest first."""
    return _addresses(own_customer(actor).id)


def get_address(*, actor: Principal, address_id: int) -> CustomerAddress:
    """One of the caller's addresses; another customer's is not found."""
    return _own_address(own_customer(actor), address_id)


def add_address(*, actor: Principal, is_default: bool = False, **fields) -> CustomerAddress:
    """Add a service address; the first becomes the default, as does one sent with is_default."""
    customer = own_customer(actor, lock=True)
    addresses = _addresses(customer.id)
    if len(addresses) >= MAX_ADDRESSES:
        raise AddressLimitReached(
            _(
                "A customer can keep at most {MAX_ADDRESSES} addresses; delete one first.",
                MAX_ADDRESSES=MAX_ADDRESSES,
            )
        )
    address = CustomerAddress(customer_id=customer.id, is_default=False, **fields)
    db.session.add(address)
    addresses.append(address)
    if is_default or len(addresses) == 1:
        _make_default(address, addresses)
    db.session.flush()
    return address


def update_address(
    *, actor: Principal, address_id: int, is_default: bool | None = None, **changes
) -> CustomerAddress:
    """Change an address; is_default=true moves the default here, false on it is refused."""
    customer = own_customer(actor, lock=True)
    address = _own_address(customer, address_id)
    country = changes.get("country", address.country)
    postcode = changes.get("postcode", address.postcode)
    message = postcode_problem(country, postcode)
    if message:
        raise field_error("postcode", message)
    if is_default is False and address.is_default:
        # Every customer with addresses has exactly one default; it moves, it is not unset.
        raise field_error("is_default", _("make another address the default instead"))
    for name, value in changes.items():
        setattr(address, name, value)
    if is_default:
        _make_default(address, _addresses(customer.id))
    db.session.flush()
    return address


def delete_address(*, actor: Principal, address_id: int) -> None:
    """Delete an address; when it was the default, the oldest remaining one takes over."""
    customer = own_customer(actor, lock=True)
    address = _own_address(customer, address_id)
    was_default = address.is_default
    db.session.delete(address)
    db.session.flush()
    remaining = _addresses(customer.id)
    if was_default and remaining:
        remaining[0].is_default = True


# --- favourite and blocked members -----------------------------------------------------------


def _listable_member(actor: Principal, member_id: int) -> Member:
    # Only the working crowd: an applicant, a suspended or a departed member is as unknown
    # as an id that names no one (the same 404), so ids cannot be harvested for names.
    return visible_member(actor, member_id, public_face=True)


def _listed(entry: FavouriteMember | BlockedMember, member: Member, rating) -> ListedMember:
    return ListedMember(
        member_id=member.id,
        display_name=member.display_name,
        city=member.city,
        average_rating=rating,
        created_at=entry.created_at,
        reason=getattr(entry, "reason", None),
    )


def _rating(member_id: int) -> float | None:
    query = select(MemberStats.average_rating).where(MemberStats.member_id == member_id)
    return db.session.scalar(query)


def _list(
    model: type[FavouriteMember] | type[BlockedMember], customer_id: int
) -> list[ListedMember]:
    rows = db.session.execute(
        select(model, Member, MemberStats.average_rating)
        .join(Member, Member.id == model.member_id)
        .outerjoin(MemberStats, MemberStats.member_id == Member.id)
        .where(model.customer_id == customer_id)
        .order_by(model.created_at.desc(), model.member_id.desc())
    )
    return [_listed(entry, member, rating) for entry, member, rating in rows]


def _count(model: type[FavouriteMember] | type[BlockedMember], customer_id: int) -> int:
    query = select(func.count()).select_from(model).where(model.customer_id == customer_id)
    return db.session.scalar(query)


def list_favourites(*, actor: Principal) -> list[ListedMember]:
    """The caller's favourite members, newest first (at most MAX_FAVOURITES exist)."""
    return _list(FavouriteMember, own_customer(actor).id)


def add_favourite(*, actor: Principal, member_id: int) -> ListedMember:
    """Mark a member as favourite; doing it again changes nothing. A blocked member → 409."""
    customer = own_customer(actor, lock=True)
    member = _listable_member(actor, member_id)
    if db.session.get(BlockedMember, (customer.id, member.id)) is not None:
        raise MemberBlocked(
            _("This member is blocked; unblock them before making them a favourite.")
        )
    entry = db.session.get(FavouriteMember, (customer.id, member.id))
    if entry is None:
        if _count(FavouriteMember, customer.id) >= MAX_FAVOURITES:
            raise FavouriteLimitReached(
                _(
                    "A customer can keep at most {MAX_FAVOURITES} favourites.",
                    MAX_FAVOURITES=MAX_FAVOURITES,
                )
            )
        entry = FavouriteMember(customer_id=customer.id, member_id=member.id)
        db.session.add(entry)
        db.session.flush()
    return _listed(entry, member, _rating(member.id))


def remove_favourite(*, actor: Principal, member_id: int) -> None:
    """Take a member off the favourites; one who is not on them is not found."""
    customer = own_customer(actor, lock=True)
    entry = db.session.get(FavouriteMember, (customer.id, member_id))
    if entry is None:
        raise NotFound(_("This member is not among your favourites."))
    db.session.delete(entry)


def list_blocked(*, actor: Principal) -> list[ListedMember]:
    """The members the caller blocked, newest first (at most MAX_BLOCKED exist)."""
    return _list(BlockedMember, own_customer(actor).id)


def block_member(*, actor: Principal, member_id: int, reason: str | None = None) -> ListedMember:
    """Block a member (removing them from the favourites); again sets the reason anew."""
    customer = own_customer(actor, lock=True)
    member = _listable_member(actor, member_id)
    entry = db.session.get(BlockedMember, (customer.id, member.id))
    if entry is None:
        if _count(BlockedMember, customer.id) >= MAX_BLOCKED:
            raise BlockLimitReached(
                _("A customer can block at most {MAX_BLOCKED} members.", MAX_BLOCKED=MAX_BLOCKED)
            )
        entry = BlockedMember(customer_id=customer.id, member_id=member.id)
        db.session.add(entry)
    entry.reason = reason or None
    favourite = db.session.get(FavouriteMember, (customer.id, member.id))
    if favourite is not None:
        db.session.delete(favourite)
    db.session.flush()
    return _listed(entry, member, _rating(member.id))


def unblock_member(*, actor: Principal, member_id: int) -> None:
    """Lift a block; a member who is not blocked is not found."""
    customer = own_customer(actor, lock=True)
    entry = db.session.get(BlockedMember, (customer.id, member_id))
    if entry is None:
        raise NotFound(_("This member is not blocked."))
    db.session.delete(entry)


# --- the console's people search ------------------------------------------------------------


def find_customers(
    *,
    actor: Principal,
    customer_id: int | None = None,
    user_id: int | None = None,
    phone: str | None = None,
    name_prefix: str | None = None,
    limit: int = 10,
) -> list[Customer]:
    """Customers by exact id, account, phone, or the start of their name or company name
    (case-insensitive), each an indexed lookup; at most `limit`, exact matches first."""
    if not actor.is_staff:
        raise Forbidden(_("Only community managers and admins may list customers."))
    found: dict[int, Customer] = {}
    exact = []
    if customer_id is not None:
        exact.append(Customer.id == customer_id)
    if user_id is not None:
        exact.append(Customer.user_id == user_id)
    if phone:
        exact.append(Customer.phone == phone)
    if exact:
        query = select(Customer).where(or_(*exact)).order_by(Customer.id).limit(limit)
        found.update((c.id, c) for c in db.session.scalars(query))
    if name_prefix and len(found) < limit:
        pattern = like_prefix(name_prefix)
        for column in (Customer.display_name, Customer.company_name):
            query = (
                select(Customer)
                .where(func.lower(column).like(pattern, escape="\\"))
                .order_by(func.lower(column), Customer.id)
                .limit(limit)
            )
            for customer in db.session.scalars(query):
                found.setdefault(customer.id, customer)
    return list(found.values())[:limit]


def staff_member_lists(*, actor: Principal, customer_id: int) -> dict:
    """A customer's favourite and blocked members, for staff (newest first)."""
    if not actor.is_staff:
        raise Forbidden(_("Only community managers and admins may list customers."))
    customer = get_customer(actor=actor, customer_id=customer_id)
    return {
        "favourites": _list(FavouriteMember, customer.id),
        "blocked": _list(BlockedMember, customer.id),
    }
