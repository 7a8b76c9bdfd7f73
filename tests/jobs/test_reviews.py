"""Double-blind reviews: hidden until both sides reviewed or the blind period is over."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from crowd.core.background import OutboxMessage
from crowd.core.db import utcnow
from jobs.models import Job, Review
from jobs.tasks.reviews import publish_due_reviews, publish_reviews
from members.models import Member, MemberStats
from notifications.models import Notification
from tests.factories import make_actor
from tests.jobs.conftest import active_member, drain_background, finished_job

BLIND = timedelta(days=7)


def review(client, actor, job_id, headers=None, **body):
    body = {"stars": 5, **body}
    return client.post(
        f"/api/v1/jobs/{job_id}/reviews", json=body, headers={**actor.headers, **(headers or {})}
    )


def reviews_seen_by(client, actor, job_id):
    response = client.get(f"/api/v1/jobs/{job_id}/reviews", headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def rating(db_session, member):
    db_session.expire_all()
    stats = db_session.get(MemberStats, member.profile_id)
    return (stats.rating_count, stats.average_rating) if stats else (0, None)


def age_job(db_session, job_id, by=BLIND + timedelta(hours=1)):
    """Move the job's completion back so its blind period is over."""
    job = db_session.get(Job, job_id)
    job.completed_at = utcnow() - by
    db_session.commit()


# --- double blind ---------------------------------------------------------------------------


def test_first_review_stays_hidden_from_the_other_side(client, db_session, customer, member):
    job_id = finished_job(customer, member)

    response = review(client, customer, job_id, stars=4, comment="Quick and neat.")

    assert response.status_code == 201
    body = response.get_json()
    assert body["author"] == "customer" and body["stars"] == 4
    assert body["published"] is False and body["published_at"] is None
    assert reviews_seen_by(client, member, job_id) == []
    assert [r["id"] for r in reviews_seen_by(client, customer, job_id)] == [body["id"]]
    assert rating(db_session, member) == (0, None)


def test_both_reviews_publish_at_once_and_rating_counts_once(client, db_session, customer, member):
    job_id = finished_job(customer, member)
    first = review(client, customer, job_id, stars=4, tags=["punctual", "tidy"]).get_json()

    second = review(client, member, job_id, stars=5, tags=["clear_brief"])

    assert second.status_code == 201
    assert second.get_json()["published"] is True
    seen = reviews_seen_by(client, member, job_id)
    assert [r["author"] for r in seen] == ["customer", "member"]
    assert seen[0]["id"] == first["id"] and seen[0]["tags"] == ["punctual", "tidy"]
    assert seen[0]["published_at"] == seen[1]["published_at"]
    assert len(reviews_seen_by(client, customer, job_id)) == 2
    assert rating(db_session, member) == (1, 4.0)


def test_member_may_review_first_and_customer_then_sees_both(client, customer, member):
    job_id = finished_job(customer, member, status="confirmed")
    review(client, member, job_id, stars=3)
    assert reviews_seen_by(client, customer, job_id) == []

    review(client, customer, job_id, stars=5)

    assert {r["author"] for r in reviews_seen_by(client, customer, job_id)} == {
        "customer",
        "member",
    }


def test_one_sided_review_publishes_when_the_blind_period_is_over(
    client, db_session, customer, member
):
    job_id = finished_job(customer, member)
    review(client, customer, job_id, stars=2, tags=["friendly"])

    assert publish_reviews(job_id) == 0  # still within the blind period
    assert reviews_seen_by(client, member, job_id) == []

    age_job(db_session, job_id)
    assert publish_reviews(job_id) == 1
    db_session.commit()

    seen = reviews_seen_by(client, member, job_id)
    assert [(r["author"], r["stars"], r["published"]) for r in seen] == [("customer", 2, True)]
    assert rating(db_session, member) == (1, 2.0)


def test_publishing_again_does_not_count_the_rating_twice(client, db_session, customer, member):
    job_id = finished_job(customer, member)
    review(client, customer, job_id, stars=3)
    age_job(db_session, job_id)
    publish_reviews(job_id)
    db_session.commit()
    published_at = db_session.scalar(select(Review.published_at).where(Review.job_id == job_id))

    assert publish_reviews(job_id) == 0
    assert publish_due_reviews() == 0
    db_session.commit()

    assert rating(db_session, member) == (1, 3.0)
    assert db_session.scalar(select(Review.published_at).where(Review.job_id == job_id)) == (
        published_at
    )


def test_both_sides_then_publish_task_does_not_count_twice(client, db_session, customer, member):
    job_id = finished_job(customer, member)
    review(client, customer, job_id, stars=5)
    review(client, member, job_id, stars=4)
    age_job(db_session, job_id)

    assert publish_reviews(job_id) == 0
    assert publish_due_reviews() == 0
    db_session.commit()

    assert rating(db_session, member) == (1, 5.0)


