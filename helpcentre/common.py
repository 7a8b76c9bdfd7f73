"""What every help centre service shares: who reads which articles, finding and locking an
article, the article state table, and the case folding search uses on both databases."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select, true

from crowd.core.auth import Principal
from crowd.core.errors import NotFound
from crowd.core.i18n import _
from crowd.extensions import db
from helpcentre.errors import ArticleStateConflict
from helpcentre.models import HelpArticle

# Published articles each role reads; staff read every article in any state.
AUDIENCES_BY_ROLE: dict[str, tuple[str, ...]] = {
    # Members and applicants alike (an applicant is a member with status applicant).
    "member": ("members", "everyone"),
    "customer": ("customers", "everyone"),
}

# (status, action) → next status. Versions and metadata may change in any state (a new
# version only reaches readers when published); publishing an archived article restores it.
ARTICLE_TRANSITIONS: dict[tuple[str, str], str] = {
    ("draft", "edit"): "draft",
    ("published", "edit"): "published",
    ("archived", "edit"): "archived",
    ("draft", "revise"): "draft",
    ("published", "revise"): "published",
    ("archived", "revise"): "archived",
    ("draft", "publish"): "published",
    ("published", "publish"): "published",
    ("archived", "publish"): "published",
    ("draft", "archive"): "archived",
    ("published", "archive"): "archived",
}

# Slugs always hold a letter, so a path segment of digits is an id and anything else a slug.
MAX_ID_DIGITS = 18


def article_target(status: str, action: str) -> str:
    """The article's next status for `action`; 409 with the current state when not allowed."""
    target = ARTICLE_TRANSITIONS.get((status, action))
    if target is None:
        raise ArticleStateConflict(
            _("Cannot {action} an article that is {status}.", action=action, status=status),
            state=status,
        )
    return target


def audiences_for(actor: Principal) -> tuple[str, ...] | None:
    """The audiences `actor` reads (None: staff, every article)."""
    if actor.is_staff:
        return None
    return AUDIENCES_BY_ROLE.get(actor.role, ())


def readable(actor: Principal) -> ColumnElement[bool]:
    """SQL: the articles `actor` may read — published and for their audience; staff: all."""
    audiences = audiences_for(actor)
    if audiences is None:
        return true()
    return (HelpArticle.status == "published") & HelpArticle.audience.in_(audiences)


def find_article(ref: str | int, *, actor: Principal, lock: bool = False) -> HelpArticle:
    """The article by id or slug that `actor` may read (404 otherwise, never 403)."""
    if isinstance(ref, int) or (ref.isascii() and ref.isdigit() and len(ref) <= MAX_ID_DIGITS):
        query = select(HelpArticle).where(HelpArticle.id == int(ref))
    else:
        query = select(HelpArticle).where(HelpArticle.slug == ref)
    query = query.where(readable(actor))
    if lock:
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    article = db.session.scalar(query)
    if article is None:
        raise NotFound(_("No such help article."))
    return article


# --- case folding -----------------------------------------------------------------------------

# lower() folds ASCII letters on both databases, but SQLite (and PostgreSQL with a C ctype)
# leaves other letters alone; these are folded explicitly so a search finds "Übersicht" with
# "übersicht" on either database. Python folds the query and the snippet the same way.
_FOLDED_LETTERS = "ÄÖÜÀÁÂÈÉÊËÎÏÔÙÛÇ"
_FOLD_TABLE = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + _FOLDED_LETTERS,
    "abcdefghijklmnopqrstuvwxyz" + _FOLDED_LETTERS.lower(),
)


def folded(column) -> ColumnElement[str]:
    """SQL: the column's text case-folded like `fold_text` (same length, same positions)."""
    expression = func.lower(column)
    for letter in _FOLDED_LETTERS:
        expression = func.replace(expression, letter, letter.lower())
    return expression


def fold_text(text: str) -> str:
    """The text case-folded like `folded` does in SQL (each character maps to one)."""
    return text.translate(_FOLD_TABLE)
