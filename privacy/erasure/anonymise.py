"""What erasure does to each table holding a person's data: anonymise, delete, discard, keep.

Personal fields become neutral values (`erased_name`, NULL, `erased_email`), the free texts the
person wrote become `ERASED`, their files are discarded (objects removed after the commit),
their credentials, devices, inbox and outgoing mail go. Kept, because the law or the other
party needs them: ledger transactions and entries, payments, refunds and payouts (ids and
amounts; the provider's ids stay, they name no one), the issued documents (invoices, credit
notes: immutable legal records, kept for the legal retention period with the names they were
issued to), the other party's reviews of them and the tickets about them (with the person's
own parts anonymised), and the rows that hold only ids (skills, stats, levels, plans). The
user row stays (every foreign key points at it), deactivated, with an unusable password.

Each step returns how many rows it changed; the counts go to the erasure's record.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Numeric, String, cast, delete, func, or_, select, update

from accounts.models import AccountEvent, AuthToken, PasswordResetToken, SignInThrottle, User
from accounts.service import revoke_all_credentials
from accounts.throttle import email_hash
from community.models import CommunityMute, ModerationAction, PostReport, TopicPost
from crowd.core.background import OutboxMessage
from crowd.core.db import utcnow
from crowd.core.files.models import StoredFile
from crowd.core.files.service import discard
from crowd.core.idempotency import IdempotencyRecord
from crowd.extensions import db
from customers.models import BlockedMember, Customer, CustomerAddress, CustomerBillingProfile
from helpcentre.models import ArticleFeedback
from jobs.models import Job, JobEvent, Offer, Review, WorkReport, WorkReportFile
from members.models import (
    AvailabilitySlot,
    Member,
    MemberBillingProfile,
    MemberStatusChange,
    TimeOff,
)
from mentoring.models import MentorProfile, Mentorship, MentorshipSession
from notifications.models import (
    ConsentEvent,
    Delivery,
    DeliverySettings,
    Notification,
    NotificationPreference,
    OutboundEmail,
    Suppression,
)
from notifications.push.models import Device, PushOutboxEntry
from onboarding.models import Application, DocumentCheck, InformationRequest, IntroCall
from payouts.models import (
    ConnectedAccount,
    CustomerPaymentMethod,
    OfflineAccount,
    WebhookEvent,
)
from privacy.erasure import companies
from recruitment.models import MemberDevice, ReferralCode
from support.models import (
    Sanction,
    StaffContact,
    Ticket,
    TicketMessage,
    TicketMessageFile,
    TicketRating,
)

# What replaces a free text the person wrote (a review's comment, a message, a post, notes).
ERASED = "[erased]"
# Rounding of a customer's job addresses' coordinates: two decimals, about a kilometre.
COORDINATE_DECIMALS = 2
_CHUNK = 500


def erased_name(user_id: int) -> str:
    return f"Erased user #{user_id}"


def erased_email(user_id: int) -> str:
    """An address that routes nowhere (.invalid is reserved, RFC 2606) and stays unique."""
    return f"erased-{user_id}@invalid"


def _run(statement) -> int:
    result = db.session.execute(statement.execution_options(synchronize_session=False))
    return result.rowcount or 0


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def anonymise(
    user: User, member: Member | None, customer: Customer | None, *, by_id: int
) -> dict[str, int]:
    """Anonymise everything of `user` (with their member or customer profile, locked by the
    caller) at the request of user `by_id`; the rows changed per kind, leaving out kinds with
    none."""
    counts: Counter[str] = Counter()
    old_email = user.email
    quotes = _quotes(user, member, customer)
    counts["files"] += _files(user, member)
    counts.update(_free_texts(user, member, customer))
    if member is not None:
        counts.update(_member(user, member, by_id))
    if customer is not None:
        counts.update(_customer(user, customer))
    counts.update(
        companies.anonymise(member.id if member else None, old_email, erased_email(user.id))
    )
    counts.update(_notifications(user.id, old_email))
    counts.update(_account(user, old_email))
    counts["quoted_elsewhere"] += _redact_quotes(quotes)
    return {kind: n for kind, n in sorted(counts.items()) if n}


# --- quotes of the person in other people's messages -------------------------------------------

# Shorter strings could be part of anything; a quote of the person is longer than this.
MIN_QUOTE = 4
# Where a message to someone else may quote the person: their name in "a member takes your
# job", their ticket's subject, a customer's job title; and what the payment provider sent
# about them. (column, is JSON)
_QUOTING = (
    (Notification, (("title", False), ("body", False))),
    (Delivery, (("content", True),)),
    (OutboundEmail, (("subject", False), ("body", False), ("html", False))),
    (PushOutboxEntry, (("title", False), ("body", False))),
    # The provider's events as received (a Stripe account's or charge's details).
    (WebhookEvent, (("payload", True),)),
    # Background work's arguments (an email to the person's address, by a task).
    (OutboxMessage, (("kwargs", True),)),
)


@dataclass(frozen=True)
class Quote:
    """A text of the person's that other people's messages may contain, and its replacement.
    A quote with `key` is replaced only in messages about one of `ids` (their data's
    `ticket_id`, `job_id`): a ticket's subject or a job's title may be anyone's words too."""

    text: str
    replacement: str
    key: str | None = None
    ids: frozenset[int] = frozenset()


