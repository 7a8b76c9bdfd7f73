"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the email channel's tests, scriptable to
answer a message with a temporary (421) or permanent (550) failure."""

from __future__ import annotations

import socket
from dataclasses import replace
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from crowd.core import background
from crowd.extensions import db
from notifications.channels import CHANNELS, EMAIL
from notifications.delivery import SEND_TASK
from tests.push_fake import (  # noqa: F401  (fixtures)
    apns_fake,
    apns_fake_server,
    fcm_fake,
    fcm_fake_server,
    live_push,
)


class Recorder:
    """Keeps every accepted message; answers the next DATA with a scripted reply if any."""

    def __init__(self) -> None:
        self.messages = []
        self.replies: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        if self.replies:
            reply = self.replies.pop(0)
            if not reply.startswith("250"):
                return reply
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(app, monkeypatch):
    """The SMTP server, and the app's email channel pointed at it."""
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=_free_port())
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_SMTP_PORT", controller.port)
    monkeypatch.setitem(app.config, "MAIL_SMTP_STARTTLS", False)
    monkeypatch.setitem(app.config, "MAIL_UNSUBSCRIBE_MAILTO", "unsubscribe@crowd.example")
    try:
        yield recorder
    finally:
        controller.stop()


def send_due() -> int:
    """What the sweeper does (and, without Redis, the commit's hook has done already)."""
    return background.run_periodic(SEND_TASK)


class SenderDied(BaseException):
    """The process ends mid-batch (not an error the sender could record)."""


def send_and_die(monkeypatch) -> None:
    """A sender claims a batch of due emails and its process dies before recording anything:
    the claims stay `sending` until their lease lapses."""

    def die(outgoing, content=None):
        raise SenderDied

    with monkeypatch.context() as patched:
        patched.setitem(CHANNELS, EMAIL, replace(CHANNELS[EMAIL], send=die))
        with pytest.raises(SenderDied):
            send_due()
    db.session.rollback()
