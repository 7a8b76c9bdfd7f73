"""Simultaneous requests for a person's export: one export is made, the others are refused."""

import pytest
from sqlalchemy import func, select

from crowd.extensions import db
from privacy.models.exports import DataExport
from tests.concurrency import run_concurrently
from tests.factories import make_actor
from tests.jobs.conftest import drain_background

pytestmark = pytest.mark.committing

URL = "/api/v1/me/data-exports"


def _exports_of(app, user_id: int) -> int:
    with app.app_context():
        query = select(func.count()).select_from(DataExport).where(DataExport.user_id == user_id)
        return db.session.scalar(query)


def test_simultaneous_requests_make_one_export(app):
    member = make_actor("member")

    def ask(client, i):
        return client.post(URL, headers=member.headers).status_code

    statuses = run_concurrently(app, 6, ask)
    assert statuses.count(202) == 1, statuses
    # The others found it being assembled (409), or, run inline, assembled already (429).
    assert set(statuses) - {202} <= {409, 429}, statuses
    assert _exports_of(app, member.user_id) == 1
    drain_background(app)
    with app.app_context():
        export = db.session.scalar(select(DataExport).where(DataExport.user_id == member.user_id))
        assert export.status == "ready"


def test_a_person_and_an_admin_at_once_make_one_export(app):
    member = make_actor("member")
    admin = make_actor("admin")

    def ask(client, i):
        if i % 2:
            url = f"/api/v1/users/{member.user_id}/data-exports"
            return client.post(url, headers=admin.headers).status_code
        return client.post(URL, headers=member.headers).status_code

    statuses = run_concurrently(app, 6, ask)
    assert statuses.count(202) >= 1, statuses
    assert set(statuses) - {202} <= {409, 429}, statuses
    # Never two in the making at once (the partial unique index would refuse a second).
    drain_background(app)
    with app.app_context():
        rows = db.session.scalars(
            select(DataExport).where(DataExport.user_id == member.user_id)
        ).all()
        assert len(rows) == statuses.count(202)
        assert all(row.status == "ready" for row in rows)
