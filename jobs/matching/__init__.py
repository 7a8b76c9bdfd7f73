"""Eligibility and ranking of crowd members for a job: the public API of matching.

`rank_candidates(job)` lists the eligible members, best first, each with the window they would
take and the breakdown of their score; `eligibility_problems(job, member_id)` explains why one
member is not eligible ([] when they are). Both only read; neither commits.
The requirements are data in `jobs.matching.eligibility.REQUIREMENTS`; the score's weights are
`jobs.matching.ranking.WEIGHTS`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from crowd.core.db import utcnow
from crowd.extensions import db
from jobs.matching.availability import Fit
from jobs.matching.calendar import fit_member, load_calendars
from jobs.matching.eligibility import REQUIREMENT_SUMMARIES, problems_and_fit, problems_for
from jobs.matching.facts import JobFacts
from jobs.matching.ranking import WEIGHTS, Candidate, rank
from jobs.models import Job
from members.models import Member


def rank_candidates(
    job: Job, *, limit: int | None = None, exclude_member_ids: Iterable[int] = ()
) -> list[Candidate]:
    """The eligible members for `job`, best first (at most `limit`), minus `exclude_member_ids`."""
    return rank(job, limit=limit, exclude_member_ids=exclude_member_ids)


def eligibility_problems(job: Job, member_id: int) -> list[str]:
    """Why `member_id` may not take `job`, one sentence per failed requirement; [] = eligible.

    Offers are not considered: whether the member was already offered the job is the caller's
    business (re-checking at accept time must not reject the member holding the offer).
    """
    return problems_for(job, member_id)


def member_window(job: Job, member_id: int) -> Fit | None:
    """The job window and start `member_id` would take (earliest fitting), or None if none fits.

    Only the calendar is consulted (weekly slots in the member's local time, time off, other
    assigned jobs); combine with `eligibility_problems` for the other requirements.
    """
    facts = JobFacts.of(job)
    country = db.session.scalar(select(Member.country).where(Member.id == member_id))
    calendar = load_calendars(facts, [member_id])
    return fit_member(facts, calendar, member_id, country, now=utcnow())


def eligibility_and_window(job: Job, member_id: int) -> tuple[list[str], Fit | None]:
    """`eligibility_problems` and, for an eligible member, `member_window` — read once."""
    return problems_and_fit(job, member_id)


__all__ = [
    "REQUIREMENT_SUMMARIES",
    "WEIGHTS",
    "Candidate",
    "Fit",
    "eligibility_and_window",
    "eligibility_problems",
    "member_window",
    "rank_candidates",
]
