"""Recruitment rules (RECRUITMENT_* environment variables)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from crowd.config import SettingsGroup, setting
from crowd.core.settings import current

MILESTONES = ("approved", "first_job")

# Addresses anybody can get: sharing one of these domains says nothing about two people.
FREEMAIL_DOMAINS = (
    "gmail.com",
    "googlemail.com",
    "gmx.de",
    "gmx.net",
    "gmx.at",
    "gmx.ch",
    "web.de",
    "t-online.de",
    "outlook.com",
    "outlook.de",
    "hotmail.com",
    "hotmail.de",
    "live.com",
    "live.de",
    "yahoo.com",
    "yahoo.de",
    "icloud.com",
    "me.com",
    "aol.com",
    "freenet.de",
    "posteo.de",
    "mailbox.org",
    "proton.me",
    "protonmail.com",
    "bluewin.ch",
    "aon.at",
)


class RecruitmentRules(SettingsGroup):
    model_config = SettingsConfigDict(env_prefix="RECRUITMENT_")

    join_url: str = setting(
        "https://crowd.example/join",
        'the referral link is this URL + "?ref=<code>"',
        form="an https:// URL",
        pattern=r"^https://\S{1,490}$",
    )
    referral_milestone: Literal["approved", "first_job"] = setting(
        "first_job",
        "when the referrer earns the reward: the friend is approved, or their first job is "
        "confirmed",
        form="approved or first_job",
    )
    referral_reward_minor: int = setting(
        2500, "the reward, in minor units of the referrer's currency (CHF or EUR)", ge=1
    )
    max_rewards_per_month: int = setting(
        10,
        "more rewards than this for one referrer in a month wait for a community manager",
        ge=0,
    )
    freemail_domains: Annotated[tuple[str, ...], NoDecode] = setting(
        FREEMAIL_DOMAINS,
        "addresses anybody can get: sharing one of these domains says nothing about two people",
        form="comma-separated domains",
        shown="26 common freemail domains (`recruitment/config.py`)",
    )

    @field_validator("freemail_domains", mode="before")
    @classmethod
    def _domains(cls, value: Any) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else value
        return tuple(str(item).strip().lower() for item in items if str(item).strip())


def recruitment_rules() -> RecruitmentRules:
    """The rules in force (RECRUITMENT_* settings)."""
    return current(RecruitmentRules)
