"""Rules for crowd members: catalogue, profiles, skills, availability, status and counters."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Select, exists, func, or_, select, update
from sqlalchemy.orm import selectinload

from accounts.lifecycle import close_access, reopen_access
from accounts.models import User
from accounts.service import rename_user
from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import Forbidden, NotFound, Unprocessable, field_error
from crowd.core.events import Event, declare, emit
from crowd.core.i18n import _
from crowd.core.pagination import like_prefix, paginate
from crowd.extensions import db
from members.access import own_member, visible_member
from members.catalogue import CATEGORIES
from members.errors import MemberStateConflict
from members.models import (
    AvailabilitySlot,
    Member,
    MemberSkill,
    MemberStats,
    MemberStatusChange,
    Skill,
    SkillCategory,
    TimeOff,
)

# A member in one of these states had their account closed with the status; it reopens with
# reinstatement (suspended) or never (offboarded), not by reactivating the account alone
# (members.wiring guards accounts' reactivation).
CLOSED_MEMBER_STATES = ("suspended", "offboarded")

_PROFILE_CHECKS: list[Callable[[Member, dict], None]] = []

# How many recent response times the median is taken over.
RESPONSE_WINDOW = 50

# Postcodes in the countries the crowd works in: all digits, this many.
POSTCODE_DIGITS = {"DE": 5, "AT": 4, "CH": 4}

# The member status machine: (current status, action, who acts) → next status.
# "member" is the member acting on their own profile; "staff" a community manager or admin.
TRANSITIONS: dict[tuple[str, str, str], str] = {
    ("active", "pause", "member"): "paused",
    ("paused", "resume", "member"): "active",
    ("active", "leave", "member"): "offboarded",
    ("paused", "leave", "member"): "offboarded",
    ("applicant", "activate", "staff"): "active",
    ("active", "suspend", "staff"): "suspended",
    ("paused", "suspend", "staff"): "suspended",
    ("suspended", "reinstate", "staff"): "active",
    ("applicant", "offboard", "staff"): "offboarded",
    ("active", "offboard", "staff"): "offboarded",
    ("paused", "offboard", "staff"): "offboarded",
    ("suspended", "offboard", "staff"): "offboarded",
}
MEMBER_ACTIONS = tuple(sorted({a for (_, a, who) in TRANSITIONS if who == "member"}))
STAFF_ACTIONS = tuple(sorted({a for (_, a, who) in TRANSITIONS if who == "staff"}))


# --- catalogue ----------------------------------------------------------------------------


def sync_catalogue() -> int:
    """Create or update the skill catalogue from members.catalogue; returns new skills."""
    categories = {c.slug: c for c in db.session.scalars(select(SkillCategory))}
    skills = {s.slug: s for s in db.session.scalars(select(Skill))}
    created = 0
    for entry in CATEGORIES:
        category = categories.get(entry["slug"])
        if category is None:
            category = SkillCategory(slug=entry["slug"])
            db.session.add(category)
        category.name = entry["name"]
        category.name_de = entry["name_de"]
        category.requires_verification = entry["requires_verification"]
        db.session.flush()
        for item in entry["skills"]:
            skill = skills.get(item["slug"])
            if skill is None:
                skill = Skill(slug=item["slug"])
                db.session.add(skill)
                created += 1
            skill.name, skill.service = item["name"], item["service"]
            skill.category_id = category.id
    db.session.flush()
    return created


def list_catalogue() -> list[SkillCategory]:
    """Every category with its skills, in catalogue order."""
    query = select(SkillCategory).options(selectinload(SkillCategory.skills))
    return list(db.session.scalars(query.order_by(SkillCategory.id)))


# --- whose profile --------------------------------------------------------------------------


def _require_staff(actor: Principal) -> None:
    if not actor.is_staff:
        raise Forbidden(_("Only community managers and admins may do this."))


# --- profile --------------------------------------------------------------------------------


def get_own_profile(*, actor: Principal) -> Member:
    """The calling member's profile."""
    return own_member(actor)


