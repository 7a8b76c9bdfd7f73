"""Writing the demo onboarding: its content (tests, house rules, training) and each member's
application with what it holds."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from crowd.extensions import db
from demo.plans import MemberPlan, OnboardingPlan
from demo.texts import (
    CATEGORY_QUESTIONS,
    GENERIC_QUESTIONS,
    HOUSE_RULES_BODY,
    HOUSE_RULES_TITLE,
    SERVICE_QUESTIONS,
    TRAINING_MODULES,
)
from members.models import Skill, SkillCategory
from onboarding.levels.defaults import DEFAULT_LEVELS
from onboarding.levels.rules import install_default_ruleset
from onboarding.models import (
    Application,
    DocumentCheck,
    HouseRulesAcceptance,
    HouseRulesVersion,
    IntroCall,
    LevelChange,
    MemberLevel,
    SkillTest,
    SkillTestAttempt,
    SkillTestQuestion,
    TrainingCompletion,
    TrainingModule,
)


@dataclass(frozen=True)
class DemoTest:
    """A skill test as the demo attempts need it."""

    test_id: int
    skill_id: int
    pass_mark: int
    # (question id, indexes of the right options, number of options), in serving order
    questions: list[tuple[int, list[int], int]]


@dataclass(frozen=True)
class OnboardingContent:
    """What the demo members' onboarding rows refer to."""

    tests: dict[str, DemoTest]  # by skill slug
    house_rules_id: int
    modules: dict[str, tuple[int, str]]  # code → (id, completion mode)
    ruleset_version: int


def skill_test_questions(name: str, service: str, category: str, index: int) -> list[dict]:
    """7–8 questions for a skill: the shared ones, one on its kind of service, one or two on
    its category; the options in a fixed shuffled order per skill."""
    chosen = [
        *GENERIC_QUESTIONS,
        SERVICE_QUESTIONS[service],
        *CATEGORY_QUESTIONS[category][: 1 + index % 2],
    ]
    questions = []
    for position, (prompt, options, right) in enumerate(chosen):
        order = list(range(len(options)))
        random.Random(f"{name}:{position}").shuffle(order)
        questions.append(
            {
                "prompt": prompt.format(skill=name),
                "options": [options[i] for i in order],
                "correct": sorted(order.index(i) for i in range(right)),
            }
        )
    return questions


def seed_onboarding_content(cm_id: int, now: datetime) -> OnboardingContent:
    """The default ladder, a test for every skill of the catalogue, house rules version 1 and
    the training catalogue — each only where missing, so a second run changes nothing."""
    ruleset = install_default_ruleset()
    tested = set(db.session.scalars(select(SkillTest.skill_id)))
    skills = db.session.execute(
        select(Skill.id, Skill.name, Skill.service, SkillCategory.slug.label("category"))
        .join(SkillCategory, SkillCategory.id == Skill.category_id)
        .order_by(Skill.id)
    ).all()
    published = now - timedelta(days=800)
    new_tests = {}
    for index, skill in enumerate(skills):
        if skill.id not in tested:
            questions = skill_test_questions(skill.name, skill.service, skill.category, index)
            new_tests[skill.id] = (
                SkillTest(
                    skill_id=skill.id,
                    pass_mark_percent=80,
                    retry_delay_hours=24,
                    questions_per_attempt=len(questions),
                    time_limit_minutes=30,
                    active=True,
                    created_by_id=cm_id,
                    created_at=published,
                    updated_at=published,
                ),
                questions,
            )
    db.session.add_all(test for test, _ in new_tests.values())
    db.session.flush()
    db.session.add_all(
        SkillTestQuestion(test_id=test.id, position=position, active=True, **question)
        for test, questions in new_tests.values()
        for position, question in enumerate(questions, start=1)
    )
    if db.session.scalar(select(HouseRulesVersion.id).limit(1)) is None:
        db.session.add(
            HouseRulesVersion(
                version=1,
                title=HOUSE_RULES_TITLE,
                body=HOUSE_RULES_BODY,
                summary_of_changes="First version.",
                published_at=published,
                published_by_id=cm_id,
            )
        )
    known = set(db.session.scalars(select(TrainingModule.code)))
    categories = dict(db.session.execute(select(SkillCategory.slug, SkillCategory.id)).all())
    db.session.add_all(
        TrainingModule(
            code=code,
            title=title,
            description=description,
            category_id=categories.get(category),
            duration_minutes=minutes,
            completion_mode=mode,
            active=True,
            created_by_id=cm_id,
            created_at=published,
            updated_at=published,
        )
        for code, title, description, category, minutes, mode in TRAINING_MODULES
        if code not in known
    )
    db.session.flush()
    return _onboarding_content(ruleset.version)


