"""Named errors of the help centre: article states and taken slugs or links."""

from __future__ import annotations

from crowd.core.errors import Conflict
from crowd.core.i18n import _l


class ArticleStateConflict(Conflict):
    """The article's status does not allow this action; `state` is the status."""

    title, type_slug = _l("Article state does not allow this"), "article-state-conflict"


class ArticleSlugTaken(Conflict):
    """An article with this slug exists already."""

    title, type_slug = _l("Article slug taken"), "article-slug-taken"


class CategorySlugTaken(Conflict):
    """A help-centre category with this slug exists already."""

    title, type_slug = _l("Category slug taken"), "category-slug-taken"


class ArticleAlreadyLinked(Conflict):
    """The article is linked to this target already."""

    title, type_slug = _l("Article already linked"), "article-already-linked"
