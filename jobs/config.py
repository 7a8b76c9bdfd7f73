"""The marketplace's timing and dispatch rules, overridable through app config (JOBS_* keys)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from flask import current_app


@dataclass(frozen=True)
class JobRules:
    # Dispatch
    wave_size: int = 5  # offers sent at once (top K candidates)
    max_waves: int = 3  # then the job is escalated to community managers
    offer_ttl_same_day_minutes: int = 15  # a job whose first window starts within 24 h
    offer_ttl_later_minutes: int = 240
    preferred_hold_minutes: int = 60  # exclusive first offer to the customer's preferred member
    # Lifecycle
    auto_confirm_hours: int = 72  # completed → confirmed without the customer
    late_cancel_window_hours: int = 24  # customer cancels closer than this to the start: fee
    late_cancel_fee_percent: int = 20  # of the job price, in minor units rounded half up
    reminder_hours_before: int = 24
    # The member may check in (start the work) from this long before the booked window.
    check_in_opens_minutes: int = 60
    review_blind_days: int = 7  # reviews publish when both are in, or after this
    close_after_days: int = 14  # confirmed → closed


def job_rules() -> JobRules:
    """The rules in force: defaults, overridden by app config keys JOBS_<FIELD> (upper case)."""
    overrides = {
        f.name: int(current_app.config[f"JOBS_{f.name.upper()}"])
        for f in fields(JobRules)
        if f"JOBS_{f.name.upper()}" in current_app.config
    }
    return JobRules(**overrides)
