"""Onboarding's timing rules, overridable through app config (ONBOARDING_* keys)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from flask import current_app


@dataclass(frozen=True)
class OnboardingRules:
    reapply_cooloff_days: int = 90  # a rejected applicant may apply again after this
    level_notify_batch: int = 500  # level-change notifications written per background task


def onboarding_rules() -> OnboardingRules:
    """The rules in force: defaults, overridden by app config keys ONBOARDING_<FIELD>."""
    overrides = {
        f.name: int(current_app.config[f"ONBOARDING_{f.name.upper()}"])
        for f in fields(OnboardingRules)
        if f"ONBOARDING_{f.name.upper()}" in current_app.config
    }
    return OnboardingRules(**overrides)
