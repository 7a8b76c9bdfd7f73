"""Provider companies: registration, the company's particulars, its members and their roles,
leaving, and the staff's view and decisions. Invitations are in organisations/invitations.py.

Every change to a company's memberships runs under a row lock of the company (its row first,
then a member's: the lock order), so "at least one active owner" holds however many owners
leave at once; "one active membership per member" is also a partial unique index. A member's
own record (profile, skills, jobs, reviews, level) is never touched here: leaving or being
removed only ends the membership.
"""

from __future__ import annotations

from sqlalchemy import Select, func, or_, select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import Forbidden, NotFound, field_error
from crowd.core.i18n import _
from crowd.core.locking import ROW_LOCK
from crowd.core.pagination import paginate
from crowd.core.postcodes import postcode_problem
from crowd.core.tax_ids import tax_number as checked_tax_number
from crowd.core.tax_ids import vat_country
from crowd.core.tax_ids import vat_id as checked_vat_id
from crowd.extensions import db
from members.access import own_member
from members.errors import MemberClosed
from members.models import Member
from organisations import checks, events
from organisations.errors import (
    AlreadyInOrganisation,
    LastOwner,
    OrganisationChecksMissing,
    OrganisationStateConflict,
)
from organisations.models import COUNTRIES, Organisation, OrganisationMembership

# The company's particulars a member gives and its owner changes.
PARTICULARS = (
    "legal_name",
    "trade_name",
    "street",
    "postcode",
    "city",
    "country",
    "vat_id",
    "tax_number",
    "register_court",
    "register_number",
)
# Who runs the company's side: sees its technicians, invites, revokes invitations.
MANAGERS = ("owner", "dispatcher")
# Members who may found or join a company: the working crowd and applicants (a company may
# register while its technicians still onboard); suspended and offboarded members may not.
MAY_JOIN = ("applicant", "active", "paused")
# Staff decisions: (status, action) → next status.
TRANSITIONS = {
    ("pending", "activate"): "active",
    ("suspended", "activate"): "active",
    ("pending", "suspend"): "suspended",
    ("active", "suspend"): "suspended",
}


# --- reaching a company -------------------------------------------------------------------------


def lock_organisation(organisation_id: int) -> Organisation | None:
    """The company row locked for this unit of work (ROW_LOCK) and re-read; None if none."""
    return db.session.get(
        Organisation, organisation_id, with_for_update=ROW_LOCK, populate_existing=True
    )


def _no_organisation() -> NotFound:
    return NotFound(_("You belong to no company."))


def active_membership(member_id: int) -> OrganisationMembership | None:
    """The member's active membership, if they belong to a company (read fresh)."""
    return db.session.scalars(
        select(OrganisationMembership)
        .where(
            OrganisationMembership.member_id == member_id,
            OrganisationMembership.status == "active",
        )
        .execution_options(populate_existing=True)
    ).one_or_none()


def own_organisation(
    actor: Principal, *, roles: tuple[str, ...] | None = None, lock: bool = False
) -> tuple[Organisation, OrganisationMembership]:
    """The caller's company and their membership; 404 when they belong to none, 403 when
    their role is not one of `roles`. With `lock` the company row is locked first and the
    membership read after it, so it is the one in force."""
    member_id = actor.require_member_id()
    membership = active_membership(member_id)
    if membership is None:
        raise _no_organisation()
    if lock:
        organisation = lock_organisation(membership.organisation_id)
        membership = active_membership(member_id)
        if membership is None or membership.organisation_id != organisation.id:
            raise _no_organisation()
    else:
        organisation = db.session.get(Organisation, membership.organisation_id)
    if roles and membership.role not in roles:
        raise Forbidden(
            _("Only the company's {roles} may do this.", roles=", ".join(roles)),
        )
    return organisation, membership


def own_view(organisation: Organisation, membership: OrganisationMembership) -> dict:
    """The company as its member sees it: its particulars, status and the caller's role."""
    return _fields(organisation) | {
        "role": membership.role,
        "member_id": membership.member_id,
        "checks": checks.view(organisation),
    }


def _fields(organisation: Organisation) -> dict:
    columns = Organisation.__table__.columns.keys()
    return {name: getattr(organisation, name) for name in columns}


def _owners(organisation_id: int) -> int:
    return db.session.scalar(
        select(func.count()).where(
            OrganisationMembership.organisation_id == organisation_id,
            OrganisationMembership.status == "active",
            OrganisationMembership.role == "owner",
        )
    )


