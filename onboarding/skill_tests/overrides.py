"""Staff overrides of skill tests: a community manager lets an applicant try again now.

The reset writes `retry_after = now` on the failed attempt that holds the member up (an attempt
that ran out of time is written down as expired first), so the member may start the next
attempt at once; the attempts and their scores stay as they were. It is a staff change, so the
audit log records who reset whose wait (crowd.core.audit, at the HTTP edge). The other override,
a CM verifying the skill (POST /members/{id}/skills/{slug}/verify), satisfies the onboarding
step without a passed test (onboarding.steps).
"""

from __future__ import annotations

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import Forbidden, NotFound
from crowd.core.i18n import _
from crowd.extensions import db
from members.access import visible_member
from onboarding.models import SkillTestAttempt
from onboarding.skill_tests.attempts import claimed_test, expire, member_tests
from onboarding.skill_tests.standing import (
    effective_retry_after,
    effective_status,
)


def reset_retry_delay(*, actor: Principal, member_id: int, skill_slug: str) -> dict:
    """Let the member start a new attempt of the skill's test now; the standing afterwards.

    Nothing to reset (no failed attempt, the wait is over, an attempt open, the test passed)
    changes nothing and answers the standing too, so a repeated reset is harmless."""
    if not actor.is_staff:
        raise Forbidden(_("Only community managers and admins reset a retry delay."))
    member = visible_member(actor, member_id, lock=True)
    test = claimed_test(member.id, skill_slug)
    if test is None:
        raise NotFound(
            _(
                "Member {member_id} has no test to sit for '{skill_slug}': "
                "the skill is not claimed, or it has no test.",
                member_id=member.id,
                skill_slug=skill_slug,
            )
        )
    now = utcnow()
    attempts = list(
        db.session.scalars(
            select(SkillTestAttempt)
            .where(SkillTestAttempt.member_id == member.id, SkillTestAttempt.test_id == test.id)
            .order_by(SkillTestAttempt.started_at, SkillTestAttempt.id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
    )
    for attempt in attempts:
        if attempt.status == "started" and effective_status(attempt, now) == "expired":
            expire(attempt, test.retry_delay_hours)
    if attempts and not any(attempt.passed for attempt in attempts):
        last = attempts[-1]
        until = effective_retry_after(last, test.retry_delay_hours, now)
        if until is not None and until > now:
            last.retry_after = now
    db.session.flush()
    return next(item for item in member_tests(member.id) if item["skill"] == skill_slug)
