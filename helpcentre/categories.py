"""Help centre categories: staff create and edit them, every signed-in user lists them."""

from __future__ import annotations

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.errors import NotFound
from crowd.core.i18n import _
from crowd.extensions import db
from helpcentre.errors import CategorySlugTaken
from helpcentre.models import HelpCategory


def _slug_taken(slug: str, *, other_than: int | None = None) -> None:
    query = select(HelpCategory.id).where(HelpCategory.slug == slug)
    if other_than is not None:
        query = query.where(HelpCategory.id != other_than)
    if db.session.scalar(query) is not None:
        raise CategorySlugTaken(
            _("A category with slug {slug!r} exists already.", slug=slug), state="slug_taken"
        )


def create_category(*, actor: Principal, slug: str, name: str, position: int = 0) -> HelpCategory:
    """A new category; its slug is unique (409 when taken)."""
    _slug_taken(slug)
    category = HelpCategory(slug=slug, name=name, position=position)
    db.session.add(category)
    db.session.flush()
    return category


def update_category(*, actor: Principal, category_id: int, **changes) -> HelpCategory:
    """Rename, re-slug or move a category."""
    category = db.session.get(HelpCategory, category_id)
    if category is None:
        raise NotFound(_("No such help category."))
    if "slug" in changes:
        _slug_taken(changes["slug"], other_than=category.id)
    for name, value in changes.items():
        setattr(category, name, value)
    db.session.flush()
    return category


def list_categories(*, actor: Principal) -> dict:
    """Every category, by position then name (a short list: not paginated)."""
    query = select(HelpCategory).order_by(HelpCategory.position, HelpCategory.name, HelpCategory.id)
    return {"items": list(db.session.scalars(query))}
