"""Topic groups: staff create, edit and archive them; members discover, join and leave them.

A group is about a skill, a region or a programme (`kind`); the fields of its kind say who
qualifies (community.qualification). Fields of another kind are refused (422 naming
the field), so a group never carries a rule that is silently ignored. The kind itself is
fixed once the group exists. `member_count` is kept exact: joins and leaves lock the group
row and count under the lock.
"""

from __future__ import annotations

from sqlalchemy import false, or_, select

from community.access import (
    Viewer,
    is_active_mentor,
    is_group_member,
    load_group,
    require_live,
    require_staff,
    viewer_of,
    visible_group,
)
from community.errors import GroupSlugTaken
from community.models import GroupMembership, TopicGroup
from community.moderation import log_action
from community.qualification import (
    belongs,
    failed_rules,
    flags,
    groups_with_member,
    qualifies,
    refusal,
)
from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import Forbidden, field_error
from crowd.core.i18n import _
from crowd.core.pagination import paginate
from crowd.extensions import db
from members.models import Skill

# The fields that say who qualifies, by kind; the first one is required for its kind.
KIND_FIELDS = {
    "skill": ("skill_id", "requires_verified_skill"),
    "region": ("country", "postcode_prefix", "city"),
    "programme": ("programme",),
}
# Longest postcode prefix per country: the length of its postcodes.
POSTCODE_LENGTHS = {"DE": 5, "AT": 4, "CH": 4}


def group_views(groups: list[TopicGroup], viewer: Viewer) -> list[dict]:
    """Groups as the API shows them, with the caller's `joined`, `qualifies` (null for staff,
    who belong to no group) and `can_moderate`; a few queries for a whole page."""
    skill_ids = {g.skill_id for g in groups if g.skill_id}
    slugs = dict(
        db.session.execute(select(Skill.id, Skill.slug).where(Skill.id.in_(skill_ids))).all()
        if skill_ids
        else []
    )
    known = {} if viewer.staff else flags(viewer.member_id, [g.id for g in groups])
    mentor = not viewer.staff and is_active_mentor(viewer)
    views = []
    for group in groups:
        view = {column.key: getattr(group, column.key) for column in TopicGroup.__table__.columns}
        view["skill_slug"] = slugs.get(group.skill_id)
        if viewer.staff:
            view.update(joined=None, qualifies=None, can_moderate=True)
        else:
            joined, fits = known[group.id]
            view.update(joined=joined, qualifies=fits, can_moderate=joined and mentor)
        views.append(view)
    return views


def group_view(group: TopicGroup, viewer: Viewer) -> dict:
    return group_views([group], viewer)[0]


def _check_rules(values: dict) -> None:
    """The qualification fields fit the kind: its required field set, no other kind's set."""
    kind = values["kind"]
    for other, names in KIND_FIELDS.items():
        for name in names:
            if other != kind and values.get(name):
                raise field_error(
                    name,
                    _(
                        "only for {other} groups; this one is a {kind} group",
                        other=other,
                        kind=kind,
                    ),
                )
    required = KIND_FIELDS[kind][0]
    if values.get(required) is None:
        raise field_error(required, _("required for a {kind} group", kind=kind))
    if kind == "skill" and db.session.get(Skill, values["skill_id"]) is None:
        raise field_error("skill_id", _("no such skill"))
    prefix = values.get("postcode_prefix")
    if kind == "region" and prefix and len(prefix) > POSTCODE_LENGTHS[values["country"]]:
        raise field_error(
            "postcode_prefix",
            _(
                "longer than a postcode in {value} ({value2} digits)",
                value=values["country"],
                value2=POSTCODE_LENGTHS[values["country"]],
            ),
        )


def _check_slug_free(slug: str) -> None:
    if db.session.scalar(select(TopicGroup.id).where(TopicGroup.slug == slug)) is not None:
        raise GroupSlugTaken(
            _("A topic group with slug {slug!r} exists already.", slug=slug), state="exists"
        )


