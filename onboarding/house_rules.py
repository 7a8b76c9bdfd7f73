"""House rules: admins publish numbered versions, members accept the newest one.

A new version asks everyone again: the checklist's house_rules step is done only for the
newest version, and every active or paused member is told about it by a background task
that walks the crowd in batches of members (each batch enqueues the next), so a big crowd
never makes one long transaction. Re-running a batch notifies nobody twice (the
notifications are keyed by version and member).
"""

from __future__ import annotations

from sqlalchemy import func, select

from crowd.core.auth import Principal
from crowd.core.background import enqueue
from crowd.core.errors import Forbidden, NotFound
from crowd.core.i18n import _, _l
from crowd.core.pagination import paginate
from crowd.extensions import db
from members.access import own_member
from members.models import Member
from notifications.service import notify_many
from onboarding.errors import HouseRulesOutdated
from onboarding.models import HouseRulesAcceptance, HouseRulesVersion

NOTIFY_BATCH = 500
NOTIFIED_STATUSES = ("active", "paused")


def current_version() -> HouseRulesVersion | None:
    """The newest published version, if any."""
    return db.session.scalar(
        select(HouseRulesVersion).order_by(HouseRulesVersion.version.desc()).limit(1)
    )


def get_current() -> HouseRulesVersion:
    """The version members have to accept now."""
    current = current_version()
    if current is None:
        raise NotFound(_("No house rules have been published yet."))
    return current


def list_versions(*, actor: Principal, limit: int | None = None, cursor: str | None = None):
    """Every published version, newest first."""
    if not actor.is_staff:
        raise Forbidden(_("Only community managers and admins see the history."))
    query = select(HouseRulesVersion)
    return paginate(
        query,
        {"limit": limit, "cursor": cursor},
        order=[HouseRulesVersion.version],
        descending=True,
    )


def publish(
    *, actor: Principal, title: str, body: str, summary_of_changes: str | None = None
) -> HouseRulesVersion:
    """Publish the next version and have every active or paused member told about it."""
    if actor.role != "admin":
        raise Forbidden(_("Only admins publish house rules."))
    # Concurrent publishers queue up on the newest version's row; the number is read after
    # the wait, so each gets its own. (The very first two race on the unique version: 409.)
    db.session.scalar(
        select(HouseRulesVersion.id)
        .order_by(HouseRulesVersion.version.desc())
        .limit(1)
        .with_for_update(key_share=True)
    )
    last = db.session.scalar(select(func.max(HouseRulesVersion.version))) or 0
    version = HouseRulesVersion(
        version=last + 1,
        title=title,
        body=body,
        summary_of_changes=summary_of_changes,
        published_by_id=actor.user_id,
    )
    db.session.add(version)
    db.session.flush()
    _enqueue_batch(version.id, after_member_id=0, batch=NOTIFY_BATCH)
    return version


def _enqueue_batch(version_id: int, *, after_member_id: int, batch: int) -> None:
    enqueue(
        "onboarding.notify_house_rules",
        dedupe_key=f"onboarding.notify_house_rules:{version_id}:{after_member_id}",
        version_id=version_id,
        after_member_id=after_member_id,
        batch=batch,
    )


def notify_batch(*, version_id: int, after_member_id: int, batch: int = NOTIFY_BATCH) -> int:
    """Tell the next `batch` active or paused members (by id) about a version; queue the rest.

    A version superseded meanwhile is not announced further: the newer one's run does it.
    """
    version = db.session.get(HouseRulesVersion, version_id)
    current = current_version()
    if version is None or current is None or current.id != version.id:
        return 0
    members = db.session.execute(
        select(Member.id, Member.user_id)
        .where(Member.status.in_(NOTIFIED_STATUSES), Member.id > after_member_id)
        .order_by(Member.id)
        .limit(batch)
    ).all()
    event = f"onboarding.house_rules:{version.version}"
    notify_many(
        "onboarding.house_rules",
        _l(
            "New house rules (version {version_version}) await your acceptance",
            version_version=version.version,
        ),
        version.summary_of_changes or version.title,
        recipients=[
            (user_id, f"{event}:{member_id}", {"version": version.version})
            for member_id, user_id in members
        ],
    )
    if len(members) == batch:
        _enqueue_batch(version.id, after_member_id=members[-1].id, batch=batch)
    return len(members)


# --- the member's side ----------------------------------------------------------------------


def _standing(member: Member, current: HouseRulesVersion) -> dict:
    acceptance = db.session.get(HouseRulesAcceptance, (member.id, current.id))
    return {
        "rules": current,
        "accepted": acceptance is not None,
        "accepted_at": acceptance.accepted_at if acceptance else None,
    }


def own_house_rules(*, actor: Principal) -> dict:
    """The current version and whether the member has accepted it."""
    return _standing(own_member(actor), get_current())


def accept(*, actor: Principal, version: int) -> dict:
    """Accept the current version; accepting it again changes nothing."""
    # The member row lock makes a double tap insert one acceptance.
    member = own_member(actor, lock=True)
    current = get_current()
    if version != current.version:
        raise HouseRulesOutdated(
            _(
                "Version {version} is not the current house rules; read "
                "version {current_version} and accept that.",
                version=version,
                current_version=current.version,
            ),
            state="outdated",
            current_version=current.version,
        )
    if db.session.get(HouseRulesAcceptance, (member.id, current.id)) is None:
        db.session.add(HouseRulesAcceptance(member_id=member.id, version_id=current.id))
        db.session.flush()
    return _standing(member, current)
