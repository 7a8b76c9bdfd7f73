"""Was this helpful: one answer per reader and article, which they may change; the article's
counts move in the same transaction, and staff read the answers with their comments."""

from __future__ import annotations

from sqlalchemy import select, update

from accounts.models import User
from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import NotFound
from crowd.core.i18n import _
from crowd.core.pagination import paginate
from crowd.extensions import db
from helpcentre.common import find_article
from helpcentre.models import ArticleFeedback, ArticleVersion, HelpArticle


def _count_key(helpful: bool) -> str:
    return "helpful" if helpful else "not_helpful"


def give_feedback(
    *, actor: Principal, ref: str | int, helpful: bool, comment: str | None = None
) -> dict:
    """Record or replace the caller's answer about an article they may read (404 otherwise)."""
    # The article row is locked: answers to one article are taken one at a time, so a double
    # tap is one answer and the counts stay exactly the number of answers of each kind.
    article = find_article(ref, actor=actor, lock=True)
    if article.published_version_id is None:
        raise NotFound(_("No such help article."))
    now = utcnow()
    answer = db.session.scalar(
        select(ArticleFeedback)
        .where(ArticleFeedback.article_id == article.id, ArticleFeedback.user_id == actor.user_id)
        .execution_options(populate_existing=True)
    )
    delta = {"helpful": 0, "not_helpful": 0}
    if answer is None:
        answer = ArticleFeedback(article_id=article.id, user_id=actor.user_id, created_at=now)
        db.session.add(answer)
        delta[_count_key(helpful)] += 1
    elif answer.helpful != helpful:
        delta[_count_key(answer.helpful)] -= 1
        delta[_count_key(helpful)] += 1
    answer.helpful = helpful
    answer.comment = comment or None
    answer.version_id = article.published_version_id
    answer.updated_at = now
    if any(delta.values()):
        # Counted in SQL; updated_at stays (it tells when the article itself last changed).
        db.session.execute(
            update(HelpArticle)
            .where(HelpArticle.id == article.id)
            .values(
                helpful_count=HelpArticle.helpful_count + delta["helpful"],
                not_helpful_count=HelpArticle.not_helpful_count + delta["not_helpful"],
                updated_at=HelpArticle.updated_at,
            )
        )
    db.session.flush()
    db.session.refresh(article)
    version = db.session.get(ArticleVersion, article.published_version_id)
    return {
        "article_id": article.id,
        "helpful": answer.helpful,
        "comment": answer.comment,
        "version": version.number,
        "created_at": answer.created_at,
        "updated_at": answer.updated_at,
        "helpful_count": article.helpful_count,
        "not_helpful_count": article.not_helpful_count,
    }


def list_feedback(
    *,
    actor: Principal,
    ref: str | int,
    helpful: bool | None = None,
    with_comment: bool | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict:
    """An article's answers, newest first (staff)."""
    article = find_article(ref, actor=actor)
    query = select(ArticleFeedback).where(ArticleFeedback.article_id == article.id)
    if helpful is not None:
        query = query.where(ArticleFeedback.helpful.is_(helpful))
    if with_comment is not None:
        has_comment = ArticleFeedback.comment.is_not(None)
        query = query.where(has_comment if with_comment else ~has_comment)
    page = paginate(
        query,
        {"limit": limit, "cursor": cursor},
        order=[ArticleFeedback.updated_at, ArticleFeedback.user_id],
        descending=True,
    )
    answers = page["items"]
    roles = dict(
        db.session.execute(
            select(User.id, User.role).where(User.id.in_({a.user_id for a in answers}))
        ).all()
    )
    numbers = dict(
        db.session.execute(
            select(ArticleVersion.id, ArticleVersion.number).where(
                ArticleVersion.id.in_({a.version_id for a in answers})
            )
        ).all()
    )
    page["items"] = [
        {
            "user_id": a.user_id,
            "role": roles.get(a.user_id),
            "helpful": a.helpful,
            "comment": a.comment,
            "version": numbers.get(a.version_id),
            "created_at": a.created_at,
            "updated_at": a.updated_at,
        }
        for a in answers
    ]
    return page
