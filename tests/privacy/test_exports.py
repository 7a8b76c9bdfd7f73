"""A person's export of their data: asked for, assembled in the background, announced in the
inbox, downloaded once, gone after its time; nobody else's data in it."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select

from crowd.core.audit import AuditEntry
from crowd.core.background import OutboxMessage
from crowd.core.db import utcnow
from crowd.core.files.models import StoredFile
from crowd.extensions import db
from invoicing.models import Document
from privacy.export.service import DISCARD_TASK
from privacy.models.exports import DataExport
from tests.factories import make_actor
from tests.files_helpers import fetch, jpeg_with_gps, pdf, png, upload
from tests.invoicing.helpers import set_customer_profile
from tests.jobs.conftest import active_member, drain_background, notifications_for
from tests.payouts.job_money_helpers import REPORT, confirmed_job
from tests.support.ticket_helpers import assign, opened, said

MINE = "/api/v1/me/data-exports"


def _ask(client, actor, **headers):
    return client.post(MINE, headers={**actor.headers, **headers})


def _asked(client, actor) -> dict:
    response = _ask(client, actor)
    assert response.status_code == 202, response.get_json()
    return response.get_json()


def _download(client, actor, export_id):
    return client.post(f"{MINE}/{export_id}/download", headers=actor.headers)


def _archive(client, actor, export_id) -> zipfile.ZipFile:
    """Download the export once and open its ZIP."""
    response = _download(client, actor, export_id)
    assert response.status_code == 200, response.get_json()
    status, body, headers = fetch(client, response.get_json()["url"])
    assert status == 200
    return zipfile.ZipFile(io.BytesIO(body))


def _csv(archive: zipfile.ZipFile, name: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8"))))


def _export_row(export_id: int) -> DataExport:
    db.session.expire_all()
    return db.session.get(DataExport, export_id)


def _review(client, actor, job_id, **body):
    response = client.post(f"/api/v1/jobs/{job_id}/reviews", json=body, headers=actor.headers)
    assert response.status_code == 201, response.get_json()


@pytest.fixture
def history(app, client, customer, cm):
    """A member with a profile photo, a confirmed and paid job with a work report, reviews both
    ways, and a ticket about the job with messages for each side and an internal note."""
    member = active_member(display_name="Mia Muster", email="mia@example.test")
    photo = upload(client, member, jpeg_with_gps())
    assert photo.status_code == 200, photo.get_json()
    set_photo = client.put(
        "/api/v1/me/profile-photo", json={"file_id": photo.get_json()["id"]}, headers=member.headers
    )
    assert set_photo.status_code == 200, set_photo.get_json()
    job_id, _ = confirmed_job(app, client, customer, cm, member)
    _review(client, customer, job_id, stars=5, comment="Tidy and quick", tags=["tidy"])
    _review(client, member, job_id, stars=4, comment="Clear brief, coffee too")
    ticket = opened(client, customer, job_id=job_id, description="The bracket came loose")
    assert assign(client, cm, ticket["id"]).status_code == 200
    said(client, member, ticket["id"], "I used brick anchors as agreed")
    said(client, cm, ticket["id"], "Secret: two earlier complaints", visibility="internal")
    said(client, cm, ticket["id"], "Only for the customer's eyes", visibility="customer")
    # A receipt the member uploaded for the ticket, and a photo the customer uploaded.
    receipt = upload(client, member, pdf(), "application/pdf", purpose="ticket_attachment")
    assert receipt.status_code == 200, receipt.get_json()
    theirs = upload(client, customer, png(), "image/png", purpose="ticket_attachment")
    assert theirs.status_code == 200, theirs.get_json()
    drain_background(app)
    return {
        "member": member,
        "job_id": job_id,
        "photo_id": photo.get_json()["id"],
        "receipt_id": receipt.get_json()["id"],
        "customer_file_id": theirs.get_json()["id"],
    }


def test_a_member_downloads_their_history_once(app, client, customer, history):
    member = history["member"]
    other = active_member(display_name="Otto Other", email="otto@example.test")

    asked = _asked(client, member)
    assert asked["status"] == "pending" and asked["requested_by"] == "self"
    assert asked["ready_at"] is None and asked["downloaded_at"] is None
    drain_background(app)

    shown = client.get(f"{MINE}/{asked['id']}", headers=member.headers).get_json()
    assert shown["status"] == "ready"
    assert shown["ready_at"] and shown["expires_at"] > shown["ready_at"]
    [notice] = notifications_for(member.user_id, "data_export.ready")
    assert notice.data == {"export_id": asked["id"]}
    listed = client.get(MINE, headers=member.headers).get_json()["items"]
    assert [item["id"] for item in listed] == [asked["id"]]

    archive = _archive(client, member, asked["id"])
    names = set(archive.namelist())
    assert {"README.txt", "data.json", "account.csv", "profile.csv", "jobs.csv"} <= names
    assert "jobs.csv" in archive.read("README.txt").decode()
    data = json.loads(archive.read("data.json"))
    sections = data["sections"]
    assert sections["account"][0]["email"] == "mia@example.test"
    assert "password_hash" not in sections["account"][0]
    assert sections["profile"][0]["display_name"] == "Mia Muster"
    [job] = sections["jobs"]
    assert job["id"] == history["job_id"] and job["status"] == "confirmed"
    assert job["work_report_notes"] == REPORT["notes"]
    assert "customer_id" not in job
    assert [r["comment"] for r in sections["reviews_written"]] == ["Clear brief, coffee too"]
    [received] = sections["reviews_received"]
    assert received["comment"] == "Tidy and quick" and received["author"] == "customer"
    assert "author_user_id" not in received
    bodies = [m["body"] for m in sections["ticket_messages"]]
    assert "I used brick anchors as agreed" in bodies
    assert [m["written_by_you"] for m in sections["ticket_messages"] if m["body"].startswith("I")]
    assert sections["payments"][0]["member_earning"] > 0
    assert sections["ledger"], "the earnings' ledger lines"
    assert sections["offers"] == [] or all("member_id" not in o for o in sections["offers"])
    # The CSV holds the same rows as the JSON.
    assert _csv(archive, "jobs.csv")[0]["work_report_notes"] == REPORT["notes"]
    assert [row["comment"] for row in _csv(archive, "reviews_received.csv")] == ["Tidy and quick"]

    # Their photo, byte for byte as the app serves it.
    photo_path = f"files/profile_photo/{history['photo_id']}.jpg"
    assert photo_path in names
    served = client.get(
        f"/api/v1/members/{member.profile_id}/profile-photo", headers=member.headers
    ).get_json()
    assert archive.read(photo_path) == fetch(client, served["url"])[1]
    assert {"path": photo_path}.items() <= next(
        f for f in data["files"] if f["path"] == photo_path
    ).items()

    receipt = archive.read(f"files/ticket_attachment/{history['receipt_id']}.pdf")
    assert receipt.startswith(b"%PDF")
    attachments = {name for name in names if name.startswith("files/ticket_attachment/")}
    assert attachments == {f"files/ticket_attachment/{history['receipt_id']}.pdf"}
    assert not [name for name in names if name.startswith("files/data_export/")]

    # Nobody else's data: not the customer's email or name, not another member, no internal
    # note, not the message meant for the customer only.
    everything = b"".join(archive.read(name) for name in names if not name.startswith("files/"))
    text = everything.decode("utf-8")
    for absent in (
        customer.email,
        "Customer ",
        other.email,
        "Otto Other",
        "Secret: two earlier complaints",
        "Only for the customer's eyes",
    ):
        assert absent not in text, absent

    # Once: the second call is 410, and the archive goes after the URL has lapsed.
    again = _download(client, member, asked["id"])
    assert again.status_code == 410
    assert again.content_type == "application/problem+json"
    assert again.get_json()["type"].endswith("/export-gone")
    row = _export_row(asked["id"])
    assert row.status == "downloaded" and row.downloaded_at is not None
    discard = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.task == DISCARD_TASK,
            OutboxMessage.dedupe_key == f"{DISCARD_TASK}:downloaded:{asked['id']}",
        )
    )
    assert discard.run_after > utcnow()
    discard.run_after = utcnow()
    db.session.commit()
    drain_background(app)
    assert db.session.get(StoredFile, row.file_id).status == "deleted"
    assert db.session.get(StoredFile, history["photo_id"]).status == "ready"


def test_an_unfetched_export_expires(app, client, member):
    asked = _asked(client, member)
    drain_background(app)
    row = _export_row(asked["id"])
    assert row.expires_at - row.ready_at == timedelta(days=7)
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    assert client.get(f"{MINE}/{asked['id']}", headers=member.headers).json["status"] == "expired"
    gone = _download(client, member, asked["id"])
    assert gone.status_code == 410
    row = _export_row(asked["id"])
    assert row.status == "expired" and row.downloaded_at is None
    assert db.session.get(StoredFile, row.file_id).status == "deleted"


def test_the_archive_is_deleted_at_expiry_without_anyone_asking(app, client, member):
    asked = _asked(client, member)
    drain_background(app)
    row = _export_row(asked["id"])
    expiry = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.dedupe_key == f"{DISCARD_TASK}:expiry:{asked['id']}"
        )
    )
    assert expiry.run_after == row.expires_at
    # Not before its time: a run now leaves it ready.
    expiry.run_after = utcnow()
    db.session.commit()
    drain_background(app)
    assert _export_row(asked["id"]).status == "ready"
    row = _export_row(asked["id"])
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.add(OutboxMessage(task=DISCARD_TASK, kwargs={"export_id": row.id}, status="pending"))
    db.session.commit()
    drain_background(app)
    row = _export_row(asked["id"])
    assert row.status == "expired"
    assert db.session.get(StoredFile, row.file_id).status == "deleted"


def test_a_customer_exports_jobs_payments_addresses_and_invoices(app, client, customer, cm):
    address = client.post(
        "/api/v1/me/customer/addresses",
        json={
            "label": "Home",
            "street": "Ring 1",
            "postcode": "10115",
            "city": "Berlin",
            "country": "DE",
            "lat": 52.5,
            "lon": 13.4,
        },
        headers=customer.headers,
    )
    assert address.status_code == 201, address.get_json()
    set_customer_profile(client, customer, country="DE", vat_id=None)
    job_id, member = confirmed_job(app, client, customer, cm)
    _review(client, member, job_id, stars=3, comment="Dog was loud")
    _review(client, customer, job_id, stars=5, comment="Great work")
    drain_background(app)

    asked = _asked(client, customer)
    drain_background(app)
    archive = _archive(client, customer, asked["id"])
    sections = json.loads(archive.read("data.json"))["sections"]
    assert sections["account"][0]["email"] == customer.email
    assert [a["street"] for a in sections["addresses"]] == ["Ring 1"]
    assert [j["id"] for j in sections["jobs"]] == [job_id]
    assert sections["payments"][0]["amount_captured"] == 12000
    assert "member_earning" not in sections["payments"][0]
    assert [r["comment"] for r in sections["reviews_written"]] == ["Great work"]
    assert [r["comment"] for r in sections["reviews_received"]] == ["Dog was loud"]
    # Member-only sections are not there for a customer.
    assert "skills" not in sections and "ledger" not in sections
    [invoice] = sections["documents"]
    assert invoice["job_id"] == job_id and invoice["gross_total"] == 12000
    issued = db.session.get(Document, invoice["id"])
    pdf = archive.read(f"files/documents/{invoice['number'].replace('/', '-')}.pdf")
    assert pdf == issued.pdf and pdf.startswith(b"%PDF")
    assert sections["billing_profile"][0]["legal_name"] == "Erika Mustermann"
    text = archive.read("data.json").decode()
    assert member.email not in text


def test_someone_elses_export_is_not_found(app, client, member, other_member):
    asked = _asked(client, member)
    drain_background(app)
    for response in (
        client.get(f"{MINE}/{asked['id']}", headers=other_member.headers),
        _download(client, other_member, asked["id"]),
    ):
        assert response.status_code == 404
        assert response.content_type == "application/problem+json"
    assert client.get(MINE, headers=other_member.headers).json["items"] == []
    assert _export_row(asked["id"]).status == "ready"


def _pending(actor) -> DataExport:
    """An export still being assembled (background work runs inline here, at the commit)."""
    export = DataExport(user_id=actor.user_id, requested_by_id=actor.user_id, status="pending")
    db.session.add(export)
    db.session.commit()
    return export


def test_one_at_a_time_and_one_a_day(app, client, member):
    pending = _pending(member)
    downloading = _download(client, member, pending.id)
    assert downloading.status_code == 409
    assert downloading.get_json()["type"].endswith("/export-not-ready")
    second = _ask(client, member)
    assert second.status_code == 409
    assert second.get_json()["type"].endswith("/export-in-progress")
    # A pending export whose background run was lost for good counts as failed after a day.
    pending.created_at = utcnow() - timedelta(hours=25)
    db.session.commit()
    asked = _asked(client, member)
    assert _export_row(pending.id).status == "failed"
    assert notifications_for(member.user_id, "data_export.failed")
    assert _download(client, member, pending.id).status_code == 410
    drain_background(app)
    assert _export_row(asked["id"]).status == "ready"
    too_soon = _ask(client, member)
    assert too_soon.status_code == 429
    assert too_soon.get_json()["type"].endswith("/export-too-soon")
    assert 0 < int(too_soon.headers["Retry-After"]) <= 24 * 3600
    row = _export_row(asked["id"])
    row.created_at = utcnow() - timedelta(hours=25)
    db.session.commit()
    assert _ask(client, member).status_code == 202


def test_a_retried_request_replays_its_answer(app, client, member):
    first = _ask(client, member, **{"Idempotency-Key": "export-1"})
    again = _ask(client, member, **{"Idempotency-Key": "export-1"})
    assert first.status_code == again.status_code == 202
    assert first.get_json()["id"] == again.get_json()["id"]
    count = db.session.scalars(select(DataExport).where(DataExport.user_id == member.user_id))
    assert len(count.all()) == 1


def test_an_admin_asks_for_a_user_who_downloads_it(app, client, admin, cm, member):
    url = f"/api/v1/users/{member.user_id}/data-exports"
    assert client.post(url, headers=cm.headers).status_code == 403
    assert client.post(url, headers=member.headers).status_code == 403
    missing = client.post("/api/v1/users/999999/data-exports", headers=admin.headers)
    assert missing.status_code == 404
    asked = client.post(url, headers=admin.headers)
    assert asked.status_code == 202, asked.get_json()
    export = asked.get_json()
    assert export["user_id"] == member.user_id and export["requested_by"] == "admin"
    drain_background(app)
    assert notifications_for(member.user_id, "data_export.ready")
    assert notifications_for(admin.user_id, "data_export.ready") == []
    # The admin does not get the archive; the person does.
    assert _download(client, admin, export["id"]).status_code == 404
    assert _download(client, member, export["id"]).status_code == 200
    audited = db.session.scalars(
        select(AuditEntry).where(AuditEntry.actor_user_id == admin.user_id)
    ).all()
    assert any(
        entry.target == {"user_id": member.user_id} and entry.status_code == 202
        for entry in audited
    )
    # The admin's request does not hold the person back from their own.
    assert _ask(client, member).status_code == 202


def test_staff_export_their_own_account(app, client, cm):
    asked = _asked(client, cm)
    drain_background(app)
    archive = _archive(client, cm, asked["id"])
    sections = json.loads(archive.read("data.json"))["sections"]
    assert sections["account"][0]["email"] == cm.email
    assert "jobs" not in sections


def test_an_anonymous_caller_is_refused(client):
    assert client.post(MINE).status_code == 401
    assert client.get(MINE).status_code == 401


def test_a_new_account_exports_an_almost_empty_archive(app, client):
    fresh = make_actor("customer")
    asked = _asked(client, fresh)
    drain_background(app)
    archive = _archive(client, fresh, asked["id"])
    assert _csv(archive, "jobs.csv") == []
    assert archive.read("jobs.csv").decode().startswith("id,")


def test_an_export_that_cannot_be_assembled_fails_and_says_so(app, client, member):
    # A file row whose key the storage refuses: the assembly stops at it.
    db.session.add(
        StoredFile(
            key="uploads/../escape",
            owner_user_id=member.user_id,
            purpose="profile_photo",
            status="ready",
            content_type="image/jpeg",
            created_at=utcnow(),
        )
    )
    db.session.commit()
    asked = _asked(client, member)
    drain_background(app)
    row = _export_row(asked["id"])
    assert row.status == "failed" and row.failed_at is not None and row.file_id is None
    assert notifications_for(member.user_id, "data_export.failed")
    assert notifications_for(member.user_id, "data_export.ready") == []
    assert _download(client, member, asked["id"]).status_code == 410
    # A failed export does not count against the interval.
    assert _ask(client, member).status_code == 202
