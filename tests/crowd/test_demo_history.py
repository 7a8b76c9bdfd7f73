"""`demo.seed` with history: six months of jobs and programme activity replayed through the
services, consistent money, non-trivial crowd-health and programme figures, a named login
for each role, the same history from the same seed, and a second run that adds nothing."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

import demo
from accounts.models import User
from community.models import TopicPost
from crowd.core.db import utcnow
from customers.models import Customer
from demo.dispatch_console import JOBS as DISPATCH_JOBS
from demo.named_accounts import (
    APPLICANT_EMAIL,
    BUSINESS_EMAIL,
    CM_EMAILS,
    MENTEE_EMAIL,
    MENTOR_EMAIL,
    TOP_PERFORMER_EMAIL,
)
from helpcentre.models import ArticleFeedback, HelpArticle
from jobs.models import Job, JobEvent, Review
from members.models import Member
from mentoring.models import (
    Broadcast,
    BroadcastRecipient,
    Event,
    EventInvitation,
    MentorProfile,
    Mentorship,
    MentorshipSession,
    TopPerformerBadge,
    TopPerformerRun,
)
from mentoring.top_performers.holders import valid_at
from onboarding.models import LevelChange
from payouts.models import LedgerEntry, Payout
from support.models import Resolution, Ticket
from tests.conftest import TEST_REDIS_URL, _empty_queue, _truncate

MEMBERS, CUSTOMERS = 120, 20


def _count(db_session, model, *where) -> int:
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


def _member_of(db_session, email: str) -> Member:
    return db_session.scalar(
        select(Member).join(User, User.id == Member.user_id).where(User.email == email)
    )


def test_history_is_consistent_and_feeds_the_dashboards(db_session, client, admin):
    said: list[str] = []
    summary = demo.seed(members=MEMBERS, customers=CUSTOMERS, seed=11, echo=said.append)

    states = set(db_session.scalars(select(Job.status)))
    assert {"closed", "confirmed", "cancelled", "assigned"} <= states, states
    # The history's jobs, and the ones the dispatch board's demo posts after it.
    jobs = _count(db_session, Job)
    assert jobs > 50 and f"history: {jobs - DISPATCH_JOBS} jobs" in "\n".join(said)
    # Backdated: the jobs spread over the last six months, not over the seconds of the run.
    oldest, newest = db_session.execute(
        select(func.min(Job.created_at), func.max(Job.created_at))
    ).one()
    assert (newest - oldest).days > 100
    assert _count(db_session, JobEvent, JobEvent.action == "complete") > 30
    assert _count(db_session, Review, Review.published_at.is_not(None)) > 20
    assert _count(db_session, Ticket, Ticket.dispute.is_(True)) >= 1
    # The demo member's latest work reports carry photos and the customer's signature.
    from jobs.models import WorkReportFile

    kinds = Counter(db_session.scalars(select(WorkReportFile.kind)))
    assert kinds["photo"] >= 2 and kinds["signature"] >= 1, kinds
    assert "files: images of" in "\n".join(said)
    assert _count(db_session, Resolution, Resolution.status == "applied") >= 1
    # Work waits for the CMs on the first visit: a dispute taken by the first CM (and, where
    # the history left two jobs done but unconfirmed, one nobody has yet) and a member's
    # question.
    cm1 = db_session.scalar(select(User.id).where(User.email == CM_EMAILS[0]))
    waiting = db_session.execute(
        select(Ticket.assignee_id, Ticket.dispute, Ticket.category).where(
            Ticket.status.notin_(("resolved", "closed"))
        )
    ).all()
    assert (cm1, True, "quality_complaint") in waiting
    assert (None, False, "payment") in waiting
    assert any(line.startswith("open work: ") for line in said)
    # The dispatch board has escalated jobs, with members left to offer them to.
    escalated = db_session.scalars(
        select(Job.id).where(Job.escalated_at.is_not(None), Job.status.in_(("open", "offered")))
    ).all()
    assert len(escalated) >= 2, said
    assert any(
        client.get(f"/api/v1/jobs/{job_id}/candidates", headers=admin.headers).get_json()["items"]
        for job_id in escalated
    )
    assert _count(db_session, Payout, Payout.status == "paid") > 5
    assert _count(db_session, LevelChange) > 0
    # Every posting balances: the ledger as a whole sums to zero.
    assert db_session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))) == 0

    health = client.get("/api/v1/crowd-health", headers=admin.headers)
    assert health.status_code == 200, health.get_json()
    figures = health.get_json()
    assert figures["activation"]["approved"] > 0
    assert figures["activation"]["activated"] > 0
    assert figures["active_members"]["working"] > 0
    assert figures["disputes"]["jobs_completed"] > 0
    # Insight's service charts are not empty: the CMs answer disputes (mostly in time) and
    # offers go out some minutes after posting.
    service = client.get("/api/v1/crowd-health/service", headers=admin.headers).get_json()
    assert service["sla"]["first_response"]["met"] > 0, service["sla"]
    assert service["sla"]["resolution"]["met"] > 0, service["sla"]
    assert service["first_offer"]["jobs"] > 0
    assert 1 < service["first_offer"]["minutes"]["p50"] < 60, service["first_offer"]

    # The programmes: figures of the last 90 days, as community managers see them.
    programmes = client.get("/api/v1/programmes/health", headers=admin.headers)
    assert programmes.status_code == 200, programmes.get_json()
    figures = programmes.get_json()
    assert figures["active_mentorships"] > 0
    assert figures["top_performers"]["members"] >= 1
    assert figures["events"]["total"]["invited"] > 0
    assert figures["events"]["total"]["attended"] > 0

    _assert_programmes(db_session)
    _assert_named_logins(db_session, client, summary)

    before = _fingerprint(db_session)
    again = demo.seed(members=MEMBERS, customers=CUSTOMERS, seed=11, echo=lambda *_: None)
    assert again.startswith("demo data already present")
    assert _count(db_session, Job) == jobs
    assert _fingerprint(db_session) == before


def _assert_programmes(db_session) -> None:
    now = utcnow()
    # Mentors opted in and took Starters on; they logged sessions, mentees rated some.
    mentors = db_session.scalars(
        select(MentorProfile.member_id).where(MentorProfile.opted_in.is_(True))
    ).all()
    assert len(mentors) >= 2
    with_mentees = db_session.execute(
        select(Mentorship.mentor_id, func.count())
        .where(Mentorship.status == "active")
        .group_by(Mentorship.mentor_id)
    ).all()
    assert with_mentees and all(mentor in mentors for mentor, _ in with_mentees)
    assert _count(db_session, MentorshipSession) > 5
    assert _count(db_session, MentorshipSession, MentorshipSession.mentee_rating.is_not(None)) > 0
    first = db_session.scalar(select(func.min(Mentorship.created_at)))
    assert now - first > timedelta(days=30)  # backdated too

    # The last quarter's top-performer run awarded badges that hold now.
    last_run = db_session.scalar(
        select(TopPerformerRun).order_by(TopPerformerRun.period_end.desc()).limit(1)
    )
    assert last_run.status == "done" and last_run.awarded >= 1
    assert last_run.period_end <= now < last_run.period_end + timedelta(days=92)
    assert _count(db_session, TopPerformerBadge, valid_at(now)) >= 1

    # A past event with replies and attendance, an upcoming one with invitations out.
    past = db_session.scalar(select(Event).where(Event.starts_at < now))
    ahead = db_session.scalar(select(Event).where(Event.starts_at > now))
    assert past.status == "done" and ahead.status == "published"
    attended = _count(
        db_session,
        EventInvitation,
        EventInvitation.event_id == past.id,
        EventInvitation.status == "attended",
    )
    assert attended >= 1
    assert _count(db_session, EventInvitation, EventInvitation.event_id == ahead.id) >= 1

    # Broadcasts sent and read in part.
    for broadcast in db_session.scalars(select(Broadcast)):
        assert broadcast.status == "sent"
        where = BroadcastRecipient.broadcast_id == broadcast.id
        recipients = _count(db_session, BroadcastRecipient, where)
        read = _count(
            db_session, BroadcastRecipient, where, BroadcastRecipient.read_at.is_not(None)
        )
        assert 0 < read <= recipients
    assert _count(db_session, BroadcastRecipient, BroadcastRecipient.read_at.is_(None)) > 0

    # Help-centre answers, counted on their articles.
    answers = _count(db_session, ArticleFeedback)
    helpful = _count(db_session, ArticleFeedback, ArticleFeedback.helpful.is_(True))
    assert answers > 10
    assert db_session.scalar(select(func.sum(HelpArticle.helpful_count))) == helpful

    # Topic posts spread over the months.
    first_post, last_post = db_session.execute(
        select(func.min(TopicPost.created_at), func.max(TopicPost.created_at))
    ).one()
    assert _count(db_session, TopicPost) > 15
    assert (last_post - first_post).days > 100


def _assert_named_logins(db_session, client, summary: str) -> None:
    now = utcnow()
    mentor = _member_of(db_session, MENTOR_EMAIL)
    mentee = _member_of(db_session, MENTEE_EMAIL)
    assert db_session.scalar(
        select(Mentorship.id).where(
            Mentorship.mentor_id == mentor.id,
            Mentorship.mentee_id == mentee.id,
            Mentorship.status == "active",
        )
    )
    top = _member_of(db_session, TOP_PERFORMER_EMAIL)
    assert _count(
        db_session, TopPerformerBadge, TopPerformerBadge.member_id == top.id, valid_at(now)
    )
    assert _member_of(db_session, APPLICANT_EMAIL).status == "applicant"
    business = db_session.scalar(
        select(Customer).join(User, User.id == Customer.user_id).where(User.email == BUSINESS_EMAIL)
    )
    assert business.kind == "business"

    roles = {
        demo.ADMIN_EMAIL: "admin",
        demo.CM_EMAILS[0]: "community_manager",
        demo.CUSTOMER_EMAIL: "customer",
        BUSINESS_EMAIL: "customer",
        demo.MEMBER_EMAIL: "member",
        MENTOR_EMAIL: "member",
        MENTEE_EMAIL: "member",
        TOP_PERFORMER_EMAIL: "member",
        APPLICANT_EMAIL: "member",
    }
    for email, role in roles.items():
        assert email in summary
        response = client.post(
            "/api/v1/auth/tokens", json={"email": email, "password": demo.DEMO_PASSWORD}
        )
        assert response.status_code == 201, (email, response.get_json())
        assert response.get_json()["user"]["role"] == role


def _fingerprint(db_session) -> dict:
    """Counts and sums that the history decides (no ids, no real-time stamps)."""

    def by_status(model) -> list:
        return sorted(
            db_session.execute(select(model.status, func.count()).group_by(model.status)).all()
        )

    return {
        "jobs": by_status(Job),
        "prices": db_session.scalar(select(func.sum(Job.price_amount))),
        "stars": db_session.scalar(select(func.sum(Review.stars))),
        "ledger": db_session.scalar(select(func.sum(func.abs(LedgerEntry.amount)))),
        "payouts": db_session.scalar(select(func.sum(Payout.amount))),
        "levels": _count(db_session, LevelChange),
        "mentorships": by_status(Mentorship),
        "sessions": _count(db_session, MentorshipSession),
        "invitations": by_status(EventInvitation),
        "reads": _count(db_session, BroadcastRecipient, BroadcastRecipient.read_at.is_not(None)),
        "answers": _count(db_session, ArticleFeedback),
        "posts": _count(db_session, TopicPost),
    }


@pytest.mark.committing
def test_the_same_seed_replays_the_same_history(db_session, app):
    prints = []
    for _ in range(2):
        demo.seed(members=60, customers=10, seed=5, echo=lambda *_: None)
        prints.append(_fingerprint(db_session))
        # Articles and their versions point at each other: untie them before emptying.
        db_session.execute(update(HelpArticle).values(published_version_id=None))
        db_session.commit()
        db_session.remove()
        _truncate(app)
        if TEST_REDIS_URL:
            _empty_queue(app)
    assert prints[0] == prints[1]
    assert prints[0]["jobs"] and prints[0]["mentorships"] and prints[0]["posts"]
