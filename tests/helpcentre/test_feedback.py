"""Was this helpful: one changeable answer per reader and article, exact counts, staff read it."""

from __future__ import annotations

from sqlalchemy import func, select

from crowd.extensions import db
from helpcentre.models import ArticleFeedback
from tests.factories import make_actor
from tests.helpcentre.conftest import (
    ARTICLES,
    add_version,
    create_article,
    field_errors,
    give_feedback,
    ok,
    problem,
    publish,
    published_article,
    read,
)


def test_answers_count_and_can_be_changed(client, cm, member, other_member):
    article = published_article(client, cm, audience="everyone")["id"]
    customer = make_actor("customer")

    first = ok(give_feedback(client, member, article, True, "Clear steps"))
    assert (first["helpful_count"], first["not_helpful_count"]) == (1, 0)
    assert first["comment"] == "Clear steps" and first["version"] == 1
    ok(give_feedback(client, other_member, article, False))
    ok(give_feedback(client, customer, article, True))

    changed = ok(give_feedback(client, member, article, False, "Missing the drill size"))
    assert (changed["helpful_count"], changed["not_helpful_count"]) == (1, 2)
    assert changed["created_at"] == first["created_at"]
    assert changed["updated_at"] >= first["updated_at"]
    again = ok(give_feedback(client, member, article, False))
    assert (again["helpful_count"], again["not_helpful_count"]) == (1, 2)
    assert again["comment"] is None

    seen = read(client, member, article)
    assert (seen["helpful_count"], seen["not_helpful_count"]) == (1, 2)
    assert seen["my_feedback"]["helpful"] is False
    rows = db.session.scalar(
        select(func.count())
        .select_from(ArticleFeedback)
        .where(ArticleFeedback.article_id == article)
    )
    assert rows == 3


def test_feedback_does_not_touch_the_article_updated_at(client, cm, member):
    article = published_article(client, cm)["id"]
    before = read(client, cm, article)["updated_at"]

    ok(give_feedback(client, member, article, True))

    assert read(client, cm, article)["updated_at"] == before


def test_the_answer_remembers_the_version_read(client, cm, member):
    article = published_article(client, cm)["id"]
    ok(give_feedback(client, member, article, False))
    add_version(client, cm, article, title="Better")
    publish(client, cm, article)

    assert ok(give_feedback(client, member, article, True))["version"] == 2


def test_only_readers_of_a_published_article_answer(client, cm, member, customer):
    for_members = published_article(client, cm)["id"]
    draft = create_article(client, cm)["id"]

    problem(give_feedback(client, customer, for_members, True), 404)
    problem(give_feedback(client, member, draft, True), 404)
    problem(give_feedback(client, member, 999_999, True), 404)
    problem(give_feedback(client, cm, for_members, True), 403)
    bad = client.post(
        f"{ARTICLES}/{for_members}/feedback", json={"comment": "x"}, headers=member.headers
    )
    assert "helpful" in field_errors(bad)
    long = give_feedback(client, member, for_members, True, "x" * 1001)
    assert "comment" in field_errors(long)


def test_staff_read_the_answers_with_comments(client, cm, member, other_member):
    article = published_article(client, cm)["id"]
    ok(give_feedback(client, member, article, False, "Which anchors?"))
    ok(give_feedback(client, other_member, article, True))
    url = f"{ARTICLES}/{article}/feedback"

    everything = ok(client.get(url, headers=cm.headers))["items"]
    critical = ok(client.get(url, query_string={"helpful": "false"}, headers=cm.headers))["items"]
    commented = ok(client.get(url, query_string={"with_comment": "true"}, headers=cm.headers))

    assert [a["user_id"] for a in everything] == [other_member.user_id, member.user_id]
    assert [(a["comment"], a["role"], a["version"]) for a in critical] == [
        ("Which anchors?", "member", 1)
    ]
    assert commented["page"]["total"] == 1
    problem(client.get(url, headers=member.headers), 403)
    problem(client.get(f"{ARTICLES}/999999/feedback", headers=cm.headers), 404)
