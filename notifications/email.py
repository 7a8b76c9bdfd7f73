"""The email channel: a notification rendered from Jinja templates (plain text and HTML) into
an `email.message.EmailMessage` and handed to the provider — an SMTP relay (MAIL_SMTP_HOST) or,
without one, the offline provider, which keeps the message in `outbound_emails` instead.

Every message carries a Message-ID and `X-Crowd-Delivery: <delivery id>`, so a bounce can be
matched to its delivery. Non-transactional kinds get `List-Unsubscribe` (an https link, a
mailto when MAIL_UNSUBSCRIBE_MAILTO is set) and `List-Unsubscribe-Post:
List-Unsubscribe=One-Click` (RFC 8058): the link's signed token unsubscribes without sign-in.
"""

from __future__ import annotations

import email.policy
import smtplib
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from jinja2 import Environment, FileSystemLoader, TemplateNotFound, select_autoescape
from sqlalchemy.dialects import postgresql, sqlite

from crowd.core.db import is_postgres, utcnow
from crowd.core.i18n import _, locales_of
from crowd.extensions import db
from notifications.channels import (
    EMAIL,
    Channel,
    KindPolicy,
    Outgoing,
    SendResult,
    register_channel,
)
from notifications.config import MailSettings, mail_settings
from notifications.models import OutboundEmail

DELIVERY_HEADER = "X-Crowd-Delivery"
_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    keep_trailing_newline=True,
)
# `{{ _("…", name=…) }}` in the templates: rendered in the recipient's language (see render).
_TEMPLATES.globals["_"] = _
_UNSUBSCRIBE_SALT = "crowd.unsubscribe"
_CONSENT_SALT = "crowd.consent"

# user id → email address (None: none to write to); filled by accounts' wiring.
_address_book: list[Callable[[int], str | None]] = []
# [user id] → {user id: email address}: the same for a batch of the sender, in one query.
_address_books: list[Callable[[list[int]], dict[int, str | None]]] = []


def install_address_book(
    lookup: Callable[[int], str | None],
    many: Callable[[list[int]], dict[int, str | None]] | None = None,
) -> None:
    """Tell the email channel where a user's address is (accounts owns the users)."""
    _address_book[:] = [lookup]
    _address_books[:] = [many] if many is not None else []


def address_of(user_id: int) -> str | None:
    return _address_book[0](user_id) if _address_book else None


def addresses_of(user_ids: list[int]) -> dict[int, str | None]:
    if _address_books:
        return _address_books[0](user_ids)
    return {user_id: address_of(user_id) for user_id in user_ids}


# --- signed links ---------------------------------------------------------------------------


def _serializer(salt: str, *, timed: bool = False):
    secret = current_app.config["SECRET_KEY"]
    return (URLSafeTimedSerializer if timed else URLSafeSerializer)(secret, salt=salt)


def unsubscribe_token(user_id: int, kind: str) -> str:
    return _serializer(_UNSUBSCRIBE_SALT).dumps({"u": user_id, "k": kind})


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    """(user id, kind) of a genuine token; None for anything forged or mangled."""
    try:
        value = _serializer(_UNSUBSCRIBE_SALT).loads(token)
    except BadSignature:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("u"), int):
        return None
    return value["u"], str(value.get("k"))


def unsubscribe_url(user_id: int, kind: str) -> str:
    base = mail_settings().base_url.rstrip("/")
    return f"{base}/api/v1/unsubscribe/{unsubscribe_token(user_id, kind)}"


def consent_token(user_id: int, topic: str, text_version: str) -> str:
    return _serializer(_CONSENT_SALT, timed=True).dumps(
        {"u": user_id, "t": topic, "v": text_version}
    )


def read_consent_token(token: str, *, max_age_seconds: int) -> dict | None:
    try:
        value = _serializer(_CONSENT_SALT, timed=True).loads(token, max_age=max_age_seconds)
    except BadSignature:
        return None
    return value if isinstance(value, dict) and isinstance(value.get("u"), int) else None


# --- rendering ------------------------------------------------------------------------------


def _template(kind: str, suffix: str):
    try:
        return _TEMPLATES.get_template(f"email/{kind}.{suffix}")
    except TemplateNotFound:
        return _TEMPLATES.get_template(f"email/message.{suffix}")


def sender_for(policy: KindPolicy, settings: MailSettings) -> str:
    return getattr(settings, f"from_{policy.sender}", settings.from_default)


