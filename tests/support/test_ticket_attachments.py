"""Files attached to ticket messages: the author's ready uploads (purpose ticket_attachment),
listed with the message, downloaded by whoever may read the message and by no one else."""

from __future__ import annotations

import io

from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from crowd.core.files import service as files
from crowd.extensions import db
from support.models import TicketMessage, TicketMessageFile
from tests.factories import make_actor
from tests.files_helpers import fetch, jpeg_with_gps, pdf, png, start_upload, upload
from tests.jobs.conftest import active_member, drain_background
from tests.payouts.job_money_helpers import completed_job
from tests.support.ticket_helpers import API, assign, job_of, messages, opened, said, say

ATTACHMENT = "ticket_attachment"


def _ready(client, actor, data: bytes | None = None, content_type: str = "image/jpeg", **kw) -> int:
    response = upload(client, actor, data or jpeg_with_gps(), content_type, **kw)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["id"]


def _pdf(client, actor) -> int:
    return _ready(client, actor, pdf(), "application/pdf", purpose=ATTACHMENT)


def _photo(client, actor) -> int:
    return _ready(client, actor, purpose=ATTACHMENT)


def _url(ticket_id: int, message_id: int, file_id: int) -> str:
    return f"{API}/{ticket_id}/messages/{message_id}/attachments/{file_id}"


def _get(client, actor, ticket_id, message_id, file_id):
    return client.get(_url(ticket_id, message_id, file_id), headers=actor.headers)


def _download(client, actor, ticket_id, message_id, file_id) -> tuple[dict, bytes]:
    response = _get(client, actor, ticket_id, message_id, file_id)
    assert response.status_code == 200, response.get_json()
    status, data, _headers = fetch(client, response.get_json()["url"])
    assert status == 200
    return response.get_json(), data


def _not_found(client, actor, ticket_id, message_id, file_id) -> None:
    response = _get(client, actor, ticket_id, message_id, file_id)
    assert response.status_code == 404, response.get_json()
    assert response.mimetype == "application/problem+json"


def _listed(client, actor, ticket_id) -> dict[int, list[dict]]:
    response = client.get(f"{API}/{ticket_id}/messages", headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return {m["id"]: m["files"] for m in response.get_json()["items"]}


def _field_error(response, field: str = "attachment_file_ids") -> str:
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]["json"]
    assert field in errors, errors
    return str(errors[field])


def test_a_dispute_with_a_pdf_and_a_photo_read_by_the_parties_and_staff(app, client, customer, cm):
    job_id, member = completed_job(app, client, customer, cm)
    receipt, photo = _pdf(client, customer), _photo(client, customer)
    ticket = opened(
        client,
        customer,
        job_id=job_id,
        dispute=True,
        subject="The TV fell off the wall",
        attachment_file_ids=[receipt, photo],
    )
    assert assign(client, cm, ticket["id"]).status_code == 200
    drain_background(app)  # the photo's thumbnail
    first = messages(ticket["id"])[0]
    rows = db.session.scalars(
        select(TicketMessageFile).where(TicketMessageFile.message_id == first.id)
    ).all()
    assert sorted((row.file_id, row.position) for row in rows) == [(receipt, 0), (photo, 1)]

    # Listed with the message for everyone who reads it: no URLs in the list.
    for reader in (customer, member, cm):
        listed = _listed(client, reader, ticket["id"])[first.id]
        assert [(f["id"], f["position"], f["content_type"], f["status"]) for f in listed] == [
            (receipt, 0, "application/pdf", "ready"),
            (photo, 1, "image/jpeg", "ready"),
        ]
        assert all(f["size"] > 0 and "url" not in f for f in listed)

    # The member and the CM download both: the PDF without its author, the photo without EXIF.
    for reader in (member, cm, customer):
        body, data = _download(client, reader, ticket["id"], first.id, receipt)
        assert body["thumbnail_url"] is None
        assert data.startswith(b"%PDF") and b"Max Mustermann" not in data
        assert "Receipt 42" in PdfReader(io.BytesIO(data)).pages[0].extract_text()
        body, data = _download(client, reader, ticket["id"], first.id, photo)
        image = Image.open(io.BytesIO(data))
        assert image.format == "JPEG" and not image.getexif() and b"Exif" not in data
        assert fetch(client, body["thumbnail_url"])[0] == 200

    # Another customer and another member: nothing there.
    for stranger in (make_actor("customer"), active_member()):
        _not_found(client, stranger, ticket["id"], first.id, receipt)
        _not_found(client, stranger, ticket["id"], first.id, photo)


