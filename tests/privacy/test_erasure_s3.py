"""Erasure with the files on S3 (moto's server): the person's objects and thumbnails are gone
from the bucket after the commit, everyone else's stay."""

from __future__ import annotations

import boto3
from sqlalchemy import select

from crowd.core.files.models import StoredFile
from crowd.extensions import db
from tests.crowd.test_files_s3 import BUCKET, s3, s3_endpoint  # noqa: F401  (fixtures)
from tests.factories import PASSWORD, make_actor
from tests.files_helpers import jpeg_with_gps, pdf, upload
from tests.jobs.conftest import drain_background


def bucket_keys(endpoint: str) -> set[str]:
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="eu-central-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def test_the_erased_persons_objects_leave_the_bucket(app, client, s3):  # noqa: F811
    member, other = make_actor("member"), make_actor("member")
    for actor, data, kind, purpose in (
        (member, jpeg_with_gps(), "image/jpeg", "profile_photo"),
        (member, pdf(), "application/pdf", "ticket_attachment"),
        (other, jpeg_with_gps(), "image/jpeg", "profile_photo"),
    ):
        assert upload(client, actor, data, kind, purpose=purpose).status_code == 200
    drain_background(app)
    files = db.session.scalars(select(StoredFile)).all()

    def keys_of(actor) -> set[str]:
        return {
            key
            for file in files
            if file.owner_user_id == actor.user_id
            for key in (file.key, file.thumbnail_key)
            if key
        }

    theirs, others = keys_of(member), keys_of(other)
    assert theirs | others <= bucket_keys(s3)

    response = client.post(
        "/api/v1/me/erasure", json={"password": PASSWORD}, headers=member.headers
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["counts"]["files"] == 2
    drain_background(app)

    left = bucket_keys(s3)
    assert not theirs & left
    assert others <= left
