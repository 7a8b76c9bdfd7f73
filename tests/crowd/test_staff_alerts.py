"""Issue 20: alerts reach the community managers responsible (queue, region), else every CM;
each CM sets their cadence and responsibilities, admins anyone's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from accounts.models import User
from accounts.staff_alerts import responsible_staff
from crowd.core.db import commit, utcnow
from crowd.extensions import db
from onboarding.models import DocumentCheck
from onboarding.tasks.applications import alert_waiting_checks
from support import sla
from tests.community.conftest import create_group, joined_member, thread
from tests.factories import make_actor
from tests.jobs.conftest import active_member, drain_background, notifications_for
from tests.jobs.test_dispatch import post_job
from tests.support.ticket_helpers import assign, job_of, opened, ticket_row

API = "/api/v1"


def responsibilities(client, actor, items, *, user_id=None, **extra):
    url = f"{API}/accounts/staff/{user_id}/alerts" if user_id else f"{API}/staff/me/alerts"
    return client.patch(url, json={"responsibilities": items, **extra}, headers=actor.headers)


@pytest.fixture
def cms(client):
    """Three CMs: Munich dispatch, the ticket queue, and one without responsibilities."""
    munich, tickets, idle = (make_actor("community_manager") for _ in range(3))
    assert (
        responsibilities(
            client, munich, [{"queue": "dispatch", "country": "DE", "postcode_prefix": "80"}]
        ).status_code
        == 200
    )
    assert responsibilities(client, tickets, [{"queue": "tickets"}]).status_code == 200
    return munich, tickets, idle


def test_an_alert_goes_to_the_responsible_cms_else_to_every_cm(cms):
    munich, tickets, idle = cms
    assert responsible_staff("dispatch", country="DE", postcode="80331") == [munich.user_id]
    assert responsible_staff("tickets") == [tickets.user_id]
    everyone = sorted(a.user_id for a in cms)
    assert responsible_staff("dispatch", country="DE", postcode="10117") == everyone
    assert responsible_staff("dispatch", country="AT", postcode="8010") == everyone
    assert responsible_staff("payments") == everyone
    # A disabled CM is nobody's responsible; without CMs, the admins are alerted.
    db.session.execute(update(User).where(User.id == munich.user_id).values(disabled_at=utcnow()))
    assert munich.user_id not in responsible_staff("dispatch", country="DE", postcode="80331")
    db.session.execute(
        update(User).where(User.role == "community_manager").values(disabled_at=utcnow())
    )
    admin = make_actor("admin")
    assert responsible_staff("tickets") == [admin.user_id]


def test_an_escalated_job_alerts_the_cm_responsible_for_its_region(app, client, customer, cms):
    munich, tickets, idle = cms
    active_member(skills=("router_config",))  # the wrong skill: escalated at once
    munich_address = {
        "street": "Marienplatz 1",
        "postcode": "80331",
        "city": "München",
        "country": "DE",
        "lat": 48.137,
        "lon": 11.575,
    }
    job_id = post_job(app, client, customer, address=munich_address)
    [notice] = notifications_for(munich.user_id, "job.escalated")
    assert notice.data == {"job_id": job_id, "alert_queue": "dispatch"}
    assert notifications_for(tickets.user_id, "job.escalated") == []
    assert notifications_for(idle.user_id, "job.escalated") == []

    berlin = post_job(app, client, customer)  # nobody answers for Berlin: every CM
    for cm in cms:
        assert [n.data["job_id"] for n in notifications_for(cm.user_id, "job.escalated")][
            -1
        ] == berlin


def test_sla_deadlines_about_to_pass_and_breaches_alert_the_ticket_queue(
    app, client, customer, member, cms
):
    munich, tickets, idle = cms
    ticket = opened(client, customer, job_id=job_of(customer, member))
    assert assign(client, idle, ticket["id"]).status_code == 200
    due = ticket_row(ticket["id"]).first_response_due_at

    assert sla.warn_due_soon(now=due - timedelta(hours=2)) == 0
    assert sla.warn_due_soon(now=due - timedelta(minutes=20)) == 1
    assert sla.warn_due_soon(now=due - timedelta(minutes=10)) == 1  # again: the same deadline
    commit()
    for cm in (tickets, idle):  # the queue's CM and the assignee, once each
        [warning] = notifications_for(cm.user_id, "support.sla_due_soon")
        assert warning.data["ticket_id"] == ticket["id"]
        assert warning.data["breach"] == "first_response"
    assert notifications_for(munich.user_id, "support.sla_due_soon") == []

    sla.check_sla(now=due)
    commit()
    drain_background(app)
    for cm in (tickets, idle):
        [breach] = notifications_for(cm.user_id, "support.sla_breached")
        assert breach.data["alert_queue"] == "tickets"
    assert notifications_for(munich.user_id, "support.sla_breached") == []


def test_a_reported_post_alerts_the_community_cms_once_while_reports_are_open(client, cm):
    moderator = make_actor("community_manager")
    assert responsibilities(client, moderator, [{"queue": "community"}]).status_code == 200
    group = create_group(client, cm)
    author = joined_member(client, group["id"])
    opening = thread(client, author, group["id"])
    for _ in range(2):
        reader = joined_member(client, group["id"])
        response = client.post(
            f"{API}/topic-posts/{opening['id']}/reports",
            json={"reason": "spam"},
            headers=reader.headers,
        )
        assert response.status_code == 201
    [alert] = notifications_for(moderator.user_id, "community.post_reported")
    assert alert.data["post_id"] == opening["id"]
    assert notifications_for(cm.user_id, "community.post_reported") == []


def test_a_document_waiting_too_long_alerts_the_onboarding_cms_once(app, cm, monkeypatch):
    monkeypatch.setitem(app.config, "ONBOARDING_ALERT_WAITING_HOURS", 12)
    applicant = active_member()
    fresh = DocumentCheck(
        member_id=applicant.profile_id,
        kind="identity",
        document_type="passport",
        issuer="Stadt Berlin",
        issuing_country="DE",
        submitted_at=utcnow() - timedelta(hours=2),
    )
    old = DocumentCheck(
        member_id=applicant.profile_id,
        kind="trade_certificate",
        document_type="meisterbrief",
        issuer="HWK Berlin",
        issuing_country="DE",
        submitted_at=utcnow() - timedelta(hours=13),
    )
    db.session.add_all([fresh, old])
    commit()
    assert alert_waiting_checks() == 1
    assert alert_waiting_checks() == 1
    commit()
    [alert] = notifications_for(cm.user_id, "onboarding.check_waiting")
    assert alert.data["check_id"] == old.id and "trade certificate" in alert.body


def test_settings_are_the_cms_own_and_any_staff_members_for_admins(client, cm, admin, member):
    me = client.get(f"{API}/staff/me/alerts", headers=cm.headers).get_json()
    assert me == {"user_id": cm.user_id, "digest": "immediate", "responsibilities": []}
    changed = client.patch(
        f"{API}/staff/me/alerts",
        json={"digest": "daily", "responsibilities": [{"queue": "payments"}]},
        headers=cm.headers,
    )
    assert changed.status_code == 200
    assert changed.get_json()["digest"] == "daily"
    assert changed.get_json()["responsibilities"] == [
        {"queue": "payments", "country": None, "postcode_prefix": None}
    ]
    # An admin reads and sets a CM's; a CM cannot reach another's; members none.
    url = f"{API}/accounts/staff/{cm.user_id}/alerts"
    assert client.get(url, headers=admin.headers).get_json()["digest"] == "daily"
    assert (
        responsibilities(client, admin, [], user_id=cm.user_id).get_json()["responsibilities"] == []
    )
    assert client.get(url, headers=cm.headers).status_code == 403
    assert client.get(f"{API}/staff/me/alerts", headers=member.headers).status_code == 403
    assert (
        client.get(
            f"{API}/accounts/staff/{member.user_id}/alerts", headers=admin.headers
        ).status_code
        == 404
    )
    assert (
        responsibilities(client, admin, [{"queue": "tickets"}], user_id=admin.user_id).status_code
        == 422
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"digest": "weekly"}, "digest"),
        ({"responsibilities": [{"queue": "marketing"}]}, "responsibilities"),
        ({"responsibilities": [{}]}, "responsibilities"),
        ({"responsibilities": [{"postcode_prefix": "8O"}]}, "responsibilities"),
        ({"responsibilities": [{"country": "FR"}]}, "responsibilities"),
    ],
)
def test_bad_settings_are_refused_with_the_field(client, cm, body, field):
    response = client.patch(f"{API}/staff/me/alerts", json=body, headers=cm.headers)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert field in response.get_json()["errors"]["json"]
