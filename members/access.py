"""How code reaches a member row: the caller's own profile, a member the caller may see, a
member locked. Each is written once here; a member only ever reaches their own profile
through `own_member` (or, when the id is enough, `Principal.require_member_id`).

It imports only the core and the members' models, so any domain can use it without a cycle.
"""

from __future__ import annotations

from crowd.core.auth import Principal
from crowd.core.errors import NotFound
from crowd.core.i18n import _
from crowd.core.locking import ROW_LOCK
from crowd.extensions import db
from members.models import Member

# The working crowd: whom customers meet (offers, jobs, favourites) and anyone signed in may
# look up by their public face. Applicants, suspended and departed members are nobody's to see.
PUBLIC_STATUSES = ("active", "paused")
NO_SUCH_MEMBER = "No such crowd member."


def lock_member(member_id: int) -> Member | None:
    """The member row locked for this unit of work (ROW_LOCK) and re-read; None if none."""
    return db.session.get(Member, member_id, with_for_update=ROW_LOCK, populate_existing=True)


def _load(member_id: int, *, lock: bool) -> Member | None:
    # Whoever changes status or replaces a whole set goes one at a time, on fresh data.
    return lock_member(member_id) if lock else db.session.get(Member, member_id)


def own_member(actor: Principal, *, lock: bool = False) -> Member:
    """The caller's own member profile, locked when asked; 404 when the account has none."""
    member = _load(actor.require_member_id(), lock=lock)
    if member is None:
        raise NotFound(_("You have no crowd member profile."))
    return member


def visible_member(
    actor: Principal, member_id: int, *, public_face: bool = False, lock: bool = False
) -> Member:
    """The member `actor` may see, else 404 — the same answer as for an id that names no one.

    Staff see every member and a member themself. With `public_face` (display name, city,
    rating, reviews) others see the working crowd (PUBLIC_STATUSES); the full profile no one
    else. Every endpoint that takes a member id from a customer or member looks it up here.
    """
    member = _load(member_id, lock=lock)
    if member is None or not _may_see(actor, member, public_face=public_face):
        raise NotFound(NO_SUCH_MEMBER)
    return member


def _may_see(actor: Principal, member: Member, *, public_face: bool) -> bool:
    if actor.is_staff or member.user_id == actor.user_id:
        return True
    return public_face and member.status in PUBLIC_STATUSES
