"""Shared helpers for the help centre tests: categories and articles written through the API."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from crowd.extensions import db
from members.models import Skill
from tests.factories import Actor

API = "/api/v1"
CATEGORIES = f"{API}/help/categories"
ARTICLES = f"{API}/help/articles"
SEARCH = f"{API}/help/search"

_slugs = itertools.count(1)


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    return response.get_json()


def field_errors(response, location: str = "json") -> dict:
    """The fields a 422 names, by location."""
    return problem(response, 422)["errors"][location]


def skill_id(slug: str) -> int:
    return db.session.scalar(select(Skill.id).where(Skill.slug == slug))


def create_category(client, staff: Actor, slug: str | None = None, **fields) -> dict:
    body = {"slug": slug or f"category-{next(_slugs)}", "name": "Getting started", **fields}
    return ok(client.post(CATEGORIES, json=body, headers=staff.headers), 201)


def article_body(category_id: int, **fields) -> dict:
    return {
        "slug": f"article-{next(_slugs)}",
        "category_id": category_id,
        "title": "Mounting a TV on drywall",
        "summary": "Anchors, studs and the weight they hold.",
        "body": "Find the studs first. Cavity anchors hold less than you think.",
        **fields,
    }


def create_article(client, staff: Actor, category_id: int | None = None, **fields) -> dict:
    if category_id is None:
        category_id = create_category(client, staff)["id"]
    body = article_body(category_id, **fields)
    return ok(client.post(ARTICLES, json=body, headers=staff.headers), 201)


def publish(client, staff: Actor, article_id: int, version_id: int | None = None) -> dict:
    body = {} if version_id is None else {"version_id": version_id}
    url = f"{ARTICLES}/{article_id}/publish"
    return ok(client.post(url, json=body, headers=staff.headers))


def published_article(client, staff: Actor, category_id: int | None = None, **fields) -> dict:
    article = create_article(client, staff, category_id, **fields)
    return publish(client, staff, article["id"])


def add_version(client, staff: Actor, article_id: int, **fields) -> dict:
    body = {"title": "Second text", "summary": None, "body": "Rewritten.", **fields}
    url = f"{ARTICLES}/{article_id}/versions"
    return ok(client.post(url, json=body, headers=staff.headers), 201)


def read(client, actor: Actor, ref) -> dict:
    return ok(client.get(f"{ARTICLES}/{ref}", headers=actor.headers))


def listed(client, actor: Actor, **query) -> list[dict]:
    """Ids of the articles listed for `actor` with `query`, in order."""
    body = ok(client.get(ARTICLES, query_string=query, headers=actor.headers))
    return [item["id"] for item in body["items"]]


def search(client, actor: Actor, q: str, **query):
    return client.get(SEARCH, query_string={"q": q, **query}, headers=actor.headers)


def hits(client, actor: Actor, q: str, **query) -> list[int]:
    return [item["id"] for item in ok(search(client, actor, q, **query))["items"]]


def give_feedback(client, actor: Actor, article_id, helpful: bool, comment: str | None = None):
    body = {"helpful": helpful, "comment": comment}
    return client.post(f"{ARTICLES}/{article_id}/feedback", json=body, headers=actor.headers)


def link(client, staff: Actor, article_id, kind="onboarding_step", key="identity", position=0):
    body = {"target_kind": kind, "target_key": key, "position": position}
    return client.post(f"{ARTICLES}/{article_id}/links", json=body, headers=staff.headers)
