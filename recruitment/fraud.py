"""Self-referral and reward farming: the signals that refuse a referral or hold it for a CM.

At registration (the referral row is written with the outcome, in the same transaction):
    same_person        the two emails are one address once normalised: lower case, a +tag
                       removed from the local part, and for gmail.com / googlemail.com the
                       dots removed and the domain taken as gmail.com          → refused
    same_device        the device id sent at sign-up (stored as SHA-256 only) is one the
                       referrer registered or signed in from                   → refused
    same_email_domain  both addresses share a domain that is not a freemail domain (config
                       RECRUITMENT_FREEMAIL_DOMAINS): colleagues or one person's own
                       domain — a CM decides                                   → review
When the milestone is reached (before any reward is posted):
    same_device        any device of the referred member is one of the referrer's (they may
                       have signed in from it since)                           → refused
    same_payout_account  both members' payout accounts have the same bank fingerprint
                       (ConnectedAccount.bank_fingerprint, from the payment provider)
                                                                               → refused
    referrer_inactive  the referrer is no longer active                       → review
    monthly_cap        the referrer already earned RECRUITMENT_MAX_REWARDS_PER_MONTH rewards
                       in this calendar month (UTC)                            → review
A refusal is final; a review waits for a CM (approve posts the reward or, before the
milestone, clears the hold; refuse ends it). A referral a CM cleared is not held again, but
the hard checks (same device, same payout account) still apply at the milestone.
Refusing a referral never refuses the registration: the person may join, without a reward.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import func, select

from crowd.core.db import utcnow
from crowd.extensions import db
from payouts.models.ledger import LedgerTransaction
from payouts.models.payments import ConnectedAccount
from recruitment.config import recruitment_rules
from recruitment.models import MemberDevice, Referral

REFUSED = "refused"
REVIEW = "review"
GMAIL_DOMAINS = ("gmail.com", "googlemail.com")


def normalise_email(email: str) -> str:
    """One person's address in one spelling: lower case, no +tag, gmail's dots ignored."""
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in GMAIL_DOMAINS:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def email_domain(email: str) -> str:
    return normalise_email(email).rpartition("@")[2]


def device_hash(device_id: str) -> str:
    """The stored form of a device id: its SHA-256, never the id itself."""
    return hashlib.sha256(device_id.encode()).hexdigest()


def _shares_device(referrer_id: int, referred_id: int) -> bool:
    referred = select(MemberDevice.device_hash).where(MemberDevice.member_id == referred_id)
    shared = select(MemberDevice.id).where(
        MemberDevice.member_id == referrer_id, MemberDevice.device_hash.in_(referred)
    )
    return db.session.scalar(shared.limit(1)) is not None


def at_registration(
    *, referrer_email: str, referrer_id: int, email: str, device_hash_: str | None
) -> tuple[str, str] | None:
    """(status, reason) when a new referral must be refused or held; None when it is clean."""
    if normalise_email(referrer_email) == normalise_email(email):
        return REFUSED, "same_person"
    if device_hash_ is not None:
        known = select(MemberDevice.id).where(
            MemberDevice.member_id == referrer_id, MemberDevice.device_hash == device_hash_
        )
        if db.session.scalar(known.limit(1)) is not None:
            return REFUSED, "same_device"
    domain = email_domain(email)
    freemail = recruitment_rules().freemail_domains
    if domain == email_domain(referrer_email) and domain not in freemail:
        return REVIEW, "same_email_domain"
    return None


def _same_payout_account(referrer_id: int, referred_id: int) -> bool:
    rows = db.session.execute(
        select(ConnectedAccount.member_id, ConnectedAccount.bank_fingerprint).where(
            ConnectedAccount.member_id.in_((referrer_id, referred_id)),
            ConnectedAccount.bank_fingerprint.is_not(None),
        )
    ).all()
    fingerprints = {member_id: fingerprint for member_id, fingerprint in rows}
    return len(fingerprints) == 2 and fingerprints[referrer_id] == fingerprints[referred_id]


def rewards_this_month(referrer_id: int, now: datetime | None = None) -> int:
    """Referral rewards posted for the referrer in the current calendar month (UTC)."""
    now = now or utcnow()
    month_start = datetime(now.year, now.month, 1, tzinfo=UTC)
    return db.session.scalar(
        select(func.count())
        .select_from(Referral)
        .join(LedgerTransaction, LedgerTransaction.id == Referral.reward_transaction_id)
        .where(
            Referral.referrer_member_id == referrer_id,
            Referral.status == "rewarded",
            LedgerTransaction.created_at >= month_start,
        )
    )


def at_milestone(referral: Referral, *, referrer_status: str) -> tuple[str, str] | None:
    """(status, reason) when the reward must be refused or held now; None: post it."""
    referrer_id, referred_id = referral.referrer_member_id, referral.referred_member_id
    if _shares_device(referrer_id, referred_id):
        return REFUSED, "same_device"
    if _same_payout_account(referrer_id, referred_id):
        return REFUSED, "same_payout_account"
    if referral.decided_by_id is not None:
        # A CM cleared this referral already: their decision stands over the soft signals.
        return None
    if referrer_status != "active":
        return REVIEW, "referrer_inactive"
    if rewards_this_month(referrer_id) >= recruitment_rules().max_rewards_per_month:
        return REVIEW, "monthly_cap"
    return None
