"""A member's sittings of skill tests: questions served without answers, scored on the server.

Starting: only for a claimed skill whose test is available; refused (409) once the skill is
passed ("passed"), while an attempt is open ("started", naming it — GET the attempt to see
its questions again; a double tap never opens two), or before the retry delay after a
failed attempt is over ("retry_later"). The member row is locked, so concurrent starts
queue up and see each other; the partial unique index on open attempts backs this up.

Expiry: an attempt not submitted by `expires_at` is expired in effect at once (reads and
scoring treat it so). The task scheduled at start writes the expiry down; starting the
next attempt does too if the task has not run yet. An expired attempt counts as failed:
the retry delay runs from `expires_at` — serving fresh questions to whoever lets the clock
run out would otherwise be a way to collect them.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from math import floor

from sqlalchemy import func, select, true

from crowd.core.auth import Principal
from crowd.core.background import enqueue
from crowd.core.db import utcnow
from crowd.core.errors import NotFound, Unprocessable
from crowd.core.i18n import _
from crowd.core.pagination import paginate
from crowd.extensions import db
from members.access import own_member
from members.models import Member, MemberSkill, Skill
from onboarding.errors import (
    AttemptExpired,
    AttemptSubmitted,
    AttemptUnderWay,
    RetryLater,
    SkillTestPassed,
)
from onboarding.models import SkillTest, SkillTestAttempt, SkillTestQuestion
from onboarding.skill_tests.standing import (
    SkillStanding,
    effective_retry_after,
    effective_status,
    standings_for,
    test_available,
)

_random = secrets.SystemRandom()


def _iso(value):
    return value.isoformat() if value is not None else None


# --- what the member can sit ----------------------------------------------------------------


def _overview(standing: SkillStanding, active_questions: dict[int, int]) -> dict:
    test = standing.test
    open_attempt = standing.open_attempt
    return {
        "skill": standing.skill,
        "name": standing.name,
        "category": standing.category,
        "test_available": test is not None,
        "pass_mark_percent": test.pass_mark_percent if test else None,
        "questions_per_attempt": (
            min(test.questions_per_attempt, active_questions.get(test.id, 0)) if test else None
        ),
        "time_limit_minutes": test.time_limit_minutes if test else None,
        "retry_delay_hours": test.retry_delay_hours if test else None,
        "attempts": standing.attempts,
        "best_score": standing.best_score,
        "passed": standing.passed,
        "verified": standing.verified,
        "retry_after": standing.retry_after,
        "open_attempt": (
            {"id": open_attempt.id, "expires_at": open_attempt.expires_at} if open_attempt else None
        ),
    }


def list_own_tests(*, actor: Principal) -> list[dict]:
    """Each skill the member claims, whether it has a test, and how they have done in it."""
    return member_tests(own_member(actor).id)


def member_tests(member_id: int) -> list[dict]:
    """Each skill a member claims with its test and the member's standing in it."""
    standings = standings_for([member_id], utcnow())[member_id]
    test_ids = [s.test.id for s in standings if s.test is not None]
    counts = {}
    if test_ids:
        counts = dict(
            db.session.execute(
                select(SkillTestQuestion.test_id, func.count())
                .where(SkillTestQuestion.test_id.in_(test_ids), SkillTestQuestion.active == true())
                .group_by(SkillTestQuestion.test_id)
            ).all()
        )
    return [_overview(standing, counts) for standing in standings]


# --- starting -------------------------------------------------------------------------------


def claimed_test(member_id: int, slug: str) -> SkillTest | None:
    """The available test of a skill the member claims, or None (not claimed, or no test)."""
    return db.session.scalar(
        select(SkillTest)
        .join(Skill, Skill.id == SkillTest.skill_id)
        .join(
            MemberSkill,
            (MemberSkill.skill_id == Skill.id) & (MemberSkill.member_id == member_id),
        )
        .where(Skill.slug == slug, test_available())
    )


def _sittable_test(member: Member, slug: str) -> SkillTest:
    test = claimed_test(member.id, slug)
    if test is None:
        raise NotFound(
            _("No test to sit for '{slug}': claim the skill first, or it has no test.", slug=slug)
        )
    return test


def expire(attempt: SkillTestAttempt, retry_delay_hours: int) -> None:
    """Write down that a started attempt ran out of time (a failed attempt)."""
    attempt.status = "expired"
    attempt.passed = False
    attempt.retry_after = attempt.expires_at + timedelta(hours=retry_delay_hours)


