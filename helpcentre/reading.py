"""Reading the help centre: article lists with filters, one article, and the articles linked to
onboarding steps and training modules.

Readers (members and applicants, customers) see published articles of their audience, with the
published version's text; anything else is a 404 to them. Staff see every article: its
published text, or the latest version's while it has none.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, func, or_, select

from crowd.core.auth import Principal
from crowd.core.errors import Unprocessable
from crowd.core.pagination import paginate
from crowd.extensions import db
from helpcentre.common import audiences_for, find_article, readable
from helpcentre.models import (
    ArticleFeedback,
    ArticleLink,
    ArticleSkill,
    ArticleVersion,
    HelpArticle,
    HelpCategory,
)
from members.access import own_member
from members.models import MemberSkill, Skill


def _query_error(field: str, message: str) -> Unprocessable:
    return Unprocessable(f"{field}: {message}", errors={"query": {field: [message]}})


# --- views ------------------------------------------------------------------------------------


def shown_versions(articles: list[HelpArticle]) -> dict[int, ArticleVersion]:
    """Each article's version to show: the published one, else (drafts) the latest."""
    shown: dict[int, ArticleVersion] = {}
    published = [a.published_version_id for a in articles if a.published_version_id]
    if published:
        for version in db.session.scalars(
            select(ArticleVersion).where(ArticleVersion.id.in_(published))
        ):
            shown[version.article_id] = version
    unpublished = [a.id for a in articles if a.published_version_id is None]
    if unpublished:
        latest = (
            select(ArticleVersion.article_id, func.max(ArticleVersion.number).label("number"))
            .where(ArticleVersion.article_id.in_(unpublished))
            .group_by(ArticleVersion.article_id)
            .subquery()
        )
        for version in db.session.scalars(
            select(ArticleVersion).join(
                latest,
                and_(
                    latest.c.article_id == ArticleVersion.article_id,
                    latest.c.number == ArticleVersion.number,
                ),
            )
        ):
            shown[version.article_id] = version
    return shown


def skill_ids_of(article_ids: list[int]) -> dict[int, list[int]]:
    """The skills each article targets, in id order."""
    skills: dict[int, list[int]] = {article_id: [] for article_id in article_ids}
    if article_ids:
        rows = db.session.execute(
            select(ArticleSkill.article_id, ArticleSkill.skill_id)
            .where(ArticleSkill.article_id.in_(article_ids))
            .order_by(ArticleSkill.article_id, ArticleSkill.skill_id)
        )
        for article_id, skill_id in rows:
            skills[article_id].append(skill_id)
    return skills


def _latest_numbers(article_ids: list[int]) -> dict[int, int]:
    if not article_ids:
        return {}
    rows = db.session.execute(
        select(ArticleVersion.article_id, func.max(ArticleVersion.number))
        .where(ArticleVersion.article_id.in_(article_ids))
        .group_by(ArticleVersion.article_id)
    )
    return dict(rows.all())


def article_items(articles: list[HelpArticle], *, actor: Principal) -> list[dict]:
    """Articles as lists show them (a few queries for the whole page)."""
    ids = [article.id for article in articles]
    versions = shown_versions(articles)
    skills = skill_ids_of(ids)
    latest = _latest_numbers(ids) if actor.is_staff else {}
    items = []
    for article in articles:
        version = versions[article.id]
        item = {
            "id": article.id,
            "slug": article.slug,
            "title": version.title,
            "summary": version.summary,
            "category_id": article.category_id,
            "audience": article.audience,
            "skill_ids": skills[article.id],
            "min_level_rank": article.min_level_rank,
            "max_level_rank": article.max_level_rank,
            "version": version.number,
            "version_id": version.id,
            "body": version.body,
            "published_at": article.published_at,
            "helpful_count": article.helpful_count,
            "not_helpful_count": article.not_helpful_count,
        }
        if actor.is_staff:
            item.update(
                status=article.status,
                published_version_id=article.published_version_id,
                latest_version=latest[article.id],
                created_by_id=article.created_by_id,
                created_at=article.created_at,
                updated_at=article.updated_at,
            )
        items.append(item)
    return items


