"""Recording a chunk of the crowd's level changes at once (the crowd-wide run).

The effects per member are those of onboarding.levels.changes (rank, capped capacity,
MemberLevel, LevelChange, notification), written set-based: each table gets one statement per
chunk — on PostgreSQL with the chunk as one JSON document (UPDATE … FROM json_to_recordset(…),
INSERT … SELECT … ON CONFLICT DO UPDATE, INSERT … RETURNING the changes), elsewhere as plain bulk
statements — and the notifications go to a background task per batch of change ids
(onboarding.notify_level_changes), after the chunk's commit. The chunk emits one
`level.changes_recorded` listing its changes, whose subscribers do set-based what
`level.changed`'s do for one member's change (the plan follows the level, a promoted mentee's
graduation check), so every path to a level has the same consequences.

Compare-and-set: the chunk's member rows are locked (in id order), then read again; a member
whose rank is no longer the one the plan started from, who was locked by a community manager,
or who left the active/paused statuses meanwhile is skipped, not recorded. Everything else that
changes a level locks the member row first too, so nothing is overwritten. A shared lock on the
rule set makes an activation wait for the chunk; the next chunk then finds its ladder retired
and the run stops (the activation's own evaluation takes over).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from crowd.core.background import enqueue
from crowd.core.db import is_postgres, one_of
from crowd.core.events import Event, declare, emit
from crowd.extensions import db
from members.models import Member
from onboarding.config import onboarding_rules
from onboarding.levels.changes import capped, change_values
from onboarding.levels.metrics import EVALUATED_STATUSES, MemberFigures
from onboarding.levels.targets import Decision, Ladder
from onboarding.models import LevelChange, LevelRuleset, MemberLevel

# A chunk of the crowd-wide run's changes, recorded (one event per chunk, not per change).
CHANGES_RECORDED = "level.changes_recorded"
declare(CHANGES_RECORDED)


@dataclass(frozen=True)
class ChunkRow:
    """One member's change in a chunk, with every value the statements write."""

    member_id: int
    from_rank: int
    to_rank: int
    max_concurrent_jobs: int
    active_since: datetime
    promoted_at: datetime | None
    cause: str
    metrics: dict


def _write_portable(rows: list[ChunkRow], ladder: Ladder, *, detail: str, now: datetime):
    """The chunk's writes as plain bulk statements (SQLite, and any other database)."""
    db.session.execute(
        update(Member),
        [
            {
                "id": row.member_id,
                "level_rank": row.to_rank,
                "max_concurrent_jobs": row.max_concurrent_jobs,
                "updated_at": now,
            }
            for row in rows
        ],
    )
    statement = sqlite_insert(MemberLevel)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[MemberLevel.member_id],
            set_={
                "level_since": statement.excluded.level_since,
                # Only a promotion restarts the grace period.
                "promoted_at": func.coalesce(
                    statement.excluded.promoted_at, MemberLevel.promoted_at
                ),
            },
        ),
        [
            {
                "member_id": row.member_id,
                "active_since": row.active_since,
                "level_since": now,
                "promoted_at": row.promoted_at,
                "locked": False,
            }
            for row in rows
        ],
    )
    return db.session.execute(
        insert(LevelChange).returning(*RECORDED),
        [
            change_values(
                member_id=row.member_id,
                from_rank=row.from_rank,
                to_rank=row.to_rank,
                ladder=ladder,
                cause=row.cause,
                detail=detail,
                metrics=row.metrics,
                now=now,
            )
            for row in rows
        ],
    ).all()


# The chunk travels as one JSON document per statement: cheaper to send than arrays of
# thousands of escaped strings, and PostgreSQL reads it back typed with json_to_recordset.
POSTGRES_MEMBERS = text("""
    UPDATE members AS m
       SET level_rank = v.to_rank, max_concurrent_jobs = v.max_jobs, updated_at = :now
      FROM json_to_recordset(CAST(:rows AS json)) AS v(id bigint, to_rank smallint, max_jobs int)
     WHERE m.id = v.id
""")
POSTGRES_STANDINGS = text("""
    INSERT INTO member_levels (member_id, active_since, level_since, promoted_at, locked)
    SELECT v.id, v.active_since, :now, v.promoted_at, false
      FROM json_to_recordset(CAST(:rows AS json))
           AS v(id bigint, active_since timestamptz, promoted_at timestamptz)
        ON CONFLICT (member_id) DO UPDATE
       SET level_since = EXCLUDED.level_since,
           promoted_at = coalesce(EXCLUDED.promoted_at, member_levels.promoted_at)
""")
POSTGRES_CHANGES = text("""
    INSERT INTO level_changes (member_id, from_rank, to_rank, from_code, to_code,
                               ruleset_version, cause, detail, metrics, created_at)
    SELECT v.id, v.from_rank, v.to_rank, v.from_code, v.to_code,
           :version, v.cause, :detail, v.metrics, :now
      FROM json_to_recordset(CAST(:rows AS json))
           AS v(id bigint, from_rank smallint, to_rank smallint, from_code varchar,
                to_code varchar, cause varchar, metrics json)
    RETURNING id, member_id, from_rank, to_rank, cause
""")


