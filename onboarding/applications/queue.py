"""The review queue: applications filtered in SQL by step, readiness, region and skill.

The filters are the steps' own SQL predicates (onboarding.steps), so "who still lacks the
intro call" or "who is ready" is one query however large the crowd; the step states of
the page's items are then computed for that page alone.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Select, case, exists, func, select, text
from sqlalchemy.orm import selectinload

from crowd.core.auth import Principal
from crowd.core.db import is_postgres, utcnow
from crowd.core.errors import Forbidden, NotFound, Unprocessable
from crowd.core.i18n import _
from crowd.core.pagination import paginate
from crowd.extensions import db
from members.models import Member, MemberSkill, Skill
from onboarding.models import (
    Application,
    DocumentCheck,
    HouseRulesAcceptance,
    HouseRulesVersion,
    InformationRequest,
    IntroCall,
    SkillTestAttempt,
)
from onboarding.skill_tests.attempts import attempt_summary
from onboarding.steps import (
    STEP_NAMES,
    STEPS,
    STEPS_BY_NAME,
    checklists,
    is_ready,
    ready_predicate,
    step_context,
)


def require_staff(actor: Principal) -> None:
    if not actor.is_staff:
        raise Forbidden(_("Only community managers and admins review applications."))


def _skill_id(slug: str) -> int:
    skill_id = db.session.scalar(select(Skill.id).where(Skill.slug == slug))
    if skill_id is None:
        message = f"unknown skill '{slug}'"
        raise Unprocessable(message, errors={"query": {"skill": [message]}})
    return skill_id


def _filtered(
    ctx,
    *,
    status: str = "in_progress",
    step: str | None = None,
    ready: bool | None = None,
    country: str | None = None,
    city: str | None = None,
    postcode_prefix: str | None = None,
    skill: str | None = None,
    q: str | None = None,
    waiting_days: int | None = None,
) -> Select:
    """Applications (joined with their members) matching every filter."""
    query = (
        select(Application)
        .join(Member, Member.id == Application.member_id)
        .where(Application.status == status)
    )
    if step is not None:
        query = query.where(~STEPS_BY_NAME[step].done(ctx))
    if ready is not None:
        query = query.where(ready_predicate(ctx) if ready else ~ready_predicate(ctx))
    if country is not None:
        query = query.where(Member.country == country)
    if city is not None:
        query = query.where(func.lower(Member.city) == city.lower())
    if postcode_prefix is not None:
        query = query.where(Member.postcode.startswith(postcode_prefix, autoescape=True))
    if skill is not None:
        skill_id = _skill_id(skill)
        query = query.where(
            exists().where(MemberSkill.member_id == Member.id, MemberSkill.skill_id == skill_id)
        )
    if q is not None:
        query = query.where(Member.display_name.icontains(q, autoescape=True))
    if waiting_days is not None:
        query = query.where(Application.opened_at <= ctx.now - timedelta(days=waiting_days))
    return query


def list_applications(
    *, actor: Principal, limit: int | None = None, cursor: str | None = None, **filters
) -> dict:
    """Applications matching every filter, oldest first; `step`: that step is still open;
    `waiting_days`: open at least that many days."""
    require_staff(actor)
    ctx = step_context()
    query = _filtered(ctx, **filters)
    page = paginate(query, {"limit": limit, "cursor": cursor}, order=[Application.id])
    page["items"] = _queue_items(page["items"], ctx)
    return page


def step_counts(*, actor: Principal, **filters) -> dict:
    """How many applications match the filters (`step` aside), and of those how many still
    wait for each step: one query, each step's count filtered by its own predicate."""
    require_staff(actor)
    filters.pop("step", None)
    ctx = step_context()
    if is_postgres():
        # The planner prices every correlated probe of every application, so this one-row
        # count would be JIT-compiled: that compiling costs more than running it (~50 ms).
        db.session.execute(text("SET LOCAL jit = off"))
    row = db.session.execute(
        _filtered(ctx, **filters).with_only_columns(
            func.count(),
            *(func.count().filter(~step.done(ctx)).label(step.name) for step in STEPS),
            maintain_column_froms=True,
        )
    ).one()
    return {
        "total": row[0],
        "steps": {step.name: row[index] for index, step in enumerate(STEPS, start=1)},
    }


