"""Background jobs of the application pipeline: house-rules notices, skill-test expiry and
alerts of documents waiting too long for their check."""

from datetime import timedelta

from sqlalchemy import select

from accounts.staff_alerts import alert_staff
from crowd.core.background import task
from crowd.core.db import utcnow
from crowd.core.i18n import _l
from crowd.extensions import db
from members.models import Member
from onboarding import house_rules
from onboarding.config import onboarding_rules
from onboarding.models import DocumentCheck
from onboarding.skill_tests import attempts


@task("onboarding.notify_house_rules")
def notify_house_rules(*, version_id: int, after_member_id: int, batch: int) -> int:
    """Tell the next batch of active and paused members about new house rules."""
    return house_rules.notify_batch(
        version_id=version_id, after_member_id=after_member_id, batch=batch
    )


@task("onboarding.expire_skill_test_attempt")
def expire_skill_test_attempt(*, attempt_id: int) -> bool:
    """Write down that a skill-test attempt ran out of time (scheduled at its expiry)."""
    return attempts.expire_if_due(attempt_id)


@task("onboarding.alert_waiting_checks")
def alert_waiting_checks(limit: int = 500) -> int:
    """Alert the CMs responsible for onboarding (in the applicant's region) of each document
    waiting longer than ONBOARDING_ALERT_WAITING_HOURS for its check, once per document
    (periodic); returns how many waited."""
    since = utcnow() - timedelta(hours=onboarding_rules().alert_waiting_hours)
    waiting = db.session.execute(
        select(DocumentCheck, Member)
        .join(Member, Member.id == DocumentCheck.member_id)
        .where(DocumentCheck.status == "submitted", DocumentCheck.submitted_at <= since)
        .order_by(DocumentCheck.submitted_at, DocumentCheck.id)
        .limit(limit)
    ).all()
    for check, member in waiting:
        hours = int((utcnow() - check.submitted_at).total_seconds() // 3600)
        alert_staff(
            "onboarding.check_waiting",
            _l("Application waiting for a check"),
            _l(
                "{member_display_name}'s {value} has waited {hours} h for its check.",
                member_display_name=member.display_name,
                value=check.kind.replace("_", " "),
                hours=hours,
            ),
            queue="onboarding",
            key=f"onboarding.check_waiting:{check.id}",
            country=member.country,
            postcode=member.postcode,
            member_id=member.id,
            check_id=check.id,
        )
    return len(waiting)
