"""Named errors of customers: limits on addresses, favourites and blocked members."""

from __future__ import annotations

from crowd.core.errors import Conflict
from crowd.core.i18n import _l


class AddressLimitReached(Conflict):
    """The customer keeps the most addresses allowed; delete one first."""

    title, type_slug = _l("Address limit reached"), "address-limit-reached"


class FavouriteLimitReached(Conflict):
    """The customer keeps the most favourite members allowed."""

    title, type_slug = _l("Favourite limit reached"), "favourite-limit-reached"


class BlockLimitReached(Conflict):
    """The customer blocks the most members allowed."""

    title, type_slug = _l("Block limit reached"), "block-limit-reached"


class MemberBlocked(Conflict):
    """The member is blocked by the customer; unblock them before making them a favourite."""

    title, type_slug = _l("Member blocked"), "member-blocked"