def _write_postgres(rows: list[ChunkRow], ladder: Ladder, *, detail: str, now: datetime):
    """The same writes as _write_portable, each one statement for the chunk (PostgreSQL)."""
    members = [
        {"id": row.member_id, "to_rank": row.to_rank, "max_jobs": row.max_concurrent_jobs}
        for row in rows
    ]
    db.session.execute(POSTGRES_MEMBERS, {"rows": json.dumps(members), "now": now})
    standings = [
        {
            "id": row.member_id,
            "active_since": row.active_since.isoformat(),
            "promoted_at": row.promoted_at.isoformat() if row.promoted_at else None,
        }
        for row in rows
    ]
    db.session.execute(POSTGRES_STANDINGS, {"rows": json.dumps(standings), "now": now})
    changes = [
        {
            "id": row.member_id,
            "from_rank": row.from_rank,
            "to_rank": row.to_rank,
            "from_code": ladder.code_of(row.from_rank),
            "to_code": ladder.code_of(row.to_rank),
            "cause": row.cause,
            "metrics": row.metrics,
        }
        for row in rows
    ]
    parameters = {
        "rows": json.dumps(changes),
        "version": ladder.version,
        "detail": detail[:500] if detail else None,
        "now": now,
    }
    return db.session.execute(POSTGRES_CHANGES, parameters).all()


# What the insert of the changes returns: what their event lists.
RECORDED = (
    LevelChange.id,
    LevelChange.member_id,
    LevelChange.from_rank,
    LevelChange.to_rank,
    LevelChange.cause,
)


def _emit_changes(recorded: list, *, ruleset_id: int, now: datetime) -> None:
    """One `level.changes_recorded` for the chunk: its subscribers do for the whole chunk, in a
    few statements, what `level.changed`'s do for one member's change (the plan follows the
    level, a promoted mentee's graduation check). Each change is listed as one member's change
    event carries it, with its member, from the rows the insert returned (in id order: the
    order the insert returns them in is not the ids')."""
    emit(
        Event(
            name=CHANGES_RECORDED,
            subject_type="level_ruleset",
            subject_id=ruleset_id,
            actor="system",
            payload={
                "changes": [
                    {
                        "change_id": change_id,
                        "member_id": member_id,
                        "from_rank": from_rank,
                        "to_rank": to_rank,
                        "cause": cause,
                    }
                    for change_id, member_id, from_rank, to_rank, cause in sorted(recorded)
                ]
            },
            occurred_at=now,
        )
    )


def apply_chunk(
    planned: Sequence[tuple[MemberFigures, Decision]],
    ladder: Ladder,
    *,
    cause: str,
    detail: str,
    now: datetime,
) -> list[Decision] | None:
    """Record a chunk of planned changes set-based; returns the decisions applied (the others
    were overtaken), or None when the ladder is no longer the active rule set. The caller
    commits."""
    planned_from = {decision.member_id: decision.from_rank for _, decision in planned}
    ids = sorted(planned_from)
    # Shared lock on the rule set (before the members: crowd.core.locking): an activation
    # waits for this chunk, and the next one stops.
    status = db.session.scalar(
        select(LevelRuleset.status)
        .where(LevelRuleset.id == ladder.ruleset_id)
        .with_for_update(read=True)
    )
    if status != "active":
        return None
    # Lock first, read after: the fresh read sees whatever committed while we waited. In id
    # order, before the set-based writes below touch the rows.
    db.session.execute(
        select(Member.id)
        .where(one_of(Member.id, ids))
        .order_by(Member.id)
        .with_for_update(key_share=True)
    )
    now_rows = db.session.execute(
        select(
            Member.id,
            Member.level_rank,
            Member.status,
            Member.max_concurrent_jobs,
            func.coalesce(MemberLevel.locked, False),
        )
        .outerjoin(MemberLevel, MemberLevel.member_id == Member.id)
        .where(one_of(Member.id, ids))
    ).all()
    fresh = {
        member_id: max_jobs
        for member_id, rank, status, max_jobs, locked in now_rows
        if not locked and status in EVALUATED_STATUSES and rank == planned_from[member_id]
    }
    applied = [(f, d) for f, d in planned if d.member_id in fresh]
    if not applied:
        return []
    rows = [
        ChunkRow(
            member_id=d.member_id,
            from_rank=d.from_rank,
            to_rank=d.to_rank,
            max_concurrent_jobs=capped(
                fresh[d.member_id], ladder, d.to_rank, capping=d.to_rank < d.from_rank
            ),
            active_since=f.active_since or now,
            promoted_at=now if d.to_rank > d.from_rank else None,
            cause="ruleset" if d.clamped else cause,
            metrics=f.metrics,
        )
        for f, d in applied
    ]
    write = _write_postgres if is_postgres() else _write_portable
    recorded = write(rows, ladder, detail=detail, now=now)
    _emit_changes(recorded, ruleset_id=ladder.ruleset_id, now=now)
    change_ids = sorted(row[0] for row in recorded)
    batch = onboarding_rules().level_notify_batch
    for start in range(0, len(change_ids), batch):
        enqueue("onboarding.notify_level_changes", change_ids=change_ids[start : start + batch])
    return [d for _, d in applied]