def _quotes(user: User, member: Member | None, customer: Customer | None) -> list[Quote]:
    """What other people's messages may quote of the person: their names, email and phone
    (anywhere), the subjects of the tickets they opened, a customer's job titles."""
    name = erased_name(user.id)
    anywhere = {user.display_name: name, user.email: ERASED}
    if member is not None:
        anywhere |= {member.display_name: name, member.phone: ERASED, member.business_name: name}
        billing = db.session.get(MemberBillingProfile, member.id)
        if billing is not None:
            anywhere[billing.legal_name] = name
    if customer is not None:
        anywhere |= {customer.display_name: name, customer.phone: ERASED}
        anywhere[customer.company_name] = name
        billing = db.session.get(CustomerBillingProfile, customer.id)
        if billing is not None:
            anywhere |= {billing.legal_name: name, billing.invoice_email: ERASED}
    quotes = [Quote(text, replacement) for text, replacement in anywhere.items() if text]
    tickets = db.session.execute(
        select(Ticket.id, Ticket.subject).where(Ticket.opened_by_id == user.id)
    ).all()
    quotes += _scoped("ticket_id", tickets)
    if customer is not None:
        jobs = db.session.execute(
            select(Job.id, Job.title).where(Job.customer_id == customer.id)
        ).all()
        quotes += _scoped("job_id", jobs)
    # Longest first: a subject that contains the name is replaced whole.
    return sorted(
        (q for q in quotes if len(q.text) >= MIN_QUOTE), key=lambda q: len(q.text), reverse=True
    )


def _scoped(key: str, rows) -> list[Quote]:
    ids_by_text: dict[str, set[int]] = {}
    for row_id, text in rows:
        ids_by_text.setdefault(text, set()).add(row_id)
    return [Quote(text, ERASED, key, frozenset(ids)) for text, ids in ids_by_text.items()]


def _patterns(quote: Quote, is_json: bool) -> set[str]:
    """How the quote is stored: as is, and in JSON also escaped (non-ASCII as \\uXXXX)."""
    if not is_json:
        return {quote.text}
    return {json.dumps(quote.text)[1:-1], json.dumps(quote.text, ensure_ascii=False)[1:-1]}


