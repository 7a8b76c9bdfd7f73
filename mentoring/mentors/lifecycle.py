"""The mentorship state machine as data, and the moves along it.

    proposed ──accept (mentor)──▶ active ──graduate (system, staff)──▶ graduated
        │                           │
        ├─decline (mentor)──▶ ended ◀─end (mentor, mentee, staff)
        ├─end (mentee, staff)─▶ ended
        └─release (system: the mentor opted out, is away long, or became ineligible) ─▶ ended

Decisions: the mentor accepts (the mentee was told at the proposal and may end it instead).
When the MENTOR declines or ends, or the mentorship is released, the mentee is assigned again
automatically (task mentoring.assign_mentor); when the mentee or a community manager ends it,
the mentee waits in the CMs' unmatched list — a person chose, so a person picks next.
A mentee graduates when the figures say so (system, mentoring.mentors.graduation) or when a
community manager judges them ready (staff); either way the mentor's reward is paid once.
Every move locks the mentorship row first: concurrent moves run one after the other and the
loser gets a 409 with the state the winner left. `move` is the one place the status changes:
it stamps the time and emits `mentorship.<new state>` (crowd.core.events).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from crowd.core.auth import Principal
from crowd.core.background import enqueue
from crowd.core.db import utcnow
from crowd.core.errors import Forbidden, NotFound
from crowd.core.events import declare, emit_transition
from crowd.core.i18n import _, _l
from crowd.core.pagination import paginate
from crowd.extensions import db
from members.models import Member
from mentoring.errors import MentorshipStateConflict
from mentoring.mentors.common import (
    display_names,
    present_mentorship,
    present_mentorships,
    require_staff,
)
from mentoring.models import Mentorship
from mentoring.programmes import LIVE_STATUSES, queue_graduation_check
from notifications.service import notify

TRANSITIONS: dict[tuple[str, str, str], str] = {
    ("proposed", "accept", "mentor"): "active",
    ("proposed", "decline", "mentor"): "ended",
    ("proposed", "end", "mentee"): "ended",
    ("proposed", "end", "staff"): "ended",
    ("active", "end", "mentor"): "ended",
    ("active", "end", "mentee"): "ended",
    ("active", "end", "staff"): "ended",
    ("proposed", "release", "system"): "ended",
    ("active", "release", "system"): "ended",
    ("active", "graduate", "system"): "graduated",
    ("active", "graduate", "staff"): "graduated",
}
# The moment a mentorship reached a state, stamped by move().
STAMPS = {"active": "accepted_at", "ended": "ended_at", "graduated": "graduated_at"}

declare(*{f"mentorship.{state}" for state in TRANSITIONS.values()})


def move(
    mentorship: Mentorship,
    action: str,
    role: str,
    *,
    actor_id: int | None = None,
    changes: dict[str, Any] | None = None,
) -> str:
    """Apply `action` by `role` (the row is locked): 403 if the role never may, 409 if not now.

    Sets the status, its time stamp and `changes` (the end reason …), then emits
    `mentorship.<new state>` with the mentorship as it now is."""
    target = TRANSITIONS.get((mentorship.status, action, role))
    if target is None:
        if not any(a == action and r == role for (_, a, r) in TRANSITIONS):
            raise Forbidden(
                _("As the {role} you cannot {action} this mentorship.", role=role, action=action)
            )
        raise MentorshipStateConflict(
            _(
                "Cannot {action} a mentorship that is {mentorship_status}.",
                action=action,
                mentorship_status=mentorship.status,
            ),
            state=mentorship.status,
        )
    before, now = mentorship.status, utcnow()
    mentorship.status = target
    setattr(mentorship, STAMPS[target], now)
    for column, value in (changes or {}).items():
        setattr(mentorship, column, value)
    emit_transition(
        "mentorship",
        mentorship.id,
        action=action,
        was=before,
        now=target,
        actor=actor_id,
        occurred_at=now,
        by=role,
        mentor_id=mentorship.mentor_id,
        mentee_id=mentorship.mentee_id,
    )
    return target


# --- loading --------------------------------------------------------------------------------


def mentorship_for(actor: Principal, mentorship_id: int, *, lock: bool = False):
    """(the mentorship, the actor's role in it: mentor, mentee or staff); others get 404."""
    query = select(Mentorship).where(Mentorship.id == mentorship_id)
    if lock:
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    mentorship = db.session.scalar(query)
    if mentorship is not None:
        if actor.is_staff:
            return mentorship, "staff"
        member_id = actor.member_id
        if member_id == mentorship.mentor_id:
            return mentorship, "mentor"
        if member_id == mentorship.mentee_id:
            return mentorship, "mentee"
    raise NotFound(_("No such mentorship."))


def _notify(mentorship: Mentorship, member_ids, kind: str, title: str, body: str) -> None:
    names = display_names(member_ids)
    for member_id in member_ids:
        notify(
            names[member_id][1],
            kind,
            title,
            body,
            dedupe_key=f"{kind}:{mentorship.id}:{member_id}",
            mentorship_id=mentorship.id,
        )


def _reassign(mentee_id: int) -> None:
    enqueue("mentoring.assign_mentor", mentee_id=mentee_id)


# --- moves ----------------------------------------------------------------------------------


def accept(*, actor: Principal, mentorship_id: int) -> dict:
    """The mentor takes on the proposed mentee."""
    mentorship, role = mentorship_for(actor, mentorship_id, lock=True)
    move(mentorship, "accept", role, actor_id=actor.user_id)
    db.session.flush()
    mentor = display_names([mentorship.mentor_id])[mentorship.mentor_id][0]
    _notify(
        mentorship,
        [mentorship.mentee_id],
        "mentoring.accepted",
        _l("Your mentor is on board"),
        _l("{mentor} accepted to mentor you. Say hello!", mentor=mentor),
    )
    # The mentee may have reached the graduation figures while the proposal waited.
    queue_graduation_check(mentorship.mentee_id)
    return present_mentorship(mentorship)


def _ended(reason: str) -> dict:
    return {"end_reason": reason[:500]}


def decline(*, actor: Principal, mentorship_id: int, reason: str) -> dict:
    """The mentor turns a proposal down; the mentee is matched with someone else."""
    mentorship, role = mentorship_for(actor, mentorship_id, lock=True)
    move(
        mentorship,
        "decline",
        role,
        actor_id=actor.user_id,
        changes=_ended(f"declined by the mentor: {reason}"),
    )
    db.session.flush()
    _notify(
        mentorship,
        [mentorship.mentee_id],
        "mentoring.declined",
        _l("We are finding you another mentor"),
        _l("The proposed mentor cannot take you on right now."),
    )
    _reassign(mentorship.mentee_id)
    return present_mentorship(mentorship)


def end(*, actor: Principal, mentorship_id: int, reason: str) -> dict:
    """Either party or a community manager ends a mentorship, with a reason."""
    mentorship, role = mentorship_for(actor, mentorship_id, lock=True)
    move(
        mentorship,
        "end",
        role,
        actor_id=actor.user_id,
        changes=_ended(f"ended by the {role}: {reason}"),
    )
    db.session.flush()
    others = {"mentor": [mentorship.mentee_id], "mentee": [mentorship.mentor_id]}
    _notify(
        mentorship,
        others.get(role, [mentorship.mentor_id, mentorship.mentee_id]),
        "mentoring.ended",
        _l("A mentorship ended"),
        reason,
    )
    if role == "mentor":
        _reassign(mentorship.mentee_id)
    return present_mentorship(mentorship)


def release_mentees(mentor_id: int, *, reason: str) -> int:
    """End the mentor's live mentorships (they left, are away long or became ineligible) and
    assign each mentee again. Returns how many were released."""
    live = db.session.scalars(
        select(Mentorship)
        .where(Mentorship.mentor_id == mentor_id, Mentorship.status.in_(LIVE_STATUSES))
        .order_by(Mentorship.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).all()
    for mentorship in live:
        move(mentorship, "release", "system", changes=_ended(reason))
        db.session.flush()
        _notify(
            mentorship,
            [mentorship.mentee_id, mentorship.mentor_id],
            "mentoring.released",
            _l("A mentorship ended"),
            _l("{reason}. The mentee gets a new mentor.", reason=reason),
        )
        _reassign(mentorship.mentee_id)
    return len(live)


# --- reading --------------------------------------------------------------------------------


def get_mentorship(*, actor: Principal, mentorship_id: int) -> dict:
    return present_mentorship(mentorship_for(actor, mentorship_id)[0])


def _page(query, args: dict) -> dict:
    page = paginate(query, args, order=[Mentorship.id], descending=True)
    return {"items": present_mentorships(page["items"]), "page": page["page"]}


def my_mentorships(
    *, actor: Principal, status: str | None = None, role: str | None = None, **args
) -> dict:
    """The acting member's mentorships, as mentor or mentee (or both), newest first."""
    member_id = actor.member_id
    if member_id is None:
        raise NotFound(_("You have no crowd member profile."))
    sides = {"mentor": [Mentorship.mentor_id], "mentee": [Mentorship.mentee_id]}
    columns = sides.get(role, [Mentorship.mentor_id, Mentorship.mentee_id])
    query = select(Mentorship).where(or_(*[column == member_id for column in columns]))
    if status:
        query = query.where(Mentorship.status == status)
    return _page(query, args)


def list_mentorships(
    *,
    actor: Principal,
    status: str | None = None,
    mentor_id: int | None = None,
    mentee_id: int | None = None,
    **args,
) -> dict:
    """Every mentorship for staff, filtered by status, mentor and mentee."""
    require_staff(actor)
    return _page(_filtered(select(Mentorship), status, mentor_id, mentee_id), args)


def _filtered(query, status: str | None, mentor_id: int | None, mentee_id: int | None):
    if status:
        query = query.where(Mentorship.status == status)
    if mentor_id:
        query = query.where(Mentorship.mentor_id == mentor_id)
    if mentee_id:
        query = query.where(Mentorship.mentee_id == mentee_id)
    return query


EXPORT_COLUMNS = (
    "id", "status", "origin", "mentor_id", "mentor", "mentee_id", "mentee", "created_at",
    "accepted_at", "ended_at", "end_reason", "graduated_at", "graduation_cause",
)  # fmt: skip


def export_query(
    *,
    actor: Principal,
    status: str | None = None,
    mentor_id: int | None = None,
    mentee_id: int | None = None,
):
    """The SELECT behind a CSV of mentorships (EXPORT_COLUMNS, newest first), with the same
    filters as list_mentorships; read in batches by the caller."""
    require_staff(actor)
    mentor, mentee = aliased(Member), aliased(Member)
    query = (
        select(
            Mentorship.id,
            Mentorship.status,
            Mentorship.origin,
            Mentorship.mentor_id,
            mentor.display_name,
            Mentorship.mentee_id,
            mentee.display_name,
            Mentorship.created_at,
            Mentorship.accepted_at,
            Mentorship.ended_at,
            Mentorship.end_reason,
            Mentorship.graduated_at,
            Mentorship.graduation_cause,
        )  # fmt: skip
        .join(mentor, mentor.id == Mentorship.mentor_id)
        .join(mentee, mentee.id == Mentorship.mentee_id)
        .order_by(Mentorship.id.desc())
    )
    return _filtered(query, status, mentor_id, mentee_id)
