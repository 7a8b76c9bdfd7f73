"""Reports: a group member flags a post to the community managers, who decide.

A member reports a post they can read (not their own) once, with a reason: spam, abuse,
off_topic, personal_data or other (a second report of the same post: 409). Community
managers work the queue (`status=open`, oldest first) and decide a report: `upheld` hides the
post (logged, the author told), `dismissed` leaves it. Every open report of that post is
decided together, so nobody works a report whose post was dealt with already. Deciding locks
the post row first: two managers deciding at once cannot both act (the second gets 409).
"""

from __future__ import annotations

from sqlalchemy import func, select

from accounts.staff_alerts import alert_staff
from community.access import require_staff, viewer_of
from community.errors import AlreadyReported, ReportAlreadyDecided
from community.models import PostReport, TopicGroup, TopicPost
from community.moderation import hide
from community.posts import authors_of, load_post, reachable_post
from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import Forbidden, NotFound
from crowd.core.i18n import _, _l
from crowd.core.pagination import paginate
from crowd.extensions import db

REPORT_REASONS = ("spam", "abuse", "off_topic", "personal_data", "other")
DECISIONS = ("upheld", "dismissed")
EXCERPT = 200


def reports_view(reports: list[PostReport]) -> list[dict]:
    """Reports with their post (an excerpt) and reporter, as staff see them; three queries."""
    posts = {
        p.id: p
        for p in db.session.scalars(
            select(TopicPost).where(TopicPost.id.in_({r.post_id for r in reports}))
        )
    }
    people = authors_of(
        [r.reporter_user_id for r in reports] + [p.author_user_id for p in posts.values()]
    )
    views = []
    for report in reports:
        post = posts[report.post_id]
        views.append(
            {
                "id": report.id,
                "reason": report.reason,
                "note": report.note,
                "status": report.status,
                "created_at": report.created_at,
                "decided_by_id": report.decided_by_id,
                "decided_at": report.decided_at,
                "reporter": people.get(report.reporter_user_id),
                "post": {
                    "id": post.id,
                    "group_id": post.group_id,
                    "thread_id": post.parent_id or post.id,
                    "kind": "reply" if post.parent_id else "thread",
                    "title": post.title,
                    "excerpt": post.body[:EXCERPT],
                    "author": people.get(post.author_user_id),
                    "hidden": post.hidden_at is not None,
                },
            }
        )
    return views


def report_post(*, actor: Principal, post_id: int, reason: str, note: str | None = None) -> dict:
    """Report a post you can read (not your own), once."""
    viewer = viewer_of(actor)
    post, _unused = reachable_post(viewer, post_id)
    if post.author_user_id == actor.user_id:
        raise Forbidden(_("You cannot report your own post."))
    already = select(PostReport.id).where(
        PostReport.post_id == post.id, PostReport.reporter_user_id == actor.user_id
    )
    if db.session.scalar(already) is not None:
        raise AlreadyReported(_("You reported this post already."), state="reported")
    report = PostReport(
        post_id=post.id, reporter_user_id=actor.user_id, reason=reason, note=note, status="open"
    )
    db.session.add(report)
    db.session.flush()
    _alert_moderators(post, report)
    return _own_view(report)


def _alert_moderators(post, report: PostReport) -> None:
    """The CMs responsible for the community hear of a reported post once while it has open
    reports (the oldest open report names the alert; more reports of it add none)."""
    first_open = db.session.scalar(
        select(func.min(PostReport.id)).where(
            PostReport.post_id == post.id, PostReport.status == "open"
        )
    )
    alert_staff(
        "community.post_reported",
        _l("Post reported"),
        _l(
            "“{value}” was reported ({report_reason}).",
            value=post.title or post.body[:60],
            report_reason=report.reason,
        ),
        queue="community",
        key=f"community.post_reported:{post.id}:{first_open}",
        post_id=post.id,
        report_id=report.id,
    )


def _own_view(report: PostReport) -> dict:
    return {
        "id": report.id,
        "post_id": report.post_id,
        "reason": report.reason,
        "note": report.note,
        "status": report.status,
        "created_at": report.created_at,
    }


def list_reports(
    *,
    actor: Principal,
    status: str | None = None,
    group_id: int | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict:
    """The report queue (staff): oldest first, optionally of one status and group."""
    require_staff(viewer_of(actor))
    query = select(PostReport)
    if status:
        query = query.where(PostReport.status == status)
    if group_id is not None:
        in_group = select(TopicPost.id).where(TopicPost.group_id == group_id)
        query = query.where(PostReport.post_id.in_(in_group))
    page = paginate(
        query, {"limit": limit, "cursor": cursor}, order=[PostReport.created_at, PostReport.id]
    )
    page["items"] = reports_view(page["items"])
    return page


def decide_report(*, actor: Principal, report_id: int, decision: str) -> dict:
    """Uphold (the post is hidden) or dismiss a report, with every other open report of
    the same post; a report decided already is a 409 with its status."""
    require_staff(viewer_of(actor))
    found = db.session.get(PostReport, report_id)
    if found is None:
        raise NotFound(_("No such report."))
    # The post first, then its reports: concurrent decisions queue up on the post.
    post = load_post(found.post_id, lock=True)
    reports = list(
        db.session.scalars(
            select(PostReport)
            .where(PostReport.post_id == post.id, PostReport.status == "open")
            .order_by(PostReport.id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
    )
    db.session.refresh(found)
    if found.status != "open":
        raise ReportAlreadyDecided(
            _("The report was {found_status} already.", found_status=found.status),
            state=found.status,
        )
    now = utcnow()
    for report in reports:
        report.status, report.decided_by_id, report.decided_at = decision, actor.user_id, now
    if decision == "upheld" and post.hidden_at is None:
        reasons = ", ".join(sorted({r.reason.replace("_", " ") for r in reports}))
        group = db.session.get(TopicGroup, post.group_id)
        hide(post, group, actor_user_id=actor.user_id, reason=f"reported ({reasons})", at=now)
    db.session.flush()
    return {
        "decision": decision,
        "post_id": post.id,
        "post_hidden": post.hidden_at is not None,
        "reports": reports_view(reports),
    }
