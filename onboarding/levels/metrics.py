"""The figures level requirements are written over, for many members in one query.

Each metric is derived from the member counters (members MemberStats), verified skills,
completed training modules and tenure. `load_figures` reads them set-based — one aggregate
query for the whole crowd or a list of members, never a query per member — so the daily
evaluation, the dry run, the event check and `GET /me/level` all see the same numbers.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import NamedTuple

from psycopg import pq
from sqlalchemy import BigInteger, Connection, Select, and_, bindparam, func, select, true

from crowd.core.db import is_postgres
from crowd.extensions import db
from members.models import Member, MemberSkill, MemberStats
from onboarding.models import MemberLevel, TrainingCompletion, TrainingModule

# Members whose level the rules look after; applicants have none yet, suspended and
# offboarded members keep theirs frozen until they are back.
EVALUATED_STATUSES = ("active", "paused")
# Member ids per window of the crowd-wide read (figures_pages).
PAGE = 20_000


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str  # count, rate (0..1), rating (1..5), days
    description: str


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("jobs_completed", "count", "Jobs completed."),
        Metric("ratings_received", "count", "Published customer reviews."),
        Metric("average_rating", "rating", "Average stars of published customer reviews."),
        Metric("acceptance_rate", "rate", "Offers accepted / offers answered."),
        Metric("cancellation_rate", "rate", "Jobs the member cancelled / jobs taken."),
        Metric("dispute_rate", "rate", "Jobs that went into dispute / jobs completed."),
        Metric("disputes_lost", "count", "Disputes settled against the member."),
        Metric("tenure_days", "days", "Whole days since the member was admitted."),
        Metric("verified_skills", "count", "Skills verified by a community manager."),
        Metric("training_modules", "count", "Training modules completed."),
    )
}


class MemberFigures(NamedTuple):
    """One member's standing and metrics, as the rules see them (a tuple: the daily run makes
    one per member, 100,000 at a time)."""

    member_id: int
    status: str
    level_rank: int
    locked: bool
    promoted_at: datetime | None
    metrics: dict[str, float | int | None]
    # When tenure started: MemberLevel.active_since, else the profile's creation.
    active_since: datetime | None = None


def figures_query(member_ids: Iterable[int] | None = None, *, window: bool = False) -> Select:
    """Counters per member: the whole evaluated crowd, or just `member_ids` (any status); with
    `window`, the evaluated members with ids from the bind parameter `lo` below `hi`."""
    ids = sorted(set(member_ids)) if member_ids is not None else None
    lo, hi = bindparam("lo", type_=BigInteger), bindparam("hi", type_=BigInteger)
    verified = select(MemberSkill.member_id, func.count().label("n")).where(
        MemberSkill.verified == true()
    )
    trained = (
        select(TrainingCompletion.member_id, func.count().label("n"))
        .join(TrainingModule, TrainingModule.id == TrainingCompletion.module_id)
        .where(TrainingModule.active == true())
    )
    if ids is not None:
        # Pushed into the grouped subqueries too: a single member's check reads only their rows.
        verified = verified.where(MemberSkill.member_id.in_(ids))
        trained = trained.where(TrainingCompletion.member_id.in_(ids))
    elif window:
        # Bounded in the grouped subqueries too: a window reads only its members' rows.
        verified = verified.where(MemberSkill.member_id >= lo, MemberSkill.member_id < hi)
        trained = trained.where(
            TrainingCompletion.member_id >= lo, TrainingCompletion.member_id < hi
        )

    def in_window(join, table):
        # The planner carries no range across a join: each table is told the window itself.
        if not window:
            return join
        return and_(join, table.member_id >= lo, table.member_id < hi)

    verified = verified.group_by(MemberSkill.member_id).subquery("verified")
    trained = trained.group_by(TrainingCompletion.member_id).subquery("trained")
    query = (
        select(
            Member.id,
            Member.status,
            Member.level_rank,
            func.coalesce(MemberLevel.locked, False).label("locked"),
            MemberLevel.promoted_at,
            func.coalesce(MemberLevel.active_since, Member.created_at).label("active_since"),
            func.coalesce(MemberStats.jobs_completed, 0).label("jobs_completed"),
            func.coalesce(MemberStats.jobs_cancelled, 0).label("jobs_cancelled"),
            func.coalesce(MemberStats.offers_accepted, 0).label("offers_accepted"),
            func.coalesce(MemberStats.offers_declined, 0).label("offers_declined"),
            func.coalesce(MemberStats.rating_count, 0).label("rating_count"),
            func.coalesce(MemberStats.rating_sum, 0).label("rating_sum"),
            func.coalesce(MemberStats.jobs_disputed, 0).label("jobs_disputed"),
            func.coalesce(MemberStats.disputes_lost, 0).label("disputes_lost"),
            func.coalesce(verified.c.n, 0).label("verified_skills"),
            func.coalesce(trained.c.n, 0).label("training_modules"),
        )
        .outerjoin(MemberStats, in_window(MemberStats.member_id == Member.id, MemberStats))
        .outerjoin(MemberLevel, in_window(MemberLevel.member_id == Member.id, MemberLevel))
        .outerjoin(verified, verified.c.member_id == Member.id)
        .outerjoin(trained, trained.c.member_id == Member.id)
    )
    if ids is not None:
        return query.where(Member.id.in_(ids))
    if window:
        query = query.where(Member.id >= lo, Member.id < hi)
    return query.where(Member.status.in_(EVALUATED_STATUSES))


def figures_of(row, now: datetime) -> MemberFigures:
    """Turn one row of `figures_query` into the metrics the rules compare."""
    # Positional: this runs once per member of the crowd, attribute lookups add up.
    (
        member_id,
        status,
        level_rank,
        locked,
        promoted_at,
        active_since,
        completed,
        cancelled,
        accepted,
        declined,
        rating_count,
        rating_sum,
        disputed,
        disputes_lost,
        verified_skills,
        training_modules,
    ) = row
    if active_since.tzinfo is None:  # coalesce() loses the column type on SQLite: UTC
        active_since = active_since.replace(tzinfo=UTC)
    if promoted_at is not None and promoted_at.tzinfo is None:
        promoted_at = promoted_at.replace(tzinfo=UTC)
    taken = completed + cancelled
    answered = accepted + declined
    metrics = {
        "jobs_completed": completed,
        "ratings_received": rating_count,
        "average_rating": round(rating_sum / rating_count, 3) if rating_count else None,
        "acceptance_rate": round(accepted / answered, 4) if answered else None,
        "cancellation_rate": round(cancelled / taken, 4) if taken else None,
        "dispute_rate": round(disputed / completed, 4) if completed else None,
        "disputes_lost": disputes_lost,
        "tenure_days": max(0, (now - active_since).days),
        "verified_skills": verified_skills,
        "training_modules": training_modules,
    }
    return MemberFigures(
        member_id, status, level_rank, bool(locked), promoted_at, metrics, active_since
    )


def load_figures(
    now: datetime, member_ids: Iterable[int] | None = None, *, chunk: int = 20_000
) -> Iterator[MemberFigures]:
    """Stream every evaluated member's figures (or those of `member_ids`), in id order."""
    query = figures_query(member_ids).order_by(Member.id)
    result = db.session.execute(query.execution_options(yield_per=chunk))
    for row in result:
        yield figures_of(row, now)