class _HeaderClasses(HeaderRegistry):
    """The standard header registry, keeping the class it makes for each header name: the
    standard one makes a new class for every header of every message, a third of the cost of
    rendering one (the sender renders thousands a minute)."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


# email.policy.default, with the header classes kept.
MESSAGE_POLICY = email.policy.default.clone(header_factory=_HeaderClasses())


def render(outgoing: Outgoing, content: dict | None = None) -> EmailMessage:
    """The message for one delivery: both parts, sender by kind, tracking and list headers,
    in the recipient's language (the notification's text was rendered in it when written)."""
    locale = outgoing.locale or locales_of([outgoing.user_id])[outgoing.user_id]
    with force_locale(locale):
        return _render(outgoing, content, locale)


def _render(outgoing: Outgoing, content: dict | None, locale: str) -> EmailMessage:
    settings = mail_settings()
    content = content or {}
    subject = content.get("subject") or outgoing.title
    body = content.get("body") or outgoing.body
    unsubscribe = (
        None if outgoing.policy.transactional else unsubscribe_url(outgoing.user_id, outgoing.kind)
    )
    context = {
        "subject": subject,
        "body": body,
        "paragraphs": [p for p in body.split("\n\n") if p.strip()],
        "data": {**outgoing.data, **content.get("data", {})},
        "base_url": settings.base_url,
        "unsubscribe_url": unsubscribe,
        "description": _(outgoing.policy.description)
        if outgoing.policy.description
        else outgoing.kind,
        "locale": locale,
    }
    message = EmailMessage(policy=MESSAGE_POLICY)
    sender = sender_for(outgoing.policy, settings)
    message["From"] = sender
    message["To"] = outgoing.address
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    domain = parseaddr(sender)[1].rpartition("@")[2] or "crowd.example"
    if outgoing.delivery_id is None:
        # An email to an address without an account (notifications.addressed): no delivery.
        message["Message-ID"] = make_msgid(idstring="a", domain=domain)
    else:
        message["Message-ID"] = make_msgid(idstring=f"d{outgoing.delivery_id}", domain=domain)
        message[DELIVERY_HEADER] = str(outgoing.delivery_id)
    if unsubscribe:
        links = [f"<{unsubscribe}>"]
        if settings.unsubscribe_mailto:
            address = Address(addr_spec=settings.unsubscribe_mailto).addr_spec
            links.append(f"<mailto:{address}?subject=unsubscribe>")
        message["List-Unsubscribe"] = ", ".join(links)
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(_template(outgoing.kind, "txt").render(context))
    message.add_alternative(_template(outgoing.kind, "html").render(context), subtype="html")
    return message


# --- providers ------------------------------------------------------------------------------


def _keep_offline(outgoing: Outgoing, message: EmailMessage) -> SendResult:
    """The offline provider: keep the rendered message in the outbox table (with the caller's
    unit of work, which records the delivery's result)."""
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    headers = {k: str(v) for k, v in message.items()}
    dialect = postgresql if is_postgres() else sqlite
    statement = dialect.insert(OutboundEmail).values(
        to_address=outgoing.address,
        user_id=outgoing.user_id,
        subject=str(message["Subject"]),
        body=text,
        html=html,
        headers=headers,
        message_id=str(message["Message-ID"]),
        delivery_id=outgoing.delivery_id,
        dedupe_key=outgoing.dedupe_key,
        status="pending",
        created_at=utcnow(),
    )
    db.session.execute(statement.on_conflict_do_nothing(index_elements=["dedupe_key"]))
    return SendResult("sent", str(message["Message-ID"]), address=outgoing.address)


def _connect(settings: MailSettings) -> smtplib.SMTP:
    timeout = settings.smtp_timeout_seconds
    if settings.smtp_ssl:
        context = ssl.create_default_context()
        smtp = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=timeout, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
    try:
        if settings.smtp_starttls and not settings.smtp_ssl:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


# The connection a sender's run reuses (per thread: a worker may run several senders).
_held = threading.local()


@contextmanager
def smtp_session() -> Iterator[None]:
    """Reuse one SMTP connection for every message sent inside (opened at the first message,
    QUIT at the end) — the email channel's session, held by a run of the sender. A handshake
    and STARTTLS per message is most of the cost of sending one."""
    if getattr(_held, "active", False):
        yield
        return
    _held.active, _held.smtp = True, None
    try:
        yield
    finally:
        smtp, _held.active, _held.smtp = _held.smtp, False, None
        _close(smtp)


def _smtp_send(settings: MailSettings, message: EmailMessage) -> None:
    if not getattr(_held, "active", False):
        with _connect(settings) as smtp:
            smtp.send_message(message)
        return
    smtp = _held.smtp
    fresh = smtp is None
    if fresh:
        _held.smtp = smtp = _connect(settings)
    try:
        smtp.send_message(message)
    except smtplib.SMTPServerDisconnected:
        _held.smtp = None
        smtp.close()
        if fresh:
            raise
        # The relay closed the idle connection (or after a 421): once more on a new one.
        _smtp_send(settings, message)
    except (smtplib.SMTPException, OSError) as error:
        # A refused message leaves the connection usable (smtplib sent RSET); a broken
        # socket or a timeout does not.
        refused = isinstance(error, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused)
        if not refused or smtp.sock is None:
            _held.smtp = None
            _close(smtp)
        raise


def _classify(error: Exception) -> str:
    """temporary (4xx, no connection: try again) or permanent (5xx: the address is dead)."""
    code = getattr(error, "smtp_code", None)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _ in error.recipients.values()]
        code = codes[0] if codes else None
    if isinstance(code, int) and 500 <= code < 600:
        return "permanent"
    return "temporary"


def send_email(outgoing: Outgoing, content: dict | None = None) -> SendResult:
    """The email channel's sender: render, then relay over SMTP or keep offline."""
    if not outgoing.address:
        return SendResult("no_address", error="the user has no email address")
    message = render(outgoing, content)
    settings = mail_settings()
    if not settings.smtp_host:
        return _keep_offline(outgoing, message)
    try:
        _smtp_send(settings, message)
    except (smtplib.SMTPException, OSError) as error:
        return SendResult(_classify(error), error=f"{type(error).__name__}: {error}"[:2000])
    return SendResult("sent", str(message["Message-ID"]), address=outgoing.address)


register_channel(
    Channel(EMAIL, send_email, address=address_of, addresses=addresses_of, session=smtp_session)
)
