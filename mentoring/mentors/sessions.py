"""Mentorship sessions (call, chat, ride-along), the mentee's feedback, and shadowing a job.

Who sees what: the mentor's notes are for the mentor and staff (the mentee sees null); the
mentee's feedback and rating are seen by both parties and staff. Anyone else gets 404.
Sessions are logged by the mentor on an active mentorship (or by a community manager on the
mentor's behalf, e.g. from the console after a call they joined); feedback is given once per
session by the mentee (a second time: 409).

Shadowing: the mentor (or staff on their behalf) attaches the mentee to one of the mentor's own
jobs that is not done yet (assigned or in progress) — a `shadow` session with the job id, once
per job (the partial unique index backs it). The job's customer is told and sees who shadows on
GET /jobs/{id}/shadows (so is the mentor, the mentee and staff; anyone else gets 404).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import Forbidden, NotFound, field_error
from crowd.core.i18n import _, _l
from crowd.extensions import db
from customers.models import Customer
from jobs.matching.facts import ACTIVE_JOB_STATUSES
from jobs.models import Job
from mentoring.errors import (
    AlreadyShadowing,
    FeedbackAlreadyGiven,
    MentorshipNotActive,
    TooLateToShadow,
)
from mentoring.mentors.common import display_names
from mentoring.mentors.lifecycle import mentorship_for
from mentoring.models import Mentorship, MentorshipSession
from notifications.service import notify


def present(session: MentorshipSession, role: str) -> dict:
    return {
        "id": session.id,
        "mentorship_id": session.mentorship_id,
        "kind": session.kind,
        "occurred_at": session.occurred_at,
        "duration_minutes": session.duration_minutes,
        "job_id": session.job_id,
        "mentor_notes": session.mentor_notes if role in ("mentor", "staff") else None,
        "mentee_feedback": session.mentee_feedback,
        "mentee_rating": session.mentee_rating,
        "created_at": session.created_at,
    }


def _active_as_mentor(actor: Principal, mentorship_id: int) -> tuple[Mentorship, str]:
    """The mentorship (locked) and the role acting for its mentor: the mentor, or staff."""
    # Locked: a session is only logged on a mentorship that stays active meanwhile.
    mentorship, role = mentorship_for(actor, mentorship_id, lock=True)
    if role not in ("mentor", "staff"):
        raise Forbidden(_("Only the mentor logs sessions."))
    if mentorship.status != "active":
        raise MentorshipNotActive(
            _(
                "The mentorship is {mentorship_status}, not active.",
                mentorship_status=mentorship.status,
            ),
            state=mentorship.status,
        )
    return mentorship, role


def log_session(
    *,
    actor: Principal,
    mentorship_id: int,
    kind: str,
    occurred_at: datetime,
    duration_minutes: int | None = None,
    mentor_notes: str | None = None,
) -> dict:
    """The mentor (or staff for them) logs a call, chat or ride-along that took place."""
    mentorship, role = _active_as_mentor(actor, mentorship_id)
    if occurred_at > utcnow():
        raise field_error("occurred_at", _("must not be in the future"))
    session = MentorshipSession(
        mentorship_id=mentorship.id,
        kind=kind,
        occurred_at=occurred_at,
        duration_minutes=duration_minutes,
        mentor_notes=mentor_notes,
        logged_by_id=actor.user_id,
    )
    db.session.add(session)
    db.session.flush()
    return present(session, role)


def give_feedback(
    *, actor: Principal, mentorship_id: int, session_id: int, feedback: str, rating: int
) -> dict:
    """The mentee's feedback and rating (1–5) on one session, once."""
    mentorship, role = mentorship_for(actor, mentorship_id)
    session = db.session.scalar(
        select(MentorshipSession)
        .where(
            MentorshipSession.id == session_id,
            MentorshipSession.mentorship_id == mentorship.id,
        )
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if session is None:
        raise NotFound(_("No such session."))
    if role != "mentee":
        raise Forbidden(_("Only the mentee gives feedback on a session."))
    if session.mentee_rating is not None:
        raise FeedbackAlreadyGiven(
            _("You gave feedback on this session already."), state="has_feedback"
        )
    session.mentee_feedback, session.mentee_rating = feedback, rating
    db.session.flush()
    return present(session, role)


def list_sessions(*, actor: Principal, mentorship_id: int) -> dict:
    """A mentorship's sessions, newest first, as the actor may see them."""
    mentorship, role = mentorship_for(actor, mentorship_id)
    sessions = db.session.scalars(
        select(MentorshipSession)
        .where(MentorshipSession.mentorship_id == mentorship.id)
        .order_by(MentorshipSession.occurred_at.desc(), MentorshipSession.id.desc())
    )
    return {"items": [present(session, role) for session in sessions]}


# --- shadowing a job ------------------------------------------------------------------------


def shadow(*, actor: Principal, mentorship_id: int, job_id: int) -> dict:
    """Attach the mentee to one of the mentor's own jobs that is assigned or in progress."""
    mentorship, role = _active_as_mentor(actor, mentorship_id)
    job = db.session.scalar(
        select(Job)
        .where(Job.id == job_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if job is None or job.assigned_member_id != mentorship.mentor_id:
        raise NotFound(_("No such job of yours."))
    if job.status not in ACTIVE_JOB_STATUSES:
        raise TooLateToShadow(
            _("The job is {job_status}: too late to shadow it.", job_status=job.status),
            state=job.status,
        )
    taken = select(MentorshipSession.id).where(
        MentorshipSession.mentorship_id == mentorship.id, MentorshipSession.job_id == job.id
    )
    if db.session.scalar(taken) is not None:
        raise AlreadyShadowing(_("The mentee shadows this job already."), state="shadowing")
    session = MentorshipSession(
        mentorship_id=mentorship.id,
        kind="shadow",
        occurred_at=job.scheduled_start or utcnow(),
        duration_minutes=job.duration_minutes,
        job_id=job.id,
        logged_by_id=actor.user_id,
    )
    db.session.add(session)
    db.session.flush()
    names = display_names([mentorship.mentor_id, mentorship.mentee_id])
    customer_user = db.session.scalar(
        select(Customer.user_id).where(Customer.id == job.customer_id)
    )
    notify(
        customer_user,
        "job.shadowed",
        _l("A trainee joins your appointment"),
        _l(
            "{value} accompanies {value2} on “{job_title}” to learn the trade.",
            value=names[mentorship.mentee_id][0],
            value2=names[mentorship.mentor_id][0],
            job_title=job.title,
        ),
        dedupe_key=f"job.shadowed:{session.id}",
        job_id=job.id,
    )
    notify(
        names[mentorship.mentee_id][1],
        "mentoring.shadow",
        _l("You shadow a job"),
        _l(
            "You accompany {value} on “{job_title}”.",
            value=names[mentorship.mentor_id][0],
            job_title=job.title,
        ),
        dedupe_key=f"mentoring.shadow:{session.id}",
        job_id=job.id,
        mentorship_id=mentorship.id,
    )
    return present(session, role)


def job_shadows(*, actor: Principal, job_id: int) -> dict:
    """Who shadows a job: for its customer, its member (the mentor), the mentees, staff."""
    job = db.session.get(Job, job_id)
    rows = []
    if job is not None:
        rows = db.session.execute(
            select(MentorshipSession, Mentorship.mentor_id, Mentorship.mentee_id)
            .join(Mentorship, Mentorship.id == MentorshipSession.mentorship_id)
            .where(MentorshipSession.job_id == job.id)
            .order_by(MentorshipSession.id)
        ).all()
    if job is None or not _may_see_job_shadows(actor, job, [row.mentee_id for row in rows]):
        raise NotFound(_("No such job."))
    names = display_names([row.mentee_id for row in rows] + [row.mentor_id for row in rows])
    return {
        "items": [
            {
                "session_id": session.id,
                "mentee": {"member_id": mentee_id, "display_name": names[mentee_id][0]},
                "mentor": {"member_id": mentor_id, "display_name": names[mentor_id][0]},
                "occurred_at": session.occurred_at,
            }
            for session, mentor_id, mentee_id in rows
        ]
    }


def _may_see_job_shadows(actor: Principal, job: Job, mentee_ids: list[int]) -> bool:
    if actor.is_staff:
        return True
    if actor.role == "customer":
        return actor.customer_id == job.customer_id
    member_id = actor.member_id
    return member_id is not None and (
        member_id == job.assigned_member_id or member_id in mentee_ids
    )
