"""Evaluation of members against a rule set: on events, daily for the whole crowd, as a dry run,
and the first level on admission.

Every path decides with onboarding.levels.targets.decide (the rules are in its docstring) over
figures from onboarding.levels.metrics.load_figures, and records with
onboarding.levels.changes.

- Events (`promote_on_event`: a job confirmed, a review published, a training completed): only
  that member, only promotion (never demotion), inside the caller's transaction. Skipped when
  the member is locked, has no level, or is not active/paused. The member row is locked before
  anything is read. Cause "event", detail = the event ("job.confirmed:42").
- Daily (`evaluate_crowd`, task "onboarding.evaluate_levels", every 86 400 s): the aggregate
  query, one window of member ids at a time → decisions in Python → changes applied in chunks
  with bulk statements as they gather (memory bounded by a window and a chunk),
  compare-and-set on the rank the plan started from (a concurrent event promotion or a CM's
  lock is never overwritten; such members are skipped). Each chunk is one
  transaction (crowd.core.db.commit between chunks), so each member's rank, MemberLevel and
  LevelChange land together. Cause "daily" (detail "daily:<date>"), "ruleset" for a run queued
  by an activation and for members whose rank the ladder no longer has. A second run the same
  day changes nothing: whoever was promoted meets their level, whoever was demoted keeps
  their new one.
- Dry run (`dry_run`): the whole crowd against ANY rule set (a draft, or the active one) with
  the same survey as the daily run, inside a savepoint that is read-only on PostgreSQL and
  rolled back — nothing is written, nothing added to the session.
- Admission (`admit_member`): rank 1 of the active rule set whatever its requirements, a fresh
  MemberLevel (active_since = now: tenure starts), cause "approval".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, text

from crowd.core.auth import Principal
from crowd.core.background import enqueue
from crowd.core.db import commit, is_postgres, utcnow
from crowd.core.errors import Forbidden, NotFound
from crowd.core.i18n import _
from crowd.extensions import db
from members.models import Member
from onboarding.errors import AlreadyRanked
from onboarding.levels.bulk import apply_chunk
from onboarding.levels.changes import record_change
from onboarding.levels.metrics import (
    EVALUATED_STATUSES,
    PAGE,
    MemberFigures,
    load_figures,
    stream_figures,
)
from onboarding.levels.rules import (
    find_active_ruleset,
    get_ruleset,
    install_default_ruleset,
    require_staff,
)
from onboarding.levels.targets import (
    DEMOTE,
    GRACE,
    LOCKED,
    PROMOTE,
    UNRANKED,
    Decision,
    Ladder,
    decide,
)
from onboarding.models import LevelChange

log = logging.getLogger(__name__)

# Members whose changes are written (and committed) together in the daily run.
CHUNK = 5_000
DRY_RUN_LIMIT, DRY_RUN_MAX = 500, 5_000


def _locked_member(member_id: int) -> Member | None:
    return db.session.scalar(
        select(Member)
        .where(Member.id == member_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )


def _figures(member_id: int, now: datetime) -> MemberFigures:
    return next(iter(load_figures(now, [member_id])))


# --- one member -----------------------------------------------------------------------------


def promote_on_event(member_id: int, *, cause: str) -> LevelChange | None:
    """Cheap check after an event (job confirmed, review published, training done): promote
    at once if the member now meets a higher level; never demotes."""
    member = _locked_member(member_id)
    if member is None or member.status not in EVALUATED_STATUSES or member.level_rank < 1:
        return None
    ruleset = find_active_ruleset()
    if ruleset is None:  # a database without a ladder: nothing to promote to
        log.warning("no active level rule set; member %s not evaluated", member_id)
        return None
    now = utcnow()
    figures = _figures(member_id, now)
    ladder = Ladder.of(ruleset)
    decision = decide(figures, ladder, now, promote_only=True)
    if decision.outcome != PROMOTE:
        return None
    return record_change(
        member,
        figures,
        to_rank=decision.to_rank,
        ladder=ladder,
        cause="event",
        detail=cause,
        now=now,
    )


def admit_member(member_id: int, *, actor_user_id: int) -> LevelChange:
    """An approved applicant gets the first level: members.level_rank 1, a MemberLevel row
    (active_since now), a LevelChange with cause 'approval', and a notification."""
    member = _locked_member(member_id)
    if member is None:
        raise NotFound(_("No such crowd member."))
    if member.level_rank >= 1:
        raise AlreadyRanked(
            _("Member {member_id} already has a level.", member_id=member_id), state="ranked"
        )
    now = utcnow()
    # The default ladder if the database has none at all (emptied since the migration).
    ladder = Ladder.of(install_default_ruleset())
    return record_change(
        member,
        _figures(member_id, now),
        to_rank=1,
        ladder=ladder,
        cause="approval",
        detail="application approved",
        now=now,
        changed_by_id=actor_user_id,
    )


# --- the whole crowd ------------------------------------------------------------------------


@dataclass
class Survey:
    """The decisions for the whole evaluated crowd against one ladder (nothing written)."""

    evaluated: int = 0
    promoted: int = 0
    demoted: int = 0
    unchanged: int = 0  # includes those in grace
    locked: int = 0
    in_grace: int = 0
    changes: list[tuple[MemberFigures, Decision]] = field(default_factory=list)


def _tally(survey: Survey, figures: MemberFigures, decision: Decision) -> bool:
    """Count one member's decision in `survey`; True when it is a change to record."""
    outcome = decision.outcome
    if outcome == UNRANKED:
        return False
    survey.evaluated += 1
    if decision.changed:
        if outcome == DEMOTE:
            survey.demoted += 1
        else:
            survey.promoted += 1
        return True
    if outcome == LOCKED:
        survey.locked += 1
    else:
        survey.unchanged += 1
        survey.in_grace += outcome == GRACE
    return False