@lru_cache(maxsize=1)
def _window_query() -> Select:
    return figures_query(window=True).order_by(Member.id)


def figures_pages(now: datetime, *, page: int = PAGE) -> Iterator[list[MemberFigures]]:
    """Every evaluated member's figures, in id order, a window of `page` member ids at a time.

    Each window is one statement read in full before it is handed over, so the caller may
    commit between windows (a streaming cursor dies with its transaction) and holds at most
    one window's figures: the daily run's memory stays bounded however large the crowd.
    """
    first, last = db.session.execute(
        select(func.min(Member.id), func.max(Member.id)).where(
            Member.status.in_(EVALUATED_STATUSES)
        )
    ).one()
    if first is None:
        return
    for lo in range(first, last + 1, page):
        rows = db.session.execute(_window_query(), {"lo": lo, "hi": lo + page}).all()
        yield [figures_of(row, now) for row in rows]


@lru_cache(maxsize=1)
def _crowd_sql() -> tuple[str, dict]:
    """The crowd's aggregate query (load_figures') as PostgreSQL text and its parameters."""
    compiled = (
        figures_query()
        .order_by(Member.id)
        .compile(dialect=db.engine.dialect, compile_kwargs={"render_postcompile": True})
    )
    return str(compiled), dict(compiled.params)