def create_group(*, actor: Principal, **fields) -> dict:
    """A new group (staff): the kind's qualification field is required, others refused."""
    viewer = viewer_of(actor)
    require_staff(viewer)
    _check_rules(fields)
    _check_slug_free(fields["slug"])
    group = TopicGroup(**fields, created_by_id=actor.user_id, member_count=0)
    db.session.add(group)
    db.session.flush()
    return group_view(group, viewer)


def update_group(*, actor: Principal, group_id: int, **changes) -> dict:
    """Edit a live group (staff). New rules apply to joins from now on; members stay."""
    viewer = viewer_of(actor)
    require_staff(viewer)
    group = load_group(group_id, lock=True)
    require_live(group)
    current = {column.key: getattr(group, column.key) for column in TopicGroup.__table__.columns}
    _check_rules({**current, **changes})
    if "slug" in changes and changes["slug"] != group.slug:
        _check_slug_free(changes["slug"])
    for name, value in changes.items():
        setattr(group, name, value)
    db.session.flush()
    return group_view(group, viewer)


def archive_group(*, actor: Principal, group_id: int, reason: str | None = None) -> dict:
    """Archive a group (staff): read-only from now on, hidden from discovery; logged."""
    viewer = viewer_of(actor)
    require_staff(viewer)
    group = load_group(group_id, lock=True)
    require_live(group)
    group.archived_at = utcnow()
    log_action(None, "archive_group", actor_user_id=actor.user_id, reason=reason, group_id=group.id)
    return group_view(group, viewer)


def get_group(*, actor: Principal, group_id: int) -> dict:
    """One group the caller may see (404 otherwise)."""
    viewer = viewer_of(actor)
    return group_view(visible_group(viewer, group_id), viewer)


def list_groups(
    *,
    actor: Principal,
    kind: str | None = None,
    archived: bool | None = None,
    joined: bool | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict:
    """Groups by name. Staff: all. Members: the groups they belong to and the live ones they
    qualify for, each with `joined` and `qualifies`."""
    viewer = viewer_of(actor)
    if viewer.staff:
        query = select(TopicGroup)
        if joined:
            query = query.where(false())  # staff belong to no group
    else:
        mine = belongs(viewer.member_id)
        query = groups_with_member(viewer.member_id).where(
            or_(mine, TopicGroup.archived_at.is_(None) & qualifies())
        )
        if joined is not None:
            query = query.where(mine if joined else ~mine)
    if kind:
        query = query.where(TopicGroup.kind == kind)
    if archived is not None:
        archived_at = TopicGroup.archived_at
        query = query.where(archived_at.is_not(None) if archived else archived_at.is_(None))
    page = paginate(
        query, {"limit": limit, "cursor": cursor}, order=[TopicGroup.name, TopicGroup.id]
    )
    page["items"] = group_views(page["items"], viewer)
    return page


def join_group(*, actor: Principal, group_id: int) -> dict:
    """Join a live group you qualify for (403 naming the rule you fail); joining again
    changes nothing. The group row is locked so that member_count stays exact."""
    viewer = viewer_of(actor)
    group = load_group(group_id, lock=True)
    if is_group_member(group.id, viewer.member_id):
        return group_view(group, viewer)
    require_live(group)
    failed = failed_rules(group.id, viewer.member_id)
    if failed:
        raise Forbidden(refusal(group, viewer.member, failed[0]), reason=failed[0])
    db.session.add(GroupMembership(group_id=group.id, member_id=viewer.member_id))
    group.member_count += 1
    db.session.flush()
    return group_view(group, viewer)


def leave_group(*, actor: Principal, group_id: int) -> dict:
    """Leave a group (also an archived one); leaving one you are not in changes nothing."""
    viewer = viewer_of(actor)
    group = visible_group(viewer, group_id, lock=True)
    membership = db.session.get(GroupMembership, (group.id, viewer.member_id))
    if membership is not None:
        db.session.delete(membership)
        group.member_count -= 1
        db.session.flush()
    return group_view(group, viewer)
