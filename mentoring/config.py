"""Programme rules (MENTORING_* environment variables)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from crowd.config import SettingsGroup, setting
from crowd.core.settings import current


class ProgrammeRules(SettingsGroup):
    model_config = SettingsConfigDict(env_prefix="MENTORING_")

    # Mentor eligibility: level rank, rating, published reviews; and no open dispute.
    mentor_min_level: int = setting(3, "mentors: at least this level rank (3: Senior)", ge=1)
    mentor_min_rating_milli: int = setting(
        4700, "mentors: average rating × 1000 at least (4.7)", ge=0, le=5000
    )
    mentor_min_ratings: int = setting(10, "mentors: published reviews at least", ge=0)
    mentor_away_reassign_days: int = setting(
        14, "a mentor away for longer than this has their mentees reassigned", ge=1
    )
    # Graduation: the mentee reaches this level rank, or this many confirmed jobs + tenure.
    graduation_level: int = setting(2, "a mentee graduates on reaching this level rank", ge=1)
    graduation_jobs: int = setting(
        10, "…or with this many confirmed jobs and the tenure below", ge=1
    )
    graduation_tenure_days: int = setting(60, "…and this many days since approval", ge=0)
    mentor_reward_minor: int = setting(
        5000, "the mentor's reward per graduated mentee, minor units of their currency", ge=0
    )
    # Top performers
    top_period_months: int = setting(
        3, "top performers: period length in months (3: quarterly)", ge=1, le=12
    )
    top_window_months: int = setting(12, "top performers: rolling window in months", ge=1)
    top_min_jobs: int = setting(20, "top performers: confirmed jobs in the window at least", ge=0)
    top_min_rating_milli: int = setting(
        4700, "top performers: average rating × 1000 at least", ge=0, le=5000
    )
    top_max_cancellation_permille: int = setting(
        50, "top performers: cancellations per thousand at most", ge=0, le=1000
    )
    top_min_acceptance_permille: int = setting(
        600, "top performers: offer acceptance per thousand at least", ge=0, le=1000
    )
    top_percent: int = setting(
        10, "top performers: the top X % of each category × region cell", ge=1, le=100
    )
    # Perks while the badge is valid.
    top_commission_discount_bp: int = setting(
        200, "top performers: basis points off the commission", ge=0, le=10000
    )
    top_matching_boost_percent: int = setting(
        100, "top performers: share of the ranking's programme weight, percent", ge=0, le=100
    )


def programme_rules() -> ProgrammeRules:
    """The rules in force (MENTORING_* settings)."""
    return current(ProgrammeRules)
