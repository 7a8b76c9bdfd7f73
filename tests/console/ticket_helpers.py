"""Helpers of the console's ticket tests: a disputed job with real money, its ticket assigned
to the console CM, and forms posted with the page's CSRF token."""

from __future__ import annotations

from tests.factories import Actor, make_actor
from tests.support.dispute_helpers import disputed_job
from tests.support.ticket_helpers import API


def dispute_for(app, client, customer: Actor, cm_user_id: int, *, confirmed: bool = True):
    """(job id, member, ticket id) of a job in dispute whose ticket is the console CM's."""
    admin = make_actor("admin")
    job_id, member, ticket = disputed_job(app, client, customer, admin, confirmed=confirmed)
    assigned = client.post(
        f"{API}/{ticket['id']}/assign", json={"assignee_id": cm_user_id}, headers=admin.headers
    )
    assert assigned.status_code == 200, assigned.get_json()
    return job_id, member, ticket["id"]
