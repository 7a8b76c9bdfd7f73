"""Referrals as their referrer and as community managers see them.

The referrer sees, per referral, the referred member's display name, their application's
status and onboarding progress (steps done of the steps that apply, the same figures as
GET /api/v1/me/onboarding), the milestone and whether it is reached, the referral's status and
reward — never an email, phone, address, document or the fraud signal that refused it.
Staff see everything, with both members named.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.errors import NotFound
from crowd.core.i18n import _
from crowd.core.pagination import paginate
from crowd.extensions import db
from members.access import own_member
from members.models import Member
from onboarding.applications.own import progress
from onboarding.models import Application
from onboarding.steps import checklists, step_context
from recruitment.codes import require_staff
from recruitment.models import Referral, ReferralCode


def _members(member_ids) -> dict[int, Member]:
    rows = db.session.scalars(select(Member).where(Member.id.in_(set(member_ids))))
    return {member.id: member for member in rows}


def _latest_applications(member_ids) -> dict[int, Application]:
    """Each member's latest application (the one their checklist is about), one query."""
    latest: dict[int, Application] = {}
    rows = db.session.scalars(
        select(Application)
        .where(Application.member_id.in_(set(member_ids)))
        .order_by(Application.member_id, Application.number)
    )
    for application in rows:
        latest[application.member_id] = application
    return latest


def _present_for_referrer(referrals: Sequence[Referral]) -> list[dict]:
    ids = [r.referred_member_id for r in referrals]
    members = _members(ids)
    applications = _latest_applications(ids)
    pairs = [(members[i], applications.get(i)) for i in ids]
    states = checklists(pairs, step_context()) if pairs else {}
    return [
        {
            "id": r.id,
            "referred": {"display_name": members[r.referred_member_id].display_name},
            "application_status": (
                applications[r.referred_member_id].status
                if r.referred_member_id in applications
                else None
            ),
            "onboarding": progress(states[r.referred_member_id]),
            "milestone": r.milestone,
            "milestone_reached": r.milestone_reached_at is not None,
            "milestone_reached_at": r.milestone_reached_at,
            "status": r.status,
            "reward_minor": r.reward_minor,
            "reward_currency": r.reward_currency,
            "created_at": r.created_at,
        }
        for r in referrals
    ]


def my_referrals(*, actor: Principal, status: str | None = None, limit=None, cursor=None) -> dict:
    """The member's referrals, newest first, with each referred member's progress."""
    member = own_member(actor)
    query = select(Referral).where(Referral.referrer_member_id == member.id)
    if status is not None:
        query = query.where(Referral.status == status)
    page = paginate(query, {"limit": limit, "cursor": cursor}, order=[Referral.id], descending=True)
    page["items"] = _present_for_referrer(page["items"])
    return page


def present(referrals: Sequence[Referral]) -> list[dict]:
    """Referrals as staff see them: both members by id and name, the code, every field."""
    members = _members(
        [r.referrer_member_id for r in referrals] + [r.referred_member_id for r in referrals]
    )
    codes = dict(
        db.session.execute(
            select(ReferralCode.id, ReferralCode.code).where(
                ReferralCode.id.in_({r.code_id for r in referrals})
            )
        ).all()
    )
    return [
        {
            "id": r.id,
            "referrer": {
                "member_id": r.referrer_member_id,
                "display_name": members[r.referrer_member_id].display_name,
                "status": members[r.referrer_member_id].status,
            },
            "referred": {
                "member_id": r.referred_member_id,
                "display_name": members[r.referred_member_id].display_name,
                "status": members[r.referred_member_id].status,
            },
            "code": codes[r.code_id],
            "status": r.status,
            "reason": r.reason,
            "milestone": r.milestone,
            "milestone_reached_at": r.milestone_reached_at,
            "reward_minor": r.reward_minor,
            "reward_currency": r.reward_currency,
            "reward_transaction_id": r.reward_transaction_id,
            "decided_by_id": r.decided_by_id,
            "created_at": r.created_at,
            "updated_at": r.updated_at,
        }
        for r in referrals
    ]


def list_referrals(
    *,
    actor: Principal,
    status: str | None = None,
    referrer_id: int | None = None,
    referred_id: int | None = None,
    limit=None,
    cursor=None,
) -> dict:
    """The staff queue: referrals filtered by status and members, oldest first (a queue)."""
    require_staff(actor)
    query = select(Referral)
    if status is not None:
        query = query.where(Referral.status == status)
    if referrer_id is not None:
        query = query.where(Referral.referrer_member_id == referrer_id)
    if referred_id is not None:
        query = query.where(Referral.referred_member_id == referred_id)
    page = paginate(query, {"limit": limit, "cursor": cursor}, order=[Referral.id])
    page["items"] = present(page["items"])
    return page


def get_referral(*, actor: Principal, referral_id: int) -> dict:
    """One referral in full, for staff."""
    require_staff(actor)
    referral = db.session.get(Referral, referral_id)
    if referral is None:
        raise NotFound(_("No such referral."))
    return present([referral])[0]


def present_one(referral: Referral) -> dict:
    return present([referral])[0]
