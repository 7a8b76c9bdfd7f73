"""Invitations to join a company, by email link.

The owner (or a dispatcher, for technicians) invites an address in a role. The link's token
goes only into the email (notifications.addressed: the address may have no account yet); the
invitation keeps its SHA-256. Accepting needs a signed-in member whose account email is the
invited address (a person without an account signs up as a crowd member first, then opens the
link). An invitation is open until it is accepted, revoked or expires
(ORGANISATIONS_INVITATION_DAYS); accepting it runs under the company's row lock, then the
member's, so one member never ends up in two companies however many links they open at once.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select

from accounts.models import User
from accounts.service import normalise_email
from crowd.core.auth import Principal, hash_token
from crowd.core.db import utcnow
from crowd.core.errors import Forbidden, NotFound
from crowd.core.i18n import _, _l
from crowd.extensions import db
from members.access import own_member
from members.models import Member
from notifications.addressed import email_address, redact
from organisations.config import organisation_rules
from organisations.errors import (
    AlreadyInOrganisation,
    InvitationGone,
    InvitationOpen,
    OrganisationStateConflict,
)
from organisations.models import OrganisationInvitation
from organisations.service import (
    MANAGERS,
    active_membership,
    check_may_join,
    join,
    lock_organisation,
    own_organisation,
    own_view,
    require_staff,
)

TOKEN_PREFIX = "coi_"
# A company that is closed or suspended takes nobody new.
TAKES_MEMBERS = ("pending", "active")
EMAIL_KIND = "organisation.invitation"
# What the invitation's email keeps once its link is spent (accepted or revoked).
REDACTED_BODY = (
    "You were invited to join a company on Crowd. The invitation has been accepted or "
    "revoked, so its link was removed from this email."
)


def _is_open(invitation: OrganisationInvitation, now) -> bool:
    return (
        invitation.accepted_at is None
        and invitation.revoked_at is None
        and invitation.expires_at > now
    )


def _open_query(organisation_id: int, now):
    return select(OrganisationInvitation).where(
        OrganisationInvitation.organisation_id == organisation_id,
        OrganisationInvitation.accepted_at.is_(None),
        OrganisationInvitation.revoked_at.is_(None),
        OrganisationInvitation.expires_at > now,
    )


def _check_takes_members(organisation) -> None:
    if organisation.status not in TAKES_MEMBERS:
        raise OrganisationStateConflict(
            _("A {status} company takes no new members.", status=organisation.status),
            state=organisation.status,
        )


def invite(*, actor: Principal, email: str, role: str) -> OrganisationInvitation:
    """Invite an address to join the caller's company in `role` and email it the link.
    Owners invite in any role, dispatchers technicians only; 409 when an invitation to the
    address is open or its member is in the company already."""
    organisation, membership = own_organisation(actor, roles=MANAGERS, lock=True)
    if membership.role != "owner" and role != "technician":
        raise Forbidden(_("Dispatchers invite technicians only."))
    _check_takes_members(organisation)
    email, now = normalise_email(email), utcnow()
    if db.session.scalars(
        _open_query(organisation.id, now).where(OrganisationInvitation.email == email)
    ).first():
        raise InvitationOpen(_("An invitation to this address is open: revoke it first."))
    if _member_in(organisation.id, email):
        raise AlreadyInOrganisation(_("This address's member is in the company already."))
    days = organisation_rules().invitation_days
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    invitation = OrganisationInvitation(
        organisation_id=organisation.id,
        email=email,
        role=role,
        token_hash=hash_token(secret),
        invited_by_id=membership.member_id,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    db.session.add(invitation)
    db.session.flush()
    _send(invitation, organisation, secret, days=days, locale=actor.locale)
    return invitation


def _member_in(organisation_id: int, email: str) -> bool:
    member_id = db.session.scalar(
        select(Member.id).join(User, User.id == Member.user_id).where(User.email == email)
    )
    membership = active_membership(member_id) if member_id is not None else None
    return membership is not None and membership.organisation_id == organisation_id


def _send(invitation, organisation, secret: str, *, days: int, locale: str | None) -> None:
    """The link goes to the invited address only (the token is in no inbox, no log)."""
    url = f"{organisation_rules().invitation_url}?token={secret}"
    company = organisation.trade_name or organisation.legal_name
    email_address(
        address=invitation.email,
        kind=EMAIL_KIND,
        subject=_l("{company} invites you to work with them on Crowd", company=company),
        body=_l(
            "{company} invites you to join their team on Crowd as {role}.\n\n"
            "Open this link within {days} days to accept: {url}\n\n"
            "You accept signed in as a crowd member with this email address. If you have no "
            "Crowd account yet, sign up as a crowd member with this address first, then open "
            "the link again. If you did not expect this invitation, ignore this email.",
            company=company,
            role=invitation.role,
            days=days,
            url=url,
        ),
        dedupe_key=_email_key(invitation),
        locale=locale,
        data={"organisation_id": organisation.id, "invitation_id": invitation.id},
    )


def _email_key(invitation: OrganisationInvitation) -> str:
    return f"{EMAIL_KIND}:{invitation.id}"


def _spent(invitation: OrganisationInvitation) -> None:
    """The link is used up: it stays in no email at rest (outbox, offline copy)."""
    redact(_email_key(invitation), REDACTED_BODY)


def list_open(*, actor: Principal) -> list[OrganisationInvitation]:
    """The company's open invitations, newest first: for its owners and dispatchers."""
    organisation, _membership = own_organisation(actor, roles=MANAGERS)
    query = _open_query(organisation.id, utcnow()).order_by(
        OrganisationInvitation.created_at.desc(), OrganisationInvitation.id.desc()
    )
    return list(db.session.scalars(query))


