"""Shared helpers for the topic group tests: groups, members in them, threads via the API."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from crowd.extensions import db
from members.models import Skill
from tests.factories import Actor
from tests.jobs.conftest import active_member, drain_background, notifications_for
from tests.mentoring.conftest import mentor, ok, problem  # noqa: F401  (re-exported)

API = "/api/v1"
SKILL = "tv_wall_mount"
_slugs = itertools.count(1)


def skill_id(slug: str = SKILL) -> int:
    return db.session.scalar(select(Skill.id).where(Skill.slug == slug))


def create_group(client, cm: Actor, **overrides) -> dict:
    """A skill group (tv_wall_mount) created by `cm` through the API; returns its JSON."""
    body = {
        "slug": overrides.pop("slug", f"group-{next(_slugs)}"),
        "name": "TV mounting",
        "description": "Brackets, walls, cables.",
        "kind": "skill",
        "skill_id": skill_id(),
        **overrides,
    }
    return ok(client.post(f"{API}/topic-groups", json=body, headers=cm.headers), 201)


def join(client, actor: Actor, group_id: int, status: int = 200) -> dict:
    response = client.post(f"{API}/topic-groups/{group_id}/join", headers=actor.headers)
    return ok(response, status) if status < 400 else problem(response, status)


def joined_member(client, group_id: int, **kw) -> Actor:
    """An active member in Berlin with tv_wall_mount (verified) who joined the group."""
    actor = active_member(**kw)
    join(client, actor, group_id)
    return actor


def post_thread(client, actor: Actor, group_id: int, **overrides):
    body = {"title": "Which anchors for aerated concrete?", "body": "Any experience?"}
    return client.post(
        f"{API}/topic-groups/{group_id}/threads", json={**body, **overrides}, headers=actor.headers
    )


def thread(client, actor: Actor, group_id: int, **overrides) -> dict:
    return ok(post_thread(client, actor, group_id, **overrides), 201)


def post_reply(client, actor: Actor, thread_id: int, body: str = "Use injection anchors."):
    return client.post(
        f"{API}/topic-threads/{thread_id}/replies", json={"body": body}, headers=actor.headers
    )


def inbox(app, actor: Actor, kind: str) -> list:
    """The actor's notifications of `kind`, after running the background work due."""
    drain_background(app)
    return notifications_for(actor.user_id, kind)
