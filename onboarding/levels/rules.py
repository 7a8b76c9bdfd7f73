"""Rule sets: the ladder in force, drafts, their validation and their activation.

A rule set is one version of the level ladder (a LevelRuleset and its Level rows). Exactly one
is `active`. Admins create drafts (version = the highest so far + 1) and edit them freely;
staff dry-run them (onboarding.levels.evaluation.dry_run); an admin activates one, and in that
one transaction the active rule set is retired, the draft becomes active and a full evaluation
of the crowd is queued (task "onboarding.evaluate_levels", cause "ruleset"). Active and retired
rule sets never change again: every LevelChange names the version it was made under.

What a rule set must be (the schema checks shape and ranges, this module what needs the
database):
- levels ranked 1..n without gaps, unique codes; rank 1 is the entry level (admission gives
  it and ignores its requirements);
- requirements: [{"metric": <a name in METRICS>, "min" | "max": number}], exactly one bound,
  rates 0..1, ratings 1..5, counts and days non-negative integers;
- max_concurrent_jobs 1..20;
- plan_codes: existing commission plan codes ("standard" always exists, stored or built in);
  default_plan_code: null or one of them (the plan a promotion gives: onboarding.levels.plans);
- categories: absent or null = every category; else skill category slugs, stored as
  LevelCategory rows with restricts_categories true.

Concurrency: creating locks the first rule set's row, so two drafts never get one version;
activating locks the draft and then the active rule set — of two simultaneous activations the
second finds the active one gone from under it and gets a 409 (the partial unique index
uq_level_rulesets_active is the last line: never two active).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from crowd.core.auth import Principal
from crowd.core.background import enqueue
from crowd.core.db import utcnow
from crowd.core.errors import Forbidden, NotFound, Unprocessable
from crowd.core.i18n import _
from crowd.core.pagination import paginate
from crowd.extensions import db
from members.models import SkillCategory
from onboarding.errors import RuleSetNotDraft, RuleSetSuperseded
from onboarding.levels.defaults import default_ruleset
from onboarding.models import Level, LevelCategory, LevelRuleset
from payouts.models.plans import CommissionPlan
from payouts.plans import STANDARD_CODE


def _with_levels(query):
    return query.options(selectinload(LevelRuleset.levels).selectinload(Level.categories))


def find_active_ruleset() -> LevelRuleset | None:
    """The rule set in force, or None on a database whose ladder was removed."""
    query = _with_levels(select(LevelRuleset)).where(LevelRuleset.status == "active")
    return db.session.scalar(query)


def active_ruleset() -> LevelRuleset:
    """The rule set in force (the migration installs version 1; there is always one)."""
    ruleset = find_active_ruleset()
    if ruleset is None:
        raise RuntimeError("no active level rule set: run the migrations")
    return ruleset


def install_default_ruleset() -> LevelRuleset:
    """Put the default ladder (onboarding.levels.defaults) in force when no rule set exists at
    all — what the migration does, for databases emptied since (tests, demo). Idempotent."""
    existing = find_active_ruleset()
    if existing is not None or db.session.scalar(select(func.count(LevelRuleset.id))):
        return existing or active_ruleset()
    ruleset = default_ruleset()
    ruleset.activated_at = utcnow()
    db.session.add(ruleset)
    db.session.flush()
    return ruleset


def level_at(ruleset: LevelRuleset, rank: int) -> Level | None:
    """The level of `ruleset` with `rank`, if it has one."""
    return next((level for level in ruleset.levels if level.rank == rank), None)


def _require_admin(actor: Principal) -> None:
    if actor.role != "admin":
        raise Forbidden(_("Only admins change level rule sets."))


def require_staff(actor: Principal) -> None:
    if not actor.is_staff:
        raise Forbidden(_("Only community managers and admins may do this."))


# --- reading --------------------------------------------------------------------------------


def get_ruleset(ruleset_id: int, *, lock: bool = False) -> LevelRuleset:
    """One rule set with its levels; 404 when there is none with that id."""
    query = _with_levels(select(LevelRuleset)).where(LevelRuleset.id == ruleset_id)
    if lock:
        query = query.with_for_update(of=LevelRuleset, key_share=True).execution_options(
            populate_existing=True
        )
    ruleset = db.session.scalar(query)
    if ruleset is None:
        raise NotFound(_("No such level rule set."))
    return ruleset


def show_ruleset(*, actor: Principal, ruleset_id: int) -> dict:
    """A rule set as staff see it."""
    require_staff(actor)
    return present(get_ruleset(ruleset_id))


def show_active_ruleset(*, actor: Principal) -> dict:
    """The rule set in force, as staff see it."""
    require_staff(actor)
    return present(active_ruleset())


def list_rulesets(
    *,
    actor: Principal,
    status: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict:
    """Rule sets, newest version first, optionally of one status."""
    require_staff(actor)
    query = _with_levels(select(LevelRuleset))
    if status is not None:
        query = query.where(LevelRuleset.status == status)
    page = paginate(
        query, {"limit": limit, "cursor": cursor}, order=[LevelRuleset.version], descending=True
    )
    page["items"] = present_many(page["items"])
    return page


def present(ruleset: LevelRuleset) -> dict:
    return present_many([ruleset])[0]


def present_many(rulesets: list[LevelRuleset]) -> list[dict]:
    """Rule sets as the API shows them: levels by rank, categories as slugs (null = all)."""
    category_ids = {
        row.category_id for r in rulesets for level in r.levels for row in level.categories
    }
    slugs = {}
    if category_ids:
        rows = db.session.execute(
            select(SkillCategory.id, SkillCategory.slug).where(SkillCategory.id.in_(category_ids))
        )
        slugs = dict(rows.all())
    return [
        {
            "id": r.id,
            "version": r.version,
            "status": r.status,
            "note": r.note,
            "demotion_tolerance_percent": r.demotion_tolerance_percent,
            "grace_days": r.grace_days,
            "created_by_id": r.created_by_id,
            "created_at": r.created_at,
            "activated_at": r.activated_at,
            "activated_by_id": r.activated_by_id,
            "levels": [
                {
                    "rank": level.rank,
                    "code": level.code,
                    "name": level.name,
                    "requirements": level.requirements,
                    "max_concurrent_jobs": level.max_concurrent_jobs,
                    "plan_codes": level.plan_codes,
                    "default_plan_code": level.default_plan_code,
                    "restricts_categories": level.restricts_categories,
                    "categories": sorted(slugs[c.category_id] for c in level.categories)
                    if level.restricts_categories
                    else None,
                }
                for level in sorted(r.levels, key=lambda level: level.rank)
            ],
        }
        for r in rulesets
    ]


# --- writing drafts -------------------------------------------------------------------------


def _levels_from(levels: list[dict]) -> list[Level]:
    """Level rows for validated `levels`; unknown plan codes or categories are a 422."""
    plan_codes = {code for level in levels for code in level["plan_codes"]}
    known_plans = {STANDARD_CODE} | set(
        db.session.scalars(select(CommissionPlan.code).where(CommissionPlan.code.in_(plan_codes)))
    )
    wanted = {slug for level in levels for slug in level.get("categories") or ()}
    categories = dict(
        db.session.execute(
            select(SkillCategory.slug, SkillCategory.id).where(SkillCategory.slug.in_(wanted))
        ).all()
    )
    errors: dict[str, dict] = {}
    for index, level in enumerate(levels):
        unknown_plans = [code for code in level["plan_codes"] if code not in known_plans]
        if unknown_plans:
            errors.setdefault(str(index), {})["plan_codes"] = [
                f"unknown commission plan: {', '.join(unknown_plans)}"
            ]
        unknown = [slug for slug in level.get("categories") or () if slug not in categories]
        if unknown:
            errors.setdefault(str(index), {})["categories"] = [
                f"unknown skill category: {', '.join(unknown)}"
            ]
    if errors:
        raise Unprocessable(
            _("Some levels name unknown plans or categories."), errors={"json": {"levels": errors}}
        )
    rows = []
    for level in sorted(levels, key=lambda level: level["rank"]):
        restricted = level.get("categories")
        rows.append(
            Level(
                rank=level["rank"],
                code=level["code"],
                name=level["name"],
                requirements=level["requirements"],
                max_concurrent_jobs=level["max_concurrent_jobs"],
                plan_codes=level["plan_codes"],
                default_plan_code=level.get("default_plan_code"),
                restricts_categories=restricted is not None,
                categories=[LevelCategory(category_id=categories[s]) for s in restricted or ()],
            )
        )
    return rows


def create_ruleset(
    *,
    actor: Principal,
    levels: list[dict],
    note: str | None = None,
    demotion_tolerance_percent: int = 90,
    grace_days: int = 14,
) -> dict:
    """A new draft, numbered after the newest rule set."""
    _require_admin(actor)
    new_levels = _levels_from(levels)
    # The first rule set's row is the lock every creation takes (rule sets are never deleted,
    # so it is always the same row); then the highest version, read afresh, is free to take.
    db.session.execute(
        select(LevelRuleset.id)
        .order_by(LevelRuleset.version)
        .limit(1)
        .with_for_update(key_share=True)
    )
    version = (db.session.scalar(select(func.max(LevelRuleset.version))) or 0) + 1
    ruleset = LevelRuleset(
        version=version,
        status="draft",
        note=note,
        demotion_tolerance_percent=demotion_tolerance_percent,
        grace_days=grace_days,
        created_by_id=actor.user_id,
        levels=new_levels,
    )
    db.session.add(ruleset)
    db.session.flush()
    return present(ruleset)


def _draft(ruleset_id: int, action: str) -> LevelRuleset:
    ruleset = get_ruleset(ruleset_id, lock=True)
    if ruleset.status != "draft":
        raise RuleSetNotDraft(
            _(
                "Rule set v{ruleset_version} is {ruleset_status}; only drafts can be {action}.",
                ruleset_version=ruleset.version,
                ruleset_status=ruleset.status,
                action=action,
            ),
            state=ruleset.status,
        )
    return ruleset


def update_ruleset(
    *,
    actor: Principal,
    ruleset_id: int,
    levels: list[dict],
    note: str | None = None,
    demotion_tolerance_percent: int = 90,
    grace_days: int = 14,
) -> dict:
    """Replace a draft's settings and levels (active and retired rule sets never change)."""
    _require_admin(actor)
    ruleset = _draft(ruleset_id, "edited")
    new_levels = _levels_from(levels)
    ruleset.note = note
    ruleset.demotion_tolerance_percent = demotion_tolerance_percent
    ruleset.grace_days = grace_days
    # The old levels go first: a new level may take an old one's rank or code.
    ruleset.levels = []
    db.session.flush()
    ruleset.levels = new_levels
    db.session.flush()
    return present(ruleset)


def activate_ruleset(*, actor: Principal, ruleset_id: int) -> dict:
    """Retire the active rule set, put the draft in force and queue a full evaluation."""
    _require_admin(actor)
    draft = _draft(ruleset_id, "activated")
    current = db.session.scalar(
        select(LevelRuleset)
        .where(LevelRuleset.status == "active")
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if current is None:
        # It was retired while we waited for its lock: another activation won.
        raise RuleSetSuperseded(
            _("Another rule set was activated meanwhile; reload."), state="superseded"
        )
    now = utcnow()
    current.status = "retired"
    # Retired before the draft turns active: the partial unique index allows one active row.
    db.session.flush()
    draft.status, draft.activated_at, draft.activated_by_id = "active", now, actor.user_id
    db.session.flush()
    enqueue(
        "onboarding.evaluate_levels",
        cause="ruleset",
        detail=f"ruleset.activated:v{draft.version}",
        dedupe_key=f"onboarding.evaluate_levels:ruleset:{draft.id}",
    )
    return present(draft)
