"""Two completions racing with the same photo: the file's row lock lets one report have it,
the other completion is a 422 and its job stays in progress."""

import pytest
from sqlalchemy import select

from crowd.extensions import db
from jobs.models import Job, WorkReportFile
from tests.concurrency import run_concurrently
from tests.jobs.conftest import active_member
from tests.jobs.test_work_report_files import _ready, _report, _started

pytestmark = pytest.mark.committing


def test_a_photo_raced_into_two_reports_lands_in_one(app, client, customer):
    member = active_member(max_concurrent_jobs=3)
    jobs = [_started(app, client, customer, member)[0] for _ in range(2)]
    photo = _ready(client, member, "work_photo")

    def complete(client, i):
        response = client.post(
            f"/api/v1/me/jobs/{jobs[i]}/complete",
            json=_report(photo_file_ids=[photo]),
            headers=member.headers,
        )
        return response.status_code, response.get_json()

    results = run_concurrently(app, 2, complete)
    assert sorted(code for code, _body in results) == [200, 422]
    refused = next(body for code, body in results if code == 422)
    assert "photo_file_ids" in refused["errors"]["json"]
    links = db.session.scalars(select(WorkReportFile)).all()
    assert [link.file_id for link in links] == [photo]
    statuses = sorted(db.session.get(Job, job_id).status for job_id in jobs)
    assert statuses == ["completed", "in_progress"]