def _redact_quotes(quotes: list[Quote]) -> int:
    """Replace the quotes in other people's inbox entries, deliveries, emails and pushes (the
    person's own are deleted) and in the provider's events. A search of those tables: erasure
    is rare, and the messages a name or a subject is interpolated into are many."""
    if not quotes:
        return 0
    changed = 0
    for model, columns in _QUOTING:
        for column, is_json in columns:
            attribute = getattr(model, column)
            text = cast(attribute, String) if is_json else attribute
            patterns = {p for q in quotes for p in _patterns(q, is_json)}
            rows = db.session.scalars(
                select(model).where(or_(*[text.contains(p, autoescape=True) for p in patterns]))
            ).all()
            for row in rows:
                about = _about(row)
                value = getattr(row, column)
                raw = json.dumps(value) if is_json else value
                for quote in quotes:
                    if quote.key is not None and about.get(quote.key) not in quote.ids:
                        continue
                    for pattern in _patterns(quote, is_json):
                        raw = raw.replace(pattern, quote.replacement)
                new = json.loads(raw) if is_json else raw
                if new != value:
                    setattr(row, column, new)
                    changed += 1
    db.session.flush()
    return changed


def _about(row) -> dict:
    """What a message is about (its notification's data: ticket_id, job_id …)."""
    if isinstance(row, Notification | PushOutboxEntry):
        return row.data or {}
    if isinstance(row, OutboundEmail):
        row = db.session.get(Delivery, row.delivery_id) if row.delivery_id else None
    if isinstance(row, Delivery):
        notification = db.session.get(Notification, row.notification_id)
        return (notification.data or {}) if notification else {}
    return {}


# --- files --------------------------------------------------------------------------------------


def _files(user: User, member: Member | None) -> int:
    """Every file the person uploaded: unlinked from what used it, then discarded (marked
    deleted; the objects and thumbnails go after the commit)."""
    ids = list(
        db.session.scalars(
            select(StoredFile.id)
            .where(StoredFile.owner_user_id == user.id, StoredFile.status != "deleted")
            .order_by(StoredFile.id)
        )
    )
    if member is not None:
        member.profile_photo_file_id = None
        now = utcnow()
        for column in ("front_file_id", "back_file_id", "selfie_file_id"):
            _run(
                update(DocumentCheck)
                .where(
                    DocumentCheck.member_id == member.id,
                    getattr(DocumentCheck, column).is_not(None),
                )
                .values({column: None, "images_deleted_at": now})
            )
    for chunk in _chunks(ids):
        _run(delete(WorkReportFile).where(WorkReportFile.file_id.in_(chunk)))
        _run(delete(TicketMessageFile).where(TicketMessageFile.file_id.in_(chunk)))
        # Checks of others never name the person's files; a member's own are unlinked above.
        for column in ("front_file_id", "back_file_id", "selfie_file_id"):
            _run(
                update(DocumentCheck)
                .where(getattr(DocumentCheck, column).in_(chunk))
                .values({column: None, "images_deleted_at": utcnow()})
            )
    db.session.flush()
    for file_id in ids:
        discard(file_id)
    return len(ids)


# --- what the person wrote, wherever it is ------------------------------------------------------


def _free_texts(user: User, member: Member | None, customer: Customer | None) -> Counter[str]:
    counts: Counter[str] = Counter()
    counts["reviews"] += _run(
        update(Review)
        .where(Review.author_user_id == user.id, Review.comment.is_not(None))
        .values(comment=ERASED)
    )
    message_ids = list(
        db.session.scalars(select(TicketMessage.id).where(TicketMessage.author_id == user.id))
    )
    counts["ticket_messages"] += _run(
        update(TicketMessage)
        .where(TicketMessage.author_id == user.id)
        .values(body=ERASED, attachments=[])
    )
    counts["ticket_subjects"] += _run(
        update(Ticket).where(Ticket.opened_by_id == user.id).values(subject=ERASED)
    )
    counts["notifications_quoting"] += _quoting_notifications(message_ids)
    counts["ticket_ratings"] += _run(
        update(TicketRating)
        .where(TicketRating.user_id == user.id, TicketRating.comment.is_not(None))
        .values(comment=None)
    )
    counts["posts"] += _run(
        update(TopicPost).where(TopicPost.author_user_id == user.id).values(body=ERASED)
    )
    # A thread's title is its author's text too (replies have none).
    _run(
        update(TopicPost)
        .where(TopicPost.author_user_id == user.id, TopicPost.title.is_not(None))
        .values(title=ERASED)
    )
    counts["post_reports"] += _run(
        update(PostReport)
        .where(PostReport.reporter_user_id == user.id, PostReport.note.is_not(None))
        .values(note=None)
    )
    counts["help_feedback"] += _run(
        update(ArticleFeedback)
        .where(ArticleFeedback.user_id == user.id, ArticleFeedback.comment.is_not(None))
        .values(comment=None)
    )
    counts["job_events"] += _run(
        update(JobEvent).where(JobEvent.actor_user_id == user.id).values(detail={})
    )
    return counts


