"""Training modules: the catalogue, who completed what, and the level check a completion triggers.

Self-paced modules a member marks done in the app; attended ones (a workshop, an on-site
briefing) a community manager records. Completions of active modules count towards the
`training_modules` metric of the level requirements; a deactivated module stops counting.
"""

from __future__ import annotations

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import Forbidden, NotFound, Unprocessable, field_error
from crowd.core.i18n import _
from crowd.core.pagination import paginate
from crowd.extensions import db
from helpcentre.reading import linked_articles
from members.access import own_member
from members.models import Member, SkillCategory
from onboarding.errors import AttendedInPersonOnly, TrainingModuleExists, TrainingNotAllowed
from onboarding.levels.evaluation import promote_on_event
from onboarding.models import LevelChange, TrainingCompletion, TrainingModule

# Members who may train: applicants during onboarding, and members who work or pause.
TRAINING_STATUSES = ("applicant", "active", "paused")


def _require_staff(actor: Principal) -> None:
    if not actor.is_staff:
        raise Forbidden(_("Only community managers and admins may do this."))


def _category_id(slug: str | None) -> int | None:
    if slug is None:
        return None
    category_id = db.session.scalar(select(SkillCategory.id).where(SkillCategory.slug == slug))
    if category_id is None:
        raise field_error("category", _("unknown category '{slug}'", slug=slug))
    return category_id


def _category_slugs() -> dict[int, str]:
    return {
        row.id: row.slug for row in db.session.execute(select(SkillCategory.id, SkillCategory.slug))
    }


def module_view(
    module: TrainingModule, slugs: dict[int, str], completed_at=None, articles=None
) -> dict:
    """A module as the API shows it, with the caller's completion (members only) and the
    help centre articles linked to it."""
    return {
        "code": module.code,
        "title": module.title,
        "description": module.description,
        "category": slugs.get(module.category_id) if module.category_id else None,
        "duration_minutes": module.duration_minutes,
        "completion_mode": module.completion_mode,
        "active": module.active,
        "created_at": module.created_at,
        "updated_at": module.updated_at,
        "completed_at": completed_at,
        "articles": articles or [],
    }


def _module(code: str, *, lock: bool = False) -> TrainingModule | None:
    query = select(TrainingModule).where(TrainingModule.code == code)
    if lock:
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    return db.session.scalar(query)


# --- the catalogue (staff) -----------------------------------------------------------------


def create_module(
    *,
    actor: Principal,
    code: str,
    title: str,
    duration_minutes: int,
    completion_mode: str = "self_paced",
    description: str | None = None,
    category: str | None = None,
) -> dict:
    """A new training module; its code is unique (409 when taken)."""
    _require_staff(actor)
    category_id = _category_id(category)
    if _module(code) is not None:
        raise TrainingModuleExists(
            _("A training module with code {code!r} exists already.", code=code), state="exists"
        )
    module = TrainingModule(
        code=code,
        title=title,
        description=description,
        category_id=category_id,
        duration_minutes=duration_minutes,
        completion_mode=completion_mode,
        active=True,
        created_by_id=actor.user_id,
    )
    db.session.add(module)
    db.session.flush()
    return module_view(module, _category_slugs())


def update_module(*, actor: Principal, code: str, **changes) -> dict:
    """Retitle, redescribe, change the duration of, or (de)activate a module."""
    _require_staff(actor)
    module = _module(code, lock=True)
    if module is None:
        raise NotFound(_("No such training module."))
    for name, value in changes.items():
        setattr(module, name, value)
    db.session.flush()
    articles = linked_articles(actor=actor, target_kind="training_module", keys=[module.code])
    return module_view(module, _category_slugs(), articles=articles.get(module.code))


