"""Reviews under concurrency: one review per side, and a rating counted once."""

import pytest
from sqlalchemy import select

from crowd.core.db import commit
from crowd.extensions import db
from jobs.models import Review
from jobs.reviews import publish_reviews
from members.models import MemberStats
from tests.concurrency import run_concurrently, task_unit
from tests.factories import make_actor
from tests.jobs.test_reviews import BLIND, finished_job

pytestmark = pytest.mark.committing


def _ratings(app, member):
    with app.app_context():
        stats = db.session.get(MemberStats, member.profile_id)
        return (stats.rating_count, stats.rating_sum) if stats else (0, 0)


def _reviews(app, job_id):
    with app.app_context():
        return db.session.scalars(select(Review).where(Review.job_id == job_id)).all()


def test_simultaneous_reviews_leave_one_per_side_both_published(app):
    customer, member = make_actor("customer"), make_actor("member")
    job_id = finished_job(customer, member)

    def post(client, i):
        actor = customer if i % 2 else member
        response = client.post(
            f"/api/v1/jobs/{job_id}/reviews", json={"stars": 4}, headers=actor.headers
        )
        return actor.role, response.status_code

    results = run_concurrently(app, 8, post)

    assert sorted(results) == sorted(
        [("customer", 201), ("member", 201)] + [("customer", 409), ("member", 409)] * 3
    )
    reviews = _reviews(app, job_id)
    assert sorted(r.author for r in reviews) == ["customer", "member"]
    assert all(r.published_at is not None for r in reviews)
    assert _ratings(app, member) == (1, 4)


def test_simultaneous_publish_runs_count_the_rating_once(app):
    customer, member = make_actor("customer"), make_actor("member")
    job_id = finished_job(customer, member, completed_ago=BLIND * 2)
    with app.app_context():
        # A hidden review whose blind period is over: every run below finds it due.
        db.session.add(
            Review(
                job_id=job_id, author="customer", author_user_id=customer.user_id, stars=5, tags=[]
            )
        )
        db.session.commit()

    def publish(client, i):
        with task_unit(app):
            published = publish_reviews(job_id)
            commit()
            return published

    assert sorted(run_concurrently(app, 6, publish)) == [0] * 5 + [1]
    assert _ratings(app, member) == (1, 5)
