"""The work report's photos and signature: the member attaches ready uploads at completion,
the job's customer, its member and staff read them, anyone else gets 404."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select

from crowd.core.files import service as files
from crowd.extensions import db
from jobs.models import Job, WorkReport, WorkReportFile
from tests.factories import make_actor
from tests.files_helpers import fetch, jpeg_with_gps, png, start_upload, upload
from tests.jobs.conftest import active_member, drain_background
from tests.jobs.test_work import MY_JOBS, REPORT, act, assigned_job

JOBS = "/api/v1/jobs"


def _ready(client, actor, purpose: str, data: bytes | None = None) -> int:
    data = data or jpeg_with_gps()
    response = upload(client, actor, data, purpose=purpose)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["id"]


def _started(app, client, customer, member=None):
    member = member or active_member()
    job_id = assigned_job(app, client, customer, member)
    assert act(client, member, job_id, "start").status_code == 200
    return job_id, member


def _report(**files) -> dict:
    return {"notes": "Mounted.", "minutes_spent": 60, **files}


def _field_error(response, field: str) -> str:
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]["json"]
    assert field in errors, errors
    return str(errors[field])


def _file_url(job_id: int, file_id: int) -> str:
    return f"{JOBS}/{job_id}/work-report/files/{file_id}"


def test_the_customer_sees_the_photos_and_signature_and_no_one_else_does(app, client, customer):
    job_id, member = _started(app, client, customer)
    photos = [_ready(client, member, "work_photo") for _ in range(2)]
    signature = _ready(client, member, "signature", png())

    done = act(
        client,
        member,
        job_id,
        "complete",
        _report(photo_file_ids=photos[::-1], signature_file_id=signature),
    )

    assert done.status_code == 200, done.get_json()
    listed = done.get_json()["work_report"]["files"]
    assert [(f["id"], f["kind"], f["position"]) for f in listed] == [
        (photos[1], "photo", 0),
        (photos[0], "photo", 1),
        (signature, "signature", 0),
    ]
    assert [f["content_type"] for f in listed] == ["image/jpeg", "image/jpeg", "image/png"]
    assert all(f["status"] == "ready" and "url" not in f for f in listed)
    rows = db.session.scalars(select(WorkReportFile).where(WorkReportFile.job_id == job_id)).all()
    assert {row.file_id for row in rows} == {*photos, signature}

    # The customer's and the member's job views list them too.
    seen = client.get(f"{JOBS}/{job_id}", headers=customer.headers).get_json()
    assert seen["work_report"]["files"] == listed
    mine = client.get(f"{MY_JOBS}/{job_id}", headers=member.headers).get_json()
    assert mine["work_report"]["files"] == listed

    # The customer downloads both photos: JPEGs without EXIF (no GPS).
    for photo in photos:
        got = client.get(_file_url(job_id, photo), headers=customer.headers)
        assert got.status_code == 200, got.get_json()
        status, data, headers = fetch(client, got.get_json()["url"])
        assert status == 200
        image = Image.open(io.BytesIO(data))
        assert image.format == "JPEG"
        assert not image.getexif() and b"Exif" not in data
        assert f"job-{job_id}-photo-" in headers.get("Content-Disposition", "")

    # The member and staff read them; another member or customer is told nothing.
    for reader in (member, make_actor("community_manager"), make_actor("admin")):
        response = client.get(_file_url(job_id, signature), headers=reader.headers)
        assert response.status_code == 200, response.get_json()
        assert fetch(client, response.get_json()["url"])[0] == 200
    for stranger in (active_member(), make_actor("customer")):
        response = client.get(_file_url(job_id, photos[0]), headers=stranger.headers)
        assert response.status_code == 404, response.get_json()
        assert response.mimetype == "application/problem+json"
        assert client.get(f"{JOBS}/{job_id}", headers=stranger.headers).status_code in (403, 404)


def test_a_file_of_another_job_is_not_found_through_this_one(app, client, customer):
    job_id, member = _started(app, client, customer)
    photo = _ready(client, member, "work_photo")
    assert act(client, member, job_id, "complete", _report(photo_file_ids=[photo])).status_code == (
        200
    )
    other_job, _member = _started(app, client, customer, member)
    response = client.get(_file_url(other_job, photo), headers=customer.headers)
    assert response.status_code == 404


def test_thumbnails_follow_in_the_background(app, client, customer):
    job_id, member = _started(app, client, customer)
    photo = _ready(client, member, "work_photo")
    assert act(client, member, job_id, "complete", _report(photo_file_ids=[photo])).status_code == (
        200
    )
    drain_background(app)
    body = client.get(_file_url(job_id, photo), headers=customer.headers).get_json()
    assert body["thumbnail_url"]
    assert fetch(client, body["thumbnail_url"])[0] == 200


def test_a_deleted_file_stays_listed_and_its_download_is_404(app, client, customer):
    job_id, member = _started(app, client, customer)
    photo = _ready(client, member, "work_photo")
    assert act(client, member, job_id, "complete", _report(photo_file_ids=[photo])).status_code == (
        200
    )
    files.discard(photo)  # what retention does
    db.session.commit()
    response = client.get(_file_url(job_id, photo), headers=customer.headers)
    assert response.status_code == 404
    assert "deleted" in response.get_json()["detail"]
    seen = client.get(f"{JOBS}/{job_id}", headers=customer.headers).get_json()
    assert [(f["id"], f["status"]) for f in seen["work_report"]["files"]] == [(photo, "deleted")]


def test_photo_refs_still_work_beside_the_files(app, client, customer):
    job_id, member = _started(app, client, customer)
    done = act(client, member, job_id, "complete", REPORT)
    assert done.status_code == 200
    assert done.get_json()["work_report"]["photo_refs"] == REPORT["photo_refs"]
    assert done.get_json()["work_report"]["files"] == []


# --- refusals --------------------------------------------------------------------------------


def _refused(app, client, customer, member, job_id, body: dict, field: str) -> str:
    detail = _field_error(act(client, member, job_id, "complete", body), field)
    db.session.expire_all()
    assert db.session.get(Job, job_id).status == "in_progress"
    assert db.session.get(WorkReport, job_id) is None
    return detail


def test_files_that_are_not_the_members_ready_uploads_of_the_purpose_are_422(app, client, customer):
    job_id, member = _started(app, client, customer)
    foreign = _ready(client, active_member(), "work_photo")
    pending = start_upload(client, member, png(), "image/png", purpose="work_photo")["id"]
    profile = _ready(client, member, "profile_photo")
    photo = _ready(client, member, "work_photo")

    for body, field in (
        (_report(photo_file_ids=[foreign]), "photo_file_ids"),
        (_report(photo_file_ids=[pending]), "photo_file_ids"),
        (_report(photo_file_ids=[profile]), "photo_file_ids"),
        (_report(photo_file_ids=[10**12]), "photo_file_ids"),
        (_report(signature_file_id=foreign), "signature_file_id"),
        # A work photo is not a signature.
        (_report(signature_file_id=photo), "signature_file_id"),
        (_report(photo_file_ids=[photo], signature_file_id=photo), "signature_file_id"),
    ):
        _refused(app, client, customer, member, job_id, body, field)
    assert "not confirmed" in _refused(
        app, client, customer, member, job_id, _report(photo_file_ids=[pending]), "photo_file_ids"
    )


def test_a_file_is_attached_to_one_report_only(app, client, customer):
    member = active_member(max_concurrent_jobs=3)
    first, _member = _started(app, client, customer, member)
    second, _member = _started(app, client, customer, member)
    photo = _ready(client, member, "work_photo")
    signature = _ready(client, member, "signature")
    assert (
        act(
            client,
            member,
            first,
            "complete",
            _report(photo_file_ids=[photo], signature_file_id=signature),
        ).status_code
        == 200
    )

    assert "another work report" in _refused(
        app, client, customer, member, second, _report(photo_file_ids=[photo]), "photo_file_ids"
    )
    _refused(
        app,
        client,
        customer,
        member,
        second,
        _report(signature_file_id=signature),
        "signature_file_id",
    )


def test_too_many_or_repeated_photos_are_422(app, client, customer):
    job_id, member = _started(app, client, customer)
    photo = _ready(client, member, "work_photo")
    many = _report(photo_file_ids=list(range(1, 12)))
    assert "10" in _refused(app, client, customer, member, job_id, many, "photo_file_ids")
    twice = _report(photo_file_ids=[photo, photo])
    _refused(app, client, customer, member, job_id, twice, "photo_file_ids")
    for bad in (["1"], [0], [True], "1"):
        _refused(
            app, client, customer, member, job_id, _report(photo_file_ids=bad), "photo_file_ids"
        )
    _refused(
        app, client, customer, member, job_id, _report(signature_file_id="x"), "signature_file_id"
    )
    # The ten allowed.
    ten = [_ready(client, member, "work_photo", png((20, 20))) for _ in range(10)]
    done = act(client, member, job_id, "complete", _report(photo_file_ids=ten))
    assert done.status_code == 200, done.get_json()
    assert [f["id"] for f in done.get_json()["work_report"]["files"]] == ten


def test_completing_again_with_the_same_key_replays_without_attaching_twice(app, client, customer):
    job_id, member = _started(app, client, customer)
    photo = _ready(client, member, "work_photo")
    headers = {**member.headers, "Idempotency-Key": "done-with-photos"}
    body = _report(photo_file_ids=[photo])
    first = client.post(f"{MY_JOBS}/{job_id}/complete", json=body, headers=headers)
    again = client.post(f"{MY_JOBS}/{job_id}/complete", json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json()["work_report"]["files"] == first.get_json()["work_report"]["files"]
    count = db.session.scalars(select(WorkReportFile).where(WorkReportFile.job_id == job_id)).all()
    assert len(count) == 1