def _quoting_notifications(message_ids: list[int]) -> int:
    """Other people's inbox entries (and their emails) that quote the person's ticket messages
    (support.messages: an excerpt in the body): the body becomes the marker."""
    ids: list[int] = []
    for chunk in _chunks(message_ids):
        ids += db.session.scalars(
            select(Notification.id).where(
                or_(*[Notification.dedupe_key.like(f"support.message:{m}:%") for m in chunk])
            )
        )
    for chunk in _chunks(ids):
        _run(update(Notification).where(Notification.id.in_(chunk)).values(body=ERASED))
        deliveries = select(Delivery.id).where(Delivery.notification_id.in_(chunk))
        _run(
            update(OutboundEmail)
            .where(OutboundEmail.delivery_id.in_(deliveries))
            .values(body=ERASED, html=None)
        )
        _run(update(Delivery).where(Delivery.notification_id.in_(chunk)).values(content=None))
    return len(ids)


# --- a member's profile and records -------------------------------------------------------------


def _member(user: User, member: Member, by_id: int) -> Counter[str]:
    counts: Counter[str] = Counter()
    name = erased_name(user.id)
    member.display_name = name
    member.phone = member.bio = member.business_name = None
    member.lat = member.lon = None
    member.postcode = member.city = None
    if member.status != "offboarded":
        db.session.add(
            MemberStatusChange(
                member_id=member.id,
                from_status=member.status,
                to_status="offboarded",
                reason="erased",
                changed_by_id=by_id,
            )
        )
        member.status, member.status_changed_at = "offboarded", utcnow()
    counts["members"] += 1
    counts["availability"] += _run(
        delete(AvailabilitySlot).where(AvailabilitySlot.member_id == member.id)
    )
    counts["time_off"] += _run(
        update(TimeOff)
        .where(TimeOff.member_id == member.id, TimeOff.reason.is_not(None))
        .values(reason=None)
    )
    counts["status_changes"] += _run(
        update(MemberStatusChange)
        .where(MemberStatusChange.member_id == member.id, MemberStatusChange.reason != "erased")
        .values(reason=ERASED)
    )
    counts["billing_profiles"] += _run(
        delete(MemberBillingProfile).where(MemberBillingProfile.member_id == member.id)
    )
    counts["blocks"] += _run(
        update(BlockedMember)
        .where(BlockedMember.member_id == member.id, BlockedMember.reason.is_not(None))
        .values(reason=None)
    )
    # The jobs they did stay the customer's; what the member wrote on them goes.
    counts["work_reports"] += _run(
        update(WorkReport)
        .where(WorkReport.job_id.in_(select(Job.id).where(Job.assigned_member_id == member.id)))
        .values(notes=ERASED, photo_refs=[])
    )
    counts["offers"] += _run(
        update(Offer)
        .where(Offer.member_id == member.id, Offer.decline_reason.is_not(None))
        .values(decline_reason=None)
    )
    counts.update(_onboarding(member))
    counts.update(_support_about(member_id=member.id))
    counts.update(_payouts(user, member))
    counts.update(_programmes(member))
    return counts