def stream_figures(now: datetime, *, batch: int = PAGE) -> Iterator[list[MemberFigures]]:
    """Every evaluated member's figures, in id order, `batch` at a time, from one statement
    whatever the caller commits between batches: what the daily run reads.

    On PostgreSQL a server-side cursor over the aggregate query (the floor's one statement,
    not one per window of ids), its rows read as plain tuples; memory holds one batch here.
    The cursor lives on a connection of the read's own, in a transaction of its own, so the
    caller's commits (on whichever pooled connection the session takes next) leave it alone.
    A session pinned to one connection (a caller's, a test's transaction) is read on that
    connection instead, through a cursor WITH HOLD that outlives its commits. Elsewhere the
    windows of figures_pages. Read it to the end or close the generator: the cursor closes."""
    if not is_postgres():
        yield from figures_pages(now, page=batch)
        return
    pinned = db.session.bind
    if isinstance(pinned, Connection):
        yield from _read(
            pinned.connection.driver_connection, now, batch, withhold=True, query=_crowd_sql()
        )
        return
    with db.engine.connect() as own:
        yield from _read_ahead(own.connection.driver_connection, now, batch)


_DONE = object()


def _read_ahead(connection, now: datetime, batch: int) -> Iterator[list[MemberFigures]]:
    """_read on a thread of its own, one batch ahead of the caller: the database computes and
    sends the next batch while the caller decides on and records this one (two thirds of the
    read is the database's time). The thread touches nothing but `connection`, which is its
    alone; memory holds the batch handed over, one waiting and one being read."""
    query = _crowd_sql()  # here: the thread has no application context
    handed: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def hand(item) -> bool:
        while not stop.is_set():
            try:
                handed.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            with closing(_read(connection, now, batch, withhold=False, query=query)) as batches:
                for figures in batches:
                    if not hand(figures):
                        return  # the caller left: closing() closes the cursor
            hand(_DONE)
        except BaseException as error:  # handed to the caller, raised there
            hand(error)

    reader = threading.Thread(target=read, name="crowd-figures", daemon=True)
    reader.start()
    try:
        while (item := handed.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join()


def _read(connection, now: datetime, batch: int, *, withhold: bool, query: tuple[str, dict]):
    sql, params = query
    name = f"crowd_figures_{id(connection):x}"
    cursor = connection.cursor(name, withhold=withhold)
    try:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(batch):
            yield [figures_of(row, now) for row in rows]
    finally:
        _close(connection, cursor, name)


def _close(connection, cursor, name: str) -> None:
    """Close the cursor if it still exists (a rollback of its transaction takes it)."""
    if connection.closed or connection.broken:
        return
    if connection.info.transaction_status == pq.TransactionStatus.INERROR:
        return  # the rollback that follows closes it
    exists = connection.execute("SELECT 1 FROM pg_cursors WHERE name = %s", [name]).fetchone()
    if exists:
        cursor.close()


def meets(value, rule: dict, *, tolerance_percent: int = 100) -> bool:
    """Whether `value` satisfies a requirement {"metric", "min"|"max"}.

    With a tolerance below 100 % (keeping a level), a minimum counts as met from
    tolerance × min, a maximum up to max / tolerance. No data (None) fails a minimum and passes
    a maximum: a member who never cancelled has no cancellation rate, and nothing against them.
    """
    # Multiplied out rather than divided, so that exactly 90 % of a minimum is still met.
    if "min" in rule:
        return value is not None and value * 100 >= rule["min"] * tolerance_percent
    return value is None or value * tolerance_percent <= rule["max"] * 100