def survey_crowd(ladder: Ladder, now: datetime, member_ids: Iterable[int] | None = None) -> Survey:
    """Decide for every evaluated member (active or paused, with a level) in one streaming
    pass over the aggregate query: what the daily run would do, and what a dry run shows."""
    survey = Survey()
    for figures in load_figures(now, member_ids):
        decision = decide(figures, ladder, now)
        if _tally(survey, figures, decision):
            survey.changes.append((figures, decision))
    return survey


def evaluate_crowd(
    now: datetime | None = None,
    *,
    cause: str = "daily",
    detail: str | None = None,
    chunk: int = CHUNK,
    page: int = PAGE,
) -> dict:
    """The crowd-wide evaluation against the active rule set (the daily task's work).

    Reads the crowd in one statement, a batch at a time (metrics.stream_figures: a cursor
    that outlives the commits) and records the changes in chunks as they gather, committing
    after each (crowd.core.db.commit): memory holds one batch and one chunk, whatever the
    crowd's size. Call it from a task, never from a request. Returns
    {evaluated, promoted, demoted, unchanged, skipped, locked, in_grace, overtaken, superseded,
    ruleset_version, seconds}; skipped = locked members + members changed meanwhile by someone
    else (overtaken).
    """
    started = time.perf_counter()
    now = now or utcnow()
    ruleset = find_active_ruleset()
    if ruleset is None:  # a database without a ladder (emptied since the migration)
        log.warning("no active level rule set; the crowd was not evaluated")
        return {"ruleset_version": None, "evaluated": 0, "promoted": 0, "demoted": 0}
    ladder = Ladder.of(ruleset)
    detail = detail or f"{cause}:{now.date().isoformat()}"
    survey = Survey()
    pending: list[tuple[MemberFigures, Decision]] = []
    promoted = demoted = 0
    superseded = False

    def record(part) -> bool:
        nonlocal promoted, demoted
        applied = apply_chunk(part, ladder, cause=cause, detail=detail, now=now)
        if applied is None:
            # Another rule set was activated meanwhile; its own evaluation takes over.
            db.session.rollback()
            return False
        commit()
        promoted += sum(d.to_rank > d.from_rank for d in applied)
        demoted += sum(d.to_rank < d.from_rank for d in applied)
        return True

    with closing(stream_figures(now, batch=page)) as batches:
        for batch in batches:
            for figures in batch:
                decision = decide(figures, ladder, now)
                if _tally(survey, figures, decision):
                    pending.append((figures, decision))
            while len(pending) >= chunk and not superseded:
                superseded = not record(pending[:chunk])
                del pending[:chunk]
            if superseded:
                break
    if pending and not superseded:
        superseded = not record(pending)
    overtaken = survey.promoted + survey.demoted - promoted - demoted
    summary = {
        "ruleset_version": ladder.version,
        "evaluated": survey.evaluated,
        "promoted": promoted,
        "demoted": demoted,
        "unchanged": survey.unchanged,
        "skipped": survey.locked + overtaken,
        "locked": survey.locked,
        "in_grace": survey.in_grace,
        "overtaken": overtaken,
        "superseded": superseded,
        "seconds": round(time.perf_counter() - started, 3),
    }
    log.info("level evaluation (%s): %s", cause, summary)
    return summary


