"""Automatic graduation of mentees and the mentor's reward, paid once through the ledger.

A mentee in an ACTIVE mentorship graduates when
    level      their level rank ≥ graduation_level, or
    record     MemberStats.jobs_completed ≥ graduation_jobs and tenure (MemberLevel.active_since)
               ≥ graduation_tenure_days.
The mentorship becomes `graduated` (cause, time) and the mentor is credited mentor_reward_minor
in their currency (CHF in Switzerland, else EUR): platform:rewards is debited, the mentor's
payable credited, key "mentorship-{id}-reward", kind "programme_reward".

A community manager may also graduate a mentee they judge ready (`graduate`, cause "staff",
POST /mentorships/{id}/graduate): the same move, reward and notices.

Exactly once: the mentorship row is locked and must still be active (a concurrent check waits,
then finds it graduated and does nothing), and the ledger key is unique (a re-posting returns
the first transaction). Checks run from task mentoring.check_graduation (queued on a promotion,
a confirmed job, an accepted mentorship) and the daily sweep mentoring.graduate_mentees.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, or_, select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.i18n import _l
from crowd.extensions import db
from members.models import Member, MemberStats
from mentoring.config import programme_rules
from mentoring.mentors.common import (
    currency_of,
    display_names,
    present_mentorship,
    require_staff,
)
from mentoring.mentors.lifecycle import mentorship_for, move
from mentoring.models import Mentorship
from notifications.service import notify
from onboarding.models import MemberLevel
from payouts import ledger
from payouts.ledger import Line, account_code_for_member

REWARD_KIND = "programme_reward"


def _graduation_figures():
    rules = programme_rules()
    tenure_start = utcnow() - timedelta(days=rules.graduation_tenure_days)
    by_level = Member.level_rank >= rules.graduation_level
    by_record = and_(
        MemberStats.jobs_completed >= rules.graduation_jobs,
        MemberLevel.active_since <= tenure_start,
    )
    return by_level, by_record


def _with_figures(query):
    return (
        query.join(Member, Member.id == Mentorship.mentee_id)
        .outerjoin(MemberStats, MemberStats.member_id == Member.id)
        .outerjoin(MemberLevel, MemberLevel.member_id == Member.id)
    )


def reward_mentor(mentorship: Mentorship) -> int | None:
    """Credit the mentor's reward for this mentorship (idempotent by key); the transaction id."""
    amount = programme_rules().mentor_reward_minor
    if amount <= 0:
        return None
    mentor = db.session.get(Member, mentorship.mentor_id)
    transaction = ledger.post(
        key=f"mentorship-{mentorship.id}-reward",
        kind=REWARD_KIND,
        currency=currency_of(mentor),
        lines=[
            Line("platform:rewards", amount),
            Line(account_code_for_member(mentor.id), -amount),
        ],
        memo=f"Mentor reward: mentee graduated (mentorship {mentorship.id})",
        member_id=mentor.id,
    )
    return transaction.id


def check_graduation(mentee_id: int) -> Mentorship | None:
    """Graduate the mentee's active mentorship if they meet the rules; None otherwise."""
    by_level, by_record = _graduation_figures()
    row = db.session.execute(
        _with_figures(select(Mentorship, by_level.label("level"), by_record.label("record")))
        .where(Mentorship.mentee_id == mentee_id, Mentorship.status == "active")
        .with_for_update(of=Mentorship, key_share=True)
        .execution_options(populate_existing=True)
    ).first()
    if row is None or not (row.level or row.record):
        return None
    return _graduate(row.Mentorship, "level" if row.level else "record", "system")


def graduate(*, actor: Principal, mentorship_id: int) -> dict:
    """A community manager graduates the mentee of an active mentorship (cause "staff"); the
    mentor's reward is paid as for an automatic graduation. Not active: 409 with its state."""
    require_staff(actor)
    mentorship, role = mentorship_for(actor, mentorship_id, lock=True)
    return present_mentorship(_graduate(mentorship, "staff", role, actor_id=actor.user_id))


def _graduate(
    mentorship: Mentorship, cause: str, role: str, *, actor_id: int | None = None
) -> Mentorship:
    """Move the (locked) mentorship to graduated, pay the mentor's reward, tell both."""
    move(mentorship, "graduate", role, actor_id=actor_id, changes={"graduation_cause": cause})
    db.session.flush()
    mentorship.reward_transaction_id = reward_mentor(mentorship)
    db.session.flush()
    names = display_names([mentorship.mentor_id, mentorship.mentee_id])
    mentee_name = names[mentorship.mentee_id][0]
    notify(
        names[mentorship.mentee_id][1],
        "mentoring.graduated",
        _l("You graduated from your mentorship"),
        _l("Congratulations — you have found your feet in the crowd."),
        dedupe_key=f"mentoring.graduated:{mentorship.id}:mentee",
        mentorship_id=mentorship.id,
    )
    notify(
        names[mentorship.mentor_id][1],
        "mentoring.graduated",
        _l("{mentee_name} graduated", mentee_name=mentee_name),
        _l("Thank you for mentoring: your reward is credited to your earnings."),
        dedupe_key=f"mentoring.graduated:{mentorship.id}:mentor",
        mentorship_id=mentorship.id,
        reward_transaction_id=mentorship.reward_transaction_id,
    )
    return mentorship


def due_mentee_ids(limit: int = 5000) -> list[int]:
    """Mentees of active mentorships who meet the graduation rules now (one query)."""
    by_level, by_record = _graduation_figures()
    query = (
        _with_figures(select(Mentorship.mentee_id))
        .where(Mentorship.status == "active", or_(by_level, by_record))
        .order_by(Mentorship.mentee_id)
        .limit(limit)
    )
    return list(db.session.scalars(query))
