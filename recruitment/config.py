"""Recruitment rules, overridable through app config (RECRUITMENT_* keys)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from flask import current_app

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


@dataclass(frozen=True)
class RecruitmentRules:
    # The referral link: join_url + "?ref=<code>".
    join_url: str = "https://crowd.example/join"
    # When the referrer earns the reward: the referred member is approved, or their first
    # job is confirmed.
    referral_milestone: str = "first_job"
    # The reward, in minor units of the referrer's currency (CHF in Switzerland, else EUR).
    referral_reward_minor: int = 2500
    # More rewards than this for one referrer in one calendar month go to a CM for review.
    max_rewards_per_month: int = 10
    freemail_domains: tuple[str, ...] = FREEMAIL_DOMAINS

    def __post_init__(self) -> None:
        if self.referral_milestone not in MILESTONES:
            raise ValueError(f"RECRUITMENT_REFERRAL_MILESTONE must be one of {MILESTONES}")
        if self.referral_reward_minor < 1:
            raise ValueError("RECRUITMENT_REFERRAL_REWARD_MINOR must be at least 1")
        if self.max_rewards_per_month < 0:
            raise ValueError("RECRUITMENT_MAX_REWARDS_PER_MONTH must not be negative")


def _coerce(value, default):
    if isinstance(default, tuple):
        items = value.split(",") if isinstance(value, str) else value
        return tuple(item.strip().lower() for item in items if item.strip())
    if isinstance(default, int):
        return int(value)
    return str(value)


def recruitment_rules() -> RecruitmentRules:
    """The rules in force: defaults, overridden by app config keys RECRUITMENT_<FIELD>.

    RECRUITMENT_JOIN_URL, RECRUITMENT_REFERRAL_MILESTONE, RECRUITMENT_REFERRAL_REWARD_MINOR,
    RECRUITMENT_MAX_REWARDS_PER_MONTH, RECRUITMENT_FREEMAIL_DOMAINS (a list, or a string of
    comma-separated domains).
    """
    overrides = {}
    for f in fields(RecruitmentRules):
        key = f"RECRUITMENT_{f.name.upper()}"
        if key in current_app.config:
            overrides[f.name] = _coerce(current_app.config[key], f.default)
    return RecruitmentRules(**overrides)
