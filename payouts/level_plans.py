"""Many members' plans at once, for a chunk of level changes (the crowd-wide evaluation's).

`plans_at` is `plans.plan_for` for a list of members, one query; `follow_levels` is
`plans.follow_level` for a list of moves, set-based: the plans moved to are locked (shared)
once each, the members' open assignments read in one query, the ones ending written by one
executemany UPDATE and the new ones by one INSERT (on PostgreSQL from one JSON document).
The rules are follow_level's, move by move: a member already on the plan stays; the
open-ended current assignment ends now; a bounded period running now is cut short; a change
someone scheduled later stays and the level's plan runs until it. The caller has locked the
members' rows.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, or_, select, text, update

from crowd.core.db import is_postgres, one_of, utcnow
from crowd.core.errors import NotFound
from crowd.core.i18n import _
from crowd.extensions import db
from payouts.errors import PlanAssignmentOverlap, PlanInactive
from payouts.models.plans import CommissionPlan, MemberPlan
from payouts.plans import STANDARD_CODE, _overlaps, _plan_by_code, standard_plan, sync_default_plans


@dataclass(frozen=True)
class LevelMove:
    """One member to move to `plan_code` because their level changed (follow_level's
    arguments)."""

    member_id: int
    plan_code: str
    cause: str
    level_change_id: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Moved:
    """A move made: the new assignment's id and the plan it puts the member on."""

    move: LevelMove
    assignment_id: int
    plan: CommissionPlan


def plans_at(member_ids: Iterable[int], at: datetime) -> dict[int, CommissionPlan]:
    """{member id: the plan they are on at `at`} for every member asked, in one query: their
    assignment covering `at`, else the standard plan (plans.plan_for, for many)."""
    ids = sorted(set(member_ids))
    found: dict[int, CommissionPlan] = {}
    if not ids:
        return found
    rows = db.session.execute(
        select(MemberPlan.member_id, CommissionPlan)
        .join(CommissionPlan, CommissionPlan.id == MemberPlan.plan_id)
        .where(
            one_of(MemberPlan.member_id, ids),
            MemberPlan.effective_from <= at,
            or_(MemberPlan.effective_to.is_(None), MemberPlan.effective_to > at),
        )
        # Ascending: the latest start wins, as plan_for's "order by effective_from desc limit 1".
        .order_by(MemberPlan.member_id, MemberPlan.effective_from)
    )
    for member_id, plan in rows:
        found[member_id] = plan
    standard = None
    for member_id in ids:
        if member_id not in found:
            standard = standard or standard_plan()
            found[member_id] = standard
    return found


def follow_levels(moves: Sequence[LevelMove]) -> list[Moved]:
    """plans.follow_level for each of `moves` (one per member), in a few statements; returns
    the moves made, in the order given (a member already on the plan is not among them)."""
    if not moves:
        return []
    if len({move.member_id for move in moves}) != len(moves):
        raise ValueError("follow_levels takes one move per member")
    now = utcnow()
    open_rows = db.session.execute(
        select(
            MemberPlan.id,
            MemberPlan.member_id,
            MemberPlan.effective_from,
            MemberPlan.effective_to,
            CommissionPlan.code,
        )
        .join(CommissionPlan, CommissionPlan.id == MemberPlan.plan_id)
        .where(
            one_of(MemberPlan.member_id, sorted(move.member_id for move in moves)),
            # Assignments ended by now neither cover now nor overlap what starts now.
            or_(MemberPlan.effective_to.is_(None), MemberPlan.effective_to > now),
        )
        .order_by(MemberPlan.id)
    ).all()
    by_member: dict[int, list] = defaultdict(list)
    for row in open_rows:
        by_member[row.member_id].append(row)
    targets: dict[str, CommissionPlan] = {}
    ending: list[dict] = []
    new_rows: list[dict] = []
    made: list[tuple[LevelMove, CommissionPlan]] = []
    for move in moves:
        mine = by_member.get(move.member_id, [])
        covering = [row for row in mine if row.effective_from <= now]
        current_code = (
            max(covering, key=lambda row: row.effective_from).code if covering else STANDARD_CODE
        )
        if current_code == move.plan_code:
            continue
        plan = targets.get(move.plan_code) or _target(move.plan_code)
        targets[move.plan_code] = plan
        if not plan.active:
            raise PlanInactive(
                _("Plan {plan_code!r} is inactive.", plan_code=plan.code), state="inactive"
            )
        # A change of plan someone scheduled later stays; the level's plan runs until it.
        later = min((row.effective_from for row in mine if row.effective_from > now), default=None)
        current = None
        for other in mine:
            if other.effective_to is None and other.effective_from < now:
                current = other
            elif _overlaps(other, now, later):
                if other.effective_to is not None and other.effective_from < now:
                    ending.append({"id": other.id, "effective_to": now})  # cut short
                    continue
                raise PlanAssignmentOverlap(
                    _(
                        "Overlaps the assignment from {value} ({plan_code}).",
                        value=other.effective_from.isoformat(),
                        plan_code=other.code,
                    ),
                    state="overlap",
                    assignment_id=other.id,
                )
        if current is not None:
            ending.append({"id": current.id, "effective_to": now})
        new_rows.append(
            {
                "member_id": move.member_id,
                "plan_id": plan.id,
                "effective_from": now,
                "effective_to": later,
                "assigned_by_id": None,
                "cause": move.cause,
                "level_change_id": move.level_change_id,
                "reason": move.reason[:200] if move.reason else None,
            }
        )
        made.append((move, plan))
    if not new_rows:
        return []
    db.session.flush()  # a plan stored above (the standard one) exists for the foreign key
    if ending:
        db.session.execute(update(MemberPlan).execution_options(synchronize_session=False), ending)
    # Keyed by member (one move each): whatever order the insert returns the rows in.
    inserted = dict(_insert(new_rows))
    return [Moved(move, inserted[move.member_id], plan) for move, plan in made]


# PostgreSQL: the moves as one JSON document, read back typed (one parameter, not 8 a row).
POSTGRES_INSERT = text("""
    INSERT INTO member_plans (member_id, plan_id, effective_from, effective_to, assigned_by_id,
                              cause, level_change_id, reason, created_at)
    SELECT v.member_id, v.plan_id, v.effective_from, v.effective_to, v.assigned_by_id,
           v.cause, v.level_change_id, v.reason, v.effective_from
      FROM json_to_recordset(CAST(:rows AS json))
           AS v(member_id bigint, plan_id bigint, effective_from timestamptz,
                effective_to timestamptz, assigned_by_id bigint, cause varchar,
                level_change_id bigint, reason varchar)
    RETURNING member_id, id
""")


def _insert(rows: list[dict]) -> list:
    """INSERT the new assignments; returns (member id, assignment id) pairs."""
    if is_postgres():
        document = [
            {
                **row,
                "effective_from": row["effective_from"].isoformat(),
                "effective_to": row["effective_to"].isoformat() if row["effective_to"] else None,
            }
            for row in rows
        ]
        return db.session.execute(POSTGRES_INSERT, {"rows": json.dumps(document)}).all()
    table = MemberPlan.__table__
    return db.session.execute(insert(table).returning(table.c.member_id, table.c.id), rows).all()


def _target(code: str) -> CommissionPlan:
    # A shared lock, as follow_level takes: an admin changing the plan waits for the moves.
    plan = _plan_by_code(code, lock="share")
    if plan is None and code == STANDARD_CODE:
        plan = sync_default_plans()
    if plan is None:
        raise NotFound(_("No commission plan {plan_code!r}.", plan_code=code))
    return plan