def _onboarding_content(ruleset_version: int) -> OnboardingContent:
    questions: dict[int, list] = {}
    rows = db.session.execute(
        select(
            SkillTestQuestion.test_id,
            SkillTestQuestion.id,
            SkillTestQuestion.correct,
            SkillTestQuestion.options,
        )
        .where(SkillTestQuestion.active.is_(True))
        .order_by(SkillTestQuestion.test_id, SkillTestQuestion.position)
    )
    for test_id, question_id, correct, options in rows:
        questions.setdefault(test_id, []).append((question_id, list(correct), len(options)))
    tests = db.session.execute(
        select(SkillTest.id, SkillTest.skill_id, SkillTest.pass_mark_percent, Skill.slug).join(
            Skill, Skill.id == SkillTest.skill_id
        )
    )
    return OnboardingContent(
        tests={
            slug: DemoTest(test_id, skill_id, pass_mark, questions.get(test_id, []))
            for test_id, skill_id, pass_mark, slug in tests
        },
        house_rules_id=db.session.scalar(
            select(HouseRulesVersion.id).order_by(HouseRulesVersion.version.desc()).limit(1)
        ),
        modules={
            code: (module_id, mode)
            for module_id, code, mode in db.session.execute(
                select(TrainingModule.id, TrainingModule.code, TrainingModule.completion_mode)
            )
        },
        ruleset_version=ruleset_version,
    )


def _attempt(member_id: int, test: DemoTest, started: datetime, wrong: int) -> SkillTestAttempt:
    """A finished sitting of the whole test with the first `wrong` questions answered wrong."""
    answers = {}
    for index, (question_id, correct, options) in enumerate(test.questions):
        if index < wrong:
            answers[str(question_id)] = [next(i for i in range(options) if i not in correct)]
        else:
            answers[str(question_id)] = correct
    count = len(test.questions)
    score = (count - wrong) * 100 // count
    submitted = started + timedelta(minutes=4 + count)
    passed = score >= test.pass_mark
    return SkillTestAttempt(
        member_id=member_id,
        test_id=test.test_id,
        skill_id=test.skill_id,
        status="submitted",
        question_ids=[question_id for question_id, _, _ in test.questions],
        answers=answers,
        pass_mark_percent=test.pass_mark,
        score_percent=score,
        passed=passed,
        started_at=started,
        expires_at=started + timedelta(minutes=30),
        submitted_at=submitted,
        retry_after=None if passed else submitted + timedelta(hours=24),
    )


