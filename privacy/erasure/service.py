"""Erasure on request: the person (with their password) or an admin (with a reason) has an
account anonymised, in the request's one transaction, or is told what blocks it.

Locks, in the order of crowd.core.locking: the jobs the member has pending offers for (those
offers are withdrawn), then the member or customer profile, then the user. Whatever would
block the erasure (`blocking`) is read after those locks, so an assignment or a payout run that
races the erasure either lands first (and blocks it) or waits for it and finds an offboarded
member, a deactivated account.
"""

from __future__ import annotations

from sqlalchemy import select

from accounts import throttle
from accounts.errors import WrongCurrentPassword
from accounts.models import User
from accounts.service import password_matches
from crowd.core.audit import AuditEntry
from crowd.core.auth import STAFF, Principal
from crowd.core.db import utcnow
from crowd.core.errors import Forbidden, NotFound
from crowd.core.i18n import _
from crowd.core.locking import ROW_LOCK
from crowd.core.request_ids import request_id
from crowd.extensions import db
from customers.models import Customer
from jobs.dispatch import withdraw_member_offers
from jobs.models import Offer
from jobs.queries import lock_job
from members.models import Member
from privacy.erasure.anonymise import anonymise
from privacy.erasure.blocking import blocking
from privacy.errors import AlreadyErased, ErasureBlocked
from privacy.models import Erasure

# What erasure keeps, told in every answer (README: Erasure).
KEPT = (
    "ledger transactions and entries, payments, refunds and payouts (ids and amounts)",
    "issued invoices, credit notes and corrections: legal records, kept unchanged (with the "
    "names they were issued to) for the statutory retention period (Germany: § 147 AO, "
    "§ 14b UStG)",
    "the other party's reviews and the tickets about the account, with the person's own "
    "texts replaced by a marker",
    "the account's row, deactivated under a neutral name, so that records keep pointing at it",
)


def erase_own_account(*, actor: Principal, password: str) -> dict:
    """The signed-in customer or member erases their own account, proving their password
    (a wrong one counts towards the sign-in lock, like a password change)."""
    if actor.role in STAFF:
        raise Forbidden(_("Staff accounts are deactivated, not erased."))
    if actor.via != "session":
        raise Forbidden(_("Erase the account with a session token, not an API key."))
    user = db.session.get(User, actor.user_id)
    key = throttle.email_hash(user.email)
    throttle.refuse_if_locked(key)
    if not password_matches(user, password):
        throttle.record_failure(key, user)
        raise WrongCurrentPassword(
            _("password: wrong password"), errors={"json": {"password": ["wrong password"]}}
        )
    erasure = _erase(user.id, by=actor, via="self", reason=None)
    # Staff actions are audited at the HTTP edge; a person's own erasure is written here.
    db.session.add(
        AuditEntry(
            actor_user_id=actor.user_id,
            actor_role=actor.role,
            token_id=actor.token_id,
            method="POST",
            path="/api/v1/me/erasure",
            endpoint="privacy_erasure.erase_own_account",
            target={"user_id": user.id, "erasure_id": erasure.id},
            status_code=200,
            request_id=request_id(),
            created_at=utcnow(),
        )
    )
    return erasure_view(erasure)


def erase_account(*, actor: Principal, user_id: int, reason: str) -> dict:
    """An admin erases a customer's or member's account, saying why (audited at the edge)."""
    if actor.role != "admin":
        raise Forbidden(_("Only admins erase accounts."))
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    if user.role in STAFF:
        raise Forbidden(_("Staff accounts are deactivated, not erased."))
    return erasure_view(_erase(user.id, by=actor, via="admin", reason=reason))


def _erase(user_id: int, *, by: Principal, via: str, reason: str | None) -> Erasure:
    member_id = db.session.scalar(select(Member.id).where(Member.user_id == user_id))
    customer_id = db.session.scalar(select(Customer.id).where(Customer.user_id == user_id))
    jobs = []
    if member_id is not None:
        job_ids = db.session.scalars(
            select(Offer.job_id)
            .where(Offer.member_id == member_id, Offer.status == "pending")
            .distinct()
            .order_by(Offer.job_id)
        )
        jobs = [job for job in (lock_job(job_id) for job_id in job_ids) if job is not None]
    member = _locked(Member, member_id)
    customer = _locked(Customer, customer_id)
    user = db.session.get(User, user_id, with_for_update=ROW_LOCK, populate_existing=True)
    done = db.session.scalar(select(Erasure).where(Erasure.user_id == user_id))
    if done is not None:
        raise AlreadyErased(
            _("This account was erased already."), erasure_id=done.id, user_id=user_id
        )
    blockers = blocking(user_id=user_id, member_id=member_id, customer_id=customer_id)
    if blockers:
        raise ErasureBlocked(
            _(
                "The account cannot be erased yet: {what}. Try again once they are settled.",
                what=", ".join(f"{b['kind']} {b['id']}" for b in blockers),
            ),
            blocking=blockers,
        )
    counts = {}
    if member is not None and jobs:
        counts["offers_withdrawn"] = withdraw_member_offers(
            member.id, jobs, by="system", actor_user_id=by.user_id
        )
    counts.update(anonymise(user, member, customer, by_id=by.user_id))
    erasure = Erasure(
        user_id=user.id,
        requested_by_id=by.user_id,
        via=via,
        reason=reason,
        erased_at=utcnow(),
        counts=dict(sorted(counts.items())),
    )
    db.session.add(erasure)
    db.session.flush()
    return erasure


def _locked(model, row_id: int | None):
    if row_id is None:
        return None
    return db.session.get(model, row_id, with_for_update=ROW_LOCK, populate_existing=True)


def erasure_view(erasure: Erasure) -> dict:
    return {
        "id": erasure.id,
        "user_id": erasure.user_id,
        "requested_by_id": erasure.requested_by_id,
        "via": erasure.via,
        "reason": erasure.reason,
        "erased_at": erasure.erased_at,
        "counts": erasure.counts,
        "kept": list(KEPT),
    }
