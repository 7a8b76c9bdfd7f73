"""Each member's figures per category over a window, in a handful of aggregate queries.

Figures of a (member, category) pair:
    jobs             confirmed or closed jobs in the category the member was assigned to,
                     confirmed within the window
    rating           average stars of the customers' published reviews of those jobs
                     (rating_count of them); None without any
    cancellations    jobs of the category the member backed out of in the window (the jobs'
                     audit trail: a "withdraw" event by the member, see jobs.work.cancel_job)
    cancellation_permille   cancellations × 1000 / (jobs + cancellations)
Member-wide figures (the same in each of the member's categories):
    offers_accepted / offers_answered   offers answered (accepted or declined) in the window;
                     acceptance_permille is None without any answered offer
    sanctions        warnings and suspensions (support) in the window
    lost_disputes    applied resolutions with the member at fault in the window
Evaluated pairs are those with a confirmed job or a cancellation in the category in the window.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import case, func, select, union

from crowd.extensions import db
from jobs.models import Job, JobEvent, Offer, Review
from members.models import Member
from support.models import Resolution, Sanction, Ticket

DONE_STATUSES = ("confirmed", "closed")
SANCTION_KINDS = ("warn", "suspend")
NO_REGION = "unknown"


def _done(start: datetime, end: datetime):
    review = (
        (Review.job_id == Job.id) & (Review.author == "customer") & Review.published_at.is_not(None)
    )
    return (
        select(
            Job.assigned_member_id,
            Job.category_id,
            func.count(Job.id),
            func.count(Review.id),
            func.coalesce(func.sum(Review.stars), 0),
        )
        .outerjoin(Review, review)
        .where(
            Job.status.in_(DONE_STATUSES),
            Job.assigned_member_id.is_not(None),
            Job.confirmed_at >= start,
            Job.confirmed_at < end,
        )
        .group_by(Job.assigned_member_id, Job.category_id)
    )


def _withdrawals(start: datetime, end: datetime):
    return (
        select(Member.id.label("member_id"), Job.category_id)
        .select_from(JobEvent)
        .join(Job, Job.id == JobEvent.job_id)
        .join(Member, Member.user_id == JobEvent.actor_user_id)
        .where(
            JobEvent.action == "withdraw",
            JobEvent.actor == "member",
            JobEvent.created_at >= start,
            JobEvent.created_at < end,
        )
    )


def _per_member(query) -> dict[int, tuple]:
    return {row[0]: tuple(row[1:]) for row in db.session.execute(query)}


def window_figures(start: datetime, end: datetime) -> list[dict]:
    """Figures of every evaluated (member, category) pair, with the member's region."""
    pairs: dict[tuple[int, int], dict] = defaultdict(
        lambda: {"jobs": 0, "rating_count": 0, "rating_sum": 0, "cancellations": 0}
    )
    for member_id, category_id, jobs, rating_count, rating_sum in db.session.execute(
        _done(start, end)
    ):
        pairs[(member_id, category_id)].update(
            jobs=jobs, rating_count=rating_count, rating_sum=int(rating_sum)
        )
    withdrawals = _withdrawals(start, end).subquery()
    counted = select(withdrawals.c.member_id, withdrawals.c.category_id, func.count()).group_by(
        withdrawals.c.member_id, withdrawals.c.category_id
    )
    for member_id, category_id, count in db.session.execute(counted):
        pairs[(member_id, category_id)]["cancellations"] = count
    if not pairs:
        return []
    offers = _per_member(
        select(
            Offer.member_id,
            func.count(),
            func.sum(case((Offer.status == "accepted", 1), else_=0)),
        )
        .where(
            Offer.status.in_(("accepted", "declined")),
            Offer.responded_at >= start,
            Offer.responded_at < end,
        )
        .group_by(Offer.member_id)
    )
    sanctions = _per_member(
        select(Sanction.member_id, func.count())
        .where(
            Sanction.kind.in_(SANCTION_KINDS),
            Sanction.created_at >= start,
            Sanction.created_at < end,
        )
        .group_by(Sanction.member_id)
    )
    lost = _per_member(
        select(Ticket.member_id, func.count())
        .select_from(Resolution)
        .join(Ticket, Ticket.id == Resolution.ticket_id)
        .where(
            Resolution.status == "applied",
            Resolution.member_at_fault.is_(True),
            Resolution.applied_at >= start,
            Resolution.applied_at < end,
            Ticket.member_id.is_not(None),
        )
        .group_by(Ticket.member_id)
    )
    evaluated = union(
        select(Job.assigned_member_id).where(
            Job.status.in_(DONE_STATUSES),
            Job.confirmed_at >= start,
            Job.confirmed_at < end,
        ),
        select(withdrawals.c.member_id),
    ).subquery()
    members = {
        row.id: row
        for row in db.session.execute(
            select(Member.id, Member.user_id, Member.country, Member.status).where(
                Member.id.in_(select(evaluated.c[0]))
            )
        )
    }
    return [
        _figures(member_id, category_id, raw, members[member_id], offers, sanctions, lost)
        for (member_id, category_id), raw in sorted(pairs.items())
    ]


def _figures(member_id, category_id, raw, member, offers, sanctions, lost) -> dict:
    jobs, cancellations = raw["jobs"], raw["cancellations"]
    answered, accepted = offers.get(member_id, (0, 0))
    rating = round(raw["rating_sum"] / raw["rating_count"], 3) if raw["rating_count"] else None
    taken = jobs + cancellations
    return {
        "member_id": member_id,
        "user_id": member.user_id,
        "member_status": member.status,
        "category_id": category_id,
        "region": member.country or NO_REGION,
        "figures": {
            "jobs": jobs,
            "rating": rating,
            "rating_count": raw["rating_count"],
            "rating_sum": raw["rating_sum"],
            "cancellations": cancellations,
            # Rounded against the member: up for cancellations, down for acceptance.
            "cancellation_permille": -(-cancellations * 1000 // taken) if taken else 0,
            "offers_answered": answered,
            "offers_accepted": int(accepted or 0),
            "acceptance_permille": int(accepted or 0) * 1000 // answered if answered else None,
            "sanctions": sanctions.get(member_id, (0,))[0],
            "lost_disputes": lost.get(member_id, (0,))[0],
        },
    }
