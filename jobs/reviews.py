"""Double-blind reviews: the customer rates the member and the member rates the customer.

A review stays hidden (published_at is null) until the other side has reviewed too — then
both publish at once — or until the blind period (JobRules.review_blind_days) after the job's
completion has passed; neither side can tailor their review to the other's. Publishing is
idempotent: it only touches reviews still unpublished, under a row lock, and counts a
review about a member towards their rating in the same transaction, so it counts once.

Locks follow crowd.core.locking: the job, the member, the job's reviews, the member's stats.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from crowd.core.auth import Principal
from crowd.core.background import enqueue
from crowd.core.db import utcnow
from crowd.core.errors import Forbidden, NotFound, field_error
from crowd.core.events import Event, emit
from crowd.core.i18n import _, _l
from crowd.core.locking import lock_rows
from crowd.core.pagination import paginate
from crowd.extensions import db
from customers.models import Customer
from jobs.config import job_rules
from jobs.errors import AlreadyReviewed, JobNotReviewable
from jobs.models import Job, Review
from jobs.queries import lock_job
from members.access import visible_member
from members.models import Member, SkillCategory
from members.service import record_rating
from notifications.service import notify

# What each side may say about the other, beyond stars and a comment.
MEMBER_TAGS = ("punctual", "friendly", "competent", "tidy", "explained_well")
CUSTOMER_TAGS = ("clear_brief", "on_site", "friendly", "paid_promptly")
# Tags an author may use, by the author's side: a customer writes about the member.
TAGS_BY_AUTHOR = {"customer": MEMBER_TAGS, "member": CUSTOMER_TAGS}

# A job can be reviewed once the work is done, whether or not it has been confirmed yet.
REVIEWABLE = frozenset({"completed", "confirmed", "closed"})

# The periodic sweep publishes at most this many jobs' reviews per run.
SWEEP_BATCH = 200


# --- who is asking --------------------------------------------------------------------------


def _side_of(actor: Principal, job: Job | None) -> str | None:
    """'customer' or 'member' when `actor` is that party of `job`, else None."""
    if job is None:
        return None
    if actor.role == "customer":
        owner = db.session.scalar(select(Customer.user_id).where(Customer.id == job.customer_id))
        return "customer" if owner == actor.user_id else None
    if actor.role == "member" and job.assigned_member_id is not None:
        assignee = db.session.scalar(
            select(Member.user_id).where(Member.id == job.assigned_member_id)
        )
        return "member" if assignee == actor.user_id else None
    return None


def _party_job(actor: Principal, job_id: int, *, lock: bool = False) -> tuple[Job, str]:
    """The job and the caller's side of it; a job the caller is no party to is not found."""
    job = lock_job(job_id) if lock else db.session.get(Job, job_id)
    side = _side_of(actor, job)
    if side is None:
        raise NotFound(_("No such job."))
    return job, side


# --- the blind period -----------------------------------------------------------------------


def blind_until(job: Job) -> datetime | None:
    """When the job's reviews publish even if only one side has reviewed (None: not done)."""
    if job.status not in REVIEWABLE and job.completed_at is None:
        return None
    done = job.completed_at or job.status_changed_at
    return done + timedelta(days=job_rules().review_blind_days)


# --- writing --------------------------------------------------------------------------------


def _check_tags(author: str, tags: list[str]) -> list[str]:
    allowed = TAGS_BY_AUTHOR[author]
    unknown = [tag for tag in tags if tag not in allowed]
    if unknown:
        about = "member" if author == "customer" else "customer"
        raise field_error(
            "tags",
            _(
                "unknown tag(s) {value} for a review of a {about}; use: {value2}",
                value=", ".join(unknown),
                about=about,
                value2=", ".join(allowed),
            ),
        )
    # Keep the caller's order, drop repeats.
    return list(dict.fromkeys(tags))


def submit_review(
    *,
    actor: Principal,
    job_id: int,
    stars: int,
    comment: str | None = None,
    tags: list[str] | None = None,
) -> Review:
    """The caller rates the other party of a finished job; once per side.

    The review publishes right away when the other side has already reviewed or the blind
    period is over; otherwise a publish task is scheduled for the end of the blind period.
    """
    if actor.is_staff:
        raise Forbidden(_("Only the job's customer and its member review it."))
    job, side = _party_job(actor, job_id, lock=True)
    if job.status not in REVIEWABLE:
        raise JobNotReviewable(
            _(
                "A job can be reviewed once it is completed; this one is {value}.",
                value=job.status.replace("_", " "),
            ),
            state=job.status,
        )
    tags = _check_tags(side, tags or [])
    # The job's row lock serialises both parties' reviews: the check below sees the other's.
    reviews = _reviews_of(job.id)
    if any(review.author == side for review in reviews):
        raise AlreadyReviewed(_("You have already reviewed this job."))
    review = Review(
        job_id=job.id,
        author=side,
        author_user_id=actor.user_id,
        stars=stars,
        comment=comment or None,
        tags=tags,
    )
    db.session.add(review)
    db.session.flush()
    if not _publish_if_due(job, [*reviews, review]):
        enqueue(
            "jobs.publish_reviews",
            run_at=blind_until(job),
            dedupe_key=f"jobs.publish_reviews:{job.id}",
            job_id=job.id,
        )
    return review


def _reviews_of(job_id: int, *, lock: bool = False) -> list[Review]:
    query = select(Review).where(Review.job_id == job_id).order_by(Review.id)
    if lock:
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    return list(db.session.scalars(query))


