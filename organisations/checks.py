"""A company's onboarding checks: the house rules its owner accepted for it, its insurance
certificate, and a community manager's decision on its business checks — what activation
asks for (organisations.service.decide) and what staff and the owner see of it.

The house rules are onboarding's (a package above this one): it tells which version is
current through `use_house_rules_source`, filled from onboarding/wiring.py. With none
published the step is not required, as in a member's checklist.
"""

from __future__ import annotations

from collections.abc import Callable

from crowd.core.files.models import StoredFile
from crowd.extensions import db
from organisations.models import Organisation

CHECKS = ("house_rules", "insurance_certificate", "checks_verified")

_house_rules_source: Callable[[], int | None] = lambda: None  # noqa: E731


def use_house_rules_source(source: Callable[[], int | None]) -> None:
    """The current house rules version's number (None: none published), asked at each check."""
    global _house_rules_source
    _house_rules_source = source


def current_house_rules() -> int | None:
    """The number of the house rules version in force, if any."""
    return _house_rules_source()


def missing(organisation: Organisation) -> list[str]:
    """The checks not done yet, in CHECKS order ([] = the company may be activated)."""
    return _missing(organisation, current_house_rules())


def _missing(organisation: Organisation, current: int | None) -> list[str]:
    gaps = []
    if current is not None and organisation.house_rules_version != current:
        gaps.append("house_rules")
    if not certificate_held(organisation):
        gaps.append("insurance_certificate")
    if organisation.checks_decision != "verified":
        gaps.append("checks_verified")
    return gaps


def certificate_held(organisation: Organisation) -> bool:
    """A certificate is given and its file still held (an uploader's erasure deletes it)."""
    if organisation.insurance_file_id is None:
        return False
    file = db.session.get(StoredFile, organisation.insurance_file_id)
    return file is not None and file.status == "ready"


def view(organisation: Organisation) -> dict:
    """The checks as the owner and staff read them."""
    current = current_house_rules()
    return {
        "house_rules": {
            "required": current is not None,
            "current_version": current,
            "accepted_version": organisation.house_rules_version,
            "accepted_at": organisation.house_rules_accepted_at,
            "accepted_by_member_id": organisation.house_rules_accepted_by_id,
        },
        "insurance_certificate": {"file_id": organisation.insurance_file_id},
        "decision": {
            "decision": organisation.checks_decision,
            "decided_at": organisation.checks_decided_at,
            "decided_by_user_id": organisation.checks_decided_by_id,
            "note": organisation.checks_note,
        },
        "missing": _missing(organisation, current),
    }
