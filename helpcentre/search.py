"""Search over the published articles' titles, summaries and bodies, the same on SQLite and
PostgreSQL.

The query is split into words (terms); words shorter than the minimum are ignored, and at most
`search_max_terms` may remain. Every term must occur in the title, summary or body, compared
case-folded (common.folded) with LIKE, `%` and `_` escaped. Each term found scores the title
weight, the summary weight and the body weight for where it occurs (the weights make any title
hit outrank any number of summary hits, and so on); ties go to the most recently published.
Pages are keyset-paginated on (score, published_at, id), so the cursor holds those values.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from flask import current_app
from sqlalchemy import and_, case, func, literal, or_, select, tuple_

from crowd.core.auth import Principal
from crowd.core.errors import Unprocessable
from crowd.extensions import db
from helpcentre.common import audiences_for, fold_text, folded
from helpcentre.config import HelpCentreRules, helpcentre_rules
from helpcentre.models import ArticleVersion, HelpArticle, HelpCategory

ELLIPSIS = "…"


def _query_error(field: str, message: str) -> Unprocessable:
    return Unprocessable(f"{field}: {message}", errors={"query": {field: [message]}})


def search_terms(q: str, rules: HelpCentreRules) -> list[str]:
    """The distinct case-folded words of `q` long enough to search for (422 naming q)."""
    words = fold_text(q).split()
    terms = list(dict.fromkeys(w for w in words if len(w) >= rules.search_min_term_length))
    if not terms:
        raise _query_error(
            "q", f"give a word of at least {rules.search_min_term_length} characters"
        )
    if len(terms) > rules.search_max_terms:
        raise _query_error("q", f"at most {rules.search_max_terms} words")
    return terms


def snippet(body: str, terms: list[str], length: int) -> str:
    """About `length` characters of the body around the first term found (else its start),
    cut at word boundaries, whitespace collapsed."""
    text = " ".join(body.split())
    if len(text) <= length:
        return text
    haystack = fold_text(text)
    hits = [i for i in (haystack.find(term) for term in terms) if i >= 0]
    # The hit a third into the window: some context before it, more after.
    start = max(0, min(hits) - length // 3) if hits else 0
    end = min(len(text), start + length)
    start = max(0, end - length)
    window = text[start:end]
    if start > 0:
        window = ELLIPSIS + window.split(" ", 1)[-1]
    if end < len(text):
        window = window.rsplit(" ", 1)[0] + ELLIPSIS
    return window


def _decode_cursor(cursor: str) -> tuple[int, datetime, int]:
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode())
        score, published_at, article_id = json.loads(raw)
        if not (isinstance(score, int) and isinstance(article_id, int)):
            raise ValueError
        published_at = datetime.fromisoformat(published_at)
        if published_at.tzinfo is None:
            raise ValueError
        return score, published_at, article_id
    except (ValueError, TypeError, binascii.Error):
        raise _query_error("cursor", "not valid") from None


def _encode_cursor(score: int, published_at: datetime, article_id: int) -> str:
    raw = json.dumps([score, published_at.isoformat(), article_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _ranked(actor: Principal, terms: list[str], rules: HelpCentreRules, category_id: int | None):
    """A subquery of the matching articles: id, score, published_at."""
    texts = (
        select(
            HelpArticle.id.label("id"),
            HelpArticle.published_at.label("published_at"),
            folded(ArticleVersion.title).label("title"),
            folded(func.coalesce(ArticleVersion.summary, "")).label("summary"),
            folded(ArticleVersion.body).label("body"),
        )
        .join(ArticleVersion, ArticleVersion.id == HelpArticle.published_version_id)
        .where(HelpArticle.status == "published")
    )
    audiences = audiences_for(actor)
    if audiences is not None:
        texts = texts.where(HelpArticle.audience.in_(audiences))
    if category_id is not None:
        texts = texts.where(HelpArticle.category_id == category_id)
    texts = texts.subquery()
    weights = (
        (texts.c.title, rules.title_weight),
        (texts.c.summary, rules.summary_weight),
        (texts.c.body, rules.body_weight),
    )
    hits = {
        term: [(column.contains(term, autoescape=True), weight) for column, weight in weights]
        for term in terms
    }
    every_term = and_(*(or_(*(hit for hit, _ in found)) for found in hits.values()))
    score = sum(
        (case((hit, weight), else_=0) for found in hits.values() for hit, weight in found),
        start=literal(0),
    )
    return (
        select(texts.c.id, score.label("score"), texts.c.published_at).where(every_term).subquery()
    )


def search(
    *,
    actor: Principal,
    q: str,
    category_id: int | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict:
    """Published articles the caller may read matching every word of `q`, best first."""
    rules = helpcentre_rules()
    terms = search_terms(q, rules)
    if category_id is not None and db.session.get(HelpCategory, category_id) is None:
        raise _query_error("category_id", "no such category")
    settings = current_app.config["CROWD_SETTINGS"]
    limit = min(limit or settings.page_size_default, settings.page_size_max)
    ranked = _ranked(actor, terms, rules, category_id)
    total = db.session.scalar(select(func.count()).select_from(ranked))
    key = (ranked.c.score, ranked.c.published_at, ranked.c.id)
    query = select(*key).order_by(*(column.desc() for column in key)).limit(limit + 1)
    if cursor:
        after = [literal(v, c.type) for v, c in zip(_decode_cursor(cursor), key, strict=True)]
        query = query.where(tuple_(*key) < tuple_(*after))
    rows = db.session.execute(query).all()
    next_cursor = _encode_cursor(*rows[limit - 1]) if len(rows) > limit else None
    rows = rows[:limit]
    texts = {
        article.id: (article, version)
        for article, version in db.session.execute(
            select(HelpArticle, ArticleVersion)
            .join(ArticleVersion, ArticleVersion.id == HelpArticle.published_version_id)
            .where(HelpArticle.id.in_([row.id for row in rows]))
        )
    }
    items = []
    for row in rows:
        article, version = texts[row.id]
        items.append(
            {
                "id": article.id,
                "slug": article.slug,
                "title": version.title,
                "summary": version.summary,
                "category_id": article.category_id,
                "version": version.number,
                "published_at": article.published_at,
                "score": row.score,
                "snippet": snippet(version.body, terms, rules.snippet_length),
            }
        )
    return {"items": items, "page": {"next_cursor": next_cursor, "limit": limit, "total": total}}