# --- publishing -----------------------------------------------------------------------------


def _due(job: Job, reviews: list[Review], now: datetime) -> bool:
    both = {review.author for review in reviews} == {"customer", "member"}
    until = blind_until(job)
    return both or (until is not None and now >= until)


def _publish_if_due(job: Job, reviews: list[Review]) -> bool:
    """Publish the job's unpublished reviews when both sides are in or the period is over."""
    now = utcnow()
    if not _due(job, reviews, now):
        return False
    for review in reviews:
        if review.published_at is None:
            _publish(job, review, now)
    db.session.flush()
    return True


def _publish(job: Job, review: Review, now: datetime) -> None:
    review.published_at = now
    if review.author == "customer":
        # The review is about the member: their rating counts it, in this same transaction.
        # The member before their stats (the lock order): a promotion locks the member next.
        lock_rows(Member, [job.assigned_member_id])
        record_rating(job.assigned_member_id, stars=review.stars)
        reviewed_user_id = db.session.scalar(
            select(Member.user_id).where(Member.id == job.assigned_member_id)
        )
        about = "member"
    else:
        reviewed_user_id = db.session.scalar(
            select(Customer.user_id).where(Customer.id == job.customer_id)
        )
        about = "customer"
    emit(
        Event(
            name="review.published",
            subject_type="review",
            subject_id=review.id,
            actor="system",
            payload={"job_id": job.id, "about": about, "member_id": job.assigned_member_id},
            occurred_at=now,
        )
    )
    notify(
        reviewed_user_id,
        "review.published",
        _l("You have a new {review_stars}-star review", review_stars=review.stars),
        _l('A review of your part in the job "{job_title}" is now visible.', job_title=job.title),
        dedupe_key=f"review.published:{review.id}",
        job_id=job.id,
        review_id=review.id,
        about=about,
    )


def publish_reviews(job_id: int) -> int:
    """Publish a job's hidden reviews if they are due; returns how many published now.

    Safe to run any number of times: reviews already published are left alone.
    """
    job = lock_job(job_id)
    if job is None:
        return 0
    lock_rows(Member, [job.assigned_member_id])  # the lock order: job, member, reviews
    reviews = _reviews_of(job.id, lock=True)
    hidden = sum(1 for review in reviews if review.published_at is None)
    if not hidden or not _publish_if_due(job, reviews):
        return 0
    return hidden


def publish_due_reviews(limit: int = SWEEP_BATCH) -> int:
    """Publish every job's reviews whose blind period is over (the periodic sweep)."""
    cutoff = utcnow() - timedelta(days=job_rules().review_blind_days)
    done_at = func.coalesce(Job.completed_at, Job.status_changed_at)
    due_jobs = (
        select(Review.job_id)
        .join(Job, Job.id == Review.job_id)
        .where(Review.published_at.is_(None), or_(done_at <= cutoff, _both_reviewed()))
        .group_by(Review.job_id)
        .order_by(Review.job_id)
        .limit(limit)
    )
    return sum(publish_reviews(job_id) for job_id in list(db.session.scalars(due_jobs)))


def _both_reviewed():
    """SQL: the job of the outer Review row has reviews from both sides."""
    other = Review.__table__.alias("other_side")
    return (
        select(func.count(func.distinct(other.c.author)))
        .where(other.c.job_id == Review.job_id)
        .scalar_subquery()
        == 2
    )


# --- reading --------------------------------------------------------------------------------


def job_reviews(*, actor: Principal, job_id: int) -> dict:
    """A job's reviews as the caller may see them.

    A party sees their own review always and the other side's once published; staff see
    every review, published or not.
    """
    if actor.is_staff:
        job = db.session.get(Job, job_id)
        if job is None:
            raise NotFound(_("No such job."))
        side = None
    else:
        job, side = _party_job(actor, job_id)
    reviews = [
        review
        for review in _reviews_of(job.id)
        if side is None or review.author == side or review.published_at is not None
    ]
    return {"items": reviews, "blind_until": blind_until(job)}


def member_reviews(
    *, actor: Principal, member_id: int, limit: int | None = None, cursor: str | None = None
) -> dict:
    """Published reviews about a member, newest first, naming the customer by first name only."""
    visible_member(actor, member_id, public_face=True)
    query = (
        select(Review)
        .join(Job, Job.id == Review.job_id)
        .where(
            Job.assigned_member_id == member_id,
            Review.author == "customer",
            Review.published_at.is_not(None),
        )
    )
    page = paginate(
        query,
        {"limit": limit, "cursor": cursor},
        order=[Review.published_at, Review.id],
        descending=True,
    )
    page["items"] = _public_items(page["items"])
    return page


def _public_items(reviews: list[Review]) -> list[dict]:
    job_ids = {review.job_id for review in reviews}
    rows = db.session.execute(
        select(Job.id, Customer.display_name, SkillCategory.slug)
        .join(Customer, Customer.id == Job.customer_id)
        .join(SkillCategory, SkillCategory.id == Job.category_id)
        .where(Job.id.in_(job_ids))
    )
    about = {row.id: (row.display_name, row.slug) for row in rows}
    return [
        {
            "id": review.id,
            "stars": review.stars,
            "comment": review.comment,
            "tags": review.tags,
            "published_at": review.published_at,
            "customer_first_name": _first_name(about[review.job_id][0]),
            "category": about[review.job_id][1],
        }
        for review in reviews
    ]


def _first_name(display_name: str) -> str:
    words = display_name.split()
    return words[0] if words else ""
