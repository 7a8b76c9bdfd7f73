"""Where members stand with the tests of the skills they claim, for many members at once.

A skill *needs* a test when its SkillTest is active and has at least one active question
(a test nobody can sit cannot hold an applicant up). An attempt still `started` after its
`expires_at` is expired in effect, whether or not the expiry task has written it yet, and
counts as a failed attempt whose retry delay runs from `expires_at`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, select, true

from crowd.extensions import db
from members.models import MemberSkill, Skill, SkillCategory
from onboarding.models import SkillTest, SkillTestAttempt, SkillTestQuestion


def test_available() -> ColumnElement[bool]:
    """SQL: the SkillTest row is active and has a question to ask."""
    asked = and_(SkillTestQuestion.test_id == SkillTest.id, SkillTestQuestion.active == true())
    return and_(SkillTest.active == true(), exists().where(asked))


def effective_status(attempt: SkillTestAttempt, now: datetime) -> str:
    """The attempt's status as of `now`: a started attempt past its time limit is expired."""
    if attempt.status == "started" and now >= attempt.expires_at:
        return "expired"
    return attempt.status


def effective_retry_after(
    attempt: SkillTestAttempt, retry_delay_hours: int, now: datetime
) -> datetime | None:
    """When another attempt may start after this one failed (None: it did not fail).

    The delay is the test's current one, counted from the failure: a community manager who
    lowers it shortens waits already running (a raised delay never lengthens them), and one
    who resets a member's wait has written an earlier `retry_after`, which stands."""
    status = effective_status(attempt, now)
    if status == "expired":
        failed_at = attempt.expires_at
    elif status == "submitted" and not attempt.passed:
        failed_at = attempt.submitted_at
    else:
        return None
    by_delay = failed_at + timedelta(hours=retry_delay_hours)
    if attempt.retry_after is not None:
        return min(attempt.retry_after, by_delay)
    return by_delay


@dataclass(frozen=True)
class SkillStanding:
    """One claimed skill of one member: its test (if any) and how the member has done."""

    member_id: int
    skill_id: int
    skill: str
    name: str
    category: str
    test: SkillTest | None  # None: no test available, the skill needs none
    verified: bool  # a community manager vouched for the skill: it needs no passed test
    attempts: int
    best_score: int | None
    passed: bool
    last_failed: bool  # the latest finished attempt failed (or ran out of time)
    retry_after: datetime | None  # a new attempt may not start before this (future only)
    open_attempt: SkillTestAttempt | None

    @property
    def test_available(self) -> bool:
        return self.test is not None

    @property
    def needs_pass(self) -> bool:
        return self.test is not None and not self.passed and not self.verified

    @property
    def satisfied(self) -> bool:
        """The skill holds nobody up: no test, a passed one, or verified by staff."""
        return not self.needs_pass


def _standing(
    member_id: int,
    skill: Skill,
    category: str,
    test: SkillTest | None,
    verified: bool,
    attempts: list[tuple[SkillTestAttempt, int]],
    now: datetime,
) -> SkillStanding:
    scores = [a.score_percent for a, _ in attempts if a.score_percent is not None]
    passed = any(a.passed for a, _ in attempts)
    finished = [(a, d) for a, d in attempts if effective_status(a, now) != "started"]
    open_attempt = next((a for a, _ in attempts if effective_status(a, now) == "started"), None)
    retry_after = None
    last_failed = False
    if finished and not passed:
        last, delay = finished[-1]
        last_failed = True
        until = effective_retry_after(last, delay, now)
        retry_after = until if until is not None and until > now else None
    return SkillStanding(
        member_id=member_id,
        skill_id=skill.id,
        skill=skill.slug,
        name=skill.name,
        category=category,
        test=test,
        verified=verified,
        attempts=len(attempts),
        best_score=max(scores) if scores else None,
        passed=passed,
        last_failed=last_failed,
        retry_after=retry_after,
        open_attempt=open_attempt,
    )


def standings_for(member_ids: Iterable[int], now: datetime) -> dict[int, list[SkillStanding]]:
    """Every claimed skill of each member with its test standing: two queries in all."""
    ids = sorted(set(member_ids))
    result: dict[int, list[SkillStanding]] = {member_id: [] for member_id in ids}
    if not ids:
        return result
    claims = db.session.execute(
        select(MemberSkill.member_id, MemberSkill.verified, Skill, SkillCategory.slug, SkillTest)
        .join(Skill, Skill.id == MemberSkill.skill_id)
        .join(SkillCategory, SkillCategory.id == Skill.category_id)
        .outerjoin(SkillTest, and_(SkillTest.skill_id == Skill.id, test_available()))
        .where(MemberSkill.member_id.in_(ids))
        .order_by(MemberSkill.member_id, Skill.id)
    ).all()
    attempts: dict[tuple[int, int], list] = defaultdict(list)
    rows = db.session.execute(
        select(SkillTestAttempt, SkillTest.retry_delay_hours)
        .join(SkillTest, SkillTest.id == SkillTestAttempt.test_id)
        .where(SkillTestAttempt.member_id.in_(ids))
        .order_by(SkillTestAttempt.started_at, SkillTestAttempt.id)
    )
    for attempt, delay in rows:
        attempts[(attempt.member_id, attempt.skill_id)].append((attempt, delay))
    for member_id, verified, skill, category, test in claims:
        result[member_id].append(
            _standing(
                member_id, skill, category, test, verified, attempts[(member_id, skill.id)], now
            )
        )
    return result
