"""Threads and replies in topic groups: writing, reading, editing.

A thread is an opening post with a title; replies hang off it in the order they were written.
Threads list pinned first, then by last activity (the thread's creation or its latest reply).
Writing a reply locks the thread row, so a lock by a moderator and a reply never cross, and
`reply_count` (every reply, hidden ones included: they keep their place) and
`last_activity_at` stay exact. Hidden posts are shown in full to moderators (flagged) and to
nobody else: a hidden thread is gone for them, a hidden reply stays as a placeholder without
body or author. The author may edit a post for COMMUNITY_EDIT_WINDOW_MINUTES (default 30).
The author of a thread is told of replies, at most once per thread and notice window.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select

from accounts.models import User
from community.access import (
    Viewer,
    can_moderate,
    readable_group,
    require_may_post,
    viewer_of,
)
from community.config import CommunityRules, community_rules
from community.errors import EditWindowClosed, PostHidden, ThreadLocked
from community.models import TopicGroup, TopicPost
from crowd.core.auth import STAFF, Principal
from crowd.core.db import utcnow
from crowd.core.errors import Forbidden, NotFound, field_error
from crowd.core.i18n import _, _l
from crowd.core.pagination import paginate
from crowd.extensions import db
from members.models import Member
from notifications.service import notify


def authors_of(user_ids: Iterable[int]) -> dict[int, dict]:
    """user id → {display_name, member_id, staff} for posts' authors, one query."""
    rows = db.session.execute(
        select(User.id, User.display_name, User.role, Member.id, Member.display_name)
        .outerjoin(Member, Member.user_id == User.id)
        .where(User.id.in_(set(user_ids)))
    )
    return {
        user_id: {
            "display_name": member_name or user_name,
            "member_id": member_id,
            "staff": role in STAFF,
        }
        for user_id, user_name, role, member_id, member_name in rows
    }


class Reading:
    """What one caller may see of one group's posts, and how to present them."""

    def __init__(self, viewer: Viewer, group: TopicGroup) -> None:
        self.viewer, self.group = viewer, group
        self.moderator = can_moderate(viewer, group)
        self.rules = community_rules()
        self.now = utcnow()

    def sees(self, post: TopicPost) -> bool:
        return post.hidden_at is None or self.moderator

    def view(self, post: TopicPost, authors: dict[int, dict] | None = None) -> dict:
        """The post as this caller sees it (thread fields on threads only)."""
        authors = authors if authors is not None else authors_of([post.author_user_id])
        shown = self.sees(post)
        mine = post.author_user_id == self.viewer.user_id
        view = {
            "id": post.id,
            "group_id": post.group_id,
            "thread_id": post.parent_id or post.id,
            "kind": "reply" if post.parent_id else "thread",
            "title": post.title if shown else None,
            "body": post.body if shown else None,
            "author": authors.get(post.author_user_id) if shown else None,
            "mine": mine,
            "created_at": post.created_at,
            "edited_at": post.edited_at,
            "hidden": post.hidden_at is not None,
            "editable": mine
            and post.hidden_at is None
            and post.locked_at is None
            and self.group.archived_at is None
            and not _past(post.created_at, self.now, self.rules),
        }
        if self.moderator:
            view.update(hidden_at=post.hidden_at, hidden_reason=post.hidden_reason)
        if post.parent_id is None:
            view.update(
                pinned=post.pinned,
                locked=post.locked_at is not None,
                locked_at=post.locked_at,
                reply_count=post.reply_count,
                last_activity_at=post.last_activity_at,
            )
        return view

    def views(self, posts: list[TopicPost]) -> list[dict]:
        authors = authors_of(p.author_user_id for p in posts)
        return [self.view(p, authors) for p in posts]


def load_post(post_id: int, *, lock: bool = False) -> TopicPost:
    query = select(TopicPost).where(TopicPost.id == post_id)
    if lock:
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    post = db.session.scalar(query)
    if post is None:
        raise NotFound(_("No such post."))
    return post


def reachable_post(
    viewer: Viewer, post_id: int, *, lock: bool = False, thread_only: bool = False
) -> tuple[TopicPost, Reading]:
    """A post the viewer may read (its group readable, it and its thread visible), else 404
    (403 for a member who has not joined the group)."""
    post = load_post(post_id, lock=lock)
    if thread_only and post.parent_id is not None:
        raise NotFound(_("No such thread."))
    reading = Reading(viewer, readable_group(viewer, post.group_id))
    thread = post if post.parent_id is None else db.session.get(TopicPost, post.parent_id)
    if not reading.sees(post) or not reading.sees(thread):
        raise NotFound(_("No such post."))
    return post, reading


