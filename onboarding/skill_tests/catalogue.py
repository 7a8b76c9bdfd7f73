"""Skill tests as staff keep them: one test per skill, its questions and their answers.

Questions are never edited in place: a wrong one is deactivated (attempts that asked it keep
their history and their score) and a new one added. Member-facing code never reads
`SkillTestQuestion.correct` into a response; only these staff views show it.
"""

from __future__ import annotations

from sqlalchemy import func, select, true
from sqlalchemy.orm import joinedload

from crowd.core.auth import Principal
from crowd.core.errors import Forbidden, NotFound, Unprocessable
from crowd.core.i18n import _
from crowd.core.pagination import paginate
from crowd.extensions import db
from members.models import Skill, SkillCategory
from onboarding.errors import SkillTestExists
from onboarding.models import SkillTest, SkillTestQuestion

SETTINGS = ("pass_mark_percent", "retry_delay_hours", "questions_per_attempt", "time_limit_minutes")


def _require_staff(actor: Principal) -> None:
    if not actor.is_staff:
        raise Forbidden(_("Only community managers and admins manage skill tests."))


def _query_error(field: str, message: str) -> Unprocessable:
    return Unprocessable(f"{field}: {message}", errors={"query": {field: [message]}})


def _skill_by_slug(slug: str, *, location: str = "json") -> Skill:
    skill = db.session.scalar(select(Skill).where(Skill.slug == slug))
    if skill is None:
        message = f"unknown skill '{slug}'"
        raise Unprocessable(message, errors={location: {"skill": [message]}})
    return skill


def _test(test_id: int, *, lock: bool = False) -> SkillTest:
    query = select(SkillTest).where(SkillTest.id == test_id)
    if lock:
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    test = db.session.scalar(query)
    if test is None:
        raise NotFound(_("No such skill test."))
    return test


def _describe(test: SkillTest, skill: Skill, active_questions: int) -> dict:
    return {
        "id": test.id,
        "skill": skill.slug,
        "skill_name": skill.name,
        "category": skill.category.slug,
        **{name: getattr(test, name) for name in SETTINGS},
        "active": test.active,
        "active_questions": active_questions,
        "created_by_id": test.created_by_id,
        "created_at": test.created_at,
        "updated_at": test.updated_at,
    }


def describe(test: SkillTest) -> dict:
    """A test as staff see it: settings, its skill, and every question with its answers."""
    questions = list(test.questions)
    skill = db.session.get(Skill, test.skill_id)
    described = _describe(test, skill, sum(1 for q in questions if q.active))
    described["questions"] = questions
    return described


def _add_question(test: SkillTest, position: int, question: dict) -> SkillTestQuestion:
    added = SkillTestQuestion(
        test_id=test.id,
        position=position,
        prompt=question["prompt"],
        options=list(question["options"]),
        correct=sorted(question["correct"]),
        active=True,
    )
    db.session.add(added)
    return added


def create_test(*, actor: Principal, skill: str, questions: list[dict], **settings) -> dict:
    """A skill's test with its first questions; a skill has one test (another is a 409)."""
    _require_staff(actor)
    found = _skill_by_slug(skill)
    if db.session.scalar(select(SkillTest.id).where(SkillTest.skill_id == found.id)):
        raise SkillTestExists(
            _("The skill '{skill}' has a test already; change that one.", skill=skill),
            state="exists",
        )
    test = SkillTest(skill_id=found.id, created_by_id=actor.user_id, active=True, **settings)
    db.session.add(test)
    db.session.flush()
    for position, question in enumerate(questions, start=1):
        _add_question(test, position, question)
    db.session.flush()
    db.session.refresh(test, ["questions"])
    return describe(test)


def list_tests(
    *,
    actor: Principal,
    limit: int | None = None,
    cursor: str | None = None,
    category: str | None = None,
    skill: str | None = None,
    active: bool | None = None,
) -> dict:
    """Skill tests by category, skill or whether they are active, in id order."""
    _require_staff(actor)
    query = select(SkillTest).join(Skill, Skill.id == SkillTest.skill_id)
    if skill is not None:
        query = query.where(SkillTest.skill_id == _skill_by_slug(skill, location="query").id)
    if category is not None:
        category_id = db.session.scalar(
            select(SkillCategory.id).where(SkillCategory.slug == category)
        )
        if category_id is None:
            raise _query_error("category", f"unknown category '{category}'")
        query = query.where(Skill.category_id == category_id)
    if active is not None:
        query = query.where(SkillTest.active == active)
    page = paginate(query, {"limit": limit, "cursor": cursor}, order=[SkillTest.id])
    page["items"] = _summaries(page["items"])
    return page


def _summaries(tests: list[SkillTest]) -> list[dict]:
    """A page of tests with their skills and active question counts, in two queries."""
    ids = [test.id for test in tests]
    counts = dict(
        db.session.execute(
            select(SkillTestQuestion.test_id, func.count())
            .where(SkillTestQuestion.test_id.in_(ids), SkillTestQuestion.active == true())
            .group_by(SkillTestQuestion.test_id)
        ).all()
    )
    skills = {
        skill.id: skill
        for skill in db.session.scalars(
            select(Skill)
            .where(Skill.id.in_([test.skill_id for test in tests]))
            .options(joinedload(Skill.category))
        )
    }
    return [_describe(test, skills[test.skill_id], counts.get(test.id, 0)) for test in tests]


def get_test(*, actor: Principal, test_id: int) -> dict:
    """One test with every question (inactive ones too) and their correct answers."""
    _require_staff(actor)
    return describe(_test(test_id))


def update_test(*, actor: Principal, test_id: int, **changes) -> dict:
    """Change a test's settings or switch it off; attempts under way keep their pass mark."""
    _require_staff(actor)
    test = _test(test_id, lock=True)
    for name, value in changes.items():
        setattr(test, name, value)
    db.session.flush()
    return describe(test)


def add_question(
    *, actor: Principal, test_id: int, prompt: str, options: list[str], correct: list[int]
) -> SkillTestQuestion:
    """Add a question at the end of a test."""
    _require_staff(actor)
    # The lock serialises additions: positions stay distinct.
    test = _test(test_id, lock=True)
    last = db.session.scalar(
        select(func.max(SkillTestQuestion.position)).where(SkillTestQuestion.test_id == test.id)
    )
    question = _add_question(
        test, (last or 0) + 1, {"prompt": prompt, "options": options, "correct": correct}
    )
    db.session.flush()
    return question


def deactivate_question(*, actor: Principal, test_id: int, question_id: int) -> None:
    """Stop asking a question; attempts that asked it keep it, and their score."""
    _require_staff(actor)
    test = _test(test_id)
    question = db.session.get(SkillTestQuestion, question_id)
    if question is None or question.test_id != test.id:
        raise NotFound(_("No such question in this test."))
    question.active = False
    db.session.flush()