def check_may_join(member: Member) -> None:
    """409 when the member is suspended or offboarded, or already in a company."""
    if member.status not in MAY_JOIN:
        raise MemberClosed(_("Your member profile is {status}.", status=member.status))
    if active_membership(member.id) is not None:
        raise AlreadyInOrganisation(
            _("You belong to a company already: leave it before you join another.")
        )


def join(
    organisation: Organisation, member: Member, role: str, *, actor: int
) -> OrganisationMembership:
    """Start the member's active membership (the company locked, the member checked)."""
    membership = OrganisationMembership(
        organisation_id=organisation.id, member_id=member.id, role=role, status="active"
    )
    db.session.add(membership)
    db.session.flush()
    events.member_joined(membership, actor=actor)
    return membership


# --- the company's particulars --------------------------------------------------------------


def _checked(values: dict) -> dict:
    """The particulars checked whole and normalised; 422 naming the field at fault."""
    for name in ("legal_name", "street", "city"):
        if not (values.get(name) or "").strip():
            raise field_error(name, _("required"))
    country = values.get("country")
    if country not in COUNTRIES:
        raise field_error("country", _("companies work from DE, AT or CH"))
    problem = postcode_problem(country, values.get("postcode") or "")
    if problem:
        raise field_error("postcode", problem)
    vat_id = checked_vat_id(values["vat_id"]) if values.get("vat_id") else None
    if vat_id and vat_country(vat_id) != country:
        raise field_error(
            "vat_id", _("not a VAT ID of {country}, the company's country", country=country)
        )
    tax_number = (
        checked_tax_number(country, values["tax_number"]) if values.get("tax_number") else None
    )
    if not (vat_id or tax_number):
        raise field_error("vat_id", _("give the company's VAT ID or its tax number"))
    court = (values.get("register_court") or "").strip() or None
    number = (values.get("register_number") or "").strip() or None
    if court and not number:
        raise field_error("register_number", _("give the entry's number with its court"))
    if number and not court:
        raise field_error("register_court", _("give the court with the entry's number"))
    trade_name = (values.get("trade_name") or "").strip() or None
    return {
        "legal_name": values["legal_name"].strip(),
        "trade_name": trade_name,
        "street": values["street"].strip(),
        "postcode": values["postcode"],
        "city": values["city"].strip(),
        "country": country,
        "vat_id": vat_id,
        "tax_number": tax_number,
        "register_court": court,
        "register_number": number,
    }


def register(*, actor: Principal, allow_direct_accept: bool = False, **particulars) -> dict:
    """A member registers their company and becomes its owner; it waits (`pending`) until a
    community manager activates it. 409 when they belong to a company already."""
    member = own_member(actor, lock=True)
    check_may_join(member)
    organisation = Organisation(
        **_checked(particulars), status="pending", allow_direct_accept=allow_direct_accept
    )
    db.session.add(organisation)
    db.session.flush()
    membership = join(organisation, member, "owner", actor=actor.user_id)
    return own_view(organisation, membership)


def get_own(*, actor: Principal) -> dict:
    """The caller's company with their role in it."""
    return own_view(*own_organisation(actor))


def update_own(*, actor: Principal, **changes) -> dict:
    """The owner changes the company's particulars (checked whole) and allow_direct_accept."""
    organisation, membership = own_organisation(actor, roles=("owner",), lock=True)
    if organisation.status == "closed":
        raise OrganisationStateConflict(_("The company is closed."), state=organisation.status)
    if "allow_direct_accept" in changes:
        organisation.allow_direct_accept = changes.pop("allow_direct_accept")
    if changes:
        merged = {name: getattr(organisation, name) for name in PARTICULARS} | changes
        for name, value in _checked(merged).items():
            setattr(organisation, name, value)
    db.session.flush()
    return own_view(organisation, membership)


# --- its members --------------------------------------------------------------------------------


def _member_rows(organisation_id: int, *, member_id: int | None = None) -> list[dict]:
    """The company's memberships with each member's name, own status and level, active ones
    first, then by when they joined."""
    query = (
        select(OrganisationMembership, Member.display_name, Member.status, Member.level_rank)
        .join(Member, Member.id == OrganisationMembership.member_id)
        .where(OrganisationMembership.organisation_id == organisation_id)
        .order_by(
            (OrganisationMembership.status != "active"),
            OrganisationMembership.joined_at,
            OrganisationMembership.id,
        )
    )
    if member_id is not None:
        query = query.where(OrganisationMembership.member_id == member_id)
    return [
        {
            "member_id": m.member_id,
            "display_name": name,
            "role": m.role,
            "status": m.status,
            "joined_at": m.joined_at,
            "left_at": m.left_at,
            "member_status": status,
            "level_rank": level_rank,
        }
        for m, name, status, level_rank in db.session.execute(query)
    ]


