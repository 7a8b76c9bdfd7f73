"""Sections: jobs, offers, reviews and support tickets."""

from __future__ import annotations

from sqlalchemy import Select, select

from crowd.core.i18n import _l
from privacy.export.sections.base import Person, Section, columns, member_table, t, user_table

# What a ticket party reads (support/messages.py: READABLE): never `internal` or the other
# side's own thread.
_READABLE = {"customer": ("parties", "customer"), "member": ("parties", "member")}


# Dispatch internals and the other party's ids stay out.
_JOB_HIDDEN = (
    "customer_id",
    "assigned_member_id",
    "preferred_member_id",
    "wave",
    "escalated_at",
    "escalation_reason",
    "min_level_rank",
    "address_id",
)


def _their_jobs(person: Person):
    """The where-clause of the jobs the person is a party to (None: no jobs for them)."""
    jobs = t("jobs")
    if person.member_id is not None:
        return jobs.c.assigned_member_id == person.member_id
    if person.customer_id is not None:
        return jobs.c.customer_id == person.customer_id
    return None


def _jobs(person: Person) -> Select | None:
    where = _their_jobs(person)
    if where is None:
        return None
    jobs, reports = t("jobs"), t("work_reports")
    return (
        select(
            *columns(jobs, without=_JOB_HIDDEN),
            reports.c.notes.label("work_report_notes"),
            reports.c.minutes_spent.label("work_report_minutes"),
            reports.c.parts.label("work_report_parts"),
            reports.c.created_at.label("work_report_at"),
        )
        .outerjoin(reports, reports.c.job_id == jobs.c.id)
        .where(where)
        .order_by(jobs.c.id)
    )


def _job_events(person: Person) -> Select | None:
    where = _their_jobs(person)
    if where is None:
        return None
    jobs, events = t("jobs"), t("job_events")
    return (
        # Without the detail: it names other members (those a wave offered the job to).
        select(*columns(events, without=("actor_user_id", "detail")))
        .join(jobs, jobs.c.id == events.c.job_id)
        .where(where)
        .order_by(events.c.id)
    )


def _reviews_written(person: Person) -> Select:
    reviews = t("reviews")
    return (
        select(*columns(reviews, without=("author_user_id",)))
        .where(reviews.c.author_user_id == person.user_id)
        .order_by(reviews.c.id)
    )


def _reviews_received(person: Person) -> Select | None:
    """Reviews of the person by the other side, once published (as they see them), with the
    author named by side only."""
    where = _their_jobs(person)
    if where is None:
        return None
    jobs, reviews = t("jobs"), t("reviews")
    return (
        select(*columns(reviews, without=("author_user_id",)))
        .join(jobs, jobs.c.id == reviews.c.job_id)
        .where(
            where,
            reviews.c.author != person.side,
            reviews.c.published_at.is_not(None),
        )
        .order_by(reviews.c.id)
    )


# --- support tickets -------------------------------------------------------------------------

_TICKET_HIDDEN = (
    "assignee_id",
    "opened_by_id",
    "status_before_escalation",
    "escalation_reason",
    "sla_paused_at",
    "sla_paused_seconds",
    "first_response_breached_at",
    "resolution_breached_at",
    "customer_id",
    "member_id",
)


def _their_tickets(person: Person):
    tickets = t("tickets")
    if person.member_id is not None:
        return tickets.c.member_id == person.member_id
    if person.customer_id is not None:
        return tickets.c.customer_id == person.customer_id
    return None


def _tickets(person: Person) -> Select | None:
    where = _their_tickets(person)
    if where is None:
        return None
    tickets = t("tickets")
    return select(*columns(tickets, without=_TICKET_HIDDEN)).where(where).order_by(tickets.c.id)


def _ticket_messages(person: Person) -> Select | None:
    """The messages of their tickets they can read (never internal notes), with whether they
    wrote it; other writers by role only."""
    where = _their_tickets(person)
    if where is None:
        return None
    tickets, messages = t("tickets"), t("ticket_messages")
    return (
        select(
            messages.c.id,
            messages.c.ticket_id,
            messages.c.author_role,
            (messages.c.author_id == person.user_id).label("written_by_you"),
            messages.c.visibility,
            messages.c.body,
            messages.c.created_at,
        )
        .join(tickets, tickets.c.id == messages.c.ticket_id)
        .where(where, messages.c.visibility.in_(_READABLE[person.side]))
        .order_by(messages.c.id)
    )


SECTIONS = (
    Section("jobs", _l("your jobs, with the work report's texts"), _jobs),
    Section("job_events", _l("the timeline of your jobs"), _job_events),
    Section(
        "offers",
        _l("the job offers you were sent"),
        member_table("offers", without=("member_id",)),
    ),
    Section("reviews_written", _l("reviews you wrote"), _reviews_written),
    Section("reviews_received", _l("published reviews of you"), _reviews_received),
    Section("tickets", _l("your support tickets"), _tickets),
    Section(
        "ticket_messages",
        _l("the ticket messages you can read (yours and replies)"),
        _ticket_messages,
    ),
    Section(
        "ticket_ratings",
        _l("your ratings of support"),
        user_table("ticket_ratings", without=("user_id",), order="created_at"),
    ),
    Section(
        "sanctions",
        _l("warnings and suspensions"),
        member_table("sanctions", without=("member_id", "created_by_id")),
    ),
)
