"""Helpers of the console tests: forms' CSRF tokens, staff enrolled in two-factor, signing in."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import timedelta

import pyotp

from console import twofactor
from crowd.core.db import utcnow
from crowd.extensions import db
from support.models import Ticket
from tests.factories import PASSWORD, make_actor
from tests.jobs.conftest import force_job_state, post_job_via_api

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _TOKEN.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


@dataclass
class Staff:
    user_id: int
    email: str
    role: str
    secret: str | None = None

    def code(self, offset_seconds: int = 0) -> str:
        return pyotp.TOTP(self.secret).at(time.time() + offset_seconds)


def make_staff(role: str = "community_manager", *, enrolled: bool = True) -> Staff:
    """A staff user; enrolled: with TOTP set up (confirmed with the previous step's code, so a
    code of the current step is still unused)."""
    actor = make_actor(role)
    staff = Staff(actor.user_id, actor.email, role)
    if enrolled:
        staff.secret = twofactor.begin_enrolment(actor.user_id)
        staff.recovery_codes = twofactor.confirm_enrolment(actor.user_id, staff.code(-30))
        db.session.commit()
    return staff


def post_form(client, page: str, action: str | None = None, **fields):
    """GET `page`, then POST its form (to `action`, default the page) with its CSRF token."""
    html = client.get(page).get_data(as_text=True)
    return client.post(action or page, data={"csrf_token": csrf_of(html), **fields})


def sign_in(client, staff: Staff, *, code: str | None = None):
    """Sign in with the password and (if enrolled) the current TOTP code; the last response."""
    response = post_form(client, "/console/sign-in", email=staff.email, password=PASSWORD)
    if staff.secret is None or response.status_code != 303:
        return response
    assert response.headers["Location"].startswith("/console/two-factor")
    return post_form(client, "/console/two-factor", code=code or staff.code())


def seed_my_work(client, cm_user_id: int) -> dict:
    """Tickets and jobs for My work, made through the API (a customer opens two tickets, an
    admin assigns both to the CM; one is due in 10 minutes, the other in days) and a job
    escalated to staff. Returns their ids."""
    customer = make_actor("customer")
    admin = make_actor("admin")
    ids = {}
    for name, subject in (("urgent", "Bracket fell off the wall"), ("calm", "Invoice question")):
        response = client.post(
            "/api/v1/tickets",
            json={"subject": subject, "category": "other", "description": "Please help."},
            headers=customer.headers,
        )
        assert response.status_code == 201, response.get_json()
        ids[name] = response.get_json()["id"]
        assigned = client.post(
            f"/api/v1/tickets/{ids[name]}/assign",
            json={"assignee_id": cm_user_id},
            headers=admin.headers,
        )
        assert assigned.status_code == 200, assigned.get_json()
    unassigned = client.post(
        "/api/v1/tickets",
        json={"subject": "Nobody has me", "category": "other", "description": "Hello?"},
        headers=customer.headers,
    )
    ids["unassigned"] = unassigned.get_json()["id"]
    ticket = db.session.get(Ticket, ids["urgent"])
    ticket.first_response_due_at = utcnow() + timedelta(minutes=10)
    job = post_job_via_api(client, customer, title="Mount a TV in Zürich")
    assert job.status_code == 201, job.get_json()
    ids["job"] = job.get_json()["id"]
    force_job_state(ids["job"], escalated_at=utcnow(), escalation_reason="nobody", status="open")
    db.session.commit()
    return ids