def test_a_reply_carries_files_and_an_internal_note_keeps_its_own_to_staff(
    app, client, customer, member, cm
):
    ticket = opened(client, customer, job_id=job_of(customer, member))
    assert assign(client, cm, ticket["id"]).status_code == 200
    photo = _ready(client, member, png(), "image/png", purpose=ATTACHMENT)
    reply = said(client, member, ticket["id"], "Here is the wall", attachment_file_ids=[photo])
    assert [(f["id"], f["content_type"]) for f in reply["files"]] == [(photo, "image/png")]
    assert reply["attachments"] == []
    _download(client, customer, ticket["id"], reply["id"], photo)

    evidence = _pdf(client, cm)
    note = said(
        client,
        cm,
        ticket["id"],
        "Earlier damage",
        visibility="internal",
        attachment_file_ids=[evidence],
    )
    assert [f["id"] for f in note["files"]] == [evidence]
    _download(client, cm, ticket["id"], note["id"], evidence)
    _download(client, make_actor("admin"), ticket["id"], note["id"], evidence)
    for party in (customer, member):
        _not_found(client, party, ticket["id"], note["id"], evidence)
        assert note["id"] not in _listed(client, party, ticket["id"])

    # To one party: the other gets 404.
    letter = _pdf(client, cm)
    private = said(
        client,
        cm,
        ticket["id"],
        "Your refund",
        visibility="customer",
        attachment_file_ids=[letter],
    )
    _download(client, customer, ticket["id"], private["id"], letter)
    _not_found(client, member, ticket["id"], private["id"], letter)

    # A file reached through another message or ticket is not found.
    _not_found(client, customer, ticket["id"], private["id"], photo)
    other = opened(client, customer, job_id=job_of(customer, member))
    _not_found(client, customer, other["id"], reply["id"], photo)
    _not_found(client, customer, ticket["id"], reply["id"], 10**12)


def test_the_old_attachment_metadata_still_works(client, customer, member):
    ticket = opened(client, customer, job_id=job_of(customer, member))
    meta = {
        "filename": "bracket.jpg",
        "content_type": "image/jpeg",
        "size_bytes": 2_400_000,
        "url": "https://files.example.test/bracket.jpg",
    }
    message = said(client, customer, ticket["id"], "See the photo", attachments=[meta])
    assert message["attachments"] == [meta] and message["files"] == []


def test_a_deleted_attachment_is_listed_as_such_and_its_download_is_404(client, customer, member):
    ticket = opened(client, customer, job_id=job_of(customer, member))
    photo = _photo(client, customer)
    message = said(client, customer, ticket["id"], "Look", attachment_file_ids=[photo])
    files.discard(photo)  # what retention does
    db.session.commit()
    response = _get(client, member, ticket["id"], message["id"], photo)
    assert response.status_code == 404
    assert "deleted" in response.get_json()["detail"]
    assert _listed(client, member, ticket["id"])[message["id"]][0]["status"] == "deleted"


# --- refusals --------------------------------------------------------------------------------


def _refused(client, actor, ticket_id: int, ids, field: str = "attachment_file_ids") -> str:
    before = len(messages(ticket_id))
    detail = _field_error(
        say(client, actor, ticket_id, "With files", attachment_file_ids=ids), field
    )
    assert len(messages(ticket_id)) == before
    return detail


def test_files_that_are_not_the_authors_ready_attachments_are_422(client, customer, member):
    ticket = opened(client, customer, job_id=job_of(customer, member))
    foreign = _photo(client, member)
    pending = start_upload(client, customer, png(), "image/png", purpose=ATTACHMENT)["id"]
    work_photo = _ready(client, member, purpose="work_photo")
    for actor, ids in (
        (customer, [foreign]),
        (customer, [pending]),
        (member, [work_photo]),
        (customer, [10**12]),
    ):
        _refused(client, actor, ticket["id"], ids)
    assert "not confirmed" in _refused(client, customer, ticket["id"], [pending])


def test_a_file_is_attached_once_and_at_most_five_distinct_per_message(client, customer, member):
    ticket = opened(client, customer, job_id=job_of(customer, member))
    photo = _photo(client, customer)
    said(client, customer, ticket["id"], "First", attachment_file_ids=[photo])
    assert "another message" in _refused(client, customer, ticket["id"], [photo])

    other = _photo(client, customer)
    _refused(client, customer, ticket["id"], [other, other])
    assert "5" in _refused(client, customer, ticket["id"], list(range(1, 7)))
    for bad in (["1"], [0], [None], "1"):
        _refused(client, customer, ticket["id"], bad)
    five = [
        _ready(client, customer, png((20, 20)), "image/png", purpose=ATTACHMENT) for _ in range(5)
    ]
    message = said(client, customer, ticket["id"], "Five", attachment_file_ids=five)
    assert [f["id"] for f in message["files"]] == five


def test_opening_a_ticket_with_someone_elses_file_is_422_and_opens_nothing(
    client, customer, member
):
    foreign = _photo(client, member)
    response = client.post(
        API,
        json={
            "subject": "Loose bracket",
            "category": "quality_complaint",
            "description": "Crooked.",
            "job_id": job_of(customer, member),
            "attachment_file_ids": [foreign],
        },
        headers=customer.headers,
    )
    _field_error(response)
    assert db.session.scalars(select(TicketMessage)).all() == []
