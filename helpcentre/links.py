"""Links (staff): show an article with an onboarding step or a training module.

The target must exist: the package owning each kind of target checks it (onboarding: a step
name of onboarding.steps.STEPS, or a training module's code; see onboarding.wiring). A
link may point at a draft; readers see it with the target once the article is published (see
reading.linked_articles, which GET /me/onboarding and the training catalogue use).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.errors import NotFound, field_error
from crowd.core.i18n import _
from crowd.extensions import db
from helpcentre.common import find_article
from helpcentre.errors import ArticleAlreadyLinked
from helpcentre.models import LINK_TARGETS, ArticleLink

# Link target kind (helpcentre.models.LINK_TARGETS) → check(target_key) raising a field error
# when no such target exists. The packages that own the targets add them (onboarding: its steps
# and training modules), so the help centre names none of them.
_TARGET_CHECKS: dict[str, Callable[[str], None]] = {}


def add_link_target(kind: str, check: Callable[[str], None]) -> None:
    if kind not in LINK_TARGETS:
        raise ValueError(f"unknown link target kind {kind!r}")
    _TARGET_CHECKS[kind] = check


def _check_target(target_kind: str, target_key: str) -> None:
    check = _TARGET_CHECKS.get(target_kind)
    if check is None:
        raise field_error("target_kind", _("this kind of target cannot be linked now"))
    check(target_key)


def add_link(
    *, actor: Principal, ref: str | int, target_kind: str, target_key: str, position: int = 0
) -> ArticleLink:
    """Link the article to a target; the same article and target twice is a 409."""
    article = find_article(ref, actor=actor)
    _check_target(target_kind, target_key)
    existing = db.session.scalar(
        select(ArticleLink.id).where(
            ArticleLink.article_id == article.id,
            ArticleLink.target_kind == target_kind,
            ArticleLink.target_key == target_key,
        )
    )
    if existing is not None:
        raise ArticleAlreadyLinked(
            _(
                "The article is linked to {target_kind} {target_key!r} already.",
                target_kind=target_kind,
                target_key=target_key,
            ),
            state="linked",
            link_id=existing,
        )
    link = ArticleLink(
        article_id=article.id,
        target_kind=target_kind,
        target_key=target_key,
        position=position,
        created_by_id=actor.user_id,
    )
    db.session.add(link)
    # A concurrent identical link fails the unique constraint here: a 409 as well.
    db.session.flush()
    return link


def remove_link(*, actor: Principal, ref: str | int, link_id: int) -> None:
    """Remove one of the article's links (another article's link id: 404)."""
    article = find_article(ref, actor=actor)
    link = db.session.get(ArticleLink, link_id)
    if link is None or link.article_id != article.id:
        raise NotFound(_("No such link of this article."))
    db.session.delete(link)
    db.session.flush()
