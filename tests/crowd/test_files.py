"""Uploads on the local storage (the embedded default): create, PUT to our signed URL, confirm.

The content decides: a text file named like a photo is rejected, an image is re-encoded
without its EXIF (GPS), a thumbnail follows in the background; the signed URLs refuse a
changed or expired token.
"""

from __future__ import annotations

import io
import time
from urllib.parse import urlsplit

from PIL import Image

from crowd.core.background import OutboxMessage
from crowd.core.db import db
from crowd.core.files import service
from crowd.core.files.models import StoredFile
from crowd.core.files.storage import storage
from tests.factories import make_actor
from tests.files_helpers import API, fetch, jpeg_with_gps, png, put_bytes, start_upload, upload
from tests.jobs.conftest import drain_background


def test_a_photo_with_gps_comes_out_upright_without_any_exif(app, client):
    member = make_actor("member")
    response = upload(client, member, jpeg_with_gps())
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    # Orientation 6 applied to the pixels: the 64×48 photo stands 48×64.
    assert (body["status"], body["content_type"], body["width"], body["height"]) == (
        "ready",
        "image/jpeg",
        48,
        64,
    )
    row = db.session.get(StoredFile, body["id"])
    clean = storage().get(row.key)
    assert row.key.startswith("images/") and row.size == len(clean)
    image = Image.open(io.BytesIO(clean))
    assert image.format == "JPEG"
    assert not image.getexif() and b"Exif" not in clean and "exif" not in image.info


def test_the_raw_upload_is_deleted_after_the_confirmation(app, client):
    member = make_actor("member")
    data = png()
    started = start_upload(client, member, data, "image/png")
    raw_key = db.session.get(StoredFile, started["id"]).key
    assert put_bytes(client, started, data).status_code == 200
    assert storage().exists(raw_key)
    confirmed = client.post(f"{API}/files/{started['id']}/confirm", headers=member.headers)
    assert confirmed.get_json()["content_type"] == "image/png"
    drain_background(app)
    assert not storage().exists(raw_key)


def test_a_text_file_named_photo_jpg_is_rejected_by_its_content(app, client):
    member = make_actor("member")
    data = b"Hello, I am text in photo.jpg\n" * 10
    started = start_upload(client, member, data, "image/jpeg")
    key = db.session.get(StoredFile, started["id"]).key
    assert put_bytes(client, started, data).status_code == 200
    response = client.post(f"{API}/files/{started['id']}/confirm", headers=member.headers)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert "file" in response.get_json()["errors"]["json"]
    assert response.get_json()["type"].endswith("/file-rejected")
    db.session.expire_all()
    assert db.session.get(StoredFile, started["id"]).status == "rejected"
    drain_background(app)
    assert not storage().exists(key)
    # Rejected stays rejected: a second confirmation is a conflict.
    again = client.post(f"{API}/files/{started['id']}/confirm", headers=member.headers)
    assert again.status_code == 409


def test_an_upload_over_the_limit_is_refused(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "FILES_MAX_IMAGE_BYTES", 2048)
    member = make_actor("member")
    # Declared too large: refused at once.
    declared = client.post(
        f"{API}/files",
        json={"purpose": "profile_photo", "content_type_hint": "image/png", "size": 4096},
        headers=member.headers,
    )
    assert declared.status_code == 422 and "size" in declared.get_json()["errors"]["json"]
    # Declared small, sent large: the signed URL refuses the body.
    big = png((400, 400)) + b"\0" * 4096
    started = start_upload(client, member, b"x" * 100, "image/png")
    assert put_bytes(client, started, big).status_code == 413
    # Stored large anyway (S3 cannot count while it receives): the confirmation rejects it.
    storage().put(db.session.get(StoredFile, started["id"]).key, big, content_type="image/png")
    response = client.post(f"{API}/files/{started['id']}/confirm", headers=member.headers)
    assert response.status_code == 422 and "file" in response.get_json()["errors"]["json"]


