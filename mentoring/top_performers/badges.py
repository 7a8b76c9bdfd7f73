"""Revoking a badge (staff): it stops counting at once and its commission perk ends."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import NotFound
from crowd.core.i18n import _, _l
from crowd.extensions import db
from members.models import Member
from mentoring.errors import BadgeExpired, BadgeRevoked
from mentoring.models import TopPerformerBadge, TopPerformerRun
from notifications.service import notify
from payouts.models.plans import MemberCommissionPerk


def _locked(model, row_id: int):
    query = select(model).where(model.id == row_id).with_for_update(key_share=True)
    return db.session.scalar(query.execution_options(populate_existing=True))


def revoke_badge(*, actor: Principal, badge_id: int, reason: str) -> TopPerformerBadge:
    """Revoke a badge in force; the run's perk ends unless another badge of it stays in force.

    The perk is one per member and run, shared by their badges of that run.
    """
    badge = _locked(TopPerformerBadge, badge_id)
    if badge is None:
        raise NotFound(_("No such top-performer badge."))
    if badge.revoked_at is not None:
        raise BadgeRevoked(_("The badge has been revoked already."), state="revoked")
    now = utcnow()
    if badge.valid_until <= now:
        raise BadgeExpired(_("The badge has expired; nothing to revoke."), state="expired")
    badge.revoked_at, badge.revoke_reason = now, reason
    if badge.perk_id is not None:
        _end_perk(badge, now)
    period = db.session.scalar(
        select(TopPerformerRun.period).where(TopPerformerRun.id == badge.run_id)
    )
    user_id = db.session.scalar(select(Member.user_id).where(Member.id == badge.member_id))
    notify(
        user_id,
        "mentoring.top_performer_revoked",
        _l("Your top-performer badge for {period} was revoked", period=period),
        reason,
        dedupe_key=f"top_performer.revoked:{badge.id}",
        badge_id=badge.id,
    )
    db.session.flush()
    return badge


def _end_perk(badge: TopPerformerBadge, now) -> None:
    # The perk's lock first: revocations of two badges sharing it go one at a time, so the
    # second sees the first and ends the perk.
    perk = _locked(MemberCommissionPerk, badge.perk_id)
    sharing = db.session.scalar(
        select(TopPerformerBadge.id).where(
            TopPerformerBadge.perk_id == badge.perk_id,
            TopPerformerBadge.id != badge.id,
            TopPerformerBadge.revoked_at.is_(None),
        )
    )
    if sharing is not None:
        return
    if perk.valid_to is None or perk.valid_to > now:
        # valid_to > valid_from is a constraint: a perk revoked as it starts ends a tick later.
        perk.valid_to = max(now, perk.valid_from + timedelta(microseconds=1))
