"""The marketplace's timing and dispatch rules (JOBS_* environment variables)."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from crowd.config import SettingsGroup, setting
from crowd.core.settings import current


class JobRules(SettingsGroup):
    model_config = SettingsConfigDict(env_prefix="JOBS_")
    # Operations change these without a release (PATCH /api/v1/settings).
    ADJUSTABLE: ClassVar[frozenset[str]] = frozenset(
        {
            "wave_size",
            "offer_ttl_same_day_minutes",
            "offer_ttl_later_minutes",
            "late_cancel_window_hours",
            "late_cancel_fee_percent",
        }
    )

    # Dispatch
    wave_size: int = setting(5, "offers sent at once (the top candidates of a wave)", ge=1, le=100)
    max_waves: int = setting(3, "waves before the job is escalated to community managers", ge=1)
    offer_ttl_same_day_minutes: int = setting(
        15,
        "how long an offer stands for a job whose first window starts within 24 h",
        ge=1,
        le=1440,
    )
    offer_ttl_later_minutes: int = setting(
        240, "how long an offer stands for a later job", ge=1, le=10080
    )
    preferred_hold_minutes: int = setting(
        60, "exclusive first offer to the customer's preferred member", ge=0
    )
    # Lifecycle
    auto_confirm_hours: int = setting(
        72, "a completed job is confirmed without the customer after this", ge=1
    )
    late_cancel_window_hours: int = setting(
        24, "a customer cancelling closer than this to the start pays the late fee", ge=0, le=720
    )
    late_cancel_fee_percent: int = setting(
        20, "the late-cancellation fee, in percent of the job price (rounded half up)", ge=0, le=100
    )
    reminder_hours_before: int = setting(24, "reminder to both parties before the start", ge=1)
    check_in_opens_minutes: int = setting(
        60, "the member may check in (start the work) this long before the booked window", ge=0
    )
    review_blind_days: int = setting(
        7, "reviews publish when both are in, or after this many days", ge=1
    )
    close_after_days: int = setting(14, "a confirmed job is closed after this many days", ge=1)


def job_rules() -> JobRules:
    """The rules in force: JOBS_* settings, then the admins' changes."""
    return current(JobRules)