def _refuse_if_blocked(test: SkillTest, attempts: list[SkillTestAttempt], now) -> None:
    if any(attempt.passed for attempt in attempts):
        raise SkillTestPassed(_("You have passed this test already."), state="passed")
    for attempt in attempts:
        if attempt.status != "started":
            continue
        if effective_status(attempt, now) == "started":
            raise AttemptUnderWay(
                _("You have an attempt under way; submit it or let it run out."),
                state="started",
                attempt_id=attempt.id,
                expires_at=_iso(attempt.expires_at),
            )
        expire(attempt, test.retry_delay_hours)
    if attempts:
        until = effective_retry_after(attempts[-1], test.retry_delay_hours, now)
        if until is not None and until > now:
            raise RetryLater(
                _("You may try again from {value}.", value=until.isoformat()),
                state="retry_later",
                retry_after=until.isoformat(),
            )


def start_attempt(*, actor: Principal, skill_slug: str) -> dict:
    """Open an attempt: a random sample of the test's active questions, without answers."""
    member = own_member(actor, lock=True)
    test = _sittable_test(member, skill_slug)
    now = utcnow()
    attempts = list(
        db.session.scalars(
            select(SkillTestAttempt)
            .where(SkillTestAttempt.member_id == member.id, SkillTestAttempt.test_id == test.id)
            .order_by(SkillTestAttempt.started_at, SkillTestAttempt.id)
        )
    )
    _refuse_if_blocked(test, attempts, now)
    db.session.flush()  # an expiry written above frees the one-open-attempt index
    pool = list(
        db.session.scalars(
            select(SkillTestQuestion).where(
                SkillTestQuestion.test_id == test.id, SkillTestQuestion.active == true()
            )
        )
    )
    served = _random.sample(pool, min(test.questions_per_attempt, len(pool)))
    attempt = SkillTestAttempt(
        member_id=member.id,
        test_id=test.id,
        skill_id=test.skill_id,
        status="started",
        question_ids=[question.id for question in served],
        pass_mark_percent=test.pass_mark_percent,
        started_at=now,
        expires_at=now + timedelta(minutes=test.time_limit_minutes),
    )
    db.session.add(attempt)
    db.session.flush()
    enqueue(
        "onboarding.expire_skill_test_attempt",
        run_at=attempt.expires_at,
        dedupe_key=f"onboarding.expire_skill_test_attempt:{attempt.id}",
        attempt_id=attempt.id,
    )
    return _sitting(attempt, skill_slug, served)


def _sitting(attempt: SkillTestAttempt, slug: str, questions: list[SkillTestQuestion]) -> dict:
    """An attempt as its member sees it: the questions, never their answers."""
    return {
        **attempt_summary(attempt, utcnow()),
        "skill": slug,
        "questions": questions,
        "results": _results(attempt, questions) if attempt.status == "submitted" else None,
    }


def _served_questions(attempt: SkillTestAttempt) -> list[SkillTestQuestion]:
    found = {
        q.id: q
        for q in db.session.scalars(
            select(SkillTestQuestion).where(SkillTestQuestion.id.in_(attempt.question_ids))
        )
    }
    return [found[question_id] for question_id in attempt.question_ids]


# --- answering ------------------------------------------------------------------------------


def _own_attempt(actor: Principal, attempt_id: int, *, lock: bool = False) -> SkillTestAttempt:
    member = own_member(actor)
    query = select(SkillTestAttempt).where(
        SkillTestAttempt.id == attempt_id, SkillTestAttempt.member_id == member.id
    )
    if lock:
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    attempt = db.session.scalar(query)
    if attempt is None:
        raise NotFound(_("No such attempt."))
    return attempt


def _answers_error(message: str) -> Unprocessable:
    return Unprocessable(f"answers: {message}", errors={"json": {"answers": [message]}})


def _chosen(questions: list[SkillTestQuestion], answers: list[dict]) -> dict[str, list[int]]:
    """The answers keyed by question id, checked against what was served."""
    by_id = {question.id: question for question in questions}
    chosen: dict[str, list[int]] = {}
    for answer in answers:
        question = by_id.get(answer["question_id"])
        if question is None:
            raise _answers_error(f"question {answer['question_id']} was not asked in this attempt")
        if str(question.id) in chosen:
            raise _answers_error(f"question {question.id} is answered twice")
        beyond = [i for i in answer["options"] if i >= len(question.options)]
        if beyond:
            raise _answers_error(
                f"question {question.id} has {len(question.options)} options; no option {beyond[0]}"
            )
        chosen[str(question.id)] = sorted(set(answer["options"]))
    return chosen