def get_member(*, actor: Principal, member_id: int) -> Member:
    """A member's profile, for staff or the member themself."""
    return visible_member(actor, member_id)


def _check_postcode(member: Member, changes: dict) -> None:
    postcode = changes.get("postcode", member.postcode)
    country = changes.get("country", member.country)
    if postcode is None or not ({"postcode", "country"} & changes.keys()):
        return
    # Name the field the caller sent; with both sent, the postcode is the odd one out.
    field = "postcode" if "postcode" in changes else "country"
    if country is None:
        raise field_error("country", _("needed to check the postcode"))
    digits = POSTCODE_DIGITS[country]
    if not (postcode.isascii() and postcode.isdigit() and len(postcode) == digits):
        raise field_error(
            field,
            _(
                "a postcode in {country} has {digits} digits, not {postcode!r}",
                country=country,
                digits=digits,
                postcode=postcode,
            ),
        )


def add_profile_check(check: Callable[[Member, dict], None]) -> None:
    """Run `check(member, changes)` before a member's own profile changes; it raises (a field
    error) to refuse. Packages above members add theirs (onboarding: the level's job cap)."""
    if check not in _PROFILE_CHECKS:
        _PROFILE_CHECKS.append(check)


declare("member.profile_updated")


def update_own_profile(*, actor: Principal, **changes) -> Member:
    """Change the fields of their profile a member controls (the schema lists them)."""
    member = own_member(actor)
    _check_postcode(member, changes)
    for check in _PROFILE_CHECKS:
        check(member, changes)
    for name, value in changes.items():
        setattr(member, name, value)
    if "display_name" in changes:
        rename_user(actor.user_id, changes["display_name"])
    db.session.flush()
    # What the member's offers show depends on some of it (jobs: the distance to the job).
    emit(
        Event(
            "member.profile_updated",
            "member",
            member.id,
            actor.user_id,
            payload={"member_id": member.id, "fields": sorted(changes)},
        )
    )
    return member


# --- skills ---------------------------------------------------------------------------------


def replace_skills(*, actor: Principal, skills: list[dict]) -> list[MemberSkill]:
    """Replace the member's claimed skills; a skill that stays keeps its verification."""
    member = own_member(actor, lock=True)
    slugs = [claim["skill"] for claim in skills]
    known = {s.slug: s for s in db.session.scalars(select(Skill).where(Skill.slug.in_(slugs)))}
    unknown = [(index, slug) for index, slug in enumerate(slugs) if slug not in known]
    if unknown:
        # Shaped like marshmallow's errors for list items: {skills: {index: {skill: [...]}}}.
        errors = {str(index): {"skill": [f"unknown skill '{slug}'"]} for index, slug in unknown}
        names = ", ".join(slug for _, slug in unknown)
        raise Unprocessable(
            _("Unknown skills: {names}.", names=names), errors={"json": {"skills": errors}}
        )
    current = {claim.skill_id: claim for claim in member.skills}
    kept = []
    for claim in skills:
        skill = known[claim["skill"]]
        held = current.get(skill.id) or MemberSkill(skill_id=skill.id, skill=skill)
        held.proficiency = claim["proficiency"]
        kept.append(held)
    member.skills = kept
    db.session.flush()
    return sorted(member.skills, key=lambda claim: claim.skill_id)


def set_skill_verified(
    *, actor: Principal, member_id: int, slug: str, verified: bool
) -> MemberSkill:
    """A community manager vouches for (or withdraws trust in) a skill the member claims."""
    _require_staff(actor)
    member = visible_member(actor, member_id)
    claim = db.session.scalar(
        select(MemberSkill)
        .join(Skill, Skill.id == MemberSkill.skill_id)
        .where(MemberSkill.member_id == member.id, Skill.slug == slug)
    )
    if claim is None:
        raise NotFound(
            _(
                "Member {member_id} does not claim the skill '{slug}'.",
                member_id=member.id,
                slug=slug,
            )
        )
    if verified and not claim.verified:
        claim.verified, claim.verified_by_id, claim.verified_at = True, actor.user_id, utcnow()
    elif not verified:
        claim.verified, claim.verified_by_id, claim.verified_at = False, None, None
    db.session.flush()
    return claim


