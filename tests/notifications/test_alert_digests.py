"""Issue 20: alerts reach community managers by email at the cadence each chose — each at once,
one hourly or daily digest (once per CM and period, however often the task runs), or none."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from accounts.alert_digests import DEFAULT_TIME_ZONE, period_end, previous_boundary
from accounts.models import StaffAlertDigest
from accounts.staff_alerts import alert_staff
from crowd.core import background
from crowd.core.db import commit, utcnow
from crowd.extensions import db
from notifications.models import Delivery, Notification
from tests.concurrency import run_concurrently
from tests.factories import make_actor
from tests.notifications.conftest import send_due

API = "/api/v1"
DIGESTS = "accounts.send_alert_digests"
_serial = iter(range(1, 10_000))


def cadence(client, actor, digest: str) -> None:
    response = client.patch(
        f"{API}/staff/me/alerts", json={"digest": digest}, headers=actor.headers
    )
    assert response.status_code == 200 and response.json["digest"] == digest


def alert(kind="support.sla_breached", queue="tickets", **data) -> str:
    """One alert to every CM (none has responsibilities); returns its key."""
    key = f"test-alert:{next(_serial)}"
    alert_staff(kind, f"Alert {key}", "Something needs you.", queue=queue, key=key, **data)
    commit()
    send_due()
    return key


def into_last_period(cm_user_id: int, cadence_name: str) -> None:
    """Move the CM's alerts so far into the period that ended last (as if sent then)."""
    end = period_end(utcnow(), cadence_name, DEFAULT_TIME_ZONE)
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == cm_user_id, Notification.kind != "staff.alert_digest")
        .values(created_at=end - timedelta(minutes=30))
    )
    commit()


def run_digests() -> int:
    written = background.run_periodic(DIGESTS)
    send_due()
    return written


def emails(user_id: int):
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Delivery)
            .where(Delivery.user_id == user_id, Delivery.channel == "email")
            .order_by(Delivery.id)
        )
    )


def test_immediate_cms_get_each_alert_by_email_and_no_digest(client, smtp):
    cm = make_actor("community_manager")
    alert(ticket_id=7)
    alert("job.escalated", "dispatch", job_id=3)
    assert [d.status for d in emails(cm.user_id)] == ["sent", "sent"]
    assert all(m["Subject"].startswith("Alert test-alert:") for m in smtp.messages)
    assert smtp.messages[0]["List-Unsubscribe"] is None  # alerts are transactional
    into_last_period(cm.user_id, "hourly")
    assert run_digests() == 0 and len(smtp.messages) == 2


def test_an_hourly_cm_gets_one_digest_per_period_however_often_it_runs(client, smtp):
    cm = make_actor("community_manager")
    cadence(client, cm, "hourly")
    alert(ticket_id=7)
    alert("job.escalated", "dispatch", job_id=3)
    alert("onboarding.check_waiting", "onboarding", member_id=5, check_id=9)
    assert emails(cm.user_id) == [] and smtp.messages == []  # none queued, none sent
    into_last_period(cm.user_id, "hourly")

    assert run_digests() == 1
    assert run_digests() == 0
    [message] = smtp.messages
    assert message["Subject"] == "Your hourly alert digest: 3 alerts"
    assert message["List-Unsubscribe"] is None
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert text.index("== Dispatch (1) ==") < text.index("== Onboarding (1) ==")
    assert text.index("== Onboarding (1) ==") < text.index("== Tickets (1) ==")
    assert "/api/v1/staff/jobs/3" in text and "/api/v1/tickets/7" in text
    assert "/api/v1/members/5" in text and "/api/v1/staff/me/alerts" in text
    assert "<h2" in html and 'href="http://localhost:5000/api/v1/tickets/7"' in html
    [digest] = db.session.scalars(select(StaffAlertDigest)).all()
    assert digest.user_id == cm.user_id and digest.cadence == "hourly"
    assert digest.alerts_count == 3 and digest.period_end - digest.period_start == timedelta(
        hours=1
    )
    inbox_entry = db.session.get(Notification, digest.notification_id)
    assert inbox_entry.kind == "staff.alert_digest" and inbox_entry.read_at is not None
    [delivery] = emails(cm.user_id)
    assert delivery.notification_id == digest.notification_id and delivery.status == "sent"


def test_a_period_without_alerts_sends_nothing_and_the_next_goes_on_from_it(client, smtp):
    cm = make_actor("community_manager")
    cadence(client, cm, "hourly")
    assert run_digests() == 0 and smtp.messages == []
    [empty] = db.session.scalars(select(StaffAlertDigest)).all()
    assert empty.alerts_count == 0 and empty.notification_id is None
    # Alerts of the current hour wait for its end.
    alert(ticket_id=1)
    assert run_digests() == 0 and smtp.messages == []


def test_a_cadence_change_takes_effect_with_the_next_alert(client, smtp):
    cm = make_actor("community_manager")
    first = alert(ticket_id=1)  # immediate: emailed on its own
    cadence(client, cm, "daily")
    second = alert(ticket_id=2)
    assert len(emails(cm.user_id)) == 1 and len(smtp.messages) == 1
    cadence(client, cm, "off")
    third = alert(ticket_id=3)
    assert len(emails(cm.user_id)) == 1

    into_last_period(cm.user_id, "daily")
    assert run_digests() == 0  # off: no digest either
    cadence(client, cm, "daily")
    assert run_digests() == 1
    assert len(smtp.messages) == 2
    text = smtp.messages[1].get_body(("plain",)).get_content()
    # The daily digest lists what was not emailed: not the first alert.
    assert f"Alert {second}" in text and f"Alert {third}" in text
    assert f"Alert {first}" not in text
    assert smtp.messages[1]["Subject"] == "Your daily alert digest: 2 alerts"


def test_an_off_cm_gets_alerts_in_the_inbox_only(client, smtp):
    cm = make_actor("community_manager")
    cadence(client, cm, "off")
    alert(ticket_id=1)
    into_last_period(cm.user_id, "hourly")
    assert run_digests() == 0
    assert emails(cm.user_id) == [] and smtp.messages == []
    inbox = db.session.scalars(select(Notification).where(Notification.user_id == cm.user_id))
    assert [n.kind for n in inbox] == ["support.sla_breached"]


def test_daily_periods_are_local_days():
    end = period_end(utcnow(), "daily", "Europe/Berlin")
    start = previous_boundary(end, "daily", "Europe/Berlin")
    assert timedelta(hours=23) <= end - start <= timedelta(hours=25)
    assert end.astimezone(ZoneInfo("Europe/Berlin")).hour == 0


@pytest.mark.committing
def test_concurrent_digest_runs_write_and_send_one_digest(app, smtp):
    cm = make_actor("community_manager")
    other = make_actor("community_manager")
    for actor in (cm, other):
        cadence(app.test_client(), actor, "hourly")
    alert(ticket_id=1)
    alert(ticket_id=2)
    into_last_period(cm.user_id, "hourly")
    into_last_period(other.user_id, "hourly")

    def digest_run(client, i):
        with app.app_context():
            return background.run_periodic(DIGESTS)

    results = run_concurrently(app, 4, digest_run)
    send_due()

    assert sum(results) == 2  # one digest per CM, whichever run wrote it
    db.session.expire_all()
    digests = db.session.scalars(select(StaffAlertDigest).order_by(StaffAlertDigest.user_id))
    assert [(d.user_id, d.alerts_count) for d in digests] == [
        (cm.user_id, 2),
        (other.user_id, 2),
    ]
    assert sorted(m["To"] for m in smtp.messages) == sorted([cm.email, other.email])
