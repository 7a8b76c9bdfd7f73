"""Concurrent requests: exact feedback counts, version numbers, single links."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crowd.extensions import db
from helpcentre.models import ArticleFeedback, ArticleVersion, HelpArticle
from tests.concurrency import run_concurrently
from tests.factories import make_actor
from tests.helpcentre.conftest import ARTICLES, published_article

pytestmark = pytest.mark.committing


def _counts(app, article_id: int) -> tuple[int, int, list[bool]]:
    with app.app_context():
        article = db.session.get(HelpArticle, article_id)
        answers = db.session.scalars(
            select(ArticleFeedback.helpful).where(ArticleFeedback.article_id == article_id)
        ).all()
        return article.helpful_count, article.not_helpful_count, answers


def test_simultaneous_answers_keep_the_counts_exact(app, client):
    cm = make_actor("community_manager")
    article = published_article(client, cm)["id"]
    readers = [make_actor("member") for _ in range(8)]

    def answer(client, i):
        body = {"helpful": i % 3 != 0}
        url = f"{ARTICLES}/{article}/feedback"
        return client.post(url, json=body, headers=readers[i].headers).status_code

    assert run_concurrently(app, len(readers), answer) == [200] * len(readers)
    helpful, not_helpful, answers = _counts(app, article)
    assert (helpful, not_helpful) == (answers.count(True), answers.count(False)) == (5, 3)


def test_a_double_tap_with_changing_answers_is_one_answer(app, client):
    cm = make_actor("community_manager")
    article = published_article(client, cm)["id"]
    reader = make_actor("member")

    def answer(client, i):
        url = f"{ARTICLES}/{article}/feedback"
        return client.post(url, json={"helpful": i % 2 == 0}, headers=reader.headers).status_code

    assert run_concurrently(app, 6, answer) == [200] * 6
    helpful, not_helpful, answers = _counts(app, article)
    assert len(answers) == 1
    assert (helpful, not_helpful) == (answers.count(True), answers.count(False))


def test_simultaneous_versions_get_consecutive_numbers(app, client):
    cm = make_actor("community_manager")
    article = published_article(client, cm)["id"]

    def revise(client, i):
        body = {"title": f"Version by writer {i}", "body": "Text."}
        url = f"{ARTICLES}/{article}/versions"
        return client.post(url, json=body, headers=cm.headers).status_code

    assert run_concurrently(app, 5, revise) == [201] * 5
    with app.app_context():
        numbers = db.session.scalars(
            select(ArticleVersion.number).where(ArticleVersion.article_id == article)
        ).all()
    assert sorted(numbers) == [1, 2, 3, 4, 5, 6]


def test_the_same_link_made_twice_at_once_exists_once(app, client):
    cm = make_actor("community_manager")
    article = published_article(client, cm)["id"]

    def link(client, i):
        body = {"target_kind": "onboarding_step", "target_key": "identity"}
        return client.post(f"{ARTICLES}/{article}/links", json=body, headers=cm.headers).status_code

    assert sorted(run_concurrently(app, 4, link)) == [201, 409, 409, 409]
