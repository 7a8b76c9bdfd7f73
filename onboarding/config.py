"""Onboarding's rules (ONBOARDING_* environment variables)."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from crowd.config import SettingsGroup, setting
from crowd.core.settings import current


class OnboardingRules(SettingsGroup):
    model_config = SettingsConfigDict(env_prefix="ONBOARDING_")
    # Operations change these without a release (PATCH /api/v1/settings).
    ADJUSTABLE: ClassVar[frozenset[str]] = frozenset(
        {"billing_required", "identity_images_required"}
    )

    reapply_cooloff_days: int = setting(
        90, "a rejected applicant may apply again after this many days", ge=0
    )
    alert_waiting_hours: int = setting(
        24, "community managers are alerted of a document waiting this long for its check", ge=1
    )
    level_notify_batch: int = setting(
        500, "level-change notifications written per background task", ge=1
    )
    billing_required: bool = setting(
        False,
        "approval waits for the billing step: a billing profile and a decision on "
        "self-billing (off: the step is shown, never required)",
    )
    identity_images_required: bool = setting(
        False,
        "an identity document is submitted with images of its front and a selfie holding it, "
        "and the identity step is done only with them (off: images are optional)",
    )


def onboarding_rules() -> OnboardingRules:
    """The rules in force (ONBOARDING_* settings)."""
    return current(OnboardingRules)
