"""Named errors of provider companies: memberships, owners and invitations."""

from __future__ import annotations

from crowd.core.errors import Conflict, DomainError
from crowd.core.i18n import _l


class AlreadyInOrganisation(Conflict):
    """The member already belongs to a company (one active membership at a time): they
    leave it first."""

    title, type_slug = _l("Already in a company"), "already-in-organisation"


class LastOwner(Conflict):
    """The change would leave the company without an active owner: make another member
    owner first."""

    title, type_slug = _l("A company keeps an owner"), "last-owner"


class OrganisationStateConflict(Conflict):
    """The company's status does not allow this (activate an active one, suspend a closed
    one, invite while suspended …); `state` is the status."""

    title, type_slug = _l("Company state does not allow this"), "organisation-state-conflict"


class InvitationOpen(Conflict):
    """An open invitation to this address exists already: revoke it before inviting again."""

    title, type_slug = _l("Invitation already open"), "organisation-invitation-open"


class InvitationGone(DomainError):
    """The invitation can no longer be accepted: it expired, was revoked or was used."""

    status, title, type_slug = 410, _l("Invitation no longer valid"), "organisation-invitation-gone"


class OrganisationChecksMissing(Conflict):
    """The company cannot be activated yet: its onboarding checks are not all done; `missing`
    names them (house_rules, insurance_certificate, checks_verified)."""

    title, type_slug = _l("Company checks not done"), "organisation-checks-missing"


class CompanyHouseRulesOutdated(Conflict):
    """The version accepted is not the current house rules; `current_version` is."""

    title, type_slug = _l("House rules version outdated"), "organisation-house-rules-outdated"
