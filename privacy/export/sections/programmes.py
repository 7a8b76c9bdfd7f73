"""Sections: onboarding, levels, mentoring, referrals and the community."""

from __future__ import annotations

from sqlalchemy import Select, case, or_, select

from crowd.core.i18n import _l
from privacy.export.sections.base import Person, Section, columns, member_table, only, t


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
            *only(
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
            *only(
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
            *only(
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


SECTIONS = (
    Section(
        "applications",
        _l("your applications to the crowd"),
        member_table("applications", without=("member_id", "decided_by_id", "channel_id")),
    ),
    Section(
        "document_checks", _l("checks of your documents (details, not images)"), _document_checks
    ),
    Section(
        "information_requests",
        _l("what onboarding asked you for"),
        member_table("application_info_requests", without=("member_id", "requested_by_id")),
    ),
    Section(
        "house_rules",
        _l("the house rules you accepted"),
        member_table("house_rules_acceptances", without=("member_id",), order="accepted_at"),
    ),
    Section(
        "self_billing",
        _l("your self-billing agreement decisions"),
        member_table("self_billing_agreements", without=("member_id",)),
    ),
    Section(
        "training",
        _l("training modules you completed"),
        member_table(
            "training_completions", without=("member_id", "recorded_by_id"), order="completed_at"
        ),
    ),
    Section(
        "skill_tests",
        _l("your skill test attempts"),
        member_table("skill_test_attempts", without=("member_id", "question_ids")),
    ),
    Section(
        "level",
        _l("your level"),
        member_table(
            "member_levels", without=("member_id", "locked_by_id", "lock_reason"), order=None
        ),
    ),
    Section(
        "level_history",
        _l("changes of your level"),
        member_table("level_changes", without=("member_id", "changed_by_id")),
    ),
    Section(
        "mentor_profile",
        _l("your mentor profile"),
        member_table("mentor_profiles", without=("member_id",), order=None),
    ),
    Section("mentorships", _l("your mentorships"), _mentorships),
    Section("mentorship_sessions", _l("sessions of your mentorships"), _mentorship_sessions),
    Section(
        "event_invitations",
        _l("your invitations to crowd events"),
        member_table("event_invitations", without=("member_id", "invited_by_id")),
    ),
    Section(
        "badges",
        _l("your top performer badges"),
        member_table("top_performer_badges", without=("member_id", "run_id", "perk_id")),
    ),
    Section(
        "referral_codes",
        _l("your referral codes"),
        member_table("referral_codes", without=("member_id",)),
    ),
    Section("referrals", _l("your referrals"), _referrals),
    Section(
        "community_groups",
        _l("community groups you joined"),
        member_table("topic_group_memberships", without=("member_id",), order="joined_at"),
    ),
    Section("community_posts", _l("your community posts"), _posts),
)
