"""Uploads on S3Storage against a real local S3 endpoint: moto's server in a thread, spoken to
over HTTP by boto3 (the app) and by requests (the phone PUTting to the presigned URL)."""

from __future__ import annotations

import contextlib
import io
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from moto.server import ThreadedMotoServer
from PIL import Image

from crowd.core.db import db
from crowd.core.files import service
from crowd.core.files.models import StoredFile
from crowd.core.files.storage import S3Storage, storage
from tests.factories import make_actor
from tests.files_helpers import API, fetch, jpeg_with_gps, put_bytes, start_upload
from tests.jobs.conftest import drain_background

BUCKET = "crowd-test-files"


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=url,
        region_name="eu-central-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    # moto keeps its buckets per process: another module's server made it already.
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
        )
    yield url
    server.stop()


@pytest.fixture
def s3(app, s3_endpoint, monkeypatch):
    """The app's files on the S3 server for this test."""
    for name, value in {
        "FILES_STORAGE": "s3",
        "FILES_S3_BUCKET": BUCKET,
        "FILES_S3_ENDPOINT_URL": s3_endpoint,
        "FILES_S3_REGION": "eu-central-1",
        "FILES_S3_ACCESS_KEY_ID": "test",
        "FILES_S3_SECRET_ACCESS_KEY": "test",
    }.items():
        monkeypatch.setitem(app.config, name, value)
    assert isinstance(storage(), S3Storage)
    return s3_endpoint


def test_the_whole_flow_over_s3(app, client, s3):
    member = make_actor("member")
    data = jpeg_with_gps()
    started = start_upload(client, member, data)
    url = started["upload"]["url"]
    assert url.startswith(s3 + f"/{BUCKET}/uploads/"), url  # path-style, presigned
    put = put_bytes(client, started, data)
    assert put.status_code == 200, put.text
    raw_key = db.session.get(StoredFile, started["id"]).key
    response = client.post(f"{API}/files/{started['id']}/confirm", headers=member.headers)
    assert response.status_code == 200, response.get_json()
    drain_background(app)
    db.session.expire_all()
    row = db.session.get(StoredFile, started["id"])
    assert not storage().exists(raw_key)
    clean = storage().get(row.key)
    assert b"Exif" not in clean and not Image.open(io.BytesIO(clean)).getexif()
    assert row.thumbnail_key and storage().exists(row.thumbnail_key)
    with app.test_request_context():
        found = service.download(row.id, filename="me.jpg")
    status, body, headers = fetch(client, found.url)
    assert status == 200 and body == clean
    assert 'filename="me.jpg"' in headers["Content-Disposition"]
    assert fetch(client, found.thumbnail_url)[0] == 200


def test_a_text_file_is_rejected_over_s3_and_its_object_deleted(app, client, s3):
    member = make_actor("member")
    data = b"not a photo at all" * 20
    started = start_upload(client, member, data)
    key = db.session.get(StoredFile, started["id"]).key
    assert put_bytes(client, started, data).status_code == 200
    response = client.post(f"{API}/files/{started['id']}/confirm", headers=member.headers)
    assert response.status_code == 422 and "file" in response.get_json()["errors"]["json"]
    drain_background(app)
    db.session.expire_all()
    assert db.session.get(StoredFile, started["id"]).status == "rejected"
    assert not storage().exists(key)


def test_an_oversize_object_on_s3_is_rejected(app, client, s3, monkeypatch):
    monkeypatch.setitem(app.config, "FILES_MAX_IMAGE_BYTES", 2048)
    member = make_actor("member")
    started = start_upload(client, member, b"x" * 1000)
    key = db.session.get(StoredFile, started["id"]).key
    storage().put(key, b"\xff\xd8" + b"x" * 5000, content_type="image/jpeg")
    response = client.post(f"{API}/files/{started['id']}/confirm", headers=member.headers)
    assert response.status_code == 422 and "file" in response.get_json()["errors"]["json"]


def test_the_presigned_put_signs_the_declared_size_and_type(app, client, s3):
    """S3 itself refuses a PUT of another size or type (moto's server does not check
    signatures, so this test reads what is signed)."""
    member = make_actor("member")
    started = start_upload(client, member, b"x" * 1234, "image/png")
    query = parse_qs(urlsplit(started["upload"]["url"]).query)
    assert query["X-Amz-SignedHeaders"] == ["content-length;content-type;host"]
    assert query["X-Amz-Expires"] == ["300"]
    assert started["upload"]["headers"] == {"Content-Type": "image/png"}