def list_members(*, actor: Principal) -> list[dict]:
    """The company's members, past ones too: for its owners and dispatchers. A technician
    sees the company and their own role at GET /me/organisation, not their colleagues."""
    organisation, _membership = own_organisation(actor, roles=MANAGERS)
    return _member_rows(organisation.id)


def _membership_in(organisation_id: int, member_id: int) -> OrganisationMembership:
    """The member's active membership in this company; 404 for anyone else."""
    membership = active_membership(member_id)
    if membership is None or membership.organisation_id != organisation_id:
        raise NotFound(_("No such member in your company."))
    return membership


def change_role(*, actor: Principal, member_id: int, role: str) -> dict:
    """The owner gives a member another role; the last owner stays owner (409)."""
    organisation, _own = own_organisation(actor, roles=("owner",), lock=True)
    membership = _membership_in(organisation.id, member_id)
    if membership.role == "owner" and role != "owner" and _owners(organisation.id) <= 1:
        raise LastOwner(_("Make another member owner before this one stops being owner."))
    membership.role = role
    db.session.flush()
    return _member_rows(organisation.id, member_id=member_id)[0]


def _end(membership: OrganisationMembership, status: str, *, actor: int) -> None:
    if membership.role == "owner" and _owners(membership.organisation_id) <= 1:
        raise LastOwner(
            _("The company's last owner cannot leave: make another member owner first.")
        )
    membership.status = status
    membership.left_at = utcnow()
    db.session.flush()
    events.member_left(membership, actor=actor)


def remove_member(*, actor: Principal, member_id: int) -> None:
    """The owner removes a member from the company; their own record stays theirs."""
    organisation, _own = own_organisation(actor, roles=("owner",), lock=True)
    _end(_membership_in(organisation.id, member_id), "removed", actor=actor.user_id)


def leave(*, actor: Principal) -> None:
    """The caller leaves their company (the last owner cannot: 409); their profile, skills,
    jobs, reviews and level stay theirs."""
    _organisation, membership = own_organisation(actor, lock=True)
    _end(membership, "left", actor=actor.user_id)


# --- staff ----------------------------------------------------------------------------------


def require_staff(actor: Principal) -> None:
    if not actor.is_staff:
        raise Forbidden(_("Only community managers and admins see all companies."))


def search(
    *,
    actor: Principal,
    status: str | None = None,
    q: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict:
    """One page of companies for staff, by status and name (legal or trade name contains)."""
    require_staff(actor)
    query: Select = select(Organisation)
    if status:
        query = query.where(Organisation.status == status)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                Organisation.legal_name.ilike(pattern, escape="\\"),
                Organisation.trade_name.ilike(pattern, escape="\\"),
            )
        )
    return paginate(query, {"limit": limit, "cursor": cursor}, order=[Organisation.id])


def staff_view(*, actor: Principal, organisation_id: int) -> dict:
    """A company with its members (past ones too), for staff."""
    require_staff(actor)
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(_("No such company."))
    return _fields(organisation) | {
        "members": _member_rows(organisation.id),
        "checks": checks.view(organisation),
    }


def decide(*, actor: Principal, organisation_id: int, action: str) -> dict:
    """Staff activate (pending or suspended → active) or suspend (pending or active →
    suspended) a company; any other step is 409 naming the status. Activation asks for the
    company's onboarding checks (organisations.checks): 409 naming those missing."""
    require_staff(actor)
    organisation = lock_organisation(organisation_id)
    if organisation is None:
        raise NotFound(_("No such company."))
    target = TRANSITIONS.get((organisation.status, action))
    if target is None:
        raise OrganisationStateConflict(
            _("A {status} company cannot be changed this way.", status=organisation.status),
            state=organisation.status,
        )
    gaps = checks.missing(organisation) if action == "activate" else []
    if gaps:
        raise OrganisationChecksMissing(
            _("The company's checks are not done: {missing}.", missing=", ".join(gaps)),
            missing=gaps,
        )
    organisation.status = target
    organisation.status_changed_at = utcnow()
    db.session.flush()
    return staff_view(actor=actor, organisation_id=organisation.id)
