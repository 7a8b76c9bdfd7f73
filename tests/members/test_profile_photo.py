"""A member's profile photo: an upload of theirs, replaced and removed by them, read through
short-lived URLs by whoever may see the member's public face (like their reviews)."""

from __future__ import annotations

import io

from PIL import Image

from crowd.core.db import db
from crowd.core.files.models import StoredFile
from crowd.core.files.storage import storage
from members.models import Member
from tests.factories import make_actor
from tests.files_helpers import API, fetch, jpeg_with_gps, png, start_upload, upload
from tests.jobs.conftest import active_member, drain_background


def _ready(client, actor, data=None) -> int:
    response = upload(client, actor, data or jpeg_with_gps())
    assert response.status_code == 200, response.get_json()
    return response.get_json()["id"]


def _set(client, actor, file_id):
    return client.put(f"{API}/me/profile-photo", json={"file_id": file_id}, headers=actor.headers)


def test_a_member_shows_a_photo_others_read_by_short_lived_urls(app, client):
    member, customer = active_member(), make_actor("customer")
    file_id = _ready(client, member)
    response = _set(client, member, file_id)
    assert response.status_code == 200, response.get_json()
    drain_background(app)
    got = client.get(f"{API}/members/{member.profile_id}/profile-photo", headers=customer.headers)
    assert got.status_code == 200, got.get_json()
    body = got.get_json()
    assert body["url"] and body["thumbnail_url"] and body["expires_at"]
    status, data, headers = fetch(client, body["url"])
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    assert b"Exif" not in data and Image.open(io.BytesIO(data)).size == (48, 64)
    thumb_status, thumb, _ = fetch(client, body["thumbnail_url"])
    assert thumb_status == 200 and Image.open(io.BytesIO(thumb)).format == "JPEG"


def test_replacing_the_photo_deletes_the_old_one(app, client):
    member = active_member()
    first = _ready(client, member)
    assert _set(client, member, first).status_code == 200
    drain_background(app)
    db.session.expire_all()
    old = db.session.get(StoredFile, first)
    old_keys = [old.key, old.thumbnail_key]
    assert all(storage().exists(key) for key in old_keys)
    second = _ready(client, member, png())
    assert _set(client, member, second).status_code == 200
    drain_background(app)
    db.session.expire_all()
    assert db.session.get(StoredFile, first).status == "deleted"
    assert not any(storage().exists(key) for key in old_keys)
    assert db.session.get(Member, member.profile_id).profile_photo_file_id == second


def test_removing_the_photo(app, client):
    member = active_member()
    file_id = _ready(client, member)
    assert _set(client, member, file_id).status_code == 200
    assert client.delete(f"{API}/me/profile-photo", headers=member.headers).status_code == 204
    drain_background(app)
    db.session.expire_all()
    assert db.session.get(Member, member.profile_id).profile_photo_file_id is None
    assert db.session.get(StoredFile, file_id).status == "deleted"
    got = client.get(f"{API}/members/{member.profile_id}/profile-photo", headers=member.headers)
    assert got.status_code == 404
    # Removing nothing is fine.
    assert client.delete(f"{API}/me/profile-photo", headers=member.headers).status_code == 204


def test_only_a_ready_photo_of_ones_own_can_be_shown(app, client):
    member, other = active_member(), active_member()
    others = _ready(client, other)
    refused = _set(client, member, others)
    assert refused.status_code == 422 and "file_id" in refused.get_json()["errors"]["json"]
    pending = start_upload(client, member, png(), "image/png")["id"]
    refused = _set(client, member, pending)
    assert refused.status_code == 422 and "file_id" in refused.get_json()["errors"]["json"]
    assert db.session.get(Member, member.profile_id).profile_photo_file_id is None


def test_the_photo_of_a_member_nobody_may_see_is_not_found(app, client):
    applicant, customer, cm = (
        make_actor("member"),
        make_actor("customer"),
        make_actor("community_manager"),
    )
    file_id = _ready(client, applicant)
    assert _set(client, applicant, file_id).status_code == 200
    path = f"{API}/members/{applicant.profile_id}/profile-photo"
    # An applicant is not in the working crowd: their face is theirs and staff's only.
    assert client.get(path, headers=customer.headers).status_code == 404
    assert client.get(path, headers=cm.headers).status_code == 200
    assert client.get(path, headers=applicant.headers).status_code == 200
    assert client.get(path).status_code == 401