def _results(attempt: SkillTestAttempt, questions: list[SkillTestQuestion]) -> list[dict]:
    answers = attempt.answers or {}
    return [
        {
            "question_id": question.id,
            "right": sorted(answers.get(str(question.id), [])) == sorted(question.correct),
        }
        for question in questions
    ]


def submit_attempt(*, actor: Principal, attempt_id: int, answers: list[dict]) -> dict:
    """Score an attempt: a question is right when exactly its correct options were chosen."""
    attempt = _own_attempt(actor, attempt_id, lock=True)
    now = utcnow()
    status = effective_status(attempt, now)
    if status == "submitted":
        raise AttemptSubmitted(_("This attempt was submitted already."), state="submitted")
    if status == "expired":
        # Nothing is written here (the error undoes the unit of work): the expiry task does.
        raise AttemptExpired(
            _(
                "The time for this attempt ran out at {value}.",
                value=attempt.expires_at.isoformat(),
            ),
            state="expired",
        )
    questions = _served_questions(attempt)
    attempt.answers = _chosen(questions, answers)
    results = _results(attempt, questions)
    right = sum(1 for result in results if result["right"])
    attempt.score_percent = floor(right * 100 / len(questions))
    attempt.passed = attempt.score_percent >= attempt.pass_mark_percent
    attempt.status, attempt.submitted_at = "submitted", now
    if not attempt.passed:
        delay = db.session.scalar(
            select(SkillTest.retry_delay_hours).where(SkillTest.id == attempt.test_id)
        )
        attempt.retry_after = now + timedelta(hours=delay)
    db.session.flush()
    slug = db.session.scalar(select(Skill.slug).where(Skill.id == attempt.skill_id))
    return _sitting(attempt, slug, questions)


def expire_if_due(attempt_id: int) -> bool:
    """Write down an attempt's expiry once its time is up (the scheduled task); idempotent."""
    attempt = db.session.scalar(
        select(SkillTestAttempt)
        .where(SkillTestAttempt.id == attempt_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if attempt is None or effective_status(attempt, utcnow()) != "expired":
        return False
    if attempt.status == "expired":
        return False
    delay = db.session.scalar(
        select(SkillTest.retry_delay_hours).where(SkillTest.id == attempt.test_id)
    )
    expire(attempt, delay)
    db.session.flush()
    return True


# --- reading --------------------------------------------------------------------------------


def get_own_attempt(*, actor: Principal, attempt_id: int) -> dict:
    """One of the member's attempts with its questions (and right/wrong once submitted)."""
    attempt = _own_attempt(actor, attempt_id)
    slug = db.session.scalar(select(Skill.slug).where(Skill.id == attempt.skill_id))
    return _sitting(attempt, slug, _served_questions(attempt))


def list_own_attempts(
    *, actor: Principal, limit: int | None = None, cursor: str | None = None
) -> dict:
    """The member's attempts, newest first, without questions."""
    member = own_member(actor)
    query = select(SkillTestAttempt).where(SkillTestAttempt.member_id == member.id)
    page = paginate(
        query, {"limit": limit, "cursor": cursor}, order=[SkillTestAttempt.id], descending=True
    )
    slugs = dict(
        db.session.execute(
            select(Skill.id, Skill.slug).where(
                Skill.id.in_({attempt.skill_id for attempt in page["items"]})
            )
        ).all()
    )
    now = utcnow()
    page["items"] = [
        {**attempt_summary(attempt, now), "skill": slugs[attempt.skill_id]}
        for attempt in page["items"]
    ]
    return page


def attempt_summary(attempt: SkillTestAttempt, now) -> dict:
    """An attempt without its questions: for lists (the member's, and the review queue's)."""
    status = effective_status(attempt, now)
    return {
        "id": attempt.id,
        "status": status,
        "started_at": attempt.started_at,
        "expires_at": attempt.expires_at,
        "submitted_at": attempt.submitted_at,
        "pass_mark_percent": attempt.pass_mark_percent,
        "score_percent": attempt.score_percent,
        "passed": False if status == "expired" else attempt.passed,
        "retry_after": attempt.retry_after,
    }
