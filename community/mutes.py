"""Community mutes: a community manager stops a member from posting in topic groups.

A mute has a reason and optionally an end (`until`, in the future); without one it holds
until lifted. A member has at most one mute in force (a second: 409 `muted`); the member row
is locked while that is checked. Muted members still read their groups and may report posts.
The member is told of the mute and of its lifting; both are in the moderation log (without a
group).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from community.access import open_mute, require_staff, viewer_of
from community.errors import AlreadyMuted, MuteEnded, MuteLifted
from community.models import CommunityMute
from community.moderation import log_action
from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import NotFound, field_error
from crowd.core.i18n import _, _l
from crowd.core.pagination import paginate
from crowd.extensions import db
from members.models import Member
from notifications.service import notify


def mute_view(mute: CommunityMute, display_name: str | None, at: datetime) -> dict:
    view = {column.key: getattr(mute, column.key) for column in CommunityMute.__table__.columns}
    view["display_name"] = display_name
    view["active"] = mute.lifted_at is None and (mute.until is None or mute.until > at)
    return view


def _names(member_ids: set[int]) -> dict[int, str]:
    rows = db.session.execute(
        select(Member.id, Member.display_name).where(Member.id.in_(member_ids))
    )
    return dict(rows.all())


def mute_member(
    *, actor: Principal, member_id: int, reason: str, until: datetime | None = None
) -> dict:
    """Mute a member in every topic group until `until` (or until lifted)."""
    require_staff(viewer_of(actor))
    now = utcnow()
    if until is not None and until <= now:
        raise field_error("until", _("must be in the future"))
    member = db.session.scalar(
        select(Member)
        .where(Member.id == member_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if member is None:
        raise NotFound(_("No such member."))
    if open_mute(member.id, now) is not None:
        raise AlreadyMuted(_("The member is muted already; lift that mute first."), state="muted")
    mute = CommunityMute(
        member_id=member.id, reason=reason, until=until, created_by_id=actor.user_id
    )
    db.session.add(mute)
    db.session.flush()
    log_action(None, "mute", actor_user_id=actor.user_id, reason=reason, member_id=member.id)
    end = f"until {until:%Y-%m-%d %H:%M} UTC" if until else "until a community manager lifts it"
    notify(
        member.user_id,
        "community.muted",
        _l("You are muted in topic groups"),
        _l("You cannot post in topic groups {end}: {reason}", end=end, reason=reason),
        dedupe_key=f"community-mute:{mute.id}",
        mute_id=mute.id,
    )
    return mute_view(mute, member.display_name, now)


def lift_mute(*, actor: Principal, mute_id: int) -> dict:
    """Lift a mute in force; one lifted or past its end already is a 409."""
    require_staff(viewer_of(actor))
    mute = db.session.scalar(
        select(CommunityMute)
        .where(CommunityMute.id == mute_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if mute is None:
        raise NotFound(_("No such mute."))
    now = utcnow()
    if mute.lifted_at is not None:
        raise MuteLifted(_("The mute was lifted already."), state="lifted")
    if mute.until is not None and mute.until <= now:
        raise MuteEnded(_("The mute has ended already."), state="ended")
    mute.lifted_at, mute.lifted_by_id = now, actor.user_id
    log_action(None, "unmute", actor_user_id=actor.user_id, member_id=mute.member_id)
    member = db.session.get(Member, mute.member_id)
    notify(
        member.user_id,
        "community.unmuted",
        _l("You can post in topic groups again"),
        _l("A community manager lifted your mute."),
        dedupe_key=f"community-mute:{mute.id}:lifted",
        mute_id=mute.id,
    )
    db.session.flush()
    return mute_view(mute, member.display_name, now)


def list_mutes(
    *,
    actor: Principal,
    active: bool | None = None,
    member_id: int | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict:
    """Mutes, newest first; `active` keeps those in force (true) or not (false)."""
    require_staff(viewer_of(actor))
    now = utcnow()
    query = select(CommunityMute)
    if member_id is not None:
        query = query.where(CommunityMute.member_id == member_id)
    in_force = CommunityMute.lifted_at.is_(None) & or_(
        CommunityMute.until.is_(None), CommunityMute.until > now
    )
    if active is not None:
        query = query.where(in_force if active else ~in_force)
    page = paginate(
        query, {"limit": limit, "cursor": cursor}, order=[CommunityMute.id], descending=True
    )
    names = _names({m.member_id for m in page["items"]})
    page["items"] = [mute_view(m, names.get(m.member_id), now) for m in page["items"]]
    return page
