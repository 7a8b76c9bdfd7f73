"""Ticket messages: each side reads exactly what it may; a party's reply moves the ticket."""

from __future__ import annotations

import pytest

from tests.jobs.conftest import drain_background, notifications_for
from tests.support.ticket_helpers import (
    API,
    acted,
    assign,
    closed_ticket,
    events,
    get,
    job_of,
    opened,
    said,
    say,
    ticket_row,
)

PHOTO = {
    "filename": "bracket.jpg",
    "content_type": "image/jpeg",
    "size_bytes": 2_400_000,
    "url": "https://files.example.test/bracket.jpg",
}


def _bodies(client, actor, ticket_id) -> list[str]:
    response = client.get(f"{API}/{ticket_id}/messages", headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return [m["body"] for m in response.json["items"]]


@pytest.fixture
def job_ticket(client, customer, member, cm):
    """A ticket about a job of `customer` done by `member`, assigned to `cm`."""
    ticket = opened(client, customer, job_id=job_of(customer, member), description="Opening")
    assert assign(client, cm, ticket["id"]).status_code == 200
    return ticket["id"]


def test_each_side_reads_exactly_what_it_may(client, customer, member, cm, job_ticket):
    said(client, cm, job_ticket, "To both", visibility="parties")
    said(client, cm, job_ticket, "To the customer", visibility="customer")
    said(client, cm, job_ticket, "To the member", visibility="member")
    said(client, cm, job_ticket, "Note: member has two earlier complaints", visibility="internal")
    said(client, customer, job_ticket, "Customer to both")
    said(client, member, job_ticket, "Member to both")

    assert _bodies(client, customer, job_ticket) == [
        "Opening",
        "To both",
        "To the customer",
        "Customer to both",
        "Member to both",
    ]
    assert _bodies(client, member, job_ticket) == [
        "Opening",
        "To both",
        "To the member",
        "Customer to both",
        "Member to both",
    ]
    assert _bodies(client, cm, job_ticket) == [
        "Opening",
        "To both",
        "To the customer",
        "To the member",
        "Note: member has two earlier complaints",
        "Customer to both",
        "Member to both",
    ]


def test_messages_are_paged_oldest_first(client, cm, job_ticket):
    for n in range(4):
        said(client, cm, job_ticket, f"Note {n}", visibility="internal")
    first = client.get(f"{API}/{job_ticket}/messages?limit=3", headers=cm.headers).json
    assert first["page"]["total"] == 5
    rest = client.get(
        f"{API}/{job_ticket}/messages?limit=3&cursor={first['page']['next_cursor']}",
        headers=cm.headers,
    ).json
    bodies = [m["body"] for m in first["items"] + rest["items"]]
    assert bodies == ["Opening", "Note 0", "Note 1", "Note 2", "Note 3"]
    assert rest["page"]["next_cursor"] is None


@pytest.mark.parametrize("visibility", ["internal", "customer", "member"])
def test_a_party_writes_to_both_parties_only(client, customer, job_ticket, visibility):
    response = say(client, customer, job_ticket, "Psst", visibility=visibility)
    assert response.status_code == 422
    assert "visibility" in response.json["errors"]["json"]


def test_staff_cannot_write_to_a_party_the_ticket_does_not_have(client, member, cm):
    ticket_id = opened(client, member, category="payment")["id"]
    response = say(client, cm, ticket_id, "Hi", visibility="customer")
    assert response.status_code == 422
    assert said(client, cm, ticket_id, "Hi", visibility="member")["visibility"] == "member"


def test_outsiders_get_404(client, other_customer, other_member, job_ticket):
    for outsider in (other_customer, other_member):
        assert say(client, outsider, job_ticket).status_code == 404
        response = client.get(f"{API}/{job_ticket}/messages", headers=outsider.headers)
        assert response.status_code == 404


def test_message_validation(client, customer, job_ticket):
    assert say(client, customer, job_ticket, "").status_code == 422
    assert say(client, customer, job_ticket, "x", visibility="everyone").status_code == 422
    assert say(client, customer, job_ticket, "x", mood="angry").status_code == 422
    assert client.post(f"{API}/{job_ticket}/messages", json={"body": "x"}).status_code == 401


@pytest.mark.parametrize(
    "attachments",
    [
        [PHOTO] * 11,
        [{**PHOTO, "size_bytes": 25 * 1024 * 1024 + 1}],
        [{**PHOTO, "size_bytes": 0}],
        [{**PHOTO, "url": "http://files.example.test/bracket.jpg"}],
        [{**PHOTO, "content_type": "jpeg"}],
        [{**PHOTO, "checksum": "abc"}],
    ],
)
def test_attachment_metadata_is_checked(client, customer, job_ticket, attachments):
    response = say(client, customer, job_ticket, "See photo", attachments=attachments)
    assert response.status_code == 422
    assert "attachments" in response.json["errors"]["json"]


def test_attachments_are_kept_with_the_message(client, customer, cm, job_ticket):
    at_limit = {**PHOTO, "size_bytes": 25 * 1024 * 1024}
    message = said(client, customer, job_ticket, "Photos", attachments=[PHOTO] * 9 + [at_limit])
    assert message["attachments"][0] == PHOTO
    listed = client.get(f"{API}/{job_ticket}/messages", headers=cm.headers).json["items"]
    assert len(listed[-1]["attachments"]) == 10


# --- first response ---------------------------------------------------------------------------


def test_the_first_staff_message_a_party_can_read_is_the_first_response(
    client, customer, cm, job_ticket
):
    said(client, customer, job_ticket, "Anyone there?")
    said(client, cm, job_ticket, "Internal", visibility="internal")
    assert ticket_row(job_ticket).first_response_at is None
    answer = said(client, cm, job_ticket, "Only the member sees this", visibility="member")
    assert ticket_row(job_ticket).first_response_at.isoformat() == answer["created_at"]
    said(client, cm, job_ticket, "Later", visibility="parties")
    assert ticket_row(job_ticket).first_response_at.isoformat() == answer["created_at"]


# --- replies move the ticket ------------------------------------------------------------------


def test_the_party_waited_on_replies_and_the_ticket_goes_back_to_the_cm(
    client, customer, member, cm, job_ticket
):
    acted(client, cm, job_ticket, "wait_on_customer")
    said(client, member, job_ticket, "I was there on time")
    assert ticket_row(job_ticket).status == "waiting_on_customer"
    said(client, customer, job_ticket, "Here are the photos")
    assert ticket_row(job_ticket).status == "open"
    [reply] = events(job_ticket, "reply")
    assert (reply.from_status, reply.to_status, reply.actor_role) == (
        "waiting_on_customer",
        "open",
        "customer",
    )


def test_a_reply_reopens_a_resolved_ticket(client, member, cm, job_ticket):
    acted(client, cm, job_ticket, "resolve", note="Settled")
    assert ticket_row(job_ticket).auto_close_at is not None
    said(client, member, job_ticket, "Not settled for me")
    row = ticket_row(job_ticket)
    assert (row.status, row.auto_close_at, row.resolved_at) == ("open", None, None)


def test_staff_messages_do_not_move_the_ticket(client, cm, job_ticket):
    acted(client, cm, job_ticket, "wait_on_member")
    said(client, cm, job_ticket, "Reminder: please answer")
    assert ticket_row(job_ticket).status == "waiting_on_member"


def test_a_closed_ticket_takes_no_message_from_anyone(client, customer, cm):
    closed = closed_ticket(client, cm, customer)
    for actor in (customer, cm):
        response = say(client, actor, closed["id"], "One more thing")
        assert response.status_code == 409
        assert "follow-up" in response.json["detail"]


# --- who is told ------------------------------------------------------------------------------


def test_new_messages_notify_their_other_readers_only(
    app, client, customer, member, cm, job_ticket
):
    drain_background(app)
    seen = {
        a.user_id: len(notifications_for(a.user_id, "support.message"))
        for a in (customer, member, cm)
    }

    said(client, cm, job_ticket, "Internal", visibility="internal")
    said(client, cm, job_ticket, "Customer only", visibility="customer")
    said(client, customer, job_ticket, "To both")
    drain_background(app)

    def new(actor):
        return [
            n.body.split(": ", 1)[1]
            for n in notifications_for(actor.user_id, "support.message")[seen[actor.user_id] :]
        ]

    assert new(customer) == ["Customer only"]
    assert new(member) == ["To both"]
    assert new(cm) == ["To both"]


def test_the_other_party_is_told_when_a_ticket_about_them_is_opened(app, client, customer, member):
    ticket = opened(client, customer, job_id=job_of(customer, member))
    drain_background(app)
    [notice] = notifications_for(member.user_id, "support.ticket_opened")
    assert notice.data["ticket_id"] == ticket["id"]
    assert notifications_for(customer.user_id, "support.ticket_opened") == []


def test_messages_appear_in_the_audit_trail(client, customer, cm, job_ticket):
    said(client, customer, job_ticket, "Hello")
    said(client, cm, job_ticket, "Note", visibility="internal")
    trail = events(job_ticket, "message")
    assert [e.data["visibility"] for e in trail] == ["parties", "parties", "internal"]
    assert get(client, cm, job_ticket)["status"] == "open"
