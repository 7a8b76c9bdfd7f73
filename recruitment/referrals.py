"""A referral's way to its reward, credited once through the ledger.

States (the table below is the one place transitions are checked):
    pending   registered; the milestone is not reached yet
    review    a signal needs a CM's decision (recruitment.fraud)
    rewarded  the reward is posted
    refused   self-referral or farming, or a CM refused it (final)
    lapsed    the referred member was offboarded, or their latest application rejected,
              before the milestone (final; a later re-application does not revive it)

The milestone is fixed per referral when it is written (config RECRUITMENT_REFERRAL_MILESTONE):
    approved   the referred member has an approved application (reached at its decision)
    first_job  a job assigned to them was confirmed (reached at the first confirmed_at)

When it is reached, a pending referral is checked (fraud.at_milestone) and then rewarded:
RECRUITMENT_REFERRAL_REWARD_MINOR in the referrer's currency (CHF in Switzerland, else EUR),
platform:rewards debited, the referrer's payable credited, ledger key "referral-{id}-reward",
kind "referral_reward"; the referrer is notified. Exactly once: the referral row is locked and
must still be pending (a concurrent check waits, then finds it settled), the referrer's code
row is locked too (so two rewards of one referrer count the monthly cap one after the other),
and the ledger key is unique. A referral in review only gets its milestone time recorded.

Checks run from task recruitment.check_referral, queued on approval and on a confirmed job
(recruitment.hooks), and from the daily sweep recruitment.sweep_referrals, which also
lapses referrals whose member left and issues codes to active members without one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, func, or_, select

from crowd.core.auth import Principal
from crowd.core.errors import NotFound
from crowd.core.i18n import _, _l
from crowd.extensions import db
from jobs.models import Job
from members.models import Member
from mentoring.mentors.common import currency_of
from notifications.service import notify
from onboarding.models import Application
from payouts import ledger
from payouts.ledger import Line, account_code_for_member
from recruitment import fraud
from recruitment.codes import require_staff
from recruitment.config import recruitment_rules
from recruitment.errors import ReferralStateConflict, RewardNotPayable
from recruitment.models import Referral, ReferralCode

REWARD_KIND = "referral_reward"
OPEN = ("pending", "review")

# (status, action, who) → next status.
TRANSITIONS: dict[tuple[str, str, str], str] = {
    ("pending", "reward", "system"): "rewarded",
    ("pending", "hold", "system"): "review",
    ("pending", "refuse", "system"): "refused",
    ("pending", "lapse", "system"): "lapsed",
    ("review", "lapse", "system"): "lapsed",
    ("review", "approve", "staff"): "rewarded",
    # Approved before the milestone: the hold is lifted, the reward follows at the milestone.
    ("review", "clear", "staff"): "pending",
    ("pending", "refuse", "staff"): "refused",
    ("review", "refuse", "staff"): "refused",
}
SIGNAL_ACTIONS = {fraud.REFUSED: "refuse", fraud.REVIEW: "hold"}


def allowed(referral: Referral, action: str, who: str) -> str:
    """The status `action` leads to from the referral's status; 409 if the table has none."""
    target = TRANSITIONS.get((referral.status, action, who))
    if target is None:
        raise ReferralStateConflict(
            _(
                "Cannot {action} a {referral_status} referral.",
                action=action,
                referral_status=referral.status,
            ),
            state=referral.status,
        )
    return target


def move(referral: Referral, action: str, who: str) -> None:
    """Apply `action` if the table allows it from the referral's status; else 409."""
    referral.status = allowed(referral, action, who)


# --- the milestone, in SQL ------------------------------------------------------------------


def _approved_at(member_id):
    return (
        select(func.min(Application.decided_at))
        .where(Application.member_id == member_id, Application.status == "approved")
        .scalar_subquery()
    )


def _first_job_at(member_id):
    return (
        select(func.min(Job.confirmed_at))
        .where(Job.assigned_member_id == member_id, Job.confirmed_at.is_not(None))
        .scalar_subquery()
    )


def _reached_at():
    """When the referred member reached the referral's milestone (NULL: not yet)."""
    member_id = Referral.referred_member_id
    return case(
        (Referral.milestone == "approved", _approved_at(member_id)),
        else_=_first_job_at(member_id),
    )


def _left():
    """The referred member is offboarded, or their latest application was rejected."""
    latest = (
        select(Application.status)
        .where(Application.member_id == Referral.referred_member_id)
        .order_by(Application.number.desc())
        .limit(1)
        .scalar_subquery()
    )
    offboarded = (
        select(Member.id)
        .where(Member.id == Referral.referred_member_id, Member.status == "offboarded")
        .exists()
    )
    return or_(offboarded, latest == "rejected")


def _figures(referral_id: int) -> tuple[datetime | None, bool]:
    row = db.session.execute(select(_reached_at(), _left()).where(Referral.id == referral_id)).one()
    return row[0], bool(row[1])