def create_thread(*, actor: Principal, group_id: int, title: str, body: str) -> dict:
    """Open a thread in a group you belong to (staff: any group)."""
    viewer = viewer_of(actor)
    reading = Reading(viewer, readable_group(viewer, group_id))
    require_may_post(viewer, reading.group, at=reading.now, rules=reading.rules, new=True)
    thread = TopicPost(
        group_id=reading.group.id,
        author_user_id=actor.user_id,
        title=title,
        body=body,
        created_at=reading.now,
        last_activity_at=reading.now,
        reply_count=0,
        pinned=False,
    )
    db.session.add(thread)
    db.session.flush()
    return reading.view(thread)


def list_threads(
    *, actor: Principal, group_id: int, limit: int | None = None, cursor: str | None = None
) -> dict:
    """A group's threads: pinned first, then the most recently active; hidden ones only
    for moderators."""
    viewer = viewer_of(actor)
    reading = Reading(viewer, readable_group(viewer, group_id))
    query = select(TopicPost).where(
        TopicPost.group_id == reading.group.id, TopicPost.parent_id.is_(None)
    )
    if not reading.moderator:
        query = query.where(TopicPost.hidden_at.is_(None))
    page = paginate(
        query,
        {"limit": limit, "cursor": cursor},
        order=[TopicPost.pinned, TopicPost.last_activity_at, TopicPost.id],
        descending=True,
    )
    page["items"] = reading.views(page["items"])
    return page


def get_thread(
    *, actor: Principal, thread_id: int, limit: int | None = None, cursor: str | None = None
) -> dict:
    """A thread with a page of its replies, oldest first (hidden ones as placeholders)."""
    viewer = viewer_of(actor)
    thread, reading = reachable_post(viewer, thread_id, thread_only=True)
    query = select(TopicPost).where(TopicPost.parent_id == thread.id)
    page = paginate(query, {"limit": limit, "cursor": cursor}, order=[TopicPost.id])
    page["items"] = reading.views(page["items"])
    return {"thread": reading.view(thread), "replies": page, "can_moderate": reading.moderator}


def reply(*, actor: Principal, thread_id: int, body: str) -> dict:
    """Reply to a thread that is not locked (409 `locked`); its author hears of it."""
    viewer = viewer_of(actor)
    thread, reading = reachable_post(viewer, thread_id, lock=True, thread_only=True)
    require_may_post(viewer, reading.group, at=reading.now, rules=reading.rules, new=True)
    if thread.locked_at is not None:
        raise ThreadLocked(_("The thread is locked; it takes no replies."), state="locked")
    post = TopicPost(
        group_id=thread.group_id,
        parent_id=thread.id,
        author_user_id=actor.user_id,
        body=body,
        created_at=reading.now,
        last_activity_at=reading.now,
        reply_count=0,
        pinned=False,
    )
    db.session.add(post)
    thread.reply_count += 1
    thread.last_activity_at = max(thread.last_activity_at, reading.now)
    db.session.flush()
    authors = authors_of([actor.user_id, thread.author_user_id])
    if thread.author_user_id != actor.user_id:
        _tell_thread_author(thread, reading, authors[actor.user_id]["display_name"], post)
    return reading.view(post, authors)


def _tell_thread_author(thread: TopicPost, reading: Reading, name: str, post: TopicPost) -> None:
    window = reading.rules.reply_notice_minutes * 60
    bucket = int(reading.now.timestamp()) // max(window, 1)
    notify(
        thread.author_user_id,
        "community.reply",
        _l("New reply: {thread_title}", thread_title=thread.title),
        _l("{name} replied in {group_name}.", name=name, group_name=reading.group.name),
        dedupe_key=f"topic-thread:{thread.id}:replies:{bucket}",
        group_id=thread.group_id,
        thread_id=thread.id,
        post_id=post.id,
    )


def edit_post(
    *, actor: Principal, post_id: int, body: str | None = None, title: str | None = None
) -> dict:
    """The author edits their post within the edit window; a thread's title too."""
    viewer = viewer_of(actor)
    post, reading = reachable_post(viewer, post_id, lock=True)
    if post.author_user_id != actor.user_id:
        raise Forbidden(_("Only the author edits a post."))
    if title is not None and post.parent_id is not None:
        raise field_error("title", _("replies have no title"))
    require_may_post(viewer, reading.group, at=reading.now, rules=reading.rules, new=False)
    if post.hidden_at is not None:
        raise PostHidden(_("A hidden post cannot be edited."), state="hidden")
    thread = post if post.parent_id is None else load_post(post.parent_id)
    if thread.locked_at is not None:
        raise ThreadLocked(_("The thread is locked."), state="locked")
    if _past(post.created_at, reading.now, reading.rules):
        raise EditWindowClosed(
            _(
                "Posts can be edited for {rules_edit_window_minutes} minutes.",
                rules_edit_window_minutes=reading.rules.edit_window_minutes,
            ),
            state="edit_window_closed",
        )
    if body is not None:
        post.body = body
    if title is not None:
        post.title = title
    post.edited_at = reading.now
    db.session.flush()
    return reading.view(post)


def _past(created_at: datetime, now: datetime, rules: CommunityRules) -> bool:
    return now - created_at > timedelta(minutes=rules.edit_window_minutes)
