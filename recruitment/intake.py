"""Where an applicant came from, recorded when they register; and the devices members use.

Registration (POST /api/v1/accounts/members) may name
    referral_code  an active member's code (case-insensitive); unknown, disabled, or of a
                   member who is not active → 422 naming `referral_code`
    source_code    a recruitment channel's code (case-insensitive); unknown or inactive →
                   422 naming `source_code`
    device_id      the app's install id; only its SHA-256 is stored (member_devices)
The first application's source is `referral` when a referral code was given, else the
channel's kind (event, partner, campaign), else `organic`; its channel_id names the channel
whenever one was given. Re-applications keep the first application's source and channel.
A referral row is written in the registration's transaction, already refused or held when a
fraud signal says so (recruitment.fraud) — the registration itself always succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from accounts.models import User
from crowd.core.db import utcnow
from crowd.core.errors import field_error
from crowd.core.i18n import _, _l
from crowd.extensions import db
from members.models import Member
from notifications.service import notify
from onboarding.models import Application
from recruitment import fraud
from recruitment.config import recruitment_rules
from recruitment.models import MemberDevice, RecruitmentChannel, Referral, ReferralCode


@dataclass(frozen=True)
class Intake:
    """The checked codes of a registration: whose referral code, which channel."""

    code: ReferralCode | None = None
    referrer: Member | None = None
    referrer_email: str | None = None
    channel: RecruitmentChannel | None = None

    @property
    def source(self) -> str:
        if self.code is not None:
            return "referral"
        return self.channel.kind if self.channel is not None else "organic"


def resolve(*, referral_code: str | None = None, source_code: str | None = None) -> Intake:
    """Check the codes a registration names (422 naming the field at fault)."""
    code = referrer = referrer_email = channel = None
    if referral_code:
        row = db.session.execute(
            select(ReferralCode, Member, User.email)
            .join(Member, Member.id == ReferralCode.member_id)
            .join(User, User.id == Member.user_id)
            .where(ReferralCode.code == referral_code.strip().upper())
        ).first()
        if row is None:
            raise field_error("referral_code", _("unknown referral code"))
        code, referrer, referrer_email = row
        if code.disabled_at is not None:
            raise field_error("referral_code", _("this referral code is disabled"))
        if referrer.status != "active":
            raise field_error("referral_code", _("this referral code is not active"))
    if source_code:
        channel = db.session.scalar(
            select(RecruitmentChannel).where(RecruitmentChannel.code == source_code.strip().upper())
        )
        if channel is None:
            raise field_error("source_code", _("unknown source code"))
        if not channel.active:
            raise field_error("source_code", _("this source code is no longer active"))
    return Intake(code=code, referrer=referrer, referrer_email=referrer_email, channel=channel)


def record(
    intake: Intake,
    *,
    member: Member,
    email: str,
    application: Application,
    device_id: str | None = None,
) -> Referral | None:
    """Stamp the first application with its source and write the referral, if any."""
    application.source = intake.source
    application.channel_id = intake.channel.id if intake.channel is not None else None
    hashed = fraud.device_hash(device_id) if device_id else None
    if hashed is not None:
        _seen(member.id, hashed)
    if intake.code is None:
        return None
    signal = fraud.at_registration(
        referrer_email=intake.referrer_email,
        referrer_id=intake.referrer.id,
        email=email,
        device_hash_=hashed,
    )
    status, reason = signal or ("pending", None)
    referral = Referral(
        referrer_member_id=intake.referrer.id,
        referred_member_id=member.id,
        code_id=intake.code.id,
        status=status,
        reason=reason,
        milestone=recruitment_rules().referral_milestone,
    )
    db.session.add(referral)
    db.session.flush()
    if status == "refused":
        return referral
    notify(
        intake.referrer.user_id,
        "recruitment.referral_joined",
        _l(
            "{member_display_name} signed up with your code",
            member_display_name=member.display_name,
        ),
        _l("You will see their onboarding progress under your referrals."),
        dedupe_key=f"recruitment.referral_joined:{referral.id}",
        referral_id=referral.id,
    )
    return referral


def _seen(member_id: int, hashed: str) -> None:
    now = utcnow()
    device = db.session.scalar(
        select(MemberDevice).where(
            MemberDevice.member_id == member_id, MemberDevice.device_hash == hashed
        )
    )
    if device is not None:
        device.last_seen_at = now
        return
    try:
        with db.session.begin_nested():
            db.session.add(
                MemberDevice(
                    member_id=member_id, device_hash=hashed, first_seen_at=now, last_seen_at=now
                )
            )
    except IntegrityError:
        # A concurrent sign-in from the same device recorded it first: that is all we need.
        pass


def record_device(member_id: int, device_id: str) -> None:
    """Note that the member signed in from this device (stored as its SHA-256 only)."""
    _seen(member_id, fraud.device_hash(device_id))
