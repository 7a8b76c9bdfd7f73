"""Who takes part in the mentor programme, for the other areas (health, events, segments) and
the small hooks other domains call (admission → a mentor, a level or job → graduation check).

Reads only; the hooks record background work in the caller's unit of work (never commit).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from crowd.core.background import enqueue
from crowd.core.db import one_of
from crowd.extensions import db
from mentoring.models import MENTORSHIP_STATUSES, MentorProfile, Mentorship

LIVE_STATUSES = ("proposed", "active")


def is_mentor(member_ids: Iterable[int] | None = None) -> set[int]:
    """Members opted in as mentors (among `member_ids`, or all): an opted-in MentorProfile."""
    query = select(MentorProfile.member_id).where(MentorProfile.opted_in.is_(True))
    if member_ids is not None:
        query = query.where(MentorProfile.member_id.in_(list(member_ids)))
    return set(db.session.scalars(query))


def mentee_ids(
    member_ids: Iterable[int] | None = None, *, statuses: Iterable[str] = MENTORSHIP_STATUSES
) -> set[int]:
    """Members who are (or were) mentees in a mentorship of one of `statuses` (default: any,
    i.e. ever mentored; pass LIVE_STATUSES for those with a mentor now, ("graduated",) …)."""
    query = select(Mentorship.mentee_id).where(Mentorship.status.in_(list(statuses))).distinct()
    if member_ids is not None:
        query = query.where(Mentorship.mentee_id.in_(list(member_ids)))
    return set(db.session.scalars(query))


# --- hooks for other domains ----------------------------------------------------------------


def queue_mentor_assignment(member_id: int) -> None:
    """A member was admitted: find them a mentor after the commit (task mentoring.assign_mentor).
    The task is idempotent: a mentee with a live mentorship is left alone."""
    enqueue("mentoring.assign_mentor", mentee_id=member_id)


def queue_graduation_check(member_id: int) -> None:
    """A member's level or record moved: check their active mentorship for graduation after the
    commit — only when they have one, so the common case writes nothing."""
    active = select(Mentorship.id).where(
        Mentorship.mentee_id == member_id, Mentorship.status == "active"
    )
    if db.session.scalar(active) is not None:
        enqueue("mentoring.check_graduation", mentee_id=member_id)


def queue_graduation_checks(member_ids: Iterable[int]) -> None:
    """queue_graduation_check for many members: one query finds those with an active
    mentorship (usually few), each gets its check."""
    ids = sorted(set(member_ids))
    if not ids:
        return
    mentees = db.session.scalars(
        select(Mentorship.mentee_id)
        .where(one_of(Mentorship.mentee_id, ids), Mentorship.status == "active")
        .distinct()
        .order_by(Mentorship.mentee_id)
    )
    for member_id in mentees:
        enqueue("mentoring.check_graduation", mentee_id=member_id)