def _level_rows(member_id: int, plan: OnboardingPlan, ruleset_version: int, cm_id: int) -> list:
    """The member's standing and every level change: admission, then each promotion."""
    codes = {level["rank"]: level["code"] for level in DEFAULT_LEVELS}
    last = plan.promotions[-1] if plan.promotions else None
    rows: list = [
        MemberLevel(
            member_id=member_id,
            active_since=plan.activated,
            level_since=last or plan.activated,
            promoted_at=last,
        ),
        LevelChange(
            member_id=member_id,
            from_rank=0,
            to_rank=1,
            from_code=None,
            to_code=codes[1],
            ruleset_version=ruleset_version,
            cause="approval",
            detail="application approved",
            metrics={},
            changed_by_id=cm_id,
            created_at=plan.activated,
        ),
    ]
    rows += [
        LevelChange(
            member_id=member_id,
            from_rank=rank - 1,
            to_rank=rank,
            from_code=codes[rank - 1],
            to_code=codes[rank],
            ruleset_version=ruleset_version,
            cause="daily",
            detail=f"daily:{when.date().isoformat()}",
            metrics={},
            created_at=when,
        )
        for rank, when in enumerate(plan.promotions, start=2)
    ]
    return rows


def _onboarding_children(
    member_id: int,
    user_id: int,
    plan: MemberPlan,
    application_id: int,
    content: OnboardingContent,
    cm_id: int,
) -> list:
    onboarding = plan.onboarding
    rows: list = [
        DocumentCheck(
            member_id=member_id,
            kind=document["kind"],
            document_type=document["document_type"],
            issuer=document["issuer"],
            issuing_country=plan.country,
            reference_hint=document["reference_hint"],
            expires_on=document["expires_on"],
            status="verified" if document["checked_at"] else "submitted",
            submitted_at=document["submitted_at"],
            checked_by_id=cm_id if document["checked_at"] else None,
            checked_at=document["checked_at"],
        )
        for document in onboarding.documents
    ]
    rows += [
        _attempt(member_id, content.tests[slug], started, wrong)
        for slug, started, wrong in onboarding.attempts
        if slug in content.tests
    ]
    if onboarding.rules_accepted_at is not None:
        rows.append(
            HouseRulesAcceptance(
                member_id=member_id,
                version_id=content.house_rules_id,
                accepted_at=onboarding.rules_accepted_at,
            )
        )
    if onboarding.call is not None:
        scheduled_at, status, note = onboarding.call
        passed = status == "passed"
        rows.append(
            IntroCall(
                application_id=application_id,
                member_id=member_id,
                scheduled_at=scheduled_at,
                scheduled_by_id=cm_id,
                status=status,
                note=note,
                recorded_by_id=cm_id if passed else None,
                recorded_at=scheduled_at + timedelta(minutes=30) if passed else None,
                created_at=onboarding.rules_accepted_at or plan.joined,
            )
        )
    for code, completed_at in onboarding.training:
        module_id, mode = content.modules[code]
        rows.append(
            TrainingCompletion(
                member_id=member_id,
                module_id=module_id,
                completed_at=completed_at,
                recorded_by_id=user_id if mode == "self_paced" else cm_id,
            )
        )
    if onboarding.activated is not None:
        rows += _level_rows(member_id, onboarding, content.ruleset_version, cm_id)
    return rows


def write_onboarding(
    members: Sequence[tuple[int, int, MemberPlan]], content: OnboardingContent, cm_id: int
) -> None:
    """Each member's application (the one registration opened, if any) and what it holds."""
    ids = [member_id for member_id, _, _ in members]
    opened = {
        application.member_id: application
        for application in db.session.scalars(
            select(Application).where(Application.member_id.in_(ids))
        )
    }
    applications = {}
    for member_id, _, plan in members:
        application = opened.get(member_id) or Application(member_id=member_id, number=1)
        activated = plan.onboarding.activated
        application.opened_at = plan.joined
        application.status = "approved" if activated else "in_progress"
        application.decided_at = activated
        application.decided_by_id = cm_id if activated else None
        application.reason = "Welcome to the Crowd!" if activated else None
        db.session.add(application)
        applications[member_id] = application
    db.session.flush()
    db.session.add_all(
        row
        for member_id, user_id, plan in members
        for row in _onboarding_children(
            member_id, user_id, plan, applications[member_id].id, content, cm_id
        )
    )
    db.session.flush()
