"""Recording level changes: the effects every change has, and one member's change (events,
admission, a community manager); onboarding.levels.bulk records a chunk of the crowd at once.

Every change, in one transaction with the others of its member:
- members.level_rank is the new rank (matching reads it); on a demotion (and on admission)
  members.max_concurrent_jobs is capped at the new level's max_concurrent_jobs;
- MemberLevel: level_since = now, promoted_at = now on a promotion (the grace period runs from
  it); a missing row is created with active_since = the tenure start the metrics used;
- a LevelChange row: old and new rank and code, the rule set version, cause, detail, the
  member's figures and who made it (staff, for manual changes and approvals);
- a "level.changed" notification to the member, dedupe key "level.changed:{change id}", queued
  with the change (one member) or by a background task after the chunk's commit (bulk).

The caller has locked the member row: everything that changes a level locks it first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from crowd.core.events import Event, emit
from crowd.core.i18n import _l
from crowd.extensions import db
from members.models import Member
from notifications.service import notify
from onboarding.levels.metrics import MemberFigures
from onboarding.levels.targets import Ladder
from onboarding.models import Level, LevelChange, LevelRuleset, MemberLevel


def capped(current_max: int, ladder: Ladder, to_rank: int, *, capping: bool) -> int:
    rung = ladder.rung(to_rank)
    if not capping or rung is None:
        return current_max
    return min(current_max, rung.max_concurrent_jobs)


def change_values(
    *,
    member_id: int,
    from_rank: int,
    to_rank: int,
    ladder: Ladder,
    cause: str,
    detail: str | None,
    metrics: dict,
    now: datetime,
    changed_by_id: int | None = None,
) -> dict:
    """The columns of a LevelChange, as both paths write them."""
    return {
        "member_id": member_id,
        "from_rank": from_rank,
        "to_rank": to_rank,
        "from_code": ladder.code_of(from_rank),
        "to_code": ladder.code_of(to_rank),
        "ruleset_version": ladder.version,
        "cause": cause,
        "detail": detail[:500] if detail else None,
        "metrics": metrics,
        "changed_by_id": changed_by_id,
        "created_at": now,
    }


# --- one member -----------------------------------------------------------------------------


def record_change(
    member: Member,
    figures: MemberFigures,
    *,
    to_rank: int,
    ladder: Ladder,
    cause: str,
    detail: str | None,
    now: datetime,
    changed_by_id: int | None = None,
) -> LevelChange:
    """Move one member (their row locked by the caller) to `to_rank` and record it."""
    from_rank = member.level_rank
    admission = cause == "approval"
    member.level_rank = to_rank
    member.max_concurrent_jobs = capped(
        member.max_concurrent_jobs, ladder, to_rank, capping=admission or to_rank < from_rank
    )
    standing = db.session.get(MemberLevel, member.id, populate_existing=True)
    if standing is None:
        standing = MemberLevel(member_id=member.id, active_since=figures.active_since or now)
        db.session.add(standing)
    if admission:
        standing.active_since, standing.promoted_at = now, None
        standing.locked, standing.locked_by_id, standing.locked_at = False, None, None
        standing.lock_reason = None
    elif to_rank > from_rank:
        standing.promoted_at = now
    standing.level_since = now
    change = LevelChange(
        **change_values(
            member_id=member.id,
            from_rank=from_rank,
            to_rank=to_rank,
            ladder=ladder,
            cause=cause,
            detail=detail,
            metrics=figures.metrics,
            now=now,
            changed_by_id=changed_by_id,
        )
    )
    db.session.add(change)
    db.session.flush()
    notify_change(change, member.user_id, {rung.rank: rung.name for rung in ladder.rungs})
    emit(
        Event(
            name="level.changed",
            subject_type="member",
            subject_id=member.id,
            actor=changed_by_id if changed_by_id is not None else "system",
            payload={
                "change_id": change.id,
                "from_rank": from_rank,
                "to_rank": to_rank,
                "cause": cause,
            },
            occurred_at=now,
        )
    )
    return change


# --- notifications --------------------------------------------------------------------------


def notify_change(change: LevelChange, user_id: int, names: dict[int, str]) -> None:
    """Tell the member about one change (once: the dedupe key names the change)."""
    to_name = names.get(change.to_rank, change.to_code)
    from_name = names.get(change.from_rank, change.from_code)
    if change.cause == "approval":
        title = _l("Welcome to the crowd: you are a {level}", level=to_name)
        body = _l("Your application was approved; your first level is set.")
    elif change.to_rank > change.from_rank:
        title = _l("You are now {level}", level=to_name)
        body = _l("Your level went up from {before} to {level}.", before=from_name, level=to_name)
    else:
        title = _l("Your level is now {level}", level=to_name)
        body = _l(
            "Your level changed from {before} to {level}. Your level page shows what each "
            "level needs.",
            before=from_name or _l("rank {rank}", rank=change.from_rank),
            level=to_name,
        )
    notify(
        user_id,
        "level.changed",
        title,
        body,
        dedupe_key=f"level.changed:{change.id}",
        change_id=change.id,
        from_rank=change.from_rank,
        to_rank=change.to_rank,
        from_code=change.from_code,
        to_code=change.to_code,
        ruleset_version=change.ruleset_version,
        cause=change.cause,
    )


def notify_changes(change_ids: Sequence[int]) -> int:
    """Notify the members of recorded changes (the bulk path's background task)."""
    rows = db.session.execute(
        select(LevelChange, Member.user_id)
        .join(Member, Member.id == LevelChange.member_id)
        .where(LevelChange.id.in_(list(change_ids)))
        .order_by(LevelChange.id)
    ).all()
    names: dict[int, dict[int, str]] = {}
    for change, user_id in rows:
        if change.ruleset_version not in names:
            names[change.ruleset_version] = dict(
                db.session.execute(
                    select(Level.rank, Level.name)
                    .join(LevelRuleset, LevelRuleset.id == Level.ruleset_id)
                    .where(LevelRuleset.version == change.ruleset_version)
                ).all()
            )
        notify_change(change, user_id, names[change.ruleset_version])
    return len(rows)