def _onboarding(member: Member) -> Counter[str]:
    counts: Counter[str] = Counter()
    counts["document_checks"] += _run(
        update(DocumentCheck)
        .where(DocumentCheck.member_id == member.id)
        .values(issuer=ERASED, reference_hint=None, expires_on=None, note=None)
    )
    counts["intro_calls"] += _run(
        update(IntroCall)
        .where(IntroCall.member_id == member.id, IntroCall.note.is_not(None))
        .values(note=None)
    )
    counts["applications"] += _run(
        update(Application)
        .where(Application.member_id == member.id, Application.reason.is_not(None))
        .values(reason=ERASED)
    )
    counts["information_requests"] += _run(
        update(InformationRequest)
        .where(InformationRequest.member_id == member.id)
        .values(reason=ERASED)
    )
    return counts


def _support_about(*, member_id: int | None = None, customer_id: int | None = None):
    """Staff's notes and reasons about the person: contact history, sanctions, mutes."""
    counts: Counter[str] = Counter()
    if member_id is not None:
        about_contact = StaffContact.member_id == member_id
        counts["sanctions"] += _run(
            update(Sanction).where(Sanction.member_id == member_id).values(reason=ERASED)
        )
        counts["mutes"] += _run(
            update(CommunityMute).where(CommunityMute.member_id == member_id).values(reason=ERASED)
        )
        counts["moderation_actions"] += _run(
            update(ModerationAction)
            .where(ModerationAction.member_id == member_id, ModerationAction.reason.is_not(None))
            .values(reason=None)
        )
    else:
        about_contact = StaffContact.customer_id == customer_id
    counts["staff_contacts"] += _run(
        update(StaffContact).where(about_contact).values(summary=ERASED)
    )
    return counts


def _payouts(user: User, member: Member) -> Counter[str]:
    """The provider account's id stays (the ledger and payouts name it); the bank account's
    fingerprint and the address the offline provider holds go."""
    counts: Counter[str] = Counter()
    counts["connected_accounts"] += _run(
        update(ConnectedAccount)
        .where(ConnectedAccount.member_id == member.id)
        .values(bank_fingerprint=None)
    )
    _run(
        update(OfflineAccount)
        .where(OfflineAccount.member_id == member.id)
        .values(email=erased_email(user.id))
    )
    return counts


def _programmes(member: Member) -> Counter[str]:
    counts: Counter[str] = Counter()
    counts["mentor_profiles"] += _run(
        update(MentorProfile)
        .where(MentorProfile.member_id == member.id)
        .values(bio=None, opted_in=False)
    )
    counts["mentorship_notes"] += _run(
        update(MentorshipSession)
        .where(
            MentorshipSession.mentorship_id.in_(
                select(Mentorship.id).where(Mentorship.mentor_id == member.id)
            ),
            MentorshipSession.mentor_notes.is_not(None),
        )
        .values(mentor_notes=ERASED)
    )
    counts["mentorship_notes"] += _run(
        update(MentorshipSession)
        .where(
            MentorshipSession.mentorship_id.in_(
                select(Mentorship.id).where(Mentorship.mentee_id == member.id)
            ),
            MentorshipSession.mentee_feedback.is_not(None),
        )
        .values(mentee_feedback=ERASED)
    )
    _run(
        update(Mentorship)
        .where(
            or_(Mentorship.mentor_id == member.id, Mentorship.mentee_id == member.id),
            Mentorship.end_reason.is_not(None),
        )
        .values(end_reason=None)
    )
    counts["referral_codes"] += _run(
        update(ReferralCode)
        .where(ReferralCode.member_id == member.id, ReferralCode.disabled_at.is_(None))
        .values(disabled_at=utcnow())
    )
    counts["member_devices"] += _run(
        delete(MemberDevice).where(MemberDevice.member_id == member.id)
    )
    return counts


# --- a customer's profile and records -----------------------------------------------------------


