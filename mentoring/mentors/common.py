"""Small shared pieces of the mentor programme: whose member profile, staff checks, currency,
and how a mentorship is presented."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.errors import Forbidden
from crowd.core.i18n import _
from crowd.extensions import db
from members.models import Member
from mentoring.models import Mentorship


def require_staff(actor: Principal) -> None:
    if not actor.is_staff:
        raise Forbidden(_("Only community managers and admins may do this."))


def currency_of(member: Member) -> str:
    """The currency a member is paid in: CHF in Switzerland, else EUR."""
    return "CHF" if member.country == "CH" else "EUR"


def display_names(member_ids: Sequence[int]) -> dict[int, tuple[str, int]]:
    """member id → (display name, user id), one query."""
    rows = db.session.execute(
        select(Member.id, Member.display_name, Member.user_id).where(
            Member.id.in_(list(set(member_ids)))
        )
    )
    return {member_id: (name, user_id) for member_id, name, user_id in rows}


def present_mentorships(mentorships: Sequence[Mentorship]) -> list[dict]:
    """Mentorships as the API shows them, with both parties' display names (one query)."""
    ids = [m.mentor_id for m in mentorships] + [m.mentee_id for m in mentorships]
    names = display_names(ids) if ids else {}
    return [
        {
            "id": m.id,
            "status": m.status,
            "origin": m.origin,
            "mentor": {"member_id": m.mentor_id, "display_name": names[m.mentor_id][0]},
            "mentee": {"member_id": m.mentee_id, "display_name": names[m.mentee_id][0]},
            "match_details": m.match_details,
            "created_at": m.created_at,
            "accepted_at": m.accepted_at,
            "ended_at": m.ended_at,
            "end_reason": m.end_reason,
            "graduated_at": m.graduated_at,
            "graduation_cause": m.graduation_cause,
            "reward_transaction_id": m.reward_transaction_id,
        }
        for m in mentorships
    ]


def present_mentorship(mentorship: Mentorship) -> dict:
    return present_mentorships([mentorship])[0]
