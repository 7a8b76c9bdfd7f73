"""What matching knows about a job: its facts, read once, and how the SQL sees them.

The matching queries are built once per *shape* (how many skills, whether they must be
verified, …) with bind parameters for everything else, and cached: a job only supplies values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property, lru_cache

from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    String,
    any_,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased

from crowd.core.db import UTCDateTime, is_postgres
from crowd.extensions import db
from jobs.matching.availability import Window
from jobs.models import Job, JobSkill, JobWindow
from members.models import Member, SkillCategory

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180  # along a meridian, ≈ 111.2 km
# The widest service radius the members table allows (its radius_range check).
MAX_RADIUS_KM = 200
# Jobs that occupy a member: they count towards the load and block the calendar.
ACTIVE_JOB_STATUSES = ("assigned", "in_progress")


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Shape:
    """What changes the text of the matching SQL; everything else is a bind parameter."""

    skills: int
    verified: bool
    reassigning: bool  # the job is held by a member now, who must not count it against them
    postgres: bool


@dataclass(frozen=True)
class JobFacts:
    """What matching needs to know about a job, read once."""

    job_id: int
    customer_id: int
    category_id: int
    requires_verification: bool
    skill_ids: tuple[int, ...]
    min_level_rank: int
    lat: float
    lon: float
    duration: timedelta
    currency: str
    windows: tuple[Window, ...]
    assignee_id: int | None = None

    @classmethod
    def of(cls, job: Job) -> JobFacts:
        """The facts of `job`, read in one query (windows, skills, the category's rule)."""
        params = {"job_id": job.id, "category_id": job.category_id}
        windows, skill_ids, requires_verification = [], [], False
        for kind, number, starts_at, ends_at in db.session.execute(_facts_query(), params):
            if kind == "window":
                windows.append(Window(number, starts_at, ends_at))
            elif kind == "skill":
                skill_ids.append(number)
            else:
                requires_verification = bool(number)
        return cls(
            job_id=job.id,
            customer_id=job.customer_id,
            category_id=job.category_id,
            requires_verification=requires_verification,
            skill_ids=tuple(sorted(skill_ids)),
            min_level_rank=job.min_level_rank,
            lat=job.lat,
            lon=job.lon,
            duration=timedelta(minutes=job.duration_minutes),
            currency=job.currency,
            windows=tuple(sorted(windows, key=lambda w: (w.starts_at, w.id))),
            assignee_id=job.assigned_member_id if job.status in ACTIVE_JOB_STATUSES else None,
        )

    @property
    def shape(self) -> Shape:
        return Shape(
            skills=len(self.skill_ids),
            verified=self.requires_verification,
            reassigning=self.assignee_id is not None,
            postgres=is_postgres(),
        )

    def params(self) -> dict:
        """Values for the bind parameters of `SqlJob`."""
        values = {
            "job_id": self.job_id,
            "customer_id": self.customer_id,
            "category_id": self.category_id,
            "min_level_rank": self.min_level_rank,
            "job_lat": self.lat,
            "job_lon": self.lon,
            "currency": self.currency,
            **{f"skill_{i}": skill_id for i, skill_id in enumerate(self.skill_ids)},
        }
        # The portable box: the widest radius around the job, in degrees; the km per degree
        # of longitude taken at its pole-most latitude (less 1 % for the great circle), so
        # that the box never cuts too tight.
        pole_most = min(89.0, abs(self.lat) + MAX_RADIUS_KM / KM_PER_DEGREE)
        km_per_lon = KM_PER_DEGREE * math.cos(math.radians(pole_most)) * 0.99
        d_lat, d_lon = MAX_RADIUS_KM / KM_PER_DEGREE, MAX_RADIUS_KM / km_per_lon
        values.update(
            lat_lo=self.lat - d_lat,
            lat_hi=self.lat + d_lat,
            lon_lo=self.lon - d_lon,
            lon_hi=self.lon + d_lon,
            km_per_lon=km_per_lon,
        )
        return values


def among(column, name: str, *, postgres: bool):
    """`column` is one of a list of ids given as parameter `name`.

    PostgreSQL gets one array parameter (= ANY), so the statement text stays the same whatever
    the list's length and its parsing is cached; elsewhere an expanding IN.
    """
    if postgres:
        return column == any_(bindparam(name, type_=ARRAY(BigInteger)))
    return column.in_(bindparam(name, expanding=True))


@lru_cache(maxsize=1)
def _facts_query():
    job_id, category_id = bindparam("job_id"), bindparam("category_id")
    no_time = cast(null(), UTCDateTime)
    return union_all(
        select(
            literal("window").label("kind"),
            cast(JobWindow.id, BigInteger).label("number"),
            JobWindow.starts_at.label("starts_at"),
            JobWindow.ends_at.label("ends_at"),
        ).where(JobWindow.job_id == job_id),
        select(literal("skill"), cast(JobSkill.skill_id, BigInteger), no_time, no_time).where(
            JobSkill.job_id == job_id
        ),
        select(
            literal("verification"),
            cast(case((SkillCategory.requires_verification, 1), else_=0), BigInteger),
            no_time,
            no_time,
        ).where(SkillCategory.id == category_id),
    )


class SqlJob:
    """A job as the cached SQL sees it: its shape, and a bind parameter per fact."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        self.job_id = bindparam("job_id", type_=BigInteger)
        self.customer_id = bindparam("customer_id", type_=BigInteger)
        self.category_id = bindparam("category_id", type_=BigInteger)
        self.min_level_rank = bindparam("min_level_rank", type_=Integer)
        self.lat = bindparam("job_lat", type_=Float)
        self.lon = bindparam("job_lon", type_=Float)
        self.currency = bindparam("currency", type_=String)
        self.skill_ids = tuple(
            bindparam(f"skill_{i}", type_=BigInteger) for i in range(shape.skills)
        )
        self.lat_lo = bindparam("lat_lo", type_=Float)
        self.lat_hi = bindparam("lat_hi", type_=Float)
        self.lon_lo = bindparam("lon_lo", type_=Float)
        self.lon_hi = bindparam("lon_hi", type_=Float)
        self.km_per_lon = bindparam("km_per_lon", type_=Float)
        self.since = bindparam("since", type_=UTCDateTime)

    @cached_property
    def active_jobs(self):
        """Correlated count of a member's assigned / in-progress jobs (this one aside).

        One object per SqlJob, so that a query computing it once can stand in for it where
        predicates use it. Unless the job is held by someone now, its id stays out of the
        query and the count is read from ix_jobs_member_status alone.
        """
        occupied = aliased(Job)
        count = select(func.count()).where(
            occupied.assigned_member_id == Member.id, occupied.status.in_(ACTIVE_JOB_STATUSES)
        )
        if self.shape.reassigning:
            count = count.where(occupied.id != self.job_id)
        return count.scalar_subquery()
