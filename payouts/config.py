"""Payout settings (PAYOUT_*: the smallest payout and the interval) and job-payment settings
(JOB_PAYMENTS_*: whether offers wait for an authorised payment, how long a hold lasts)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from crowd.config import SettingsGroup, setting
from crowd.core.settings import current

MinorUnits = Annotated[int, Field(ge=1, le=100_000_000)]


class PayoutRules(SettingsGroup):
    model_config = SettingsConfigDict(env_prefix="PAYOUT_")
    # Operations change these without a release (PATCH /api/v1/settings).
    ADJUSTABLE: ClassVar[frozenset[str]] = frozenset({"minimum_amount", "interval_hours"})

    minimum_amount: MinorUnits | dict[Literal["EUR", "CHF"], MinorUnits] = setting(
        2000,
        "the smallest payout, in minor units: one number for every currency, or one per "
        "currency (a currency left out keeps 2000)",
        form='a whole number of minor units from 1, or JSON like {"EUR": 2000, "CHF": 2500}',
    )
    interval_hours: int = setting(
        24 * 7, "a payout run starts when the last one is this old (weekly)", ge=1, le=24 * 31
    )
    transfer_concurrency: int = setting(
        8, "transfers a payout run has under way at once (threads)", ge=1, le=64
    )
    transfers_per_second: float = setting(
        25.0,
        "transfers a payout run starts per second at most: the provider's rate limit "
        "(Stripe: 25 write requests per second in test mode, 100 live)",
        ge=0.1,
        le=1000,
    )


def payout_rules() -> PayoutRules:
    """The payout settings in force: PAYOUT_* settings, then the admins' changes."""
    return current(PayoutRules)


class JobPaymentRules(SettingsGroup):
    model_config = SettingsConfigDict(env_prefix="JOB_PAYMENTS_")

    authorise_before_dispatch: bool = setting(
        True,
        "no work without an authorised payment: a job's card is authorised when it is posted "
        "and offers go out only once it is (off: authorised when a member is assigned)",
    )
    authorisation_valid_days: int = setting(
        7,
        "how long a card authorisation holds at the provider (Stripe cancels an uncaptured "
        "manual-capture payment after 7 days); a hold that would lapse before the job is "
        "captured is renewed before",
        ge=1,
        le=30,
    )
    reauthorise_margin_hours: int = setting(
        24,
        "a hold is renewed this long before it lapses, when the job's capture (its end plus "
        "the confirmation window) is expected later",
        ge=1,
        le=24 * 7,
    )


def job_payment_rules() -> JobPaymentRules:
    """The job-payment settings in force (JOB_PAYMENTS_* settings)."""
    return current(JobPaymentRules)


class ChargebackRules(SettingsGroup):
    model_config = SettingsConfigDict(env_prefix="PAYMENTS_CHARGEBACK_")

    lost_policy: Literal["platform_absorbs", "member_liable"] = setting(
        "platform_absorbs",
        "who bears a lost chargeback: the platform (platform_absorbs), or the member up to their "
        "earning for the job, the rest on the platform (member_liable)",
    )


def chargeback_rules() -> ChargebackRules:
    """The chargeback settings in force (PAYMENTS_CHARGEBACK_* settings)."""
    return current(ChargebackRules)