# --- availability and time off --------------------------------------------------------------


def get_availability(*, actor: Principal) -> list[AvailabilitySlot]:
    """The member's weekly slots."""
    return list(own_member(actor).availability)


def replace_availability(*, actor: Principal, slots: list[dict]) -> list[AvailabilitySlot]:
    """Replace the member's weekly slots (the schema has ruled out overlaps)."""
    member = own_member(actor, lock=True)
    ordered = sorted(slots, key=lambda slot: (slot["weekday"], slot["start_minute"]))
    member.availability = [AvailabilitySlot(**slot) for slot in ordered]
    db.session.flush()
    return list(member.availability)


def add_time_off(
    *, actor: Principal, starts_at: datetime, ends_at: datetime, reason: str | None = None
) -> TimeOff:
    """Block a period; it may have begun already but must not be over."""
    if ends_at <= utcnow():
        raise field_error("ends_at", _("must be in the future"))
    member = own_member(actor)
    time_off = TimeOff(member_id=member.id, starts_at=starts_at, ends_at=ends_at, reason=reason)
    db.session.add(time_off)
    db.session.flush()
    return time_off


def list_upcoming_time_off(
    *, actor: Principal, limit: int | None = None, cursor: str | None = None
) -> dict:
    """The member's time off that is not over yet, soonest first."""
    member = own_member(actor)
    query = select(TimeOff).where(TimeOff.member_id == member.id, TimeOff.ends_at > utcnow())
    page = {"limit": limit, "cursor": cursor}
    return paginate(query, page, order=[TimeOff.starts_at, TimeOff.id])


def delete_time_off(*, actor: Principal, time_off_id: int) -> None:
    """Remove one of the member's own time-off entries; anyone else's is not found."""
    member = own_member(actor)
    time_off = db.session.get(TimeOff, time_off_id)
    if time_off is None or time_off.member_id != member.id:
        raise NotFound(_("No such time off."))
    db.session.delete(time_off)
    db.session.flush()


# --- status ---------------------------------------------------------------------------------


def _transition(
    member: Member, *, action: str, who: str, reason: str, actor: Principal
) -> MemberStatusChange:
    """Apply `action` if the transition table allows it from the member's current status."""
    target = TRANSITIONS.get((member.status, action, who))
    if target is None:
        raise MemberStateConflict(
            _(
                "Cannot {action} a member who is {member_status}.",
                action=action,
                member_status=member.status,
            ),
            state=member.status,
        )
    change = MemberStatusChange(
        member_id=member.id,
        from_status=member.status,
        to_status=target,
        reason=reason,
        changed_by_id=actor.user_id,
    )
    member.status, member.status_changed_at = target, utcnow()
    db.session.add(change)
    db.session.flush()
    return change


def change_own_status(
    *, actor: Principal, action: str, reason: str | None = None
) -> MemberStatusChange:
    """A member pauses, resumes or leaves."""
    member = own_member(actor, lock=True)
    return _transition(member, action=action, who="member", reason=reason or action, actor=actor)


def change_member_status(
    *, actor: Principal, member_id: int, action: str, reason: str
) -> MemberStatusChange:
    """Staff activate, suspend, reinstate or offboard a member, always with a reason.

    Suspending or offboarding closes the member's account at once (every token and API key
    revoked, sign-in refused); reinstating opens it again. Sanctions come through here too.
    """
    _require_staff(actor)
    member = visible_member(actor, member_id, lock=True)
    change = _transition(member, action=action, who="staff", reason=reason, actor=actor)
    if change.to_status in CLOSED_MEMBER_STATES:
        close_access(member.user_id, actor_id=actor.user_id, reason=f"{action}: {reason}")
    elif change.from_status == "suspended" and change.to_status == "active":
        reopen_access(member.user_id, actor_id=actor.user_id, reason=f"{action}: {reason}")
    return change