def article_detail(article: HelpArticle, *, actor: Principal) -> dict:
    """One article with its text; the reader's own feedback, or (staff) its links."""
    view = article_items([article], actor=actor)[0]
    if actor.is_staff:
        view["links"] = list(
            db.session.scalars(
                select(ArticleLink)
                .where(ArticleLink.article_id == article.id)
                .order_by(ArticleLink.target_kind, ArticleLink.target_key, ArticleLink.id)
            )
        )
    else:
        view["my_feedback"] = db.session.get(ArticleFeedback, (article.id, actor.user_id))
    return view


# --- reading ----------------------------------------------------------------------------------


def get_article(*, actor: Principal, ref: str) -> dict:
    """One article by id or slug, if `actor` may read it (404 otherwise)."""
    return article_detail(find_article(ref, actor=actor), actor=actor)


def _for_member(actor: Principal) -> ColumnElement[bool]:
    """SQL: the articles targeting the member's skills and level, or not targeted at all."""
    if actor.role != "member":
        raise _query_error("for_me", "only for crowd members")
    member = own_member(actor)
    own_skills = select(MemberSkill.skill_id).where(MemberSkill.member_id == member.id)
    targets_skills = or_(
        ~exists().where(ArticleSkill.article_id == HelpArticle.id),
        exists().where(
            ArticleSkill.article_id == HelpArticle.id, ArticleSkill.skill_id.in_(own_skills)
        ),
    )
    rank = member.level_rank
    in_level = and_(
        or_(HelpArticle.min_level_rank.is_(None), HelpArticle.min_level_rank <= rank),
        or_(HelpArticle.max_level_rank.is_(None), HelpArticle.max_level_rank >= rank),
    )
    return and_(targets_skills, in_level)


def list_articles(
    *,
    actor: Principal,
    category_id: int | None = None,
    skill_id: int | None = None,
    for_me: bool = False,
    status: str | None = None,
    audience: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict:
    """Articles the caller may read with the filters; readers newest published first, staff
    newest article first."""
    query = select(HelpArticle).where(readable(actor))
    for name, value in (("status", status), ("audience", audience)):
        if value is not None and not actor.is_staff:
            raise _query_error(name, "only staff filter by it")
    if status is not None:
        query = query.where(HelpArticle.status == status)
    if audience is not None:
        query = query.where(HelpArticle.audience == audience)
    if category_id is not None:
        if db.session.get(HelpCategory, category_id) is None:
            raise _query_error("category_id", "no such category")
        query = query.where(HelpArticle.category_id == category_id)
    if skill_id is not None:
        if db.session.get(Skill, skill_id) is None:
            raise _query_error("skill_id", "no such skill")
        query = query.where(
            exists().where(
                ArticleSkill.article_id == HelpArticle.id, ArticleSkill.skill_id == skill_id
            )
        )
    if for_me:
        query = query.where(_for_member(actor))
    order = [HelpArticle.id] if actor.is_staff else [HelpArticle.published_at, HelpArticle.id]
    page = paginate(query, {"limit": limit, "cursor": cursor}, order=order, descending=True)
    page["items"] = article_items(page["items"], actor=actor)
    return page


def linked_articles(
    *, actor: Principal, target_kind: str, keys: list[str] | None = None
) -> dict[str, list[dict]]:
    """The published articles `actor` may read linked to each target key (all keys of the
    kind, or those given), in link order — one query however many targets."""
    query = (
        select(
            ArticleLink.target_key,
            HelpArticle.id,
            HelpArticle.slug,
            ArticleVersion.title,
            ArticleVersion.summary,
        )
        .join(HelpArticle, HelpArticle.id == ArticleLink.article_id)
        .join(ArticleVersion, ArticleVersion.id == HelpArticle.published_version_id)
        .where(ArticleLink.target_kind == target_kind, HelpArticle.status == "published")
        .order_by(ArticleLink.target_key, ArticleLink.position, ArticleLink.id)
    )
    audiences = audiences_for(actor)
    if audiences is not None:
        query = query.where(HelpArticle.audience.in_(audiences))
    if keys is not None:
        if not keys:
            return {}
        query = query.where(ArticleLink.target_key.in_(keys))
    linked: dict[str, list[dict]] = {}
    for key, article_id, slug, title, summary in db.session.execute(query):
        linked.setdefault(key, []).append(
            {"id": article_id, "slug": slug, "title": title, "summary": summary}
        )
    return linked
