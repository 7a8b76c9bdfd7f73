"""Email to an address without an account (notifications.addressed): sent after the commit by
the email channel, once, without tracking or unsubscribe headers; a permanent failure
suppresses the address, a temporary one is tried again; a redacted email goes out redacted."""

from __future__ import annotations

from sqlalchemy import select

from crowd.core.background import OutboxMessage
from crowd.core.db import commit
from crowd.extensions import db
from notifications.addressed import TASK, email_address, redact
from notifications.email import DELIVERY_HEADER
from notifications.models import Suppression
from tests.jobs.conftest import drain_background

ADDRESS = "nobody-yet@example.test"


def _send(app, key: str = "organisation.invitation:1", body: str = "Open the link: x") -> None:
    email_address(
        address=ADDRESS,
        kind="organisation.invitation",
        subject="You are invited",
        body=body,
        dedupe_key=key,
        locale="en",
    )
    commit()
    drain_background(app)


def _message(key: str) -> OutboxMessage:
    db.session.expire_all()
    return db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.dedupe_key == f"{TASK}:{key}")
    )


def test_an_address_gets_its_email_once_without_list_headers(app, smtp):
    _send(app)
    _send(app)  # the same key: queued once
    [message] = smtp.messages
    assert (message["To"], message["Subject"]) == (ADDRESS, "You are invited")
    assert "Open the link: x" in message.get_body(("plain",)).get_content()
    assert message["Message-ID"] and message[DELIVERY_HEADER] is None
    assert message["List-Unsubscribe"] is None


def test_a_permanent_failure_suppresses_the_address(app, smtp):
    smtp.replies = ["550 No such user"]
    _send(app)
    assert smtp.messages == []
    [suppression] = db.session.scalars(select(Suppression)).all()
    assert suppression.address == ADDRESS
    _send(app, key="organisation.invitation:2")
    assert smtp.messages == []
    assert _message("organisation.invitation:2").status == "done"


def test_a_temporary_failure_is_tried_again(app, smtp):
    smtp.replies = ["421 Try again later"]
    _send(app)
    message = _message("organisation.invitation:1")
    assert message.status != "done" and "421" in message.last_error
    assert smtp.messages == []


def test_a_redacted_email_goes_out_redacted(app, smtp, monkeypatch):
    # Queued, not yet sent (the relay holds it), then redacted: the redacted body goes out.
    email_address(
        address=ADDRESS,
        kind="organisation.invitation",
        subject="You are invited",
        body="secret link",
        dedupe_key="organisation.invitation:3",
        locale="en",
    )
    redact("organisation.invitation:3", "Spent.")
    commit()
    drain_background(app)
    [message] = smtp.messages
    assert "secret link" not in message.get_body(("plain",)).get_content()
    assert "Spent." in message.get_body(("plain",)).get_content()
