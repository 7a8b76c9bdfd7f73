"""Referral codes: issued at admission, shown with their link and figures, disabled by CMs.

A code is 8 characters drawn with `secrets` from an alphabet without look-alikes (no 0/O,
1/I/L): 31^8 ≈ 8.5 · 10^11 codes, so guessing one is hopeless, and it is easy to read out.
A collision with an existing code is retried (in a savepoint, so the unit of work survives).
Every active member has one: approval issues it, the daily sweep catches up with members
activated otherwise, and the migration gave one to every member active at the time.
Codes are matched case-insensitively (stored upper case). A disabled code refuses new
registrations; the referrals it brought stay as they are.
"""

from __future__ import annotations

import secrets

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import Forbidden, NotFound
from crowd.core.i18n import _
from crowd.extensions import db
from members.access import own_member
from members.models import Member
from recruitment.config import recruitment_rules
from recruitment.errors import ReferralCodeDisabled
from recruitment.models import REFERRAL_STATUSES, Referral, ReferralCode

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
ATTEMPTS = 8


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def link_for(code: str) -> str:
    """The referral link: RECRUITMENT_JOIN_URL?ref=<code>."""
    return f"{recruitment_rules().join_url}?ref={code}"


def code_of(member_id: int) -> ReferralCode | None:
    return db.session.scalar(select(ReferralCode).where(ReferralCode.member_id == member_id))


def issue_code(member_id: int) -> ReferralCode:
    """The member's referral code, created now if they have none (idempotent)."""
    existing = code_of(member_id)
    if existing is not None:
        return existing
    for _attempt in range(ATTEMPTS):
        code = ReferralCode(member_id=member_id, code=new_code(), created_at=utcnow())
        try:
            with db.session.begin_nested():
                db.session.add(code)
        except IntegrityError:
            # Another code with these characters, or a concurrent issue for this member.
            existing = code_of(member_id)
            if existing is not None:
                return existing
            continue
        return code
    raise RuntimeError("could not find a free referral code")


def require_staff(actor: Principal) -> None:
    if not actor.is_staff:
        raise Forbidden(_("Only community managers and admins may do this."))


def my_referral(*, actor: Principal) -> dict:
    """The member's code and link, their referrals counted by status and the rewards earned."""
    member = own_member(actor)
    code = code_of(member.id)
    if code is None:
        raise NotFound(
            _("You have no referral code: active members get one when they are admitted.")
        )
    counts = dict.fromkeys(REFERRAL_STATUSES, 0)
    rows = db.session.execute(
        select(Referral.status, func.count())
        .where(Referral.referrer_member_id == member.id)
        .group_by(Referral.status)
    )
    counts.update({status: count for status, count in rows})
    rewards = db.session.execute(
        select(Referral.reward_currency, func.sum(Referral.reward_minor), func.count())
        .where(Referral.referrer_member_id == member.id, Referral.status == "rewarded")
        .group_by(Referral.reward_currency)
        .order_by(Referral.reward_currency)
    )
    return {
        "code": code.code,
        "link": link_for(code.code),
        "active": code.disabled_at is None and member.status == "active",
        "disabled_at": code.disabled_at,
        "created_at": code.created_at,
        "counts": counts,
        "rewards": [
            {"currency": currency, "amount_minor": int(amount), "count": count}
            for currency, amount, count in rewards
        ],
    }


def disable_code(*, actor: Principal, code: str) -> ReferralCode:
    """A CM disables a code (abuse): registrations naming it are refused from now on."""
    require_staff(actor)
    row = db.session.scalar(
        select(ReferralCode)
        .where(ReferralCode.code == code.strip().upper())
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise NotFound(_("No such referral code."))
    if row.disabled_at is not None:
        raise ReferralCodeDisabled(_("This referral code is disabled already."), state="disabled")
    row.disabled_at = utcnow()
    db.session.flush()
    return row


def active_members_without_code(limit: int = 5000) -> list[int]:
    """Active members who have no referral code yet (one query)."""
    has_code = select(ReferralCode.id).where(ReferralCode.member_id == Member.id).exists()
    query = select(Member.id).where(Member.status == "active", ~has_code).order_by(Member.id)
    return list(db.session.scalars(query.limit(limit)))