def test_a_tampered_or_expired_local_url_is_403(app, client, monkeypatch):
    member = make_actor("member")
    data = png()
    started = start_upload(client, member, data, "image/png")
    path = urlsplit(started["upload"]["url"]).path
    token = path.rsplit("/", 1)[-1]
    tampered = path[: -len(token)] + token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert client.put(tampered, data=data).status_code == 403
    # An upload URL is no download URL.
    assert client.get(path).status_code == 403
    monkeypatch.setitem(app.config, "FILES_URL_TTL_SECONDS", 10)
    short = start_upload(client, member, data, "image/png")
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 11)
    response = put_bytes(client, short, data)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"


def test_confirming_before_uploading_names_the_file_and_keeps_it_pending(app, client):
    member = make_actor("member")
    started = start_upload(client, member, png(), "image/png")
    response = client.post(f"{API}/files/{started['id']}/confirm", headers=member.headers)
    assert response.status_code == 422 and "file" in response.get_json()["errors"]["json"]
    assert db.session.get(StoredFile, started["id"]).status == "pending"


def test_someone_elses_file_is_not_found(app, client):
    member, other = make_actor("member"), make_actor("member")
    started = start_upload(client, member, png(), "image/png")
    response = client.post(f"{API}/files/{started['id']}/confirm", headers=other.headers)
    assert response.status_code == 404
    assert client.get(f"{API}/files/{started['id']}", headers=other.headers).status_code == 404


def test_a_customer_cannot_upload_a_profile_photo(app, client):
    customer = make_actor("customer")
    response = client.post(
        f"{API}/files",
        json={"purpose": "profile_photo", "content_type_hint": "image/png", "size": 100},
        headers=customer.headers,
    )
    assert response.status_code == 422 and "purpose" in response.get_json()["errors"]["json"]


def test_creation_honours_the_idempotency_key(app, client):
    member = make_actor("member")
    body = {"purpose": "profile_photo", "content_type_hint": "image/png", "size": 100}
    headers = {**member.headers, "Idempotency-Key": "photo-1"}
    first = client.post(f"{API}/files", json=body, headers=headers)
    second = client.post(f"{API}/files", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] == second.get_json()["id"]
    assert db.session.query(StoredFile).filter_by(owner_user_id=member.user_id).count() == 1


def test_the_thumbnail_is_made_in_the_background(app, client):
    member = make_actor("member")
    body = upload(client, member, png((600, 300)), "image/png").get_json()
    # Queued by the confirmation (inline, it ran after the commit; with RQ it waits).
    queued = db.session.query(OutboxMessage).filter_by(task="files.make_thumbnail").all()
    assert [m.kwargs for m in queued] == [{"file_id": body["id"]}]
    drain_background(app)
    db.session.expire_all()
    row = db.session.get(StoredFile, body["id"])
    assert row.thumbnail_key
    thumb = Image.open(io.BytesIO(storage().get(row.thumbnail_key)))
    assert thumb.format == "JPEG" and max(thumb.size) == 256 and thumb.size == (256, 128)


def test_a_download_url_serves_the_clean_file(app, client):
    member = make_actor("member")
    body = upload(client, member, jpeg_with_gps()).get_json()
    with app.test_request_context():
        found = service.download(body["id"], filename="me.jpg")
    status, data, headers = fetch(client, found.url)
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    assert 'filename="me.jpg"' in headers["Content-Disposition"]
    assert b"Exif" not in data and Image.open(io.BytesIO(data)).size == (48, 64)