def test_the_first_review_schedules_publishing_at_the_end_of_the_blind_period(
    client, db_session, customer, member
):
    job_id = finished_job(customer, member)
    completed_at = db_session.get(Job, job_id).completed_at

    review(client, member, job_id, stars=5)

    message = db_session.scalar(
        select(OutboxMessage).where(OutboxMessage.dedupe_key == f"jobs.publish_reviews:{job_id}")
    )
    assert message.task == "jobs.publish_reviews" and message.kwargs == {"job_id": job_id}
    assert message.run_after == completed_at + BLIND
    assert message.status == "pending"


def test_scheduled_publish_runs_through_the_outbox_when_due(
    app, client, db_session, customer, member
):
    job_id = finished_job(customer, member)
    review(client, customer, job_id, stars=4)
    drain_background(app)
    assert reviews_seen_by(client, member, job_id) == []

    # Time passes: the job's completion and the scheduled run both lie in the past now.
    age_job(db_session, job_id)
    message = db_session.scalar(
        select(OutboxMessage).where(OutboxMessage.dedupe_key == f"jobs.publish_reviews:{job_id}")
    )
    message.run_after = utcnow() - timedelta(seconds=1)
    db_session.commit()
    drain_background(app)

    assert [r["stars"] for r in reviews_seen_by(client, member, job_id)] == [4]
    assert rating(db_session, member) == (1, 4.0)


def test_sweep_publishes_only_jobs_past_their_blind_period(client, db_session, customer, member):
    old_job = finished_job(customer, member, completed_ago=BLIND + timedelta(days=1))
    new_job = finished_job(customer, member)
    review(client, member, new_job, stars=5)
    # Reviewed in time, but the scheduled task has not run yet (say the worker was down).
    review(client, customer, new_job, stars=1)
    aged = finished_job(customer, member)
    review(client, customer, aged, stars=3)
    age_job(db_session, aged)

    assert publish_due_reviews() == 1
    db_session.commit()

    assert reviews_seen_by(client, member, aged)[0]["published"] is True
    assert rating(db_session, member) == (2, 2.0)  # new_job's 1 star and aged's 3 stars
    assert reviews_seen_by(client, customer, old_job) == []


def test_review_after_the_blind_period_publishes_at_once(client, db_session, customer, member):
    job_id = finished_job(customer, member, completed_ago=BLIND + timedelta(days=2))

    response = review(client, customer, job_id, stars=5)

    assert response.get_json()["published"] is True
    assert rating(db_session, member) == (1, 5.0)


def test_published_review_notifies_the_reviewed_party(app, client, db_session, customer, member):
    job_id = finished_job(customer, member)
    review(client, customer, job_id, stars=5)
    review(client, member, job_id, stars=4)
    drain_background(app)

    def inbox(actor):
        return list(
            db_session.scalars(
                select(Notification).where(
                    Notification.user_id == actor.user_id,
                    Notification.kind == "review.published",
                )
            )
        )

    (to_member,) = inbox(member)
    (to_customer,) = inbox(customer)
    assert to_member.data["job_id"] == job_id and to_member.data["about"] == "member"
    assert to_customer.data["about"] == "customer"


# --- who may review, and when ---------------------------------------------------------------


@pytest.mark.parametrize("status", ["assigned", "in_progress", "disputed"])
def test_reviewing_an_unfinished_job_is_409_with_its_state(client, customer, member, status):
    job_id = finished_job(customer, member, status=status)

    response = review(client, customer, job_id)

    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["state"] == status


@pytest.mark.parametrize("status", ["completed", "confirmed", "closed"])
def test_finished_jobs_can_be_reviewed(client, customer, member, status):
    job_id = finished_job(customer, member, status=status)
    assert review(client, member, job_id).status_code == 201


def test_second_review_by_the_same_side_is_409(client, db_session, customer, member):
    job_id = finished_job(customer, member)
    review(client, customer, job_id, stars=5)

    response = review(client, customer, job_id, stars=1)

    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == "https://crowd.example/problems/already-reviewed"
    stars = db_session.scalars(select(Review.stars).where(Review.job_id == job_id)).all()
    assert stars == [5]


def test_outsiders_get_404(client, customer, member, other_customer, other_member):
    job_id = finished_job(customer, member)

    for outsider in (other_customer, other_member):
        assert review(client, outsider, job_id).status_code == 404
        response = client.get(f"/api/v1/jobs/{job_id}/reviews", headers=outsider.headers)
        assert response.status_code == 404
    assert review(client, customer, job_id + 10_000).status_code == 404


def test_a_member_not_assigned_any_more_gets_404(client, customer, member):
    job_id = finished_job(customer, None, status="completed")
    assert review(client, member, job_id).status_code == 404


def test_staff_cannot_review_but_see_every_review(client, customer, member, cm):
    job_id = finished_job(customer, member)
    review(client, customer, job_id, stars=4)

    response = review(client, cm, job_id)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"

    seen = reviews_seen_by(client, cm, job_id)
    assert [(r["author"], r["published"]) for r in seen] == [("customer", False)]
    assert client.get("/api/v1/jobs/999999/reviews", headers=cm.headers).status_code == 404


