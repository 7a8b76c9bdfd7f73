"""Connected accounts: where a member's (or a provider company's) payouts go, and whether they
may go there yet. A company's account is its owner's to set up; its payouts go there.

A member creates their account at the payment provider and completes onboarding through a
link; the provider then tells us by `account.updated` whether payouts are enabled. No payout
is made before the account's `payouts_enabled` is true (the payout run holds it till then).

State is applied newest-first: each application carries the provider time it is true at (an
event's `created`, or the moment we retrieved the account), kept to the second in
`updated_from_event_at`; anything older is ignored. Within one second the later arrival wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from accounts.models import User
from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import NotFound, field_error
from crowd.core.i18n import _
from crowd.extensions import db
from members.access import own_member
from members.models import Member
from organisations.service import own_organisation
from payouts.errors import (
    PayoutAccountCountryMismatch,
    PayoutAccountMissing,
    PayoutAccountProviderRetired,
)
from payouts.models.payments import ConnectedAccount, WebhookEvent
from payouts.providers import AccountState, bank_fingerprint_of, get_provider
from payouts.webhooks import Ignored, on_event


@dataclass(frozen=True)
class OnboardingLink:
    account: ConnectedAccount
    onboarding_url: str


def _account_of(member_id: int, *, lock: bool = False) -> ConnectedAccount | None:
    query = select(ConnectedAccount).where(ConnectedAccount.member_id == member_id)
    if lock:
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    return db.session.scalar(query)


def _onboarding_url(name: str, given: str | None) -> str:
    """The URL from the request, else the configured default (PAYOUT_ONBOARDING_*_URL)."""
    if given:
        return given
    configured = getattr(current_app.config["CROWD_SETTINGS"], f"payout_onboarding_{name}", None)
    if not configured:
        raise field_error(name, _("required: no default is configured"))
    return configured


def ensure_payout_account(
    *,
    actor: Principal,
    refresh_url: str | None = None,
    return_url: str | None = None,
    country: str | None = None,
) -> OnboardingLink:
    """The member's connected account (created at the provider if missing) and a fresh
    onboarding link; the account's state is refreshed from the provider on the way."""
    member = own_member(actor, lock=True)
    refresh_url = _onboarding_url("refresh_url", refresh_url)
    return_url = _onboarding_url("return_url", return_url)
    account = _account_of(member.id, lock=True)
    if account is None:
        country = country or member.country
        if country is None:
            raise field_error("country", _("required: your profile has no country"))
        email = db.session.scalar(select(User.email).where(User.id == member.user_id))
        # The provider's idempotency key is derived from the member: a retry after a lost
        # response (or after our commit failed) gets the same account, not a second one.
        account = _created(country, member_id=member.id, owner=member.id, email=email)
    return _onboarding(account, country, refresh_url, return_url)


def _created(
    country: str,
    *,
    owner: int,
    email: str,
    member_id: int | None = None,
    organisation_id: int | None = None,
) -> ConnectedAccount:
    provider = get_provider()
    if organisation_id is not None:
        key = f"connected-account-organisation-{organisation_id}"
        account_id = provider.create_connected_account(owner, email, country, idempotency_key=key)
    else:
        account_id = provider.create_connected_account(owner, email, country)
    account = ConnectedAccount(
        member_id=member_id,
        organisation_id=organisation_id,
        provider=provider.name,
        provider_account_id=account_id,
        country=country,
        payouts_enabled=False,
        charges_enabled=False,
        details_submitted=False,
    )
    db.session.add(account)
    db.session.flush()
    return account


def _onboarding(
    account: ConnectedAccount, country: str | None, refresh_url: str, return_url: str
) -> OnboardingLink:
    provider = get_provider()
    if account.provider != provider.name:
        raise PayoutAccountProviderRetired(
            _(
                "Your payout account was made with the {account_provider} "
                "payment provider, which is no longer in use; ask support to "
                "move it.",
                account_provider=account.provider,
            )
        )
    if country and country != account.country:
        raise PayoutAccountCountryMismatch(
            _(
                "Your payout account is registered in {account_country}.",
                account_country=account.country,
            )
        )
    apply_account_state(
        account, provider.retrieve_account(account.provider_account_id), as_of=utcnow()
    )
    url = provider.account_onboarding_link(account.provider_account_id, refresh_url, return_url)
    return OnboardingLink(account=account, onboarding_url=url)


