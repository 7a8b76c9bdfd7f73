"""Which members and which jobs a crowd-health request is about: region and skill filters.

Members are selected by their profile (country, postcode prefix, city) and by the skills they
claim (verified or not); jobs by the job's own place and by the job's skills (a category:
the job's category).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, exists, func, select, true

from crowd.core.auth import Principal
from crowd.core.errors import Forbidden, Unprocessable
from crowd.core.i18n import _
from crowd.core.periods import day_bounds
from crowd.extensions import db
from crowd_health.config import health_rules
from jobs.models import Job, JobSkill
from members.models import Member, MemberSkill, Skill, SkillCategory


def _query_error(field: str, message: str) -> Unprocessable:
    return Unprocessable(f"{field}: {message}", errors={"query": {field: [message]}})


@dataclass(frozen=True)
class Scope:
    """The filters of one request; None means "any"."""

    country: str | None = None
    postcode_prefix: str | None = None
    city: str | None = None
    skill_id: int | None = None
    category_id: int | None = None

    @classmethod
    def checked(cls, **filters) -> Scope:
        """The scope, after checking that the skill or category exists (else 422 naming it)."""
        scope = cls(**filters)
        if scope.skill_id is not None and scope.category_id is not None:
            raise _query_error("category_id", "give skill_id or category_id, not both")
        if scope.skill_id is not None and db.session.get(Skill, scope.skill_id) is None:
            raise _query_error("skill_id", f"unknown skill {scope.skill_id}")
        if (
            scope.category_id is not None
            and db.session.get(SkillCategory, scope.category_id) is None
        ):
            raise _query_error("category_id", f"unknown skill category {scope.category_id}")
        return scope

    def as_dict(self) -> dict:
        """The filters as given, for the response."""
        return {
            "country": self.country,
            "postcode_prefix": self.postcode_prefix,
            "city": self.city,
            "skill_id": self.skill_id,
            "category_id": self.category_id,
        }

    # --- members --------------------------------------------------------------------------

    def member_conditions(self) -> list[ColumnElement[bool]]:
        """Conditions on Member for the region and skill filters."""
        conditions = _place(Member.country, Member.postcode, Member.city, self)
        skills = self.skill_condition(MemberSkill.skill_id)
        if skills is not None:
            conditions.append(
                exists().where(MemberSkill.member_id == Member.id, skills).correlate(Member)
            )
        return conditions

    def of_member(self, member_id_column) -> ColumnElement[bool]:
        """`member_id_column` names a member the filters select."""
        conditions = self.member_conditions()
        if not conditions:
            return true()
        return member_id_column.in_(select(Member.id).where(*conditions))

    def skill_condition(self, skill_id_column) -> ColumnElement[bool] | None:
        """`skill_id_column` is the filtered skill, or a skill of the filtered category."""
        if self.skill_id is not None:
            return skill_id_column == self.skill_id
        if self.category_id is not None:
            return skill_id_column.in_(
                select(Skill.id).where(Skill.category_id == self.category_id)
            )
        return None

    # --- jobs -----------------------------------------------------------------------------

    def job_conditions(self) -> list[ColumnElement[bool]]:
        """Conditions on Job: the job's place, and its skill or category."""
        conditions = _place(Job.country, Job.postcode, Job.city, self)
        if self.skill_id is not None:
            conditions.append(
                exists()
                .where(JobSkill.job_id == Job.id, JobSkill.skill_id == self.skill_id)
                .correlate(Job)
            )
        if self.category_id is not None:
            conditions.append(Job.category_id == self.category_id)
        return conditions


def _place(country, postcode, city, scope: Scope) -> list[ColumnElement[bool]]:
    conditions = []
    if scope.country is not None:
        conditions.append(country == scope.country)
    if scope.postcode_prefix is not None:
        conditions.append(postcode.startswith(scope.postcode_prefix, autoescape=True))
    if scope.city is not None:
        conditions.append(func.lower(city) == scope.city.lower())
    return conditions


def staff_window(
    actor: Principal, start: date | None, end: date | None, **filters
) -> tuple[date, date, datetime, datetime, Scope]:
    """What every figures request starts with: staff only (else 403), the period as whole UTC
    days (the configured default and maximum) with its bounds, and the checked scope."""
    if not actor.is_staff:
        raise Forbidden(_("Crowd health is for community managers and admins."))
    rules = health_rules()
    start, end, since, until = day_bounds(
        start, end, default_days=rules.default_days, max_days=rules.max_days
    )
    return start, end, since, until, Scope.checked(**filters)
