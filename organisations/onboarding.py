"""A company's onboarding: its owner accepts the house rules for it and uploads its insurance
certificate; a community manager records the decision on its business checks; activation
(organisations.service.decide) waits for all three (organisations.checks).

A technician's own onboarding (identity, skills) is the member's and stays so: nothing here
reads or changes it.
"""

from __future__ import annotations

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import NotFound
from crowd.core.files import service as files
from crowd.core.i18n import _
from crowd.extensions import db
from organisations import checks
from organisations.errors import CompanyHouseRulesOutdated, OrganisationStateConflict
from organisations.models import Organisation
from organisations.service import (
    active_membership,
    lock_organisation,
    own_organisation,
    own_view,
    require_staff,
)


def _open(organisation: Organisation) -> None:
    if organisation.status == "closed":
        raise OrganisationStateConflict(_("The company is closed."), state=organisation.status)


def accept_house_rules(*, actor: Principal, version: int) -> dict:
    """The owner accepts the current house rules for the company (again: changes nothing);
    404 when none are published, 409 for another version."""
    organisation, membership = own_organisation(actor, roles=("owner",), lock=True)
    _open(organisation)
    current = checks.current_house_rules()
    if current is None:
        raise NotFound(_("No house rules have been published yet."))
    if version != current:
        raise CompanyHouseRulesOutdated(
            _(
                "Version {version} is not the current house rules; read "
                "version {current_version} and accept that.",
                version=version,
                current_version=current,
            ),
            current_version=current,
        )
    if organisation.house_rules_version != current:
        organisation.house_rules_version = current
        organisation.house_rules_accepted_at = utcnow()
        organisation.house_rules_accepted_by_id = membership.member_id
        db.session.flush()
    return own_view(organisation, membership)


def set_insurance_certificate(*, actor: Principal, file_id: int) -> dict:
    """The owner gives the company's insurance certificate: a ready upload of theirs (purpose
    insurance_certificate, an image or a PDF). The one it replaces is deleted, and a new
    certificate asks a community manager to look again (the decision is cleared)."""
    organisation, membership = own_organisation(actor, roles=("owner",), lock=True)
    _open(organisation)
    files.ready_file(
        owner_user_id=actor.user_id,
        file_id=file_id,
        purpose=files.INSURANCE_CERTIFICATE,
        field="file_id",
    )
    previous = organisation.insurance_file_id
    if previous != file_id:
        organisation.insurance_file_id = file_id
        if previous is not None:
            files.discard(previous)
        _clear_decision(organisation)
    db.session.flush()
    return own_view(organisation, membership)


def _clear_decision(organisation: Organisation) -> None:
    organisation.checks_decision = None
    organisation.checks_decided_at = None
    organisation.checks_decided_by_id = None
    organisation.checks_note = None


def insurance_certificate(*, actor: Principal, organisation_id: int) -> files.Download:
    """Short-lived URLs of a company's insurance certificate: for its owners and staff; 404
    for anyone else, and when it has none."""
    if not actor.is_staff:
        membership = active_membership(actor.require_member_id())
        if (
            membership is None
            or membership.organisation_id != organisation_id
            or membership.role != "owner"
        ):
            raise NotFound(_("No such company."))
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(_("No such company."))
    found = None
    if organisation.insurance_file_id is not None:
        file_id = organisation.insurance_file_id
        name = f"insurance-{organisation.id}.{files.extension(file_id)}"
        found = files.download(file_id, filename=name)
    if found is None:
        raise NotFound(_("This company has no insurance certificate yet."))
    return found


def decide_checks(
    *, actor: Principal, organisation_id: int, decision: str, note: str | None = None
) -> dict:
    """A community manager records the business checks' outcome: `verified` (the trade
    register entry, where there is one, and the insurance certificate seen) or `rejected`
    (the note says why; the owner may send a new certificate). 409 to verify a company
    without a certificate."""
    require_staff(actor)
    organisation = lock_organisation(organisation_id)
    if organisation is None:
        raise NotFound(_("No such company."))
    _open(organisation)
    if decision == "verified" and not checks.certificate_held(organisation):
        raise OrganisationStateConflict(
            _("The company has no insurance certificate to verify yet."),
            state=organisation.status,
        )
    organisation.checks_decision = decision
    organisation.checks_decided_at = utcnow()
    organisation.checks_decided_by_id = actor.user_id
    organisation.checks_note = note
    db.session.flush()
    return checks.view(organisation)
