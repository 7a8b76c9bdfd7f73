"""Who may see, read, post in and moderate a topic group — checked here, in one place.

- Seeing a group: staff see every group; a member sees the groups they belong to and the
  live (not archived) ones they qualify for. Anything else is 404.
- Reading threads: group members and staff. A member who sees the group but has not joined
  gets 403 (join first).
- Posting (threads, replies, edits): staff in any live group; members in groups they belong
  to, while active (paused, suspended, offboarded: 403), not muted (403 naming the mute's
  end) and within the hourly limit (429). Archived groups are read-only (409 `archived`).
- Moderating: community managers and admins in every group; mentors (an opted-in mentor
  profile, active) in groups they belong to, but never posts written by staff (403).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from accounts.models import User
from community.config import CommunityRules
from community.errors import GroupArchived, PostingRateLimited
from community.models import CommunityMute, GroupMembership, TopicGroup, TopicPost
from community.qualification import belongs, qualifies
from crowd.core.auth import STAFF, Principal
from crowd.core.errors import Forbidden, NotFound
from crowd.core.i18n import _
from crowd.extensions import db
from members.access import own_member
from members.models import Member
from mentoring.programmes import is_mentor


@dataclass(frozen=True)
class Viewer:
    """The caller in topic groups: staff, or a member with their profile."""

    user_id: int
    staff: bool
    member: Member | None = None

    @property
    def member_id(self) -> int | None:
        return self.member.id if self.member is not None else None


def viewer_of(actor: Principal) -> Viewer:
    """The caller as a Viewer; a caller who is neither staff nor a member gets 404."""
    if actor.is_staff:
        return Viewer(actor.user_id, staff=True)
    return Viewer(actor.user_id, staff=False, member=own_member(actor))


def require_staff(viewer: Viewer) -> None:
    if not viewer.staff:
        raise Forbidden(_("Only community managers and admins may do this."))


def is_group_member(group_id: int, member_id: int | None) -> bool:
    if member_id is None:
        return False
    found = db.session.get(GroupMembership, (group_id, member_id))
    return found is not None


def load_group(group_id: int, *, lock: bool = False) -> TopicGroup:
    """The group (its row locked for this unit of work when asked); 404 when there is none."""
    query = select(TopicGroup).where(TopicGroup.id == group_id)
    if lock:
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    group = db.session.scalar(query)
    if group is None:
        raise NotFound(_("No such topic group."))
    return group


def visible_group(viewer: Viewer, group_id: int, *, lock: bool = False) -> TopicGroup:
    """The group if the viewer may see it: staff all; members theirs and live qualifying ones."""
    group = load_group(group_id, lock=lock)
    if viewer.staff:
        return group
    seen = db.session.scalar(
        select(TopicGroup.id)
        .join(Member, Member.id == viewer.member_id)
        .where(
            TopicGroup.id == group_id,
            or_(belongs(viewer.member_id), TopicGroup.archived_at.is_(None) & qualifies()),
        )
    )
    if seen is None:
        raise NotFound(_("No such topic group."))
    return group


def readable_group(viewer: Viewer, group_id: int) -> TopicGroup:
    """The group if the viewer may read its threads: staff and group members."""
    group = visible_group(viewer, group_id)
    if not viewer.staff and not is_group_member(group.id, viewer.member_id):
        raise Forbidden(_("Join the group to read and write in it."))
    return group


def is_active_mentor(viewer: Viewer) -> bool:
    """The viewer is an active member with an opted-in mentor profile."""
    if viewer.member is None or viewer.member.status != "active":
        return False
    return bool(is_mentor([viewer.member_id]))


def can_moderate(viewer: Viewer, group: TopicGroup) -> bool:
    """Staff moderate every group; active mentors the groups they belong to."""
    if viewer.staff:
        return True
    return is_group_member(group.id, viewer.member_id) and is_active_mentor(viewer)


def written_by_staff(post: TopicPost) -> bool:
    return db.session.scalar(select(User.role).where(User.id == post.author_user_id)) in STAFF


def require_moderator(viewer: Viewer, group: TopicGroup, post: TopicPost | None = None) -> None:
    """403 unless the viewer moderates the group (and, being a mentor, the post is not staff's)."""
    if not can_moderate(viewer, group):
        raise Forbidden(_("Only community managers and the group's mentors moderate it."))
    if post is not None and not viewer.staff and written_by_staff(post):
        raise Forbidden(_("Mentors do not moderate posts by community managers or admins."))


def require_live(group: TopicGroup) -> None:
    """Archived groups are read-only: 409 with state `archived`."""
    if group.archived_at is not None:
        raise GroupArchived(_("The group is archived; it is read-only."), state="archived")


def open_mute(member_id: int, at: datetime) -> CommunityMute | None:
    """The member's mute in force at `at` (not lifted, not past its end), if any."""
    return db.session.scalar(
        select(CommunityMute)
        .where(
            CommunityMute.member_id == member_id,
            CommunityMute.lifted_at.is_(None),
            or_(CommunityMute.until.is_(None), CommunityMute.until > at),
        )
        .order_by(CommunityMute.id.desc())
        .limit(1)
    )


def require_may_post(
    viewer: Viewer, group: TopicGroup, *, at: datetime, rules: CommunityRules, new: bool
) -> None:
    """The viewer may write in the group now (a `new` post also counts against the limit)."""
    require_live(group)
    if viewer.staff:
        return
    member = viewer.member
    if member.status != "active":
        raise Forbidden(
            _(
                "Only active members post in topic groups; your membership is {member_status}.",
                member_status=member.status,
            ),
            reason="status",
        )
    mute = open_mute(member.id, at)
    if mute is not None:
        end = (
            f"until {mute.until:%Y-%m-%d %H:%M} UTC"
            if mute.until
            else "until a community manager lifts it"
        )
        raise Forbidden(
            _(
                "You are muted in topic groups {end}: {mute_reason}",
                end=end,
                mute_reason=mute.reason,
            ),
            reason="muted",
        )
    if new and rules.posts_per_member_hour:
        written = db.session.scalar(
            select(func.count())
            .select_from(TopicPost)
            .where(
                TopicPost.author_user_id == viewer.user_id,
                TopicPost.created_at > at - timedelta(hours=1),
            )
        )
        if written >= rules.posts_per_member_hour:
            raise PostingRateLimited(
                _(
                    "At most {rules_posts_per_member_hour} posts an hour; try again later.",
                    rules_posts_per_member_hour=rules.posts_per_member_hour,
                )
            )