def _customer(user: User, customer: Customer) -> Counter[str]:
    counts: Counter[str] = Counter()
    customer.display_name = erased_name(user.id)
    customer.company_name = customer.phone = None
    counts["customers"] += 1
    counts["billing_profiles"] += _run(
        delete(CustomerBillingProfile).where(CustomerBillingProfile.customer_id == customer.id)
    )
    # Their jobs stay (the member's record and the money's); the address is reduced to the
    # postcode, the city and a rounded position, and their texts on it go.
    counts["jobs"] += _run(
        update(Job)
        .where(Job.customer_id == customer.id)
        .values(
            title=ERASED,
            description=ERASED,
            street=None,
            address_id=None,
            cancel_reason=None,
            lat=func.round(cast(Job.lat, Numeric), COORDINATE_DECIMALS),
            lon=func.round(cast(Job.lon, Numeric), COORDINATE_DECIMALS),
        )
    )
    # No new charge on their card: the saved method goes (payments keep the provider's ids).
    counts["payment_methods"] += _run(
        delete(CustomerPaymentMethod).where(CustomerPaymentMethod.customer_id == customer.id)
    )
    counts["addresses"] += _run(
        delete(CustomerAddress).where(CustomerAddress.customer_id == customer.id)
    )
    counts["blocks"] += _run(
        update(BlockedMember)
        .where(BlockedMember.customer_id == customer.id, BlockedMember.reason.is_not(None))
        .values(reason=None)
    )
    counts.update(_support_about(customer_id=customer.id))
    return counts


# --- inbox, deliveries, devices -----------------------------------------------------------------


def _notifications(user_id: int, email: str) -> Counter[str]:
    """Their inbox, its deliveries and emails, their push devices and settings: deleted."""
    counts: Counter[str] = Counter()
    deliveries = select(Delivery.id).where(Delivery.user_id == user_id)
    _run(
        delete(Suppression).where(
            or_(Suppression.address == email, Suppression.delivery_id.in_(deliveries))
        )
    )
    counts["emails"] += _run(
        delete(OutboundEmail).where(
            or_(
                OutboundEmail.user_id == user_id,
                OutboundEmail.to_address == email,
                OutboundEmail.delivery_id.in_(deliveries),
            )
        )
    )
    counts["deliveries"] += _run(delete(Delivery).where(Delivery.user_id == user_id))
    _run(delete(PushOutboxEntry).where(PushOutboxEntry.user_id == user_id))
    counts["devices"] += _run(delete(Device).where(Device.user_id == user_id))
    counts["notifications"] += _run(delete(Notification).where(Notification.user_id == user_id))
    _run(delete(NotificationPreference).where(NotificationPreference.user_id == user_id))
    _run(delete(DeliverySettings).where(DeliverySettings.user_id == user_id))
    # Consents stay (what they agreed to and when); the address they agreed from goes.
    _run(
        update(ConsentEvent)
        .where(ConsentEvent.user_id == user_id, ConsentEvent.ip_address.is_not(None))
        .values(ip_address=None)
    )
    return counts


# --- the account ------------------------------------------------------------------------------


def _account(user: User, old_email: str) -> Counter[str]:
    """No way back in: every token and key revoked (and unnamed), reset links and sign-in
    counts gone, the password unusable (no hash matches it), the account deactivated."""
    counts: Counter[str] = Counter()
    counts["credentials"] += revoke_all_credentials(user.id)
    _run(update(AuthToken).where(AuthToken.user_id == user.id).values(name=ERASED))
    _run(delete(PasswordResetToken).where(PasswordResetToken.user_id == user.id))
    _run(delete(SignInThrottle).where(SignInThrottle.email_hash == email_hash(old_email)))
    _run(
        update(AccountEvent)
        .where(AccountEvent.user_id == user.id, AccountEvent.reason.is_not(None))
        .values(reason=None)
    )
    # What they sent with an idempotency key (bodies of their creations) goes with them.
    counts["idempotency_records"] += _run(
        delete(IdempotencyRecord).where(IdempotencyRecord.scope == f"user:{user.id}")
    )
    user.email = erased_email(user.id)
    user.display_name = erased_name(user.id)
    # Not a hash of anything: no password verifies against it (accounts.service).
    user.password_hash = "!erased"
    user.locale = None
    if user.disabled_at is None:
        user.disabled_at = utcnow()
    user.disabled_reason = "erased"
    return counts
