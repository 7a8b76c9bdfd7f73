"""Members' offer polling: ETag / If-None-Match → 304 on an unchanged list, without the
database; a new ETag after every change of what the list shows (jobs.polling)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crowd.core.db import use_clock, utcnow
from crowd.extensions import db
from jobs import dispatch
from tests.jobs.conftest import active_member, drain_background
from tests.jobs.test_member_api import MY_OFFERS, OFFERS, accept, offer_for, post_job
from tests.sql_recorder import sql_statements


@pytest.fixture
def rules_wave_of_two(app, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_WAVE_SIZE", 2)


def poll(client, member, etag=None, **params):
    headers = dict(member.headers)
    if etag is not None:
        headers["If-None-Match"] = etag
    return client.get(MY_OFFERS, query_string=params, headers=headers)


def fresh_tag(client, member, **params) -> str:
    response = poll(client, member, **params)
    assert response.status_code == 200, response.get_json()
    return response.headers["ETag"]


def assert_unchanged(client, member, etag, **params):
    response = poll(client, member, etag, **params)
    assert response.status_code == 304, response.get_json()
    # The list's own tag, however the client sent it (weakly, among others).
    assert response.headers["ETag"] in etag
    assert response.headers["ETag"].startswith('"')
    assert response.data == b""


def assert_changed(client, member, etag, **params) -> dict:
    response = poll(client, member, etag, **params)
    assert response.status_code == 200, response.get_json()
    assert response.headers["ETag"] != etag
    return response.get_json()


def test_unchanged_list_answers_304_with_its_etag(app, client, customer):
    member = active_member()
    post_job(app, client, customer)

    first = poll(client, member)
    assert first.status_code == 200
    assert len(first.get_json()["items"]) == 1
    etag = first.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    # Kept by the member's app only, and revalidated every time.
    assert first.headers["Cache-Control"] == "private, no-cache"

    assert_unchanged(client, member, etag)
    assert_unchanged(client, member, f"W/{etag}")  # weak comparison, as If-None-Match does
    assert_unchanged(client, member, f'"other", {etag}')


def test_the_304_path_sends_no_sql_statement(app, client, customer):
    member = active_member()
    post_job(app, client, customer)
    etag = fresh_tag(client, member)
    assert_unchanged(client, member, etag)  # the token's principal is cached from here on

    with sql_statements() as sent:
        assert_unchanged(client, member, etag)
    assert sent == []

    with sql_statements() as sent:
        assert poll(client, member).status_code == 200
    assert sent, "the full answer reads the database"


def test_a_new_offer_changes_the_etag(app, client, customer):
    member = active_member()
    etag = fresh_tag(client, member)  # empty list
    assert_unchanged(client, member, etag)
    post_job(app, client, customer)
    body = assert_changed(client, member, etag)
    assert len(body["items"]) == 1


def test_declining_changes_the_etag(app, client, customer):
    member = active_member()
    job_id = post_job(app, client, customer)
    etag = fresh_tag(client, member)
    declined = client.post(
        f"{OFFERS}/{offer_for(job_id, member).id}/decline",
        json={"reason": "too_far"},
        headers=member.headers,
    )
    assert declined.status_code == 200
    assert assert_changed(client, member, etag)["items"] == []


def test_another_member_accepting_changes_the_etag(app, client, customer, rules_wave_of_two):
    me, other = active_member(), active_member()
    job_id = post_job(app, client, customer)
    etag = fresh_tag(client, me, status="all")
    assert accept(client, offer_for(job_id, other).id, other).status_code == 200
    drain_background(app)
    (item,) = assert_changed(client, me, etag, status="all")["items"]
    assert item["status"] == "withdrawn"


def test_accepting_changes_the_etag(app, client, customer):
    member = active_member()
    job_id = post_job(app, client, customer)
    etag = fresh_tag(client, member, status="all")
    assert accept(client, offer_for(job_id, member).id, member).status_code == 200
    (item,) = assert_changed(client, member, etag, status="all")["items"]
    assert item["status"] == "accepted"


def test_the_job_cancelled_changes_the_etag(app, client, customer):
    member = active_member()
    job_id = post_job(app, client, customer)
    etag = fresh_tag(client, member)
    cancelled = client.post(
        f"/api/v1/jobs/{job_id}/cancel",
        json={"reason": "no longer needed"},
        headers=customer.headers,
    )
    assert cancelled.status_code == 200, cancelled.get_json()
    assert assert_changed(client, member, etag)["items"] == []


def test_an_offer_running_out_of_time_changes_the_etag(app, client, customer):
    member = active_member()
    job_id = post_job(app, client, customer)
    etag = fresh_tag(client, member)
    expires_at = offer_for(job_id, member).expires_at
    later = expires_at + timedelta(seconds=1)
    # Past its expiry the offer leaves the default list before any sweep expires it.
    with use_clock(lambda: later):
        assert assert_changed(client, member, etag)["items"] == []
        # The sweep moves it to expired: the list of every offer shows it.
        everything = fresh_tag(client, member, status="all")
        assert dispatch.expire_due_offers() == 1
        db.session.commit()
        (item,) = assert_changed(client, member, everything, status="all")["items"]
        assert item["status"] == "expired"


def test_the_member_moving_changes_the_etag(app, client, customer):
    member = active_member()
    post_job(app, client, customer)
    etag = fresh_tag(client, member)
    moved = client.patch(
        "/api/v1/me/member", json={"lat": 52.55, "lon": 13.405}, headers=member.headers
    )
    assert moved.status_code == 200, moved.get_json()
    (item,) = assert_changed(client, member, etag)["items"]
    assert item["job"]["distance_km"] > 3
    # A change that shows nowhere in the offers keeps the list's ETag.
    etag = fresh_tag(client, member)
    renamed = client.patch("/api/v1/me/member", json={"bio": "Handy"}, headers=member.headers)
    assert renamed.status_code == 200, renamed.get_json()
    assert_unchanged(client, member, etag)


def test_wrong_malformed_or_foreign_tags_get_the_full_list(
    app, client, customer, rules_wave_of_two
):
    me, other = active_member(), active_member()
    post_job(app, client, customer)
    mine, theirs = fresh_tag(client, me), fresh_tag(client, other)
    head = mine.strip('"').partition("-")[0]
    for wrong in (
        "garbage",
        '"nope"',
        '""',
        "*",
        theirs,  # another member's list
        f'"{head}-{"0" * 20}"',  # this server never signed it
        f'"{int(head, 16) + 1:x}-{mine.strip(chr(34)).partition("-")[2]}"',  # tampered expiry
        mine[:-3] + '"',
    ):
        response = poll(client, me, wrong)
        assert response.status_code == 200, wrong
        assert response.headers["ETag"] == mine
        assert len(response.get_json()["items"]) == 1
    # Another query is another list.
    assert poll(client, me, mine, status="all").status_code == 200
    assert poll(client, me, mine, limit=5).status_code == 200


def test_a_revoked_token_cannot_poll_from_the_cache(app, client, customer):
    member = active_member()
    post_job(app, client, customer)
    etag = fresh_tag(client, member)
    assert_unchanged(client, member, etag)
    with sql_statements() as sent:
        assert_unchanged(client, member, etag)
    assert sent == []
    tokens = client.get("/api/v1/auth/tokens", headers=member.headers).get_json()["items"]
    signed_out = client.delete(f"/api/v1/auth/tokens/{tokens[0]['id']}", headers=member.headers)
    assert signed_out.status_code == 200
    assert poll(client, member, etag).status_code == 401


def test_expiry_is_part_of_the_tag_only_for_pending_lists(app, client, customer):
    member = active_member()
    job_id = post_job(app, client, customer)
    etag = fresh_tag(client, member, status="all")
    later = offer_for(job_id, member).expires_at + timedelta(hours=1)
    assert later > utcnow()
    with use_clock(lambda: later):
        assert_unchanged(client, member, etag, status="all")


def test_the_304_path_reads_the_stamp_store_once(app, client, customer, monkeypatch):
    member = active_member()
    post_job(app, client, customer)
    etag = fresh_tag(client, member)
    assert_unchanged(client, member, etag)  # the token's note now names the offer stamp
    store = app.extensions["crowd_stamps"]
    calls: list[str] = []
    for name in ("read", "recall"):
        real = getattr(store, name)
        monkeypatch.setattr(
            store, name, lambda *args, _real=real, _name=name: calls.append(_name) or _real(*args)
        )
    assert_unchanged(client, member, etag)
    # The token's note and, with it, the user's and the offer list's stamps: one round trip.
    assert calls == ["recall"]
