"""The daily review of mentors: whoever has live mentorships but opted out, is away for longer
than mentor_away_reassign_days, or is no longer eligible has them released (each mentee is
assigned again). One query finds them; each mentor's release is its own transaction."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from crowd.core.db import commit, utcnow
from crowd.extensions import db
from members.models import Member, MemberStats
from mentoring.config import programme_rules
from mentoring.mentors.eligibility import eligible_condition
from mentoring.mentors.lifecycle import release_mentees
from mentoring.models import MentorProfile, Mentorship
from mentoring.programmes import LIVE_STATUSES

REASONS = {
    "opted_out": "The mentor left the programme",
    "away": "The mentor is away for a long time",
    "ineligible": "The mentor no longer meets the mentor requirements",
}


def mentors_to_release() -> dict[int, str]:
    """mentor id → why (opted_out, away, ineligible), for mentors with live mentorships."""
    horizon = utcnow() + timedelta(days=programme_rules().mentor_away_reassign_days)
    live = select(Mentorship.mentor_id).where(Mentorship.status.in_(LIVE_STATUSES)).distinct()
    rows = db.session.execute(
        select(
            Member.id,
            MentorProfile.opted_in,
            MentorProfile.away_until,
            eligible_condition().label("eligible"),
        )
        .outerjoin(MentorProfile, MentorProfile.member_id == Member.id)
        .outerjoin(MemberStats, MemberStats.member_id == Member.id)
        .where(Member.id.in_(live))
    ).all()
    found = {}
    for member_id, opted_in, away_until, eligible in rows:
        if not opted_in:
            found[member_id] = "opted_out"
        elif away_until is not None and away_until > horizon:
            found[member_id] = "away"
        elif not eligible:
            found[member_id] = "ineligible"
    return found


def review_mentors() -> dict:
    """Release the mentees of every mentor who should not mentor any more (commits per mentor)."""
    found = mentors_to_release()
    released = 0
    for mentor_id, why in sorted(found.items()):
        released += release_mentees(mentor_id, reason=REASONS[why])
        commit()
    return {"mentors": len(found), "released": released}
