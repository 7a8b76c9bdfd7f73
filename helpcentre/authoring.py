"""Writing articles (staff): create with a first version, edit metadata, add versions, publish
a version, archive.

Versions are never edited: a change of text is a new version, and readers keep seeing the
published one until a community manager publishes another (an older one rolls back). The
article row is locked for every change, so version numbers are assigned one at a time.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import field_error
from crowd.core.i18n import _
from crowd.core.pagination import paginate
from crowd.extensions import db
from helpcentre.common import article_target, find_article
from helpcentre.errors import ArticleSlugTaken
from helpcentre.models import (
    ArticleSkill,
    ArticleVersion,
    HelpArticle,
    HelpCategory,
)
from helpcentre.reading import article_detail
from members.models import Skill


def _check_category(category_id: int) -> None:
    if db.session.get(HelpCategory, category_id) is None:
        raise field_error("category_id", _("no such category"))


def _check_skills(skill_ids: list[int]) -> list[int]:
    wanted = sorted(set(skill_ids))
    if wanted:
        known = set(db.session.scalars(select(Skill.id).where(Skill.id.in_(wanted))))
        unknown = [skill_id for skill_id in wanted if skill_id not in known]
        if unknown:
            raise field_error(
                "skill_ids", _("no such skills: {value}", value=", ".join(map(str, unknown)))
            )
    return wanted


def _check_levels(min_rank: int | None, max_rank: int | None) -> None:
    if min_rank is not None and max_rank is not None and min_rank > max_rank:
        raise field_error("min_level_rank", _("must not exceed max_level_rank"))


def _check_slug(slug: str, *, other_than: int | None = None) -> None:
    query = select(HelpArticle.id).where(HelpArticle.slug == slug)
    if other_than is not None:
        query = query.where(HelpArticle.id != other_than)
    if db.session.scalar(query) is not None:
        raise ArticleSlugTaken(
            _("An article with slug {slug!r} exists already.", slug=slug), state="slug_taken"
        )


def _set_skills(article_id: int, skill_ids: list[int]) -> None:
    db.session.execute(delete(ArticleSkill).where(ArticleSkill.article_id == article_id))
    db.session.add_all(ArticleSkill(article_id=article_id, skill_id=s) for s in skill_ids)


def _lock(actor: Principal, ref: str | int) -> HelpArticle:
    return find_article(ref, actor=actor, lock=True)


def version_view(version: ArticleVersion, article: HelpArticle) -> dict:
    """A version as staff see it; `current` marks the one readers see."""
    view = {column.key: getattr(version, column.key) for column in ArticleVersion.__table__.columns}
    view["current"] = version.id == article.published_version_id
    return view


def create_article(
    *,
    actor: Principal,
    slug: str,
    category_id: int,
    title: str,
    body: str,
    summary: str | None = None,
    audience: str = "members",
    skill_ids: list[int] | None = None,
    min_level_rank: int | None = None,
    max_level_rank: int | None = None,
) -> dict:
    """A new article in draft with version 1; nobody but staff sees it until published."""
    _check_category(category_id)
    skills = _check_skills(skill_ids or [])
    _check_levels(min_level_rank, max_level_rank)
    _check_slug(slug)
    article = HelpArticle(
        slug=slug,
        category_id=category_id,
        status="draft",
        audience=audience,
        min_level_rank=min_level_rank,
        max_level_rank=max_level_rank,
        helpful_count=0,
        not_helpful_count=0,
        created_by_id=actor.user_id,
    )
    db.session.add(article)
    db.session.flush()
    db.session.add(
        ArticleVersion(
            article_id=article.id,
            number=1,
            title=title,
            summary=summary,
            body=body,
            created_by_id=actor.user_id,
        )
    )
    _set_skills(article.id, skills)
    db.session.flush()
    return article_detail(article, actor=actor)


def update_article(*, actor: Principal, ref: str | int, **changes) -> dict:
    """Change the slug, category, audience, targeted skills or levels of an article."""
    article = _lock(actor, ref)
    article_target(article.status, "edit")
    if "slug" in changes:
        _check_slug(changes["slug"], other_than=article.id)
    if "category_id" in changes:
        _check_category(changes["category_id"])
    _check_levels(
        changes.get("min_level_rank", article.min_level_rank),
        changes.get("max_level_rank", article.max_level_rank),
    )
    if "skill_ids" in changes:
        _set_skills(article.id, _check_skills(changes.pop("skill_ids")))
    for name, value in changes.items():
        setattr(article, name, value)
    article.updated_at = utcnow()
    db.session.flush()
    return article_detail(article, actor=actor)


def add_version(
    *, actor: Principal, ref: str | int, title: str, body: str, summary: str | None = None
) -> dict:
    """The article's next version (not yet published: readers keep the current one)."""
    article = _lock(actor, ref)
    article_target(article.status, "revise")
    last = db.session.scalar(
        select(func.max(ArticleVersion.number)).where(ArticleVersion.article_id == article.id)
    )
    version = ArticleVersion(
        article_id=article.id,
        number=(last or 0) + 1,
        title=title,
        summary=summary,
        body=body,
        created_by_id=actor.user_id,
    )
    db.session.add(version)
    article.updated_at = utcnow()
    db.session.flush()
    return version_view(version, article)


def publish(*, actor: Principal, ref: str | int, version_id: int | None = None) -> dict:
    """Publish a version (default: the latest): readers see it from now on. Publishing the
    version that is published already changes nothing."""
    article = _lock(actor, ref)
    status = article_target(article.status, "publish")
    query = select(ArticleVersion).where(ArticleVersion.article_id == article.id)
    if version_id is None:
        version = db.session.scalar(query.order_by(ArticleVersion.number.desc()).limit(1))
    else:
        version = db.session.scalar(query.where(ArticleVersion.id == version_id))
        if version is None:
            raise field_error("version_id", _("no such version of this article"))
    if article.status == status and article.published_version_id == version.id:
        return article_detail(article, actor=actor)
    now = utcnow()
    if version.published_at is None:
        version.published_at = now
    article.status = status
    article.published_version_id = version.id
    # Recency in lists and search: when readers last got new text.
    article.published_at = now
    db.session.flush()
    return article_detail(article, actor=actor)


def archive(*, actor: Principal, ref: str | int) -> dict:
    """Withdraw an article from readers (its links stay; publishing restores it)."""
    article = _lock(actor, ref)
    article.status = article_target(article.status, "archive")
    db.session.flush()
    return article_detail(article, actor=actor)


def list_versions(
    *, actor: Principal, ref: str | int, limit: int | None = None, cursor: str | None = None
) -> dict:
    """The article's versions, newest first."""
    article = find_article(ref, actor=actor)
    query = select(ArticleVersion).where(ArticleVersion.article_id == article.id)
    page = paginate(
        query, {"limit": limit, "cursor": cursor}, order=[ArticleVersion.number], descending=True
    )
    page["items"] = [version_view(version, article) for version in page["items"]]
    return page
