"""Background jobs of the mentor programme: assignment, graduation, the daily reviews."""

from __future__ import annotations

from crowd.core.background import task
from crowd.core.db import commit
from mentoring.mentors.assignment import auto_assign, unmatched_ids
from mentoring.mentors.graduation import check_graduation, due_mentee_ids
from mentoring.mentors.review import review_mentors as review


@task("mentoring.assign_mentor")
def assign_mentor(mentee_id: int) -> int | None:
    """Propose the best mentor for a mentee who needs one; the mentorship id, or None.
    Idempotent: a mentee with a live mentorship is left alone."""
    mentorship = auto_assign(mentee_id)
    return mentorship.id if mentorship else None


@task("mentoring.check_graduation")
def check_mentee_graduation(mentee_id: int) -> int | None:
    """Graduate the mentee's active mentorship if due and reward the mentor (once)."""
    mentorship = check_graduation(mentee_id)
    return mentorship.id if mentorship else None


@task("mentoring.review_mentors")
def review_mentors() -> dict:
    """Daily: release the mentees of mentors who opted out, are away long or became
    ineligible; each mentee is assigned again."""
    return review()


@task("mentoring.graduate_mentees")
def graduate_mentees() -> int:
    """Daily safety net: graduate every mentee who meets the rules (e.g. promoted by the
    crowd-wide level run). Commits per mentee."""
    graduated = 0
    for mentee_id in due_mentee_ids():
        graduated += check_graduation(mentee_id) is not None
        commit()
    return graduated


@task("mentoring.match_unmatched")
def match_unmatched() -> int:
    """Daily: try again to find mentors for unmatched Starters (new mentors may have joined).
    Commits per mentee."""
    matched = 0
    for mentee_id in unmatched_ids():
        matched += auto_assign(mentee_id) is not None
        commit()
    return matched
