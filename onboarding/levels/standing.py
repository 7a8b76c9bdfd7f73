"""A member's standing in the ladder as staff handle it: the lock, a manual level, the history.

- Lock (community managers and admins): a locked member is skipped by events and daily runs,
  and listed as skipped in dry runs. Locking again replaces the reason. With a `level` code the
  member is also set to that level of the active rule set now — cause "manual", the reason as
  detail, the CM as changed_by — which is how a CM sets a level by hand: set and lock at once.
  Unlocking is idempotent; the next event or daily run evaluates the member again.
- The staff view of a member's level is the member's own overview (helper module
  onboarding.levels.progress) plus the lock's author and time, tenure start and capacity.
- History: every LevelChange of a member, newest first — staff for anyone, a member for
  themself (anyone else's is a 404).
"""

from __future__ import annotations

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import field_error
from crowd.core.i18n import _
from crowd.core.pagination import paginate
from crowd.extensions import db
from members.access import visible_member
from members.models import Member
from onboarding.errors import NoLevelYet
from onboarding.levels.changes import record_change
from onboarding.levels.metrics import load_figures
from onboarding.levels.progress import level_overview
from onboarding.levels.rules import active_ruleset, require_staff
from onboarding.levels.targets import Ladder
from onboarding.models import LevelChange, MemberLevel

# --- the standing ---------------------------------------------------------------------------


def standing_of(member: Member) -> dict:
    """The member's level overview (onboarding.levels.progress, as the member sees it) with
    what staff also need: rank, who locked it and when, tenure start, capacity."""
    standing = db.session.get(MemberLevel, member.id)
    return {
        **level_overview(member.id),
        "rank": member.level_rank,
        "max_concurrent_jobs": member.max_concurrent_jobs,
        "locked_by_id": standing.locked_by_id if standing else None,
        "locked_at": standing.locked_at if standing else None,
        "active_since": standing.active_since if standing else None,
    }


def member_standing(*, actor: Principal, member_id: int) -> dict:
    """One member's standing, for staff."""
    require_staff(actor)
    return standing_of(visible_member(actor, member_id))


def lock_level(*, actor: Principal, member_id: int, reason: str, level: str | None = None) -> dict:
    """Lock a member's level (evaluation leaves it alone), optionally setting it first."""
    require_staff(actor)
    member = visible_member(actor, member_id, lock=True)
    if member.level_rank < 1:
        raise NoLevelYet(
            _("The member has no level yet; approval gives the first one."), state=member.status
        )
    ladder = Ladder.of(active_ruleset())
    now = utcnow()
    if level is not None:
        rung = ladder.by_code(level)
        if rung is None:
            codes = ", ".join(r.code for r in ladder.rungs)
            raise field_error(
                "level",
                _(
                    "no level {level!r} in rule set v{ladder_version} ({codes})",
                    level=level,
                    ladder_version=ladder.version,
                    codes=codes,
                ),
            )
        if rung.rank != member.level_rank:
            figures = next(iter(load_figures(now, [member.id])))
            record_change(
                member,
                figures,
                to_rank=rung.rank,
                ladder=ladder,
                cause="manual",
                detail=reason,
                now=now,
                changed_by_id=actor.user_id,
            )
    standing = db.session.get(MemberLevel, member.id)
    if standing is None:
        standing = MemberLevel(member_id=member.id, active_since=member.created_at, level_since=now)
        db.session.add(standing)
    standing.locked, standing.locked_by_id, standing.locked_at = True, actor.user_id, now
    standing.lock_reason = reason
    db.session.flush()
    return standing_of(member)


def unlock_level(*, actor: Principal, member_id: int) -> dict:
    """Lift the lock; evaluation takes the member into account again (idempotent)."""
    require_staff(actor)
    member = visible_member(actor, member_id, lock=True)
    standing = db.session.get(MemberLevel, member.id)
    if standing is not None and standing.locked:
        standing.locked, standing.locked_by_id, standing.locked_at = False, None, None
        standing.lock_reason = None
        db.session.flush()
    return standing_of(member)


# --- history --------------------------------------------------------------------------------


def _changes(member_id: int, limit: int | None, cursor: str | None) -> dict:
    query = select(LevelChange).where(LevelChange.member_id == member_id)
    return paginate(
        query,
        {"limit": limit, "cursor": cursor},
        order=[LevelChange.created_at, LevelChange.id],
        descending=True,
    )


def member_changes(
    *, actor: Principal, member_id: int, limit: int | None = None, cursor: str | None = None
) -> dict:
    """A member's level changes, newest first (staff, or the member themself)."""
    return _changes(visible_member(actor, member_id).id, limit, cursor)


def own_changes(*, actor: Principal, limit: int | None = None, cursor: str | None = None) -> dict:
    """The calling member's level changes, newest first."""
    return _changes(actor.require_member_id(), limit, cursor)
