"""Billing profiles through one door for members and customers: the caller's role picks the
owning package's service (members.billing_profile, customers.billing_profile)."""

from __future__ import annotations

from crowd.core.auth import Principal
from crowd.core.errors import Forbidden, field_error
from crowd.core.i18n import _
from customers import billing_profile as customers
from members import billing_profile as members

MEMBER_ONLY = ("tax_number", "small_business")
CUSTOMER_ONLY = ("buyer_reference", "invoice_email")


def own_profile(*, actor: Principal) -> dict:
    """The caller's billing party (a member's or a customer's)."""
    if actor.role == "member":
        return {"party": "member", **members.own_profile(actor=actor)}
    if actor.role == "customer":
        return {"party": "customer", **customers.own_profile(actor=actor)}
    raise Forbidden(_("Only members and customers have a billing profile."))


def replace_own_profile(*, actor: Principal, **fields) -> dict:
    """Replace the caller's billing profile; a field for the other kind of party is a 422."""
    if actor.role == "member":
        _refuse(fields, CUSTOMER_ONLY, _("for customers only"))
        fields["small_business"] = bool(fields.get("small_business"))
        return {"party": "member", **members.replace_own_profile(actor=actor, **fields)}
    if actor.role == "customer":
        _refuse(fields, MEMBER_ONLY, _("for members only"))
        return {"party": "customer", **customers.replace_own_profile(actor=actor, **fields)}
    raise Forbidden(_("Only members and customers have a billing profile."))


def _refuse(fields: dict, names: tuple[str, ...], message: str) -> None:
    for name in names:
        # Load defaults (null) are not the caller's doing; a value is.
        if fields.pop(name, None) is not None:
            raise field_error(name, message)


def member_profile(*, actor: Principal, member_id: int) -> dict:
    """A member's billing party, for staff."""
    return {"party": "member", **members.member_profile(actor=actor, member_id=member_id)}


def customer_profile(*, actor: Principal, customer_id: int) -> dict:
    """A customer's billing party, for staff."""
    return {"party": "customer", **customers.customer_profile(actor=actor, customer_id=customer_id)}