def test_a_small_file_may_come_through_the_api(app, client, monkeypatch):
    member = make_actor("member")
    data = jpeg_with_gps()
    started = start_upload(client, member, data)
    path = f"{API}/files/{started['id']}/content"
    headers = {**member.headers, "Content-Type": "image/jpeg"}
    assert client.put(path, data=data, headers=headers).status_code == 204
    confirmed = client.post(f"{API}/files/{started['id']}/confirm", headers=member.headers)
    assert confirmed.status_code == 200 and confirmed.get_json()["height"] == 64
    # Confirmed: no more bytes for it.
    assert client.put(path, data=data, headers=headers).status_code == 409
    other = make_actor("member")
    assert client.put(path, data=data, headers={**other.headers}).status_code == 404
    # Past the limit while reading.
    monkeypatch.setitem(app.config, "FILES_MAX_IMAGE_BYTES", 2048)
    second = start_upload(client, member, b"x" * 100, "image/png")
    streamed = client.put(
        f"{API}/files/{second['id']}/content",
        data=b"y" * 3000,
        headers=headers,
    )
    assert streamed.status_code == 413
    assert streamed.mimetype == "application/problem+json"
    empty = client.put(f"{API}/files/{second['id']}/content", data=b"", headers=headers)
    assert empty.status_code == 422 and "file" in empty.get_json()["errors"]["json"]


def test_an_image_larger_than_the_api_body_limit_goes_through_the_upload_url(app, client):
    out = io.BytesIO()
    Image.effect_noise((1000, 800), 120).convert("RGB").save(out, "PNG")
    data = out.getvalue()
    assert len(data) > app.config["MAX_CONTENT_LENGTH"]
    member = make_actor("member")
    response = upload(client, member, data, "image/png")
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["width"], response.get_json()["height"]) == (1000, 800)


def test_a_ticket_attachment_may_be_a_pdf_kept_without_its_metadata(app, client):
    from tests.files_helpers import pdf

    customer = make_actor("customer")
    data = pdf(author="Erika Mustermann")
    response = upload(client, customer, data, "application/pdf", purpose="ticket_attachment")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["content_type"]) == ("ready", "application/pdf")
    row = db.session.get(StoredFile, body["id"])
    kept = storage().get(row.key)
    assert row.key.startswith("documents/") and kept.startswith(b"%PDF-")
    assert b"Mustermann" in data and b"Mustermann" not in kept
    assert service.extension(row.id) == "pdf"


def test_a_pdf_is_refused_where_only_images_go(app, client):
    from tests.files_helpers import pdf

    member = make_actor("member")
    data = pdf()
    response = client.post(
        f"{API}/files",
        json={"purpose": "work_photo", "content_type_hint": "application/pdf", "size": len(data)},
        headers=member.headers,
    )
    assert response.status_code == 422
    assert "content_type_hint" in response.get_json()["errors"]["json"]
    # Declared as an image, a PDF is still no image: rejected by its content.
    rejected = upload(client, member, data, "image/jpeg", purpose="work_photo")
    assert rejected.status_code == 422
    assert "file" in rejected.get_json()["errors"]["json"]


def test_a_broken_pdf_attachment_is_rejected(app, client):
    customer = make_actor("customer")
    data = b"%PDF-1.7\n" + b"garbage " * 50
    response = upload(client, customer, data, "application/pdf", purpose="ticket_attachment")
    assert response.status_code == 422
    assert response.get_json()["type"].endswith("/file-rejected")


def test_only_members_upload_member_purposes_and_nobody_uploads_an_export(app, client):
    customer = make_actor("customer")
    for purpose in ("identity_document", "work_photo", "signature", "profile_photo"):
        response = client.post(
            f"{API}/files",
            json={"purpose": purpose, "content_type_hint": "image/png", "size": 100},
            headers=customer.headers,
        )
        assert response.status_code == 422, purpose
        assert "purpose" in response.get_json()["errors"]["json"]
    member = make_actor("member")
    response = client.post(
        f"{API}/files",
        json={"purpose": "data_export", "content_type_hint": "image/png", "size": 100},
        headers=member.headers,
    )
    assert response.status_code == 422
    assert "purpose" in response.get_json()["errors"]["json"]


def test_a_generated_file_is_ready_at_once(app):
    user = make_actor("member")
    file = service.store_generated(
        owner_user_id=user.user_id,
        purpose="data_export",
        data=b"PK\x05\x06" + b"\0" * 18,
        content_type="application/zip",
        extension="zip",
    )
    db.session.commit()
    assert file.status == "ready" and file.size == 22
    assert storage().get(file.key).startswith(b"PK")
    assert service.extension(file.id) == "zip"