def due_member_ids(limit: int = 5000) -> list[int]:
    """Referred members whose open referral has something to do now (one query): the
    milestone reached and not yet acted on, or the member left before it."""
    reached = _reached_at()
    query = (
        select(Referral.referred_member_id)
        .where(
            Referral.status.in_(OPEN),
            or_(
                and_(
                    reached.is_not(None),
                    or_(Referral.status == "pending", Referral.milestone_reached_at.is_(None)),
                ),
                and_(reached.is_(None), _left()),
            ),
        )
        .order_by(Referral.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


# --- checking and rewarding -----------------------------------------------------------------


def _lock(query) -> Referral | None:
    return db.session.scalar(
        query.with_for_update(key_share=True).execution_options(populate_existing=True)
    )


def _lock_code(referral: Referral) -> None:
    # Serialises the rewards of one referrer: the monthly cap is counted one at a time.
    _lock(select(ReferralCode).where(ReferralCode.id == referral.code_id))


def _display_name(member_id: int) -> tuple[str, int]:
    row = db.session.execute(
        select(Member.display_name, Member.user_id).where(Member.id == member_id)
    ).one()
    return row.display_name, row.user_id


def reward(referral: Referral, referrer: Member, *, action: str, who: str) -> None:
    """Post the reward (idempotent by key), mark the referral rewarded, tell the referrer."""
    move(referral, action, who)
    amount = recruitment_rules().referral_reward_minor
    currency = currency_of(referrer)
    transaction = ledger.post(
        key=f"referral-{referral.id}-reward",
        kind=REWARD_KIND,
        currency=currency,
        lines=[
            Line("platform:rewards", amount),
            Line(account_code_for_member(referrer.id), -amount),
        ],
        memo=f"Referral reward (referral {referral.id})",
        member_id=referrer.id,
    )
    referral.reward_minor, referral.reward_currency = amount, currency
    referral.reward_transaction_id = transaction.id
    db.session.flush()
    name, _unused = _display_name(referral.referred_member_id)
    notify(
        referrer.user_id,
        "recruitment.referral_rewarded",
        _l("Your referral reward is credited"),
        _l("{name} reached the milestone: your reward is added to your earnings.", name=name),
        dedupe_key=f"recruitment.referral_rewarded:{referral.id}",
        referral_id=referral.id,
        amount_minor=amount,
        currency=currency,
    )


def check_referral(referred_member_id: int) -> Referral | None:
    """Act on the member's open referral: lapse it, hold or refuse it, or reward it once.
    None when there is none open; else the referral as it is now."""
    referral = _lock(
        select(Referral).where(
            Referral.referred_member_id == referred_member_id, Referral.status.in_(OPEN)
        )
    )
    if referral is None:
        return None
    reached_at, left = _figures(referral.id)
    if reached_at is None:
        if left:
            move(referral, "lapse", "system")
            referral.reason = "left_before_milestone"
            db.session.flush()
        return referral
    if referral.milestone_reached_at is None:
        referral.milestone_reached_at = reached_at
    if referral.status == "review":
        db.session.flush()
        return referral
    _lock_code(referral)
    referrer = db.session.get(Member, referral.referrer_member_id)
    signal = fraud.at_milestone(referral, referrer_status=referrer.status)
    if signal is not None:
        status, reason = signal
        move(referral, SIGNAL_ACTIONS[status], "system")
        referral.reason = reason
        db.session.flush()
        return referral
    reward(referral, referrer, action="reward", who="system")
    return referral


# --- community managers' decisions ----------------------------------------------------------


def _staff_referral(actor: Principal, referral_id: int) -> Referral:
    require_staff(actor)
    referral = _lock(select(Referral).where(Referral.id == referral_id))
    if referral is None:
        raise NotFound(_("No such referral."))
    return referral


def approve(*, actor: Principal, referral_id: int) -> Referral:
    """A CM approves a held referral: the reward is posted now if the milestone is reached,
    else the hold is lifted and the reward follows at the milestone. 409 when a hard signal
    (same device, same payout account) stands against it — refuse it instead."""
    referral = _staff_referral(actor, referral_id)
    allowed(referral, "approve", "staff")
    reached_at, _unused = _figures(referral.id)
    referral.decided_by_id = actor.user_id
    if reached_at is None:
        move(referral, "clear", "staff")
        referral.reason = None
        db.session.flush()
        return referral
    referral.milestone_reached_at = referral.milestone_reached_at or reached_at
    _lock_code(referral)
    referrer = db.session.get(Member, referral.referrer_member_id)
    signal = fraud.at_milestone(referral, referrer_status=referrer.status)
    if signal is not None:
        raise RewardNotPayable(
            _("The reward cannot be paid: {value}. Refuse the referral instead.", value=signal[1]),
            state=referral.status,
            reason=signal[1],
        )
    referral.reason = None
    reward(referral, referrer, action="approve", who="staff")
    return referral


def refuse(*, actor: Principal, referral_id: int, reason: str) -> Referral:
    """A CM refuses a pending or held referral, with a reason: no reward, ever."""
    referral = _staff_referral(actor, referral_id)
    move(referral, "refuse", "staff")
    referral.reason = reason
    referral.decided_by_id = actor.user_id
    db.session.flush()
    return referral
