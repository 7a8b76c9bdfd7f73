"""Programme rules, overridable through app config (MENTORING_* keys)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from flask import current_app


@dataclass(frozen=True)
class ProgrammeRules:
    # Mentor eligibility: level rank, rating, published reviews; and no open dispute.
    mentor_min_level: int = 3  # Senior
    mentor_min_rating_milli: int = 4700  # average rating × 1000 (4.7)
    mentor_min_ratings: int = 10
    # A mentor away for longer than this has their mentees reassigned.
    mentor_away_reassign_days: int = 14
    # Graduation: the mentee reaches this level rank, or this many confirmed jobs + tenure.
    graduation_level: int = 2
    graduation_jobs: int = 10
    graduation_tenure_days: int = 60
    # The mentor's reward per graduated mentee, in minor units of the mentor's currency.
    mentor_reward_minor: int = 5000
    # Top performers: period length in months (3 = quarterly), rolling window in months.
    top_period_months: int = 3
    top_window_months: int = 12
    top_min_jobs: int = 20  # volume gate (confirmed jobs in the window)
    top_min_rating_milli: int = 4700
    top_max_cancellation_permille: int = 50
    top_min_acceptance_permille: int = 600
    top_percent: int = 10  # top X % of each category × region cell
    # Perks while the badge is valid.
    top_commission_discount_bp: int = 200  # 2 percentage points off the commission
    top_matching_boost_percent: int = 100  # the ranking's "programme" weight, fully


def programme_rules() -> ProgrammeRules:
    """The rules in force: defaults, overridden by app config keys MENTORING_<FIELD>."""
    overrides = {
        f.name: int(current_app.config[f"MENTORING_{f.name.upper()}"])
        for f in fields(ProgrammeRules)
        if f"MENTORING_{f.name.upper()}" in current_app.config
    }
    return ProgrammeRules(**overrides)
