"""Who may take a job: the qualification requirements, as data, checked in two stages.

Like MTurk qualification requirements, each rule is a named object in REQUIREMENTS with an
SQL predicate over `members` (and a Python check where SQL can only approximate):

    active        the member's status is active
    account_open  the member's account is not deactivated
    company_in_good_standing
                  the member's provider company, if they belong to one, is not suspended
    skills        holds every skill the job requires (verified, if the category demands it);
                  a job that names no skill needs any skill of its category
    level         level_rank ≥ the job's min_level_rank
    level_category
                  the member's level in the active rule set takes the job's category (added
                  by onboarding, which owns the levels: `add_requirement`)
    location      the job lies within the member's service radius (haversine, in Python);
                  SQL first keeps the members whose reach box covers the job, read from the
                  claims of the job's first skill (each claim carries its member's reach:
                  migration i23_reach), so the prefilter needs not check that skill again
    capacity      fewer jobs assigned / in progress than the member's max_concurrent_jobs
    not_blocked   the job's customer has not blocked the member
    not_excluded  the caller did not exclude the member (already offered, declined…)
    available     free for the whole job inside one job window (jobs.matching.calendar)

Stage one, `prefilter_query`, is ONE indexed SQL query ANDing every predicate: the crowd is
never scanned in Python. Stage two runs on the rows it returns: the exact distance, then the
availability windows, loaded in batches for just those members. `problems_for` evaluates the
same predicates as columns for one member, so the explanation cannot drift from the filter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    and_,
    bindparam,
    exists,
    func,
    literal,
    literal_column,
    select,
    true,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql.util import ClauseAdapter

from accounts.models import User
from crowd.core.db import utcnow
from crowd.extensions import db
from customers.models import BlockedMember
from jobs.matching.availability import Fit
from jobs.matching.calendar import fit_member as fit_member  # re-exported for dispatch
from jobs.matching.calendar import load_calendars, unavailable_reason
from jobs.matching.facts import (
    JobFacts,
    Shape,
    SqlJob,
    among,
    haversine_km,
)
from jobs.models import Job
from members.models import Member, MemberSkill, Skill
from organisations.models import Organisation, OrganisationMembership

# Each member's reach: the box, in degrees, that their service radius spans around them (the
# longitude span widened by 1 % for the sphere). On PostgreSQL a GiST index on this very
# expression (MEMBER_REACH_INDEX) answers "whose reach covers the job?" without reading
# members out of reach, whatever their radius — where a box around the job would have to span
# the widest radius allowed. The query must spell the expression exactly as the index does.
MEMBER_REACH_SQL = (
    "box(point(members.lon - members.service_radius_km"
    " / (111.195 * cos(radians(members.lat))) * 1.01,"
    " members.lat - members.service_radius_km / 111.195),"
    " point(members.lon + members.service_radius_km"
    " / (111.195 * cos(radians(members.lat))) * 1.01,"
    " members.lat + members.service_radius_km / 111.195))"
)
MEMBER_REACH_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_members_reach ON members USING gist ("
    + MEMBER_REACH_SQL.replace("members.", "")
    + ")"
)
# Jobs in a category that requires verification look skills up among verified claims only.
VERIFIED_SKILLS_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_member_skills_verified ON member_skills (skill_id, member_id)"
    " WHERE verified"
)


def _near_enough(job: SqlJob) -> ColumnElement[bool]:
    """The member holds the job's first skill (any of its category's, when it names none) on a
    claim whose reach box covers the job.

    The claims carry their member's reach (kept by triggers, migration i23_reach), so on
    PostgreSQL the GiST index on (skill_id, reach box) returns the holders of the skill in reach
    of the job and nothing else — the members' own reach index would return everyone in reach,
    whatever their skills (a city at 1,000,000 members). Elsewhere the same box, compared.
    """
    claim = aliased(MemberSkill, name="claim")
    if job.shape.postgres:
        # `reach`: the box as a generated column (PostgreSQL only, not mapped), indexed with the
        # skill and the member id — an index-only scan.
        spot = func.point(job.lon, job.lat)
        covers = literal_column("claim.reach").op("&&")(func.box(spot, spot))
    else:
        covers = and_(
            claim.reach_lat_lo <= job.lat,
            claim.reach_lat_hi >= job.lat,
            claim.reach_lon_lo <= job.lon,
            claim.reach_lon_hi >= job.lon,
        )
    holders = select(claim.member_id).where(covers)
    if job.skill_ids:
        holders = holders.where(claim.skill_id == job.skill_ids[0])
    else:
        holders = holders.join(Skill, Skill.id == claim.skill_id).where(
            Skill.category_id == job.category_id
        )
    if job.shape.verified:
        holders = holders.where(claim.verified == true())
    return Member.id.in_(holders)


def _claimed(job: SqlJob, *conditions) -> ColumnElement[bool]:
    claim = and_(MemberSkill.member_id == Member.id, *conditions)
    if job.shape.verified:
        claim = and_(claim, MemberSkill.verified == true())
    return exists().where(claim)


def _has_skills(job: SqlJob) -> ColumnElement[bool]:
    if job.skill_ids:
        return and_(*(_claimed(job, MemberSkill.skill_id == skill) for skill in job.skill_ids))
    return _claimed(job, MemberSkill.skill_id == Skill.id, Skill.category_id == job.category_id)


def _has_other_skills(job: SqlJob) -> ColumnElement[bool] | None:
    """The skills rule in the prefilter: the location rule's claim is already the job's first
    skill (one of its category's when it names none), verified where needed, so only the
    others are left to check (a probe per candidate saved: 8,496 for a Berlin job at 1M)."""
    others = job.skill_ids[1:]
    if not others:
        return None
    return and_(*(_claimed(job, MemberSkill.skill_id == skill) for skill in others))


def _not_blocked(job: SqlJob) -> ColumnElement[bool]:
    blocked = and_(
        BlockedMember.customer_id == job.customer_id, BlockedMember.member_id == Member.id
    )
    return ~exists().where(blocked)


def _company_not_suspended(job: SqlJob) -> ColumnElement[bool]:
    """The member belongs to no suspended company: a company's standing comes with the
    technicians who work for it (a private member, or one of a company in good standing)."""
    suspended = exists().where(
        OrganisationMembership.member_id == Member.id,
        OrganisationMembership.status == "active",
        Organisation.id == OrganisationMembership.organisation_id,
        Organisation.status == "suspended",
    )
    return ~suspended


def _missing_skills(facts: JobFacts, row) -> str:
    claims = select(MemberSkill.skill_id).where(MemberSkill.member_id == row.id)
    if facts.requires_verification:
        claims = claims.where(MemberSkill.verified == true())
    held = set(db.session.scalars(claims))
    if not facts.skill_ids:
        return "Holds no skill of the job's category" + (
            " that is verified." if facts.requires_verification else "."
        )
    missing = db.session.scalars(
        select(Skill.slug).where(Skill.id.in_(set(facts.skill_ids) - held)).order_by(Skill.slug)
    )
    verified = " verified" if facts.requires_verification else ""
    return f"Lacks the{verified} skills the job requires: {', '.join(missing)}."


def distance_in_reach(facts: JobFacts, lat: float | None, lon: float | None, radius_km: int):
    """The member's distance to the job in km, or None beyond their radius (or nowhere)."""
    if lat is None or lon is None:
        return None
    distance = haversine_km(facts.lat, facts.lon, lat, lon)
    return distance if distance <= radius_km else None


def _out_of_reach(facts: JobFacts, row) -> str:
    if row.lat is None or row.lon is None:
        return "Has no location set."
    distance = haversine_km(facts.lat, facts.lon, row.lat, row.lon)
    return (
        f"The job is {distance:.1f} km away, beyond the service radius of "
        f"{row.service_radius_km} km."
    )


@dataclass(frozen=True)
class Requirement:
    """One qualification requirement: a name, its SQL predicate, and why a member fails it."""

    name: str
    summary: str
    where: Callable[[SqlJob], ColumnElement[bool]]
    reason: Callable[[JobFacts, Any], str]
    # SQL only approximates it (a box for a circle): `distance_in_reach` decides exactly.
    approximate: bool = False
    # A costly per-member predicate (a count): runs last, on the members the others let pass.
    late: bool = False
    # What the prefilter checks instead of `where`, where other requirements imply part of it
    # (None from it: nothing left); `where` still explains one member.
    prefilter: Callable[[SqlJob], ColumnElement[bool] | None] | None = None

    def prefilter_where(self, job: SqlJob) -> ColumnElement[bool] | None:
        return (self.prefilter or self.where)(job)


REQUIREMENTS: list[Requirement] = [
    Requirement(
        "active",
        "The member's status is active.",
        where=lambda job: Member.status == "active",
        reason=lambda facts, row: f"Status is {row.status}, not active.",
    ),
    Requirement(
        "account_open",
        "The member's account is not deactivated.",
        where=lambda job: ~exists().where(User.id == Member.user_id, User.disabled_at.is_not(None)),
        reason=lambda facts, row: "The member's account is deactivated.",
    ),
    Requirement(
        "company_in_good_standing",
        "The member's provider company, if any, is not suspended.",
        where=_company_not_suspended,
        reason=lambda facts, row: "The member's company is suspended.",
    ),
    Requirement(
        "skills",
        "Holds every required skill, verified where the category demands it.",
        where=_has_skills,
        reason=_missing_skills,
        # Implied in part by "location", which reads the reach kept on the first skill's claim.
        prefilter=_has_other_skills,
    ),
    Requirement(
        "level",
        "Level rank is at least the job's minimum.",
        where=lambda job: Member.level_rank >= job.min_level_rank,
        reason=lambda facts, row: (
            f"Level rank {row.level_rank} is below the job's minimum {facts.min_level_rank}."
        ),
    ),
    Requirement(
        "location",
        "The job lies within the member's service radius.",
        where=_near_enough,
        reason=_out_of_reach,
        approximate=True,
    ),
    Requirement(
        "capacity",
        "Fewer active jobs than the member's max_concurrent_jobs.",
        where=lambda job: job.active_jobs < Member.max_concurrent_jobs,
        reason=lambda facts, row: (
            f"Already has {row.active_jobs} active jobs, the most they take at once "
            f"({row.max_concurrent_jobs})."
        ),
        late=True,
    ),
    Requirement(
        "not_blocked",
        "The job's customer has not blocked the member.",
        where=_not_blocked,
        reason=lambda facts, row: "The customer has blocked this member.",
    ),
]

_CHECKED_LATER = {
    "not_excluded": "Not excluded by the caller (already offered or declined this job).",
    "available": "Free for the whole job inside one job window: within their weekly "
    "availability, outside time off and other assigned jobs.",
}
REQUIREMENT_SUMMARIES: dict[str, str] = {}
# Called when the requirements change (queries built over them are cached).
_ON_CHANGE: list[Callable[[], None]] = []


def _summarise() -> None:
    REQUIREMENT_SUMMARIES.clear()
    REQUIREMENT_SUMMARIES.update({rule.name: rule.summary for rule in REQUIREMENTS})
    REQUIREMENT_SUMMARIES.update(_CHECKED_LATER)


def add_requirement(rule: Requirement, *, after: str) -> None:
    """Add a requirement a package above jobs owns (onboarding: the level's categories), right
    after the rule named `after`; adding a rule of the same name again replaces it. Done at
    start (a package's `wiring`): the cached queries are rebuilt."""
    names = [known.name for known in REQUIREMENTS]
    if rule.name in names:
        REQUIREMENTS[names.index(rule.name)] = rule
    else:
        REQUIREMENTS.insert(names.index(after) + 1, rule)
    _summarise()
    prefilter_query.cache_clear()
    _one_member_query.cache_clear()
    _many_members_query.cache_clear()
    for rebuild in _ON_CHANGE:
        rebuild()


def on_requirements_change(callback: Callable[[], None]) -> None:
    _ON_CHANGE.append(callback)


_summarise()


# --- stage one: the indexed prefilter ------------------------------------------------------


@lru_cache(maxsize=128)
def prefilter_query(shape: Shape, *, excluding: bool = False):
    """The one SQL query that narrows the crowd to plausible candidates (the bare prefilter).

    The indexed requirements pick the members in a MATERIALIZED CTE; the late ones (a count
    per member) then run on just the rows it let through, whatever the planner guesses. Its
    columns are what the exact checks need; ranking wraps it to add its inputs. Built once per
    shape: run it with `prefilter_params`.
    """
    return build_prefilter(shape, REQUIREMENTS, excluding=excluding)


def build_prefilter(shape: Shape, requirements: Iterable[Requirement], *, excluding: bool):
    """`prefilter_query` over the given requirements (uncached; the benchmark compares)."""
    job = SqlJob(shape)
    requirements = list(requirements)
    early = select(
        Member.id,
        Member.user_id,
        Member.country,
        Member.lat,
        Member.lon,
        Member.service_radius_km,
        Member.max_concurrent_jobs,
        Member.level_rank,
        # In the CTE's columns: counted once, only for members that passed the other rules.
        job.active_jobs.label("active_jobs"),
    ).where(
        *(
            predicate
            for rule in requirements
            if not rule.late and (predicate := rule.prefilter_where(job)) is not None
        )
    )
    if excluding:
        early = early.where(~among(Member.id, "excluded", postgres=shape.postgres))
    qualified = early.cte("qualified").prefix_with("MATERIALIZED")
    # The late predicates are written over `members`; here they read the CTE's columns.
    on_qualified = ClauseAdapter(qualified).traverse
    return select(qualified).where(
        *(on_qualified(rule.where(job)) for rule in requirements if rule.late)
    )


def prefilter_params(facts: JobFacts, exclude_member_ids: Iterable[int]) -> tuple[dict, bool]:
    """Bind values for `prefilter_query`, and whether the exclusion list is in use."""
    params = facts.params()
    excluded = sorted(set(exclude_member_ids))
    if excluded:
        params["excluded"] = excluded
    return params, bool(excluded)


# --- explaining one member -----------------------------------------------------------------


def _requirement_columns(shape: Shape):
    """Every requirement as a column of `members`, for the members the caller picks."""
    sql_job = SqlJob(shape)
    # The location predicate is a box; for one member the exact distance alone decides.
    checks = [
        (literal(True) if rule.approximate else rule.where(sql_job)).label(rule.name)
        for rule in REQUIREMENTS
    ]
    return select(
        Member.id,
        Member.status,
        Member.country,
        Member.lat,
        Member.lon,
        Member.service_radius_km,
        Member.max_concurrent_jobs,
        Member.level_rank,
        sql_job.active_jobs.label("active_jobs"),
        *checks,
    )


@lru_cache(maxsize=128)
def _one_member_query(shape: Shape):
    """The requirements as columns for the member bound as `one_member`; built once per
    shape (accepting an offer asks it on every call)."""
    return _requirement_columns(shape).where(Member.id == bindparam("one_member", type_=BigInteger))


@lru_cache(maxsize=128)
def _many_members_query(shape: Shape):
    """The requirements as columns for the members bound as `members` (a list)."""
    return _requirement_columns(shape).where(Member.id.in_(bindparam("members", expanding=True)))


def _problems(facts: JobFacts, row, calendar, now) -> list[str]:
    problems = [
        rule.reason(facts, row)
        for rule in REQUIREMENTS
        if not getattr(row, rule.name)
        or (
            rule.approximate
            and distance_in_reach(facts, row.lat, row.lon, row.service_radius_km) is None
        )
    ]
    unavailable = unavailable_reason(facts, calendar, row.id, row.country, now=now)
    if unavailable:
        problems.append(unavailable)
    return problems


def problems_for(job: Job, member_id: int) -> list[str]:
    """Every requirement `member_id` fails for `job`, in words ([] = eligible)."""
    facts = JobFacts.of(job)
    query = _one_member_query(facts.shape)
    row = db.session.execute(query, {**facts.params(), "one_member": member_id}).one_or_none()
    if row is None:
        return [f"There is no crowd member {member_id}."]
    return _problems(facts, row, load_calendars(facts, [row.id]), utcnow())


def problems_and_fit(job: Job, member_id: int) -> tuple[list[str], Fit | None]:
    """`problems_for` and, when there are none, the window the member would take — the job's
    facts, the member's row and calendar read once for both (accepting asked twice: ~3
    statements more per accept)."""
    facts = JobFacts.of(job)
    query = _one_member_query(facts.shape)
    row = db.session.execute(query, {**facts.params(), "one_member": member_id}).one_or_none()
    if row is None:
        return [f"There is no crowd member {member_id}."], None
    calendar = load_calendars(facts, [row.id])
    now = utcnow()
    problems = _problems(facts, row, calendar, now)
    if problems:
        return problems, None
    return [], fit_member(facts, calendar, member_id, row.country, now=now)


def problems_for_members(job: Job, member_ids: Iterable[int]) -> dict[int, list[str]]:
    """`problems_for` of several members at once (two queries, whatever their number);
    members that do not exist are left out."""
    ids = sorted(set(member_ids))
    if not ids:
        return {}
    facts = JobFacts.of(job)
    rows = db.session.execute(
        _many_members_query(facts.shape), {**facts.params(), "members": ids}
    ).all()
    calendar = load_calendars(facts, [row.id for row in rows])
    now = utcnow()
    return {row.id: _problems(facts, row, calendar, now) for row in rows}
