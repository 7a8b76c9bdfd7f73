"""The dispatch board: the jobs still waiting for a member (open or offered, unassigned), with
the figures dispatch is judged by.

Per job: its waves sent, the offers still out, whether it is escalated to staff, and from its
events the time to the first offer (posting → the first wave or targeted offer) and the time to
assignment (posting → the first accept or direct assignment; a job back on the board after its
member backed out has one). The board (`board`) is keyset-paginated, the longest-waiting jobs
first; the export (`export_query` + `export_row`) streams the same rows with the same filters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, exists, func, select

from crowd.core.auth import Principal
from crowd.core.errors import Forbidden, Unprocessable
from crowd.core.i18n import _
from crowd.core.pagination import paginate
from crowd.extensions import db
from jobs.models import Job, JobEvent, JobWindow, Offer
from jobs.queries import UNASSIGNED
from members.models import SkillCategory

# The job events that put a job on offer, and those that gave it its member.
OFFER_ACTIONS = ("dispatch", "offer")
ASSIGN_ACTIONS = ("accept", "assign")
ESCALATED = ("yes", "no")

EXPORT_COLUMNS = (
    "job_id",
    "status",
    "escalated",
    "escalation_reason",
    "category",
    "country",
    "postcode",
    "city",
    "title",
    "first_window_starts_at",
    "waves_sent",
    "offers_out",
    "posted_at",
    "seconds_to_first_offer",
    "seconds_to_assignment",
)


@dataclass(frozen=True)
class Region:
    """A country ("DE") or a country and a postcode prefix ("DE-80")."""

    country: str
    postcode_prefix: str = ""

    @classmethod
    def parse(cls, text: str) -> Region:
        country, _sep, prefix = text.strip().upper().replace(" ", "-").partition("-")
        if len(country) != 2 or not country.isalpha() or (prefix and not prefix.isalnum()):
            raise Unprocessable(
                _("region is not valid"),
                errors={"query": {"region": [_("a country code, optionally -postcode prefix")]}},
            )
        return cls(country, prefix)


def _require_staff(actor: Principal) -> None:
    if not actor.is_staff:
        raise Forbidden(_("Only community managers and admins see the dispatch board."))


# --- the figures, as columns over `jobs` -------------------------------------------------------


def _first_event(actions: tuple[str, ...]):
    return (
        select(func.min(JobEvent.created_at))
        .where(JobEvent.job_id == Job.id, JobEvent.action.in_(actions))
        .correlate(Job)
        .scalar_subquery()
    )


def _figures() -> list[ColumnElement]:
    """The board's figures of each job, as correlated subqueries (each an indexed lookup)."""
    return [
        select(func.min(JobWindow.starts_at))
        .where(JobWindow.job_id == Job.id)
        .correlate(Job)
        .scalar_subquery()
        .label("first_start"),
        select(func.count())
        .select_from(Offer)
        .where(Offer.job_id == Job.id, Offer.status == "pending")
        .correlate(Job)
        .scalar_subquery()
        .label("offers_out"),
        _first_event(OFFER_ACTIONS).label("first_offer_at"),
        _first_event(ASSIGN_ACTIONS).label("first_assigned_at"),
    ]


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    if start.tzinfo is None and end.tzinfo is not None:
        end = end.replace(tzinfo=None)
    return max(0, int((end - start).total_seconds()))


@dataclass(frozen=True)
class Timing:
    """A job's dispatch times, in seconds from posting (None: not reached yet)."""

    first_start: datetime | None
    offers_out: int
    to_first_offer: int | None
    to_assignment: int | None


def _timing(created_at: datetime, row) -> Timing:
    return Timing(
        first_start=row.first_start,
        offers_out=row.offers_out or 0,
        to_first_offer=_seconds(created_at, row.first_offer_at),
        to_assignment=_seconds(created_at, row.first_assigned_at),
    )


def job_timings(jobs: list[Job]) -> dict[int, Timing]:
    """The figures of these jobs (one query): first window, offers out, times to offer/assign."""
    if not jobs:
        return {}
    rows = db.session.execute(select(Job.id, *_figures()).where(Job.id.in_([j.id for j in jobs])))
    created = {job.id: job.created_at for job in jobs}
    return {row.id: _timing(created[row.id], row) for row in rows}