# What a row of the queue's CSV export holds, in order (a step: "open" or "done").
EXPORT_COLUMNS = (
    "application_id",
    "number",
    "member_id",
    "display_name",
    "kind",
    "country",
    "postcode",
    "city",
    "opened_at",
    *STEP_NAMES,
)


def export_rows(*, actor: Principal, **filters) -> Select:
    """The queue as a SELECT of EXPORT_COLUMNS, oldest first, for a streamed CSV: each step's
    state is its SQL predicate, so no row needs the checklist loaded."""
    require_staff(actor)
    ctx = step_context()
    return (
        _filtered(ctx, **filters)
        .with_only_columns(
            Application.id,
            Application.number,
            Member.id,
            Member.display_name,
            Member.kind,
            Member.country,
            Member.postcode,
            Member.city,
            Application.opened_at,
            *(case((step.done(ctx), "done"), else_="open").label(step.name) for step in STEPS),
            maintain_column_froms=True,
        )
        .order_by(Application.id)
    )


def _members(member_ids) -> dict[int, Member]:
    members = db.session.scalars(
        select(Member)
        .where(Member.id.in_(set(member_ids)))
        .options(selectinload(Member.skills), selectinload(Member.availability))
    )
    return {member.id: member for member in members}


def _queue_items(applications: list[Application], ctx) -> list[dict]:
    members = _members(app.member_id for app in applications)
    states = checklists([(members[app.member_id], app) for app in applications], ctx)
    return [
        {
            "application": app,
            "member": members[app.member_id],
            "steps": {state.name: state.state for state in states[app.member_id]},
            "ready": is_ready(states[app.member_id]),
        }
        for app in applications
    ]


def detail(application: Application) -> dict:
    """An application in full: its member, every step with details, documents, calls, tests."""
    member = _members([application.member_id])[application.member_id]
    states = checklists([(member, application)], step_context())[member.id]
    checks = db.session.scalars(
        select(DocumentCheck)
        .where(DocumentCheck.member_id == member.id)
        .order_by(DocumentCheck.id.desc())
    )
    calls = db.session.scalars(
        select(IntroCall)
        .where(IntroCall.application_id == application.id)
        .order_by(IntroCall.id.desc())
    )
    attempts = db.session.execute(
        select(SkillTestAttempt, Skill.slug)
        .join(Skill, Skill.id == SkillTestAttempt.skill_id)
        .where(SkillTestAttempt.member_id == member.id)
        .order_by(SkillTestAttempt.id.desc())
    )
    info_requests = db.session.scalars(
        select(InformationRequest)
        .where(InformationRequest.application_id == application.id)
        .order_by(InformationRequest.id.desc())
    )
    accepted = db.session.execute(
        select(HouseRulesVersion.version, HouseRulesAcceptance.accepted_at)
        .join(HouseRulesVersion, HouseRulesVersion.id == HouseRulesAcceptance.version_id)
        .where(HouseRulesAcceptance.member_id == member.id)
        .order_by(HouseRulesVersion.version.desc())
    )
    now = utcnow()
    return {
        "application": application,
        "member": member,
        "ready": is_ready(states),
        "steps": states,
        "document_checks": list(checks),
        "intro_calls": list(calls),
        "test_attempts": [
            {**attempt_summary(attempt, now), "skill": slug} for attempt, slug in attempts
        ],
        "info_requests": list(info_requests),
        "house_rules_accepted": [
            {"version": version, "accepted_at": at} for version, at in accepted
        ],
    }


def application_for_staff(application_id: int, *, lock: bool = False) -> Application:
    query = select(Application).where(Application.id == application_id)
    if lock:
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    application = db.session.scalar(query)
    if application is None:
        raise NotFound(_("No such application."))
    return application


def get_application(*, actor: Principal, application_id: int) -> dict:
    """One application in full, for community managers."""
    require_staff(actor)
    return detail(application_for_staff(application_id))