def list_open_for_staff(*, actor: Principal, organisation_id: int) -> list[OrganisationInvitation]:
    """A company's open invitations, newest first: for community managers and admins."""
    require_staff(actor)
    query = _open_query(organisation_id, utcnow()).order_by(
        OrganisationInvitation.created_at.desc(), OrganisationInvitation.id.desc()
    )
    return list(db.session.scalars(query))


def revoke(*, actor: Principal, invitation_id: int) -> None:
    """Revoke an open invitation of the caller's company (dispatchers: technicians' only);
    another company's is 404, one no longer open 410."""
    organisation, membership = own_organisation(actor, roles=MANAGERS, lock=True)
    invitation = db.session.get(OrganisationInvitation, invitation_id, populate_existing=True)
    if invitation is None or invitation.organisation_id != organisation.id:
        raise NotFound(_("No such invitation."))
    if membership.role != "owner" and invitation.role != "technician":
        raise Forbidden(_("Dispatchers revoke invitations of technicians only."))
    if not _is_open(invitation, utcnow()):
        raise InvitationGone(_("The invitation was accepted, revoked or has expired."))
    invitation.revoked_at = utcnow()
    _spent(invitation)
    db.session.flush()


def accept(*, actor: Principal, token: str) -> dict:
    """The signed-in member whose email was invited joins the company in the invited role.

    404 for a token that names no invitation or one to another address (the same answer);
    410 when it expired, was revoked or used; 409 when the member is in a company already or
    the company takes nobody new."""
    found = db.session.scalar(
        select(OrganisationInvitation).where(OrganisationInvitation.token_hash == hash_token(token))
    )
    email = db.session.scalar(select(User.email).where(User.id == actor.user_id))
    if found is None or found.email != normalise_email(email or ""):
        raise NotFound(_("No such invitation for your email address."))
    organisation = lock_organisation(found.organisation_id)
    invitation = db.session.get(OrganisationInvitation, found.id, populate_existing=True)
    if not _is_open(invitation, utcnow()):
        raise InvitationGone(_("The invitation was accepted, revoked or has expired."))
    _check_takes_members(organisation)
    member = own_member(actor, lock=True)
    check_may_join(member)
    membership = join(organisation, member, invitation.role, actor=actor.user_id)
    invitation.accepted_at = utcnow()
    invitation.accepted_member_id = member.id
    _spent(invitation)
    db.session.flush()
    return own_view(organisation, membership)
