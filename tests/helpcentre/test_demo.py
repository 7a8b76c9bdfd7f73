"""The demo help centre: published articles linked to onboarding and training, written once."""

from __future__ import annotations

from sqlalchemy import func, select

from crowd.core.db import utcnow
from crowd.extensions import db
from demo.helpcentre import ARTICLES, CATEGORIES, seed_help_centre
from helpcentre.models import ArticleLink, HelpArticle, HelpCategory
from tests.helpcentre.conftest import hits, ok
from tests.onboarding.test_training import create_module


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_demo_articles_are_published_linked_and_written_once(client, cm, member):
    create_module(client, cm, "mains-safety", title="Safety with mains electricity")

    assert seed_help_centre(cm.user_id, utcnow()) == len(ARTICLES)
    db.session.commit()
    counts = (_count(HelpCategory), _count(HelpArticle), _count(ArticleLink))
    # Not every training module exists here: links to missing targets are left out.
    assert counts == (len(CATEGORIES), len(ARTICLES), 4)
    assert seed_help_centre(cm.user_id, utcnow()) == 0
    assert (_count(HelpCategory), _count(HelpArticle), _count(ArticleLink)) == counts

    steps = ok(client.get("/api/v1/me/onboarding", headers=member.headers))["steps"]
    identity = next(step for step in steps if step["name"] == "identity")
    assert [a["slug"] for a in identity["articles"]] == ["verify-your-identity"]
    modules = ok(client.get("/api/v1/training-modules", headers=member.headers))["items"]
    assert [a["slug"] for a in modules[0]["articles"]] == ["working-safely-with-mains"]
    assert len(hits(client, member, "passport")) == 1
