"""Demo recruitment: channels, referral codes for active members, applications' sources and a
few referrals in different states (the named demo member refers some of them).

Written through the models in one pass; rewarded referrals are credited through the ledger
like real ones. Running it again changes nothing: when the first channel exists it stops.
"""

from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy import select, update

from accounts.models import User
from crowd.core.db import commit
from crowd.extensions import db
from demo.named_accounts import MEMBER_EMAIL
from members.models import Member
from onboarding.models import Application
from recruitment.codes import new_code
from recruitment.models import RecruitmentChannel, Referral, ReferralCode
from recruitment.referrals import reward

# code, kind, name, partner type, city, country; the first is the marker of a seeded demo.
CHANNELS = [
    ("OSZ-ELEKTRO-BERLIN", "partner", "OSZ Elektrotechnik Berlin", "trade_school", "Berlin", "DE"),
    ("REPAIRCAFE-KREUZBERG", "partner", "Repair Café Kreuzberg", "repair_cafe", "Berlin", "DE"),
    ("SPRING-CAMPAIGN", "campaign", "Spring campaign: earn with your skills", None, None, None),
]
# Shares of the other members' first applications per channel (the rest stay organic).
SHARES = {"OSZ-ELEKTRO-BERLIN": 0.08, "REPAIRCAFE-KREUZBERG": 0.06, "SPRING-CAMPAIGN": 0.1}
# States of the referrals of applicants and paused members, in order (as many as there are).
WAITING_STATES = [
    ("pending", None),
    ("review", "same_email_domain"),
    ("pending", None),
    ("refused", "same_device"),
    ("pending", None),
]
REWARDED = 2


def _issue_codes(active_ids: list[int], now: datetime) -> int:
    taken = set(db.session.scalars(select(ReferralCode.code)))
    has_code = set(db.session.scalars(select(ReferralCode.member_id)))
    rows = []
    for member_id in active_ids:
        if member_id in has_code:
            continue
        code = new_code()
        while code in taken:
            code = new_code()
        taken.add(code)
        rows.append(ReferralCode(member_id=member_id, code=code, created_at=now))
    db.session.add_all(rows)
    db.session.flush()
    return len(rows)


def _set_sources(rng: random.Random, member_ids: list[int], channels: dict) -> None:
    for member_id in member_ids:
        draw, floor = rng.random(), 0.0
        for code, share in SHARES.items():
            floor += share
            if draw < floor:
                channel = channels[code]
                db.session.execute(
                    update(Application)
                    .where(Application.member_id == member_id, Application.number == 1)
                    .values(source=channel.kind, channel_id=channel.id)
                )
                break


def _refer(referrer_id: int, code_id: int, referred_id: int, status, reason, milestone) -> Referral:
    db.session.execute(
        update(Application)
        .where(Application.member_id == referred_id, Application.number == 1)
        .values(source="referral", channel_id=None)
    )
    referral = Referral(
        referrer_member_id=referrer_id,
        referred_member_id=referred_id,
        code_id=code_id,
        status=status,
        reason=reason,
        milestone=milestone,
    )
    db.session.add(referral)
    db.session.flush()
    return referral


def seed_recruitment(cm_id: int, now: datetime) -> str:
    """Channels, codes, sources and referrals for the demo crowd; a one-line summary."""
    marker = select(RecruitmentChannel.id).where(RecruitmentChannel.code == CHANNELS[0][0])
    if db.session.scalar(marker) is not None:
        return "recruitment already present"
    rng = random.Random(8)
    channels = {}
    for code, kind, name, partner_type, city, country in CHANNELS:
        channels[code] = RecruitmentChannel(
            kind=kind,
            code=code,
            name=name,
            partner_type=partner_type,
            city=city,
            country=country,
            created_by_id=cm_id,
        )
    db.session.add_all(channels.values())
    db.session.flush()

    members = db.session.execute(select(Member.id, Member.status).order_by(Member.id)).all()
    active = [member_id for member_id, status in members if status == "active"]
    issued = _issue_codes(active, now)
    _set_sources(rng, [member_id for member_id, _ in members], channels)

    named = db.session.scalar(
        select(Member.id).join(User, User.id == Member.user_id).where(User.email == MEMBER_EMAIL)
    )
    referrers = ([named] if named in active else []) + [m for m in active if m != named][:2]
    if not referrers:
        commit()
        return f"recruitment: {len(channels)} channels, {issued} referral codes, no referrals"
    codes = dict(
        db.session.execute(
            select(ReferralCode.member_id, ReferralCode.id).where(
                ReferralCode.member_id.in_(referrers)
            )
        ).all()
    )
    waiting = [m for m, status in members if status in ("applicant", "paused")]
    approved = dict(
        db.session.execute(
            select(Application.member_id, Application.decided_at).where(
                Application.status == "approved",
                Application.member_id.in_([m for m in active if m not in referrers]),
            )
        ).all()
    )
    referrals = []
    for i, (referred, (status, reason)) in enumerate(zip(waiting, WAITING_STATES, strict=False)):
        referrer = referrers[i % len(referrers)]
        referrals.append(_refer(referrer, codes[referrer], referred, status, reason, "first_job"))
    for i, referred in enumerate(sorted(approved)[-REWARDED:]):
        referrer = referrers[i % len(referrers)]
        referral = _refer(referrer, codes[referrer], referred, "pending", None, "approved")
        referral.milestone_reached_at = approved[referred]
        reward(referral, db.session.get(Member, referrer), action="reward", who="system")
        referrals.append(referral)
    commit()
    return (
        f"recruitment: {len(channels)} channels, {issued} referral codes, "
        f"{len(referrals)} referrals"
    )
