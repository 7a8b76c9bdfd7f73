"""What a person's data export holds: one section per kind of data, each a query of the rows
that are theirs, with the columns they may see.

Each section reads its owner's table by name (`db.metadata`): the list of what is personal is
kept here in one place rather than spread over the domains. A section selects only what the
person already sees or what is about them: credentials' secrets, provider internals, staff
notes, internal ticket notes and the ids or names of other people are left out (a review they
received says who wrote it by side only, "customer" or "member"). Rows are read in batches
(`yield_per`), so a long history never sits in memory whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Column, Select, Table, and_, case, or_, select

from crowd.core.db import db
from crowd.core.files.models import DATA_EXPORT
from crowd.core.i18n import _l

# What a ticket party reads (support/messages.py: READABLE): never `internal` or the other
# side's own thread.
_READABLE = {"customer": ("parties", "customer"), "member": ("parties", "member")}


@dataclass(frozen=True)
class Person:
    """Whose data: the user and their profile (a member's or a customer's), if any."""

    user_id: int
    role: str
    member_id: int | None
    customer_id: int | None
    locale: str | None

    @property
    def side(self) -> str | None:
        """The party they are on a job or ticket: member, customer or None (staff)."""
        if self.member_id is not None:
            return "member"
        if self.customer_id is not None:
            return "customer"
        return None


@dataclass(frozen=True)
class Section:
    """One part of the export: `name` (its CSV file and its key in data.json), what it holds
    (for the README) and its query for a person (None: nothing of this kind for them)."""

    name: str
    description: object
    query: Callable[[Person], Select | None]


def t(name: str) -> Table:
    """A table by its name (every domain's tables are in the metadata once the app is up)."""
    return db.metadata.tables[name]


def columns(table: Table, *, without: tuple[str, ...] = ()) -> list[Column]:
    """The table's columns but `without`, the id first (the mixin puts it last)."""
    chosen = [column for column in table.c if column.name not in without]
    chosen.sort(key=lambda column: column.name != "id")
    return chosen


def _only(*wanted: str, table: Table) -> list[Column]:
    return [table.c[name] for name in wanted]


# --- account and profile ---------------------------------------------------------------------


def _account(person: Person) -> Select:
    users = t("users")
    return select(*columns(users, without=("password_hash", "created_by_id"))).where(
        users.c.id == person.user_id
    )


def _profile(person: Person) -> Select | None:
    if person.member_id is not None:
        members = t("members")
        return select(*columns(members, without=("profile_photo_file_id",))).where(
            members.c.id == person.member_id
        )
    if person.customer_id is not None:
        customers = t("customers")
        return select(*columns(customers, without=("billing_set_by_user_id",))).where(
            customers.c.id == person.customer_id
        )
    return None


def _billing_profile(person: Person) -> Select | None:
    if person.member_id is not None:
        table = t("member_billing_profiles")
        return select(*columns(table)).where(table.c.member_id == person.member_id)
    if person.customer_id is not None:
        table = t("customer_billing_profiles")
        return select(*columns(table)).where(table.c.customer_id == person.customer_id)
    return None


def _addresses(person: Person) -> Select | None:
    if person.customer_id is None:
        return None
    table = t("customer_addresses")
    return (
        select(*columns(table))
        .where(table.c.customer_id == person.customer_id)
        .order_by(table.c.id)
    )


def _member_table(
    name: str, *, without: tuple[str, ...] = (), order: str | None = "id"
) -> Callable[[Person], Select | None]:
    """A section of a member's rows in `name` (by member_id)."""

    def query(person: Person) -> Select | None:
        if person.member_id is None:
            return None
        table = t(name)
        chosen = select(*columns(table, without=without)).where(
            table.c.member_id == person.member_id
        )
        return chosen.order_by(table.c[order]) if order else chosen

    return query


def _user_table(
    name: str, *, without: tuple[str, ...] = (), order: str | None = "id"
) -> Callable[[Person], Select]:
    """A section of a user's rows in `name` (by user_id)."""

    def query(person: Person) -> Select:
        table = t(name)
        chosen = select(*columns(table, without=without)).where(table.c.user_id == person.user_id)
        return chosen.order_by(table.c[order]) if order else chosen

    return query


def _skills(person: Person) -> Select | None:
    if person.member_id is None:
        return None
    claims, skills = t("member_skills"), t("skills")
    return (
        select(
            skills.c.slug.label("skill"),
            skills.c.name.label("skill_name"),
            claims.c.proficiency,
            claims.c.verified,
            claims.c.verified_at,
        )
        .join(skills, skills.c.id == claims.c.skill_id)
        .where(claims.c.member_id == person.member_id)
        .order_by(skills.c.slug)
    )


# --- jobs, offers, reviews -------------------------------------------------------------------

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


# --- support ---------------------------------------------------------------------------------

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


# --- money -----------------------------------------------------------------------------------


def _payments(person: Person) -> Select | None:
    payments = t("job_payments")
    if person.customer_id is not None:
        wanted = (
            "id",
            "job_id",
            "status",
            "currency",
            "amount_authorized",
            "amount_captured",
            "amount_refunded",
            "payment_method",
            "authorized_at",
            "captured_at",
            "cancelled_at",
            "failed_at",
            "invoice_due_at",
            "created_at",
        )
        where = payments.c.customer_id == person.customer_id
    elif person.member_id is not None:
        # The member's side of a job's money: what the job brought and what they earned.
        wanted = (
            "id",
            "job_id",
            "status",
            "currency",
            "amount_captured",
            "commission_amount",
            "member_earning",
            "plan_code",
            "captured_at",
            "created_at",
        )
        where = payments.c.member_id == person.member_id
    else:
        return None
    return select(*_only(*wanted, table=payments)).where(where).order_by(payments.c.id)


def _refunds(person: Person) -> Select | None:
    if person.customer_id is None:
        return None
    payments, refunds = t("job_payments"), t("job_refunds")
    return (
        select(
            *_only(
                "id",
                "job_id",
                "amount",
                "currency",
                "reason",
                "status",
                "refunded_at",
                "created_at",
                table=refunds,
            )
        )
        .join(payments, payments.c.id == refunds.c.job_payment_id)
        .where(payments.c.customer_id == person.customer_id)
        .order_by(refunds.c.id)
    )


def _payment_methods(person: Person) -> Select | None:
    if person.customer_id is None:
        return None
    table = t("customer_payment_methods")
    return (
        select(*_only("id", "payment_method", "created_at", "updated_at", table=table))
        .where(table.c.customer_id == person.customer_id)
        .order_by(table.c.id)
    )


def _ledger(person: Person) -> Select | None:
    """The lines of the member's own ledger accounts (earnings, payouts, fees, rewards)."""
    if person.member_id is None:
        return None
    accounts, entries, transactions = (
        t("ledger_accounts"),
        t("ledger_entries"),
        t("ledger_transactions"),
    )
    return (
        select(
            entries.c.id,
            transactions.c.id.label("transaction_id"),
            transactions.c.kind,
            transactions.c.memo,
            transactions.c.job_id,
            accounts.c.code.label("account"),
            entries.c.amount,
            accounts.c.currency,
            transactions.c.created_at,
        )
        .join(accounts, accounts.c.id == entries.c.account_id)
        .join(transactions, transactions.c.id == entries.c.transaction_id)
        .where(accounts.c.member_id == person.member_id)
        .order_by(entries.c.id)
    )


def _plans(person: Person) -> Select | None:
    if person.member_id is None:
        return None
    assigned, plans = t("member_plans"), t("commission_plans")
    return (
        select(
            *columns(assigned, without=("assigned_by_id", "member_id", "plan_id")),
            plans.c.code.label("plan_code"),
            plans.c.name.label("plan_name"),
            plans.c.percent_bp.label("plan_percent_bp"),
            plans.c.monthly_fee_amount.label("plan_monthly_fee_amount"),
            plans.c.fee_currency.label("plan_fee_currency"),
        )
        .join(plans, plans.c.id == assigned.c.plan_id)
        .where(assigned.c.member_id == person.member_id)
        .order_by(assigned.c.id)
    )


def their_documents(person: Person) -> Select | None:
    """The ids and numbers of the invoicing documents addressed to the person."""
    documents = t("documents")
    if person.customer_id is not None:
        where = and_(
            documents.c.recipient_type == "customer",
            documents.c.customer_id == person.customer_id,
        )
    elif person.member_id is not None:
        where = and_(
            documents.c.recipient_type == "member", documents.c.member_id == person.member_id
        )
    else:
        return None
    return select(documents.c.id, documents.c.number).where(where).order_by(documents.c.id)


def _documents(person: Person) -> Select | None:
    ids = their_documents(person)
    if ids is None:
        return None
    documents = t("documents")
    wanted = (
        "id",
        "number",
        "kind",
        "job_id",
        "corrects_id",
        "language",
        "currency",
        "net_total",
        "vat_total",
        "gross_total",
        "issue_date",
        "service_date",
        "created_at",
    )
    return (
        select(*_only(*wanted, table=documents))
        .where(documents.c.id.in_(ids.with_only_columns(documents.c.id).order_by(None)))
        .order_by(documents.c.id)
    )


# --- onboarding, levels, mentoring, referrals, community ---------------------------------------


def _document_checks(person: Person) -> Select | None:
    if person.member_id is None:
        return None
    checks = t("document_checks")
    return (
        select(
            *columns(
                checks,
                without=(
                    "member_id",
                    "checked_by_id",
                    "note",
                    "front_file_id",
                    "back_file_id",
                    "selfie_file_id",
                ),
            )
        )
        .where(checks.c.member_id == person.member_id)
        .order_by(checks.c.id)
    )


def _mentorships(person: Person) -> Select | None:
    if person.member_id is None:
        return None
    mentorships = t("mentorships")
    return (
        select(
            mentorships.c.id,
            case((mentorships.c.mentor_id == person.member_id, "mentor"), else_="mentee").label(
                "your_role"
            ),
            *_only(
                "status",
                "origin",
                "accepted_at",
                "ended_at",
                "end_reason",
                "graduated_at",
                "graduation_cause",
                "created_at",
                table=mentorships,
            ),
        )
        .where(
            or_(
                mentorships.c.mentor_id == person.member_id,
                mentorships.c.mentee_id == person.member_id,
            )
        )
        .order_by(mentorships.c.id)
    )


def _mentorship_sessions(person: Person) -> Select | None:
    """Sessions of their mentorships; the mentor's notes only for the mentor."""
    if person.member_id is None:
        return None
    mentorships, sessions = t("mentorships"), t("mentorship_sessions")
    is_mentor = mentorships.c.mentor_id == person.member_id
    return (
        select(
            *_only(
                "id",
                "mentorship_id",
                "kind",
                "occurred_at",
                "duration_minutes",
                "job_id",
                "mentee_feedback",
                "mentee_rating",
                table=sessions,
            ),
            case((is_mentor, sessions.c.mentor_notes), else_=None).label("mentor_notes"),
        )
        .join(mentorships, mentorships.c.id == sessions.c.mentorship_id)
        .where(or_(is_mentor, mentorships.c.mentee_id == person.member_id))
        .order_by(sessions.c.id)
    )


def _referrals(person: Person) -> Select | None:
    """Referrals they made or came by; the other member is not named."""
    if person.member_id is None:
        return None
    referrals = t("referrals")
    return (
        select(
            referrals.c.id,
            case(
                (referrals.c.referrer_member_id == person.member_id, "referrer"),
                else_="referred",
            ).label("your_role"),
            *_only(
                "status",
                "milestone",
                "milestone_reached_at",
                "reward_minor",
                "reward_currency",
                "created_at",
                table=referrals,
            ),
        )
        .where(
            or_(
                referrals.c.referrer_member_id == person.member_id,
                referrals.c.referred_member_id == person.member_id,
            )
        )
        .order_by(referrals.c.id)
    )


def _posts(person: Person) -> Select:
    posts = t("topic_posts")
    return (
        select(*columns(posts, without=("author_user_id", "hidden_by_id")))
        .where(posts.c.author_user_id == person.user_id)
        .order_by(posts.c.id)
    )


# --- notifications, consents, devices, sign-ins -------------------------------------------------


def _notifications(person: Person) -> Select:
    table = t("notifications")
    return (
        select(*_only("id", "kind", "title", "body", "data", "created_at", "read_at", table=table))
        .where(table.c.user_id == person.user_id)
        .order_by(table.c.id)
    )


def _sessions(person: Person) -> Select:
    """Their sign-ins (session tokens) and API keys, without the secrets."""
    table = t("auth_tokens")
    return (
        select(*columns(table, without=("token_hash", "user_id")))
        .where(table.c.user_id == person.user_id)
        .order_by(table.c.id)
    )


def files_query(person: Person) -> Select:
    """Their files: every ready upload they own (profile photo, identity images, work photos,
    ticket attachments); earlier exports are not exported again."""
    files = t("stored_files")
    return (
        select(files.c.id, files.c.purpose, files.c.content_type, files.c.size, files.c.key)
        .where(
            files.c.owner_user_id == person.user_id,
            files.c.status == "ready",
            files.c.purpose != DATA_EXPORT,
        )
        .order_by(files.c.id)
    )


SECTIONS: tuple[Section, ...] = (
    Section("account", _l("your account: email address, role, name, language"), _account),
    Section("profile", _l("your profile as a crowd member or customer"), _profile),
    Section("billing_profile", _l("your billing details"), _billing_profile),
    Section("addresses", _l("your service addresses"), _addresses),
    Section("skills", _l("the skills you offer"), _skills),
    Section(
        "availability",
        _l("your weekly availability"),
        _member_table("availability_slots", without=("member_id",)),
    ),
    Section("time_off", _l("your time off"), _member_table("time_off", without=("member_id",))),
    Section(
        "status_changes",
        _l("changes of your crowd member status"),
        _member_table("member_status_changes", without=("member_id", "changed_by_id")),
    ),
    Section(
        "performance",
        _l("your performance figures"),
        _member_table("member_stats", without=("member_id",), order=None),
    ),
    Section("jobs", _l("your jobs, with the work report's texts"), _jobs),
    Section("job_events", _l("the timeline of your jobs"), _job_events),
    Section(
        "offers",
        _l("the job offers you were sent"),
        _member_table("offers", without=("member_id",)),
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
        _user_table("ticket_ratings", without=("user_id",), order="created_at"),
    ),
    Section(
        "sanctions",
        _l("warnings and suspensions"),
        _member_table("sanctions", without=("member_id", "created_by_id")),
    ),
    Section("payments", _l("payments of your jobs (and your earnings from them)"), _payments),
    Section("refunds", _l("refunds to you"), _refunds),
    Section("payment_methods", _l("how you pay"), _payment_methods),
    Section("ledger", _l("the lines of your earnings account"), _ledger),
    Section(
        "payouts",
        _l("payouts to you"),
        _member_table(
            "payouts",
            without=("member_id", "run_id", "last_error", "released_by_id", "send_transaction_id"),
        ),
    ),
    Section(
        "monthly_fees",
        _l("monthly fees of your plan"),
        _member_table("monthly_fees", without=("member_id", "last_error", "transaction_id")),
    ),
    Section("plans", _l("your commission plans"), _plans),
    Section(
        "commission_perks",
        _l("your commission discounts"),
        _member_table("member_commission_perks", without=("member_id",)),
    ),
    Section(
        "documents", _l("invoices and credit notes addressed to you (PDFs in files/)"), _documents
    ),
    Section(
        "applications",
        _l("your applications to the crowd"),
        _member_table("applications", without=("member_id", "decided_by_id", "channel_id")),
    ),
    Section(
        "document_checks", _l("checks of your documents (details, not images)"), _document_checks
    ),
    Section(
        "information_requests",
        _l("what onboarding asked you for"),
        _member_table("application_info_requests", without=("member_id", "requested_by_id")),
    ),
    Section(
        "house_rules",
        _l("the house rules you accepted"),
        _member_table("house_rules_acceptances", without=("member_id",), order="accepted_at"),
    ),
    Section(
        "self_billing",
        _l("your self-billing agreement decisions"),
        _member_table("self_billing_agreements", without=("member_id",)),
    ),
    Section(
        "training",
        _l("training modules you completed"),
        _member_table(
            "training_completions", without=("member_id", "recorded_by_id"), order="completed_at"
        ),
    ),
    Section(
        "skill_tests",
        _l("your skill test attempts"),
        _member_table("skill_test_attempts", without=("member_id", "question_ids")),
    ),
    Section(
        "level",
        _l("your level"),
        _member_table(
            "member_levels", without=("member_id", "locked_by_id", "lock_reason"), order=None
        ),
    ),
    Section(
        "level_history",
        _l("changes of your level"),
        _member_table("level_changes", without=("member_id", "changed_by_id")),
    ),
    Section(
        "mentor_profile",
        _l("your mentor profile"),
        _member_table("mentor_profiles", without=("member_id",), order=None),
    ),
    Section("mentorships", _l("your mentorships"), _mentorships),
    Section("mentorship_sessions", _l("sessions of your mentorships"), _mentorship_sessions),
    Section(
        "event_invitations",
        _l("your invitations to crowd events"),
        _member_table("event_invitations", without=("member_id", "invited_by_id")),
    ),
    Section(
        "badges",
        _l("your top performer badges"),
        _member_table("top_performer_badges", without=("member_id", "run_id", "perk_id")),
    ),
    Section(
        "referral_codes",
        _l("your referral codes"),
        _member_table("referral_codes", without=("member_id",)),
    ),
    Section("referrals", _l("your referrals"), _referrals),
    Section(
        "community_groups",
        _l("community groups you joined"),
        _member_table("topic_group_memberships", without=("member_id",), order="joined_at"),
    ),
    Section("community_posts", _l("your community posts"), _posts),
    Section("notifications", _l("your inbox"), _notifications),
    Section(
        "notification_preferences",
        _l("your notification preferences"),
        _user_table("notification_preferences", without=("user_id",)),
    ),
    Section(
        "quiet_hours",
        _l("your time zone and quiet hours"),
        _user_table("delivery_settings", without=("user_id",), order=None),
    ),
    Section("consents", _l("your consents"), _user_table("consents", without=("user_id",))),
    Section(
        "consent_history",
        _l("when you gave or withdrew consents"),
        _user_table("consent_events", without=("user_id",)),
    ),
    Section(
        "devices",
        _l("the devices receiving your push notifications"),
        _user_table("devices", without=("user_id", "token")),
    ),
    Section("sign_ins", _l("your sign-ins and API keys (without secrets)"), _sessions),
    Section(
        "account_events",
        _l("what happened to your account's access"),
        _user_table("account_events", without=("user_id", "actor_id")),
    ),
    Section(
        "help_feedback",
        _l("your feedback on help articles"),
        _user_table("help_article_feedback", without=("user_id",), order="created_at"),
    ),
)