def test_reviews_need_a_signed_in_user(client, customer, member):
    job_id = finished_job(customer, member)
    assert client.post(f"/api/v1/jobs/{job_id}/reviews", json={"stars": 5}).status_code == 401
    assert client.get(f"/api/v1/jobs/{job_id}/reviews").status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"stars": 0}, "stars"),
        ({"stars": 6}, "stars"),
        ({"stars": "5"}, "stars"),
        ({}, "stars"),
        ({"stars": 5, "comment": "x" * 2001}, "comment"),
        ({"stars": 5, "tags": "punctual"}, "tags"),
        ({"stars": 5, "rating": 5}, "rating"),
    ],
)
def test_invalid_review_is_422_naming_the_field(client, customer, member, body, field):
    job_id = finished_job(customer, member)

    response = client.post(f"/api/v1/jobs/{job_id}/reviews", json=body, headers=customer.headers)

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]["json"]


@pytest.mark.parametrize(
    ("author", "tag"), [("customer", "paid_promptly"), ("member", "punctual"), ("member", "nice")]
)
def test_a_tag_from_the_wrong_vocabulary_is_422(client, customer, member, author, tag):
    job_id = finished_job(customer, member)
    actor = customer if author == "customer" else member

    response = review(client, actor, job_id, tags=["friendly", tag])

    assert response.status_code == 422
    assert tag in response.get_json()["errors"]["json"]["tags"][0]
    assert reviews_seen_by(client, actor, job_id) == []


def test_idempotency_key_replays_the_review(client, db_session, customer, member):
    job_id = finished_job(customer, member)
    key = {"Idempotency-Key": "review-once"}

    first = review(client, customer, job_id, headers=key, stars=4)
    again = review(client, customer, job_id, headers=key, stars=4)

    assert first.status_code == again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"]
    assert len(db_session.scalars(select(Review).where(Review.job_id == job_id)).all()) == 1


# --- a member's public reviews --------------------------------------------------------------


def test_member_reviews_list_only_published_reviews_about_them(
    client, db_session, customer, other_customer
):
    member = active_member()
    published = finished_job(customer, member)
    review(client, customer, published, stars=4, comment="Great", tags=["competent"])
    review(client, member, published, stars=5)  # about the customer: not on the member's list
    hidden = finished_job(other_customer, member)
    review(client, other_customer, hidden, stars=1)
    stranger = make_actor("customer")

    response = client.get(f"/api/v1/members/{member.profile_id}/reviews", headers=stranger.headers)

    assert response.status_code == 200
    body = response.get_json()
    assert body["page"]["total"] == 1
    (item,) = body["items"]
    assert item["stars"] == 4 and item["comment"] == "Great" and item["tags"] == ["competent"]
    assert item["category"] == "tv_audio"
    assert set(item) == {
        "id",
        "stars",
        "comment",
        "tags",
        "published_at",
        "customer_first_name",
        "category",
    }


def test_member_reviews_name_the_customer_by_first_name_only(client, db_session, member):
    customer = make_actor("customer", display_name="Erika Mustermann")
    job_id = finished_job(customer, member, completed_ago=BLIND * 2)
    review(client, customer, job_id, stars=5)

    items = client.get(
        f"/api/v1/members/{member.profile_id}/reviews", headers=member.headers
    ).get_json()["items"]

    assert items[0]["customer_first_name"] == "Erika"
    assert "Mustermann" not in str(items)


def test_member_reviews_are_paginated_newest_first(client, db_session, customer):
    member = active_member()
    ids = []
    for stars in (1, 2, 3):
        job_id = finished_job(customer, member, completed_ago=BLIND * 2)
        ids.append(review(client, customer, job_id, stars=stars).get_json()["id"])
    url = f"/api/v1/members/{member.profile_id}/reviews"

    first = client.get(url, query_string={"limit": 2}, headers=customer.headers).get_json()
    cursor = first["page"]["next_cursor"]
    rest = client.get(
        url, query_string={"limit": 2, "cursor": cursor}, headers=customer.headers
    ).get_json()

    assert [i["id"] for i in first["items"] + rest["items"]] == ids[::-1]
    assert rest["page"]["next_cursor"] is None


def test_member_reviews_of_an_unknown_member_are_404(client, customer):
    response = client.get("/api/v1/members/999999/reviews", headers=customer.headers)
    assert response.status_code == 404
    assert client.get("/api/v1/members/1/reviews").status_code == 401


@pytest.mark.parametrize("status", ["applicant", "suspended", "offboarded"])
def test_reviews_of_a_member_outside_the_working_crowd_are_404_as_for_no_one(
    client, db_session, customer, status
):
    member = active_member()
    review(client, customer, finished_job(customer, member, completed_ago=BLIND * 2), stars=5)
    db_session.get(Member, member.profile_id).status = status
    db_session.commit()
    hidden = client.get(f"/api/v1/members/{member.profile_id}/reviews", headers=customer.headers)
    missing = client.get("/api/v1/members/999999/reviews", headers=customer.headers)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json()["detail"] == missing.get_json()["detail"]
    # The member themself and staff still read them.
    own = client.get(f"/api/v1/members/{member.profile_id}/reviews", headers=member.headers)
    assert own.status_code == 200 and own.get_json()["page"]["total"] == 1