def status_history(
    *, actor: Principal, member_id: int, limit: int | None = None, cursor: str | None = None
) -> dict:
    """Every status change of a member, oldest first."""
    member = visible_member(actor, member_id)
    query = select(MemberStatusChange).where(MemberStatusChange.member_id == member.id)
    return paginate(query, {"limit": limit, "cursor": cursor}, order=[MemberStatusChange.id])


# --- directory ------------------------------------------------------------------------------


def _directory(
    query: Select,
    *,
    skill: str | None = None,
    status: str | None = None,
    country: str | None = None,
    city: str | None = None,
    postcode_prefix: str | None = None,
    min_level: int | None = None,
    q: str | None = None,
    where: Sequence[ColumnElement[bool]] = (),
) -> Select:
    """`query` (over Member) narrowed by the directory's filters; `where`: conditions on
    Member that packages above this one add (e.g. payouts' plans.on_plan)."""
    if skill is not None:
        skill_id = db.session.scalar(select(Skill.id).where(Skill.slug == skill))
        if skill_id is None:
            message = f"unknown skill '{skill}'"
            raise Unprocessable(message, errors={"query": {"skill": [message]}})
        claimed = (MemberSkill.member_id == Member.id) & (MemberSkill.skill_id == skill_id)
        query = query.where(exists().where(claimed))
    if status is not None:
        query = query.where(Member.status == status)
    if country is not None:
        query = query.where(Member.country == country)
    if city is not None:
        query = query.where(func.lower(Member.city) == city.lower())
    if postcode_prefix is not None:
        query = query.where(Member.postcode.startswith(postcode_prefix, autoescape=True))
    if min_level is not None:
        query = query.where(Member.level_rank >= min_level)
    if q is not None:
        query = query.where(Member.display_name.icontains(q, autoescape=True))
    return query.where(*where)


def list_members(
    *,
    actor: Principal,
    limit: int | None = None,
    cursor: str | None = None,
    **filters,
) -> dict:
    """Members matching every given filter (see `_directory`), for community managers, in id
    order."""
    _require_staff(actor)
    query = select(Member).options(selectinload(Member.skills), selectinload(Member.stats))
    query = _directory(query, **filters)
    return paginate(query, {"limit": limit, "cursor": cursor}, order=[Member.id])


EXPORT_COLUMNS = (
    "id",
    "display_name",
    "email",
    "phone",
    "kind",
    "status",
    "country",
    "postcode",
    "city",
    "level_rank",
    "skills",
    "jobs_completed",
    "rating_count",
    "rating_sum",
    "joined_at",
)


def export_members(*, actor: Principal, **filters) -> Select:
    """The members the directory's filters match, in id order, as plain columns
    (EXPORT_COLUMNS; skills as slugs joined by commas) for a download read in batches."""
    _require_staff(actor)
    skills = (
        select(func.aggregate_strings(Skill.slug, ","))
        .join(MemberSkill, MemberSkill.skill_id == Skill.id)
        .where(MemberSkill.member_id == Member.id)
        .scalar_subquery()
    )
    query = (
        select(
            Member.id,
            Member.display_name,
            User.email,
            Member.phone,
            Member.kind,
            Member.status,
            Member.country,
            Member.postcode,
            Member.city,
            Member.level_rank,
            skills,
            MemberStats.jobs_completed,
            MemberStats.rating_count,
            MemberStats.rating_sum,
            Member.created_at,
        )
        .join(User, User.id == Member.user_id)
        .outerjoin(MemberStats, MemberStats.member_id == Member.id)
    )
    return _directory(query, **filters).order_by(Member.id)


# --- performance counters, maintained by events --------------------------------------------


def _stats_for_update(member_id: int) -> MemberStats:
    stats = db.session.execute(
        select(MemberStats)
        .where(MemberStats.member_id == member_id)
        .with_for_update(key_share=True)
    ).scalar_one_or_none()
    if stats is None:
        stats = MemberStats(member_id=member_id)
        db.session.add(stats)
        db.session.flush()
    return stats


