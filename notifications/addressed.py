"""Email to an address that may have no account yet (an invitation to join a company).

The notification channels reach users; a person invited by their address may not be one. Such
an email is not an inbox entry: it is written to the outbox with the caller's unit of work
(`email_address`) and, after the commit, rendered and sent by the email channel like any
delivery (`send_to_address`): the same templates, sender, SMTP relay or offline outbox, and
the same suppressions. The text is rendered when it is queued, in the language given.

An email carrying a secret (an invitation's link) is blanked once the secret is spent
(`redact`): in the outbox message that sends it and in the offline provider's copy.
"""

from __future__ import annotations

from sqlalchemy import select, update

from crowd.core.background import OutboxMessage, enqueue, task
from crowd.core.i18n import default_locale, render
from crowd.extensions import db
from notifications.channels import EMAIL, Outgoing, policy_for
from notifications.delivery import is_suppressed, suppress
from notifications.email import send_email
from notifications.models import OutboundEmail

TASK = "notifications.email_address"


class TemporaryFailure(RuntimeError):
    """The relay refused for now: the outbox runs the task again later."""


def email_address(
    *,
    address: str,
    kind: str,
    subject,
    body,
    dedupe_key: str,
    locale: str | None = None,
    data: dict | None = None,
) -> None:
    """Queue one email to `address` with the current unit of work: sent after the commit,
    once per `dedupe_key`; `subject` and `body` may be lazy (rendered here in `locale`)."""
    locale = locale or default_locale()
    if _queued(dedupe_key) is not None:
        return
    enqueue(
        TASK,
        dedupe_key=f"{TASK}:{dedupe_key}",
        address=address,
        kind=kind,
        subject=render(subject, locale),
        body=render(body, locale),
        key=dedupe_key,
        locale=locale,
        data=data or {},
    )


def _queued(dedupe_key: str) -> OutboxMessage | None:
    """The outbox message of the email queued with this key, if any."""
    db.session.flush()
    return db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.dedupe_key == f"{TASK}:{dedupe_key}")
    )


@task(TASK)
def send_to_address(
    *, address: str, kind: str, subject: str, body: str, key: str, locale: str, data: dict
) -> str:
    """Render and send one queued email; a suppressed address gets nothing, a temporary
    failure raises (the outbox tries again), a permanent one suppresses the address."""
    if is_suppressed(EMAIL, address):
        return "suppressed"
    outgoing = Outgoing(
        delivery_id=None,
        notification_id=None,
        user_id=None,
        kind=kind,
        channel=EMAIL,
        title=subject,
        body=body,
        data=data,
        dedupe_key=key,
        policy=policy_for(kind),
        address=address,
        locale=locale,
    )
    result = send_email(outgoing)
    if result.status == "temporary":
        raise TemporaryFailure(result.error or "temporary failure")
    if result.status == "permanent":
        suppress(EMAIL, address, result.error or "permanent failure")
    return result.status


def redact(dedupe_key: str, body: str) -> None:
    """Replace the body of the email queued with `dedupe_key` by `body`, in its outbox
    message (not sent yet: it goes out with `body`) and in the offline provider's copy."""
    message = _queued(dedupe_key)
    if message is not None:
        message.kwargs = {**message.kwargs, "body": body}
    db.session.execute(
        update(OutboundEmail)
        .where(OutboundEmail.dedupe_key == dedupe_key)
        .values(body=body, html=body)
        .execution_options(synchronize_session=False)
    )