def queue_crowd_evaluation(*, actor: Principal) -> dict:
    """An admin's run of the crowd-wide evaluation now: the daily run's work, queued.

    It runs as the task the scheduler runs (it commits per chunk, so never inside a request),
    after this request commits; changes are recorded with cause "manual" and the detail
    "manual:<date>:<admin's user id>". A second run finds nothing more to change."""
    if actor.role != "admin":
        raise Forbidden(_("Only admins run the level evaluation."))
    now = utcnow()
    ruleset = find_active_ruleset()
    detail = f"manual:{now.date().isoformat()}:{actor.user_id}"
    enqueue("onboarding.evaluate_levels", cause="manual", detail=detail)
    return {
        "status": "queued",
        "cause": "manual",
        "detail": detail,
        "ruleset_version": ruleset.version if ruleset is not None else None,
        "queued_at": now,
    }


# --- dry run --------------------------------------------------------------------------------


def dry_run(*, actor: Principal, ruleset_id: int, limit: int = DRY_RUN_LIMIT) -> dict:
    """Who a rule set would promote and demote now, changing nothing (see the module doc)."""
    require_staff(actor)
    limit = max(1, min(limit, DRY_RUN_MAX))
    savepoint = db.session.begin_nested()
    try:
        if is_postgres():
            # Any write by mistake fails here instead of waiting to be rolled back.
            db.session.execute(text("SET TRANSACTION READ ONLY"))
        ladder = Ladder.of(get_ruleset(ruleset_id))
        now = utcnow()
        survey = survey_crowd(ladder, now)
        listed = survey.changes[:limit]
        names = dict(
            db.session.execute(
                select(Member.id, Member.display_name).where(
                    Member.id.in_([d.member_id for _, d in listed])
                )
            ).all()
        )
    finally:
        savepoint.rollback()
    return {
        "ruleset_id": ladder.ruleset_id,
        "ruleset_version": ladder.version,
        "evaluated_at": now,
        "evaluated": survey.evaluated,
        "promoted": survey.promoted,
        "demoted": survey.demoted,
        "unchanged": survey.unchanged,
        "skipped_locked": survey.locked,
        "in_grace": survey.in_grace,
        "truncated": len(survey.changes) > limit,
        "changes": [
            {
                "member_id": d.member_id,
                "display_name": names.get(d.member_id),
                "from_rank": d.from_rank,
                "from_code": ladder.code_of(d.from_rank),
                "to_rank": d.to_rank,
                "to_code": ladder.code_of(d.to_rank),
                "direction": d.direction,
                "clamped": d.clamped,
                "failing": list(d.failing),
                "metrics": f.metrics,
            }
            for f, d in listed
        ],
    }