def list_modules(
    *,
    actor: Principal,
    active: bool | None = None,
    category: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict:
    """Modules by code. Members see only active ones, each with when they completed it;
    staff see all, or only active or inactive ones."""
    query = select(TrainingModule)
    member_id = None
    if actor.is_staff:
        if active is not None:
            query = query.where(TrainingModule.active.is_(active))
    else:
        member_id = actor.require_member_id()
        query = query.where(TrainingModule.active.is_(True))
    if category is not None:
        category_id = db.session.scalar(
            select(SkillCategory.id).where(SkillCategory.slug == category)
        )
        if category_id is None:
            message = f"unknown category '{category}'"
            raise Unprocessable(message, errors={"query": {"category": [message]}})
        query = query.where(TrainingModule.category_id == category_id)
    page = paginate(query, {"limit": limit, "cursor": cursor}, order=[TrainingModule.code])
    done = {}
    if member_id is not None and page["items"]:
        rows = db.session.execute(
            select(TrainingCompletion.module_id, TrainingCompletion.completed_at).where(
                TrainingCompletion.member_id == member_id,
                TrainingCompletion.module_id.in_([m.id for m in page["items"]]),
            )
        )
        done = {row.module_id: row.completed_at for row in rows}
    slugs = _category_slugs()
    articles = linked_articles(
        actor=actor, target_kind="training_module", keys=[m.code for m in page["items"]]
    )
    page["items"] = [
        module_view(m, slugs, done.get(m.id), articles.get(m.code)) for m in page["items"]
    ]
    return page


# --- completions ---------------------------------------------------------------------------


def _completion_view(module: TrainingModule, completion: TrainingCompletion) -> dict:
    return {
        "member_id": completion.member_id,
        "module": module.code,
        "title": module.title,
        "completion_mode": module.completion_mode,
        "counts": module.active,
        "completed_at": completion.completed_at,
        "recorded_by_id": completion.recorded_by_id,
    }


def _record(member: Member, module: TrainingModule, *, actor: Principal) -> dict:
    """Record the completion once (the member row is locked); a new one may promote."""
    if member.status not in TRAINING_STATUSES:
        raise TrainingNotAllowed(
            _(
                "A member who is {member_status} cannot record training.",
                member_status=member.status,
            ),
            state=member.status,
        )
    completion = db.session.get(TrainingCompletion, (member.id, module.id))
    change: LevelChange | None = None
    if completion is None:
        completion = TrainingCompletion(
            member_id=member.id,
            module_id=module.id,
            completed_at=utcnow(),
            recorded_by_id=actor.user_id,
        )
        db.session.add(completion)
        db.session.flush()
        change = promote_on_event(member.id, cause=f"training.completed:{module.code}")
    view = _completion_view(module, completion)
    view["level_change"] = change
    return view


def _active_module(code: str) -> TrainingModule:
    module = _module(code)
    if module is None or not module.active:
        raise NotFound(_("No such training module."))
    return module


def complete_own(*, actor: Principal, code: str) -> dict:
    """A member marks a self-paced module done; doing it again changes nothing."""
    member = own_member(actor, lock=True)
    module = _active_module(code)
    if module.completion_mode != "self_paced":
        raise AttendedInPersonOnly(
            _("This module is attended in person; a community manager records it."),
            state="attended_only",
        )
    return _record(member, module, actor=actor)


def _staff_member(actor: Principal, member_id: int, *, lock: bool = False) -> Member:
    _require_staff(actor)
    query = select(Member).where(Member.id == member_id)
    if lock:
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    member = db.session.scalar(query)
    if member is None:
        raise NotFound(_("No such crowd member."))
    return member


def record_for_member(*, actor: Principal, member_id: int, code: str) -> dict:
    """A community manager records that a member completed (attended) a module."""
    member = _staff_member(actor, member_id, lock=True)
    return _record(member, _active_module(code), actor=actor)


def withdraw(*, actor: Principal, member_id: int, code: str) -> None:
    """Remove a wrongly recorded completion; the daily evaluation takes it from there."""
    member = _staff_member(actor, member_id, lock=True)
    module = _module(code)
    completion = db.session.get(TrainingCompletion, (member.id, module.id)) if module else None
    if completion is None:
        raise NotFound(
            _(
                "Member {member_id} has not completed the module '{code}'.",
                member_id=member.id,
                code=code,
            )
        )
    db.session.delete(completion)
    db.session.flush()


def completions(
    *,
    actor: Principal,
    member_id: int | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict:
    """A member's completed modules (the caller's own without `member_id`), by module."""
    if member_id is None:
        member = own_member(actor)
    else:
        member = db.session.get(Member, member_id)
        if member is None or (not actor.is_staff and member.user_id != actor.user_id):
            raise NotFound(_("No such crowd member."))
    query = select(TrainingCompletion).where(TrainingCompletion.member_id == member.id)
    page = paginate(query, {"limit": limit, "cursor": cursor}, order=[TrainingCompletion.module_id])
    ids = [completion.module_id for completion in page["items"]]
    modules = {
        m.id: m
        for m in db.session.scalars(select(TrainingModule).where(TrainingModule.id.in_(ids)))
    }
    page["items"] = [_completion_view(modules[c.module_id], c) for c in page["items"]]
    return page
