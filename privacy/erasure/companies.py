"""A member's provider company (organisations) in an erasure.

The company is a business, not the person: it stays, with its other technicians. The erased
member's membership ends (`left`), and invitations addressed to their email lose the address.
The last active owner of a company that still has other active members blocks the erasure
(`organisation`): ownership passes first (PATCH /me/organisation/members/{id}). A company
whose only member is erased is closed — not while money is owed to or by it, or a payout of it
is under way (`organisation` again) —, and its name and street — for a sole trader, the
person's own — are erased; its postcode, city, country and tax ids stay with the documents
issued to it.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select, update

from crowd.core.db import utcnow
from crowd.extensions import db
from organisations.models import Organisation, OrganisationInvitation, OrganisationMembership
from payouts.models import LedgerAccount, Payout

ERASED = "[erased]"


def blocking(member_id: int | None) -> list[dict]:
    """The companies the member is the last active owner of while others still work there."""
    if member_id is None:
        return []
    owned = db.session.scalars(
        select(OrganisationMembership.organisation_id).where(
            OrganisationMembership.member_id == member_id,
            OrganisationMembership.status == "active",
            OrganisationMembership.role == "owner",
        )
    ).all()
    found = []
    for organisation_id in owned:
        active = select(func.count()).where(
            OrganisationMembership.organisation_id == organisation_id,
            OrganisationMembership.status == "active",
            OrganisationMembership.member_id != member_id,
        )
        others = db.session.scalar(active)
        owners = db.session.scalar(active.where(OrganisationMembership.role == "owner"))
        if others and not owners:
            found.append({"kind": "organisation", "id": organisation_id})
        elif not others and _money_in_transit(organisation_id):
            # The erasure would close the company: not while it is owed or owes money.
            found.append({"kind": "organisation", "id": organisation_id})
    return found


def _money_in_transit(organisation_id: int) -> bool:
    """The company's payable or receivable is not zero, or a payout of it is under way."""
    codes = [
        f"organisation:{organisation_id}:payable",
        f"organisation:{organisation_id}:receivable",
    ]
    balance = db.session.scalar(
        select(LedgerAccount.id).where(LedgerAccount.code.in_(codes), LedgerAccount.balance != 0)
    )
    payout = db.session.scalar(
        select(Payout.id).where(
            Payout.organisation_id == organisation_id,
            Payout.status.in_(("pending", "in_transit", "held")),
        )
    )
    return balance is not None or payout is not None


def anonymise(member_id: int | None, email: str, erased_email: str) -> Counter[str]:
    """End the member's memberships (closing a company left empty) and erase their address
    from the invitations sent to it."""
    counts: Counter[str] = Counter()
    now = utcnow()
    if member_id is not None:
        memberships = db.session.scalars(
            select(OrganisationMembership)
            .where(
                OrganisationMembership.member_id == member_id,
                OrganisationMembership.status == "active",
            )
            .with_for_update()
        ).all()
        for membership in memberships:
            membership.status, membership.left_at = "left", now
            counts["organisation_memberships"] += 1
            remaining = db.session.scalar(
                select(func.count()).where(
                    OrganisationMembership.organisation_id == membership.organisation_id,
                    OrganisationMembership.status == "active",
                )
            )
            if not remaining:
                company = db.session.get(Organisation, membership.organisation_id)
                company.status, company.status_changed_at = "closed", now
                company.legal_name, company.trade_name, company.street = ERASED, None, ERASED
                counts["organisations_closed"] += 1
    counts["organisation_invitations"] += (
        db.session.execute(
            update(OrganisationInvitation)
            .where(func.lower(OrganisationInvitation.email) == email.lower())
            .values(
                email=erased_email,
                revoked_at=func.coalesce(OrganisationInvitation.revoked_at, now),
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        or 0
    )
    return counts