def _refresh_rates(stats: MemberStats) -> None:
    answered = stats.offers_accepted + stats.offers_declined
    stats.acceptance_rate = round(stats.offers_accepted / answered, 4) if answered else None
    taken = stats.jobs_completed + stats.jobs_cancelled
    stats.cancellation_rate = round(stats.jobs_cancelled / taken, 4) if taken else None
    stats.average_rating = (
        round(stats.rating_sum / stats.rating_count, 3) if stats.rating_count else None
    )


def record_offers_received(member_ids: list[int]) -> None:
    """One offer each was sent to these members (a dispatch wave): two statements, not 2×n."""
    ids = sorted(set(member_ids))
    # Locked in one order, so concurrent waves for overlapping members cannot deadlock.
    locked = db.session.scalars(
        select(MemberStats.member_id)
        .where(MemberStats.member_id.in_(ids))
        .order_by(MemberStats.member_id)
        .with_for_update(key_share=True)
    ).all()
    for member_id in set(ids) - set(locked):
        _stats_for_update(member_id)  # creates the missing row
    db.session.execute(
        update(MemberStats)
        .where(MemberStats.member_id.in_(ids))
        .values(offers_received=MemberStats.offers_received + 1)
        .execution_options(synchronize_session="fetch")
    )


def record_offer_answered(member_id: int, *, accepted: bool, response_seconds: int) -> None:
    """The member accepted or declined an offer after `response_seconds`."""
    stats = _stats_for_update(member_id)
    if accepted:
        stats.offers_accepted += 1
    else:
        stats.offers_declined += 1
    window = (list(stats.recent_response_seconds or []) + [max(0, int(response_seconds))])[
        -RESPONSE_WINDOW:
    ]
    stats.recent_response_seconds = window
    stats.median_response_seconds = int(statistics.median(window))
    _refresh_rates(stats)


def record_job_completed(member_id: int, *, at: datetime | None = None) -> None:
    stats = _stats_for_update(member_id)
    stats.jobs_completed += 1
    stats.last_job_completed_at = at or utcnow()
    _refresh_rates(stats)


def record_job_cancelled_by_member(member_id: int) -> None:
    stats = _stats_for_update(member_id)
    stats.jobs_cancelled += 1
    _refresh_rates(stats)


def record_rating(member_id: int, *, stars: int) -> None:
    """A published review's stars (1–5) count towards the average."""
    if not 1 <= stars <= 5:
        raise ValueError("stars must be 1..5")
    stats = _stats_for_update(member_id)
    stats.rating_count += 1
    stats.rating_sum += stars
    _refresh_rates(stats)


def record_job_disputed(member_id: int) -> None:
    """A job the member did went into dispute."""
    stats = _stats_for_update(member_id)
    stats.jobs_disputed += 1


def record_dispute_lost(member_id: int) -> None:
    """Support mediation settled a dispute against the member."""
    stats = _stats_for_update(member_id)
    stats.disputes_lost += 1


# --- the console's people search ------------------------------------------------------------


def find_members(
    *,
    actor: Principal,
    member_id: int | None = None,
    user_id: int | None = None,
    phone: str | None = None,
    name_prefix: str | None = None,
    limit: int = 10,
) -> list[Member]:
    """Members by exact id, account, phone, or the start of their name (case-insensitive),
    each an indexed lookup; at most `limit`, exact matches first, then by name."""
    _require_staff(actor)
    found: dict[int, Member] = {}
    exact = []
    if member_id is not None:
        exact.append(Member.id == member_id)
    if user_id is not None:
        exact.append(Member.user_id == user_id)
    if phone:
        exact.append(Member.phone == phone)
    if exact:
        query = select(Member).where(or_(*exact)).order_by(Member.id).limit(limit)
        found.update((m.id, m) for m in db.session.scalars(query))
    if name_prefix and len(found) < limit:
        pattern = like_prefix(name_prefix)
        query = (
            select(Member)
            .where(func.lower(Member.display_name).like(pattern, escape="\\"))
            .order_by(func.lower(Member.display_name), Member.id)
            .limit(limit)
        )
        for member in db.session.scalars(query):
            found.setdefault(member.id, member)
    return list(found.values())[:limit]