def _organisation_account(organisation_id: int, *, lock: bool = False) -> ConnectedAccount | None:
    query = select(ConnectedAccount).where(ConnectedAccount.organisation_id == organisation_id)
    if lock:
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    return db.session.scalar(query)


def ensure_organisation_payout_account(
    *,
    actor: Principal,
    refresh_url: str | None = None,
    return_url: str | None = None,
    country: str | None = None,
) -> OnboardingLink:
    """The owner's company's connected account, where the company's payouts go (created at
    the provider if missing, in the company's country unless given), and a fresh onboarding
    link. The company row is locked first: two owners asking at once make one account."""
    organisation, membership = own_organisation(actor, roles=("owner",), lock=True)
    refresh_url = _onboarding_url("refresh_url", refresh_url)
    return_url = _onboarding_url("return_url", return_url)
    account = _organisation_account(organisation.id, lock=True)
    if account is None:
        email = db.session.scalar(select(User.email).where(User.id == actor.user_id))
        # The provider's key is derived from the company: a retry gets the same account.
        account = _created(
            country or organisation.country,
            owner=membership.member_id,
            email=email,
            organisation_id=organisation.id,
        )
    return _onboarding(account, country, refresh_url, return_url)


def get_organisation_payout_account(*, actor: Principal) -> ConnectedAccount:
    """The connected account of the owner's company."""
    organisation, _membership = own_organisation(actor, roles=("owner",))
    account = _organisation_account(organisation.id)
    if account is None:
        raise PayoutAccountMissing(
            _(
                "Your company has no payout account yet; "
                "POST /api/v1/me/organisation/payout-account creates one."
            )
        )
    return account


def get_own_payout_account(*, actor: Principal) -> ConnectedAccount:
    """The calling member's connected account."""
    member = own_member(actor)
    account = _account_of(member.id)
    if account is None:
        raise PayoutAccountMissing(
            _("You have no payout account yet; POST /api/v1/me/payout-account creates one.")
        )
    return account


def get_member_payout_account(*, actor: Principal, member_id: int) -> ConnectedAccount:
    """A member's connected account, for staff (roles are checked by the route)."""
    account = _account_of(member_id)
    if account is None:
        if db.session.get(Member, member_id) is None:
            raise NotFound(_("No such crowd member."))
        raise PayoutAccountMissing(_("This member has no payout account."))
    return account


def apply_account_state(account: ConnectedAccount, state: AccountState, *, as_of: datetime) -> bool:
    """Take the provider's state as true at `as_of`, unless a newer one is applied already."""
    as_of = as_of.replace(microsecond=0)
    if account.updated_from_event_at is not None and as_of < account.updated_from_event_at:
        return False
    account.payouts_enabled = state.payouts_enabled
    account.charges_enabled = state.charges_enabled
    account.details_submitted = state.details_submitted
    # Kept when the provider reported no bank account this time (e.g. an event without it).
    if state.bank_fingerprint is not None:
        account.bank_fingerprint = state.bank_fingerprint
    account.updated_from_event_at = as_of
    return True


@on_event("account.updated")
def account_updated(event: WebhookEvent) -> Ignored | None:
    """A connected account's capabilities changed: payouts follow `payouts_enabled`."""
    obj = event.data_object
    account = db.session.scalar(
        select(ConnectedAccount)
        .where(ConnectedAccount.provider_account_id == str(obj.get("id")))
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if account is None:
        # Ours are stored with their state retrieved after creation, so an event about an
        # account we do not know yet is older than what we will store: nothing is lost.
        return Ignored("not one of our connected accounts")
    state = AccountState(
        payouts_enabled=obj.get("payouts_enabled") is True,
        charges_enabled=obj.get("charges_enabled") is True,
        details_submitted=obj.get("details_submitted") is True,
        account_id=account.provider_account_id,
        bank_fingerprint=bank_fingerprint_of(obj),
    )
    if not apply_account_state(account, state, as_of=event.created):
        return Ignored("older than the account state already applied")
    return None
