"""Who holds a valid top-performer badge: what the matching boost and priority support ask.

Kept free of other programme imports so jobs matching and support can import it cheaply.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from crowd.core.db import utcnow
from crowd.extensions import db
from mentoring.models import TopPerformerBadge

IN_LIST_MAX = 1000


def valid_at(at: datetime):
    """The condition of a badge in force at `at`: begun, not past its grace, not revoked."""
    return (
        TopPerformerBadge.revoked_at.is_(None)
        & (TopPerformerBadge.valid_from <= at)
        & (TopPerformerBadge.valid_until > at)
    )


def active_badge_member_ids(
    member_ids: Iterable[int] | None = None, at: datetime | None = None
) -> set[int]:
    """Members (of `member_ids`, or all) holding a valid badge at `at` (default now): one query."""
    query = select(TopPerformerBadge.member_id).where(valid_at(at or utcnow())).distinct()
    if member_ids is None:
        return set(db.session.scalars(query))
    ids = set(member_ids)
    if not ids:
        return set()
    if len(ids) <= IN_LIST_MAX:
        query = query.where(TopPerformerBadge.member_id.in_(ids))
    # A long batch: the holders (a top share of the crowd) are fewer than the list.
    return ids & set(db.session.scalars(query))