# --- the board ---------------------------------------------------------------------------------


def _board_query(
    *,
    region: str | None = None,
    category: str | None = None,
    status: str | None = None,
    escalated: str | None = None,
    starts_from: datetime | None = None,
    starts_until: datetime | None = None,
    min_waves: int | None = None,
    max_waves: int | None = None,
) -> Select:
    """The jobs on the board (open or offered, unassigned) that pass the filters."""
    query = select(Job).where(Job.status.in_(UNASSIGNED), Job.assigned_member_id.is_(None))
    if status:
        query = query.where(Job.status == status)
    if escalated == "yes":
        query = query.where(Job.escalated_at.is_not(None))
    elif escalated == "no":
        query = query.where(Job.escalated_at.is_(None))
    if region:
        place = Region.parse(region)
        query = query.where(Job.country == place.country)
        if place.postcode_prefix:
            query = query.where(Job.postcode.startswith(place.postcode_prefix, autoescape=True))
    if category:
        slug = select(SkillCategory.id).where(SkillCategory.slug == category).scalar_subquery()
        query = query.where(Job.category_id == slug)
    if starts_from is not None or starts_until is not None:
        window = [JobWindow.job_id == Job.id]
        if starts_from is not None:
            window.append(JobWindow.starts_at >= starts_from)
        if starts_until is not None:
            window.append(JobWindow.starts_at < starts_until)
        query = query.where(exists().where(and_(*window)))
    if min_waves is not None:
        query = query.where(Job.wave >= min_waves)
    if max_waves is not None:
        query = query.where(Job.wave <= max_waves)
    return query


def _row(job: Job, timing: Timing) -> dict:
    return {
        "id": job.id,
        "status": job.status,
        "title": job.title,
        "category": job.category.slug,
        "country": job.country,
        "postcode": job.postcode,
        "city": job.city,
        "first_window_starts_at": timing.first_start,
        "waves_sent": job.wave,
        "offers_out": timing.offers_out,
        "escalated": job.escalated_at is not None,
        "escalated_at": job.escalated_at,
        "escalation_reason": job.escalation_reason,
        "created_at": job.created_at,
        "seconds_to_first_offer": timing.to_first_offer,
        "seconds_to_assignment": timing.to_assignment,
    }


def board(
    *, actor: Principal, limit: int | None = None, cursor: str | None = None, **filters
) -> dict:
    """One page of the board, the longest-waiting jobs first, each with its figures."""
    _require_staff(actor)
    query = _board_query(**filters)
    page = paginate(query, {"limit": limit, "cursor": cursor}, order=[Job.created_at, Job.id])
    timings = job_timings(page["items"])
    page["items"] = [_row(job, timings[job.id]) for job in page["items"]]
    return page


def job_timing(job: Job) -> dict:
    """One job's board figures (its page shows them)."""
    return _row(job, job_timings([job])[job.id])


def export_query(*, actor: Principal, **filters) -> Select:
    """The board as rows for a CSV export (all pages, same filters and order); map each row
    with `export_row`."""
    _require_staff(actor)
    jobs = _board_query(**filters).subquery()
    return (
        select(
            Job.id,
            Job.status,
            Job.escalated_at,
            Job.escalation_reason,
            SkillCategory.slug,
            Job.country,
            Job.postcode,
            Job.city,
            Job.title,
            Job.wave,
            Job.created_at,
            *_figures(),
        )
        .join(SkillCategory, SkillCategory.id == Job.category_id)
        .where(Job.id.in_(select(jobs.c.id)))
        .order_by(Job.created_at, Job.id)
    )


def export_row(row) -> tuple:
    """One exported row, in EXPORT_COLUMNS' order, with the times computed from the events."""
    timing = _timing(row.created_at, row)
    return (
        row.id,
        row.status,
        "yes" if row.escalated_at is not None else "no",
        row.escalation_reason,
        row.slug,
        row.country,
        row.postcode,
        row.city,
        row.title,
        timing.first_start,
        row.wave,
        timing.offers_out,
        row.created_at,
        timing.to_first_offer,
        timing.to_assignment,
    )
