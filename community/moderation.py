"""Moderating topic groups: hiding posts, locking and pinning threads, the moderation log.

Community managers and admins moderate every group; mentors the groups they belong to, but
not posts written by staff (community.access). Each change locks the post row, writes a
ModerationAction (who, what, why) and answers with the post as the moderator sees it. Asking
for the state a post is in already (hiding a hidden post) changes and logs nothing. Archived
groups are read-only (409). The author of a hidden post is told, with the reason.
"""

from __future__ import annotations

from sqlalchemy import select

from accounts.models import User
from community.access import (
    Viewer,
    readable_group,
    require_live,
    require_moderator,
    viewer_of,
)
from community.models import ModerationAction, TopicGroup, TopicPost
from community.posts import Reading, reachable_post
from crowd.core.auth import Principal
from crowd.core.errors import NotFound
from crowd.core.i18n import _, _l
from crowd.core.pagination import paginate
from crowd.extensions import db
from notifications.service import notify

# Thread actions: the flag each one sets, and to what.
THREAD_ACTIONS = {
    "lock": ("locked", True),
    "unlock": ("locked", False),
    "pin": ("pinned", True),
    "unpin": ("pinned", False),
}


def _moderated(
    viewer: Viewer, post_id: int, *, thread_only: bool = False
) -> tuple[TopicPost, Reading]:
    """The post locked for moderation by `viewer`, with the group's Reading; 404 when the
    viewer cannot see it, 403 when they do not moderate it, 409 when the group is archived."""
    post, reading = reachable_post(viewer, post_id, lock=True, thread_only=thread_only)
    require_moderator(viewer, reading.group, post)
    require_live(reading.group)
    return post, reading


def log_action(
    post: TopicPost | None,
    action: str,
    *,
    actor_user_id: int,
    reason: str | None = None,
    group_id: int | None = None,
    member_id: int | None = None,
) -> ModerationAction:
    """Record a moderation action in the unit of work."""
    entry = ModerationAction(
        group_id=post.group_id if post is not None else group_id,
        post_id=post.id if post is not None else None,
        member_id=member_id,
        action=action,
        reason=reason,
        actor_user_id=actor_user_id,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def hide(post: TopicPost, group: TopicGroup, *, actor_user_id: int, reason: str, at) -> None:
    """Hide a visible post, log it and tell its author (unless they hid it themselves)."""
    post.hidden_at, post.hidden_by_id, post.hidden_reason = at, actor_user_id, reason
    entry = log_action(post, "hide", actor_user_id=actor_user_id, reason=reason)
    if post.author_user_id == actor_user_id:
        return
    what = f"thread “{post.title}”" if post.parent_id is None else "reply"
    notify(
        post.author_user_id,
        "community.post_hidden",
        _l("Your post in {group_name} was hidden", group_name=group.name),
        _l("A moderator hid your {what}: {reason}", what=what, reason=reason),
        dedupe_key=f"topic-moderation:{entry.id}",
        group_id=group.id,
        post_id=post.id,
        thread_id=post.parent_id or post.id,
    )


def hide_post(*, actor: Principal, post_id: int, reason: str) -> dict:
    """Hide a post with a reason; its author is told."""
    post, reading = _moderated(viewer_of(actor), post_id)
    if post.hidden_at is None:
        hide(post, reading.group, actor_user_id=actor.user_id, reason=reason, at=reading.now)
    return reading.view(post)


def unhide_post(*, actor: Principal, post_id: int, reason: str | None = None) -> dict:
    """Show a hidden post again."""
    post, reading = _moderated(viewer_of(actor), post_id)
    if post.hidden_at is not None:
        post.hidden_at = post.hidden_by_id = post.hidden_reason = None
        log_action(post, "unhide", actor_user_id=actor.user_id, reason=reason)
    return reading.view(post)


def moderate_thread(
    *, actor: Principal, thread_id: int, action: str, reason: str | None = None
) -> dict:
    """Lock, unlock, pin or unpin a thread (THREAD_ACTIONS)."""
    if action not in THREAD_ACTIONS:
        raise NotFound(
            _("No such thread action; there are: {value}.", value=", ".join(THREAD_ACTIONS))
        )
    thread, reading = _moderated(viewer_of(actor), thread_id, thread_only=True)
    flag, on = THREAD_ACTIONS[action]
    is_on = thread.locked_at is not None if flag == "locked" else thread.pinned
    if is_on != on:
        if flag == "locked":
            thread.locked_at = reading.now if on else None
        else:
            thread.pinned = on
        log_action(thread, action, actor_user_id=actor.user_id, reason=reason)
    return reading.view(thread)


def moderation_log(
    *, actor: Principal, group_id: int, limit: int | None = None, cursor: str | None = None
) -> dict:
    """A group's moderation actions, newest first (its moderators only)."""
    viewer = viewer_of(actor)
    group = readable_group(viewer, group_id)
    require_moderator(viewer, group)
    query = select(ModerationAction).where(ModerationAction.group_id == group.id)
    page = paginate(
        query,
        {"limit": limit, "cursor": cursor},
        order=[ModerationAction.created_at, ModerationAction.id],
        descending=True,
    )
    page["items"] = actions_view(page["items"])
    return page


def actions_view(entries: list[ModerationAction]) -> list[dict]:
    names = dict(
        db.session.execute(
            select(User.id, User.display_name).where(
                User.id.in_({e.actor_user_id for e in entries})
            )
        ).all()
    )
    return [
        {
            "id": e.id,
            "group_id": e.group_id,
            "post_id": e.post_id,
            "member_id": e.member_id,
            "action": e.action,
            "reason": e.reason,
            "actor_user_id": e.actor_user_id,
            "actor_name": names.get(e.actor_user_id),
            "created_at": e.created_at,
        }
        for e in entries
    ]
