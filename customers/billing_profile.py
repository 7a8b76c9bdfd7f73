"""The customer's billing profile: the party their invoices name, when it is not simply their
default service address.

A profile is written whole (`put`) and checked for form: an address in DE, AT, CH or another
EU country with a postcode of that country's form; a VAT ID — business customers only, of the
billing address's country (crowd.core.tax_ids) — which is what reverse charge across borders
needs; a buyer reference for e-invoices (a public buyer's Leitweg-ID, or a purchase order
reference: free text, printed as given) and an address invoices go to. The legal name may be
left out: the company name (business customers) or the display name is used then, whatever
it is when a document is made.

`billing_parties` is what invoicing reads: the stored profile, else the default address.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from accounts.models import User
from crowd.core.auth import Principal
from crowd.core.errors import Forbidden, NotFound, field_error
from crowd.core.i18n import _, default_locale
from crowd.core.postcodes import postcode_problem
from crowd.core.tax_ids import vat_country
from crowd.core.tax_ids import vat_id as checked_vat_id
from crowd.extensions import db
from customers.models import BILLING_COUNTRIES, Customer, CustomerAddress, CustomerBillingProfile
from customers.service import own_customer

ADDRESS_FIELDS = ("street", "postcode", "city", "country")


# --- the rules -------------------------------------------------------------------------------


def get(customer_id: int) -> CustomerBillingProfile | None:
    """The customer's stored billing profile, if they gave one."""
    return db.session.get(CustomerBillingProfile, customer_id)


def put(
    customer: Customer,
    *,
    street: str,
    postcode: str,
    city: str,
    country: str,
    legal_name: str | None = None,
    vat_id: str | None = None,
    buyer_reference: str | None = None,
    invoice_email: str | None = None,
) -> CustomerBillingProfile:
    """Replace the customer's billing profile with these fields, checked; 422 naming a field."""
    for name, value in (("street", street), ("city", city)):
        if not (value or "").strip():
            raise field_error(name, _("required"))
    if country not in BILLING_COUNTRIES:
        raise field_error("country", _("we invoice to addresses in the EU and Switzerland"))
    problem = postcode_problem(country, (postcode or "").upper())
    if problem:
        raise field_error("postcode", problem)
    if vat_id:
        if customer.kind != "business":
            raise field_error("vat_id", _("only business customers give a VAT ID"))
        vat_id = checked_vat_id(vat_id)
        if vat_country(vat_id) != country:
            raise field_error(
                "vat_id",
                _("not a VAT ID of {country}, the billing address's country", country=country),
            )
    if invoice_email is not None and "@" not in invoice_email:
        raise field_error("invoice_email", _("not an email address"))
    profile = get(customer.id)
    if profile is None:
        profile = CustomerBillingProfile(customer_id=customer.id)
        db.session.add(profile)
    values = {
        "legal_name": (legal_name or "").strip() or None,
        "street": street.strip(),
        "postcode": postcode.upper(),
        "city": city.strip(),
        "country": country,
        "vat_id": vat_id or None,
        "buyer_reference": (buyer_reference or "").strip() or None,
        "invoice_email": invoice_email or None,
    }
    for name, value in values.items():
        setattr(profile, name, value)
    db.session.flush()
    return profile


# --- what documents name ---------------------------------------------------------------------


def billing_parties(customer_ids: Iterable[int]) -> dict[int, dict]:
    """Each customer's billing party (see `billing_party`), in three queries however many."""
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    profiles = {
        p.customer_id: p
        for p in db.session.scalars(
            select(CustomerBillingProfile).where(CustomerBillingProfile.customer_id.in_(ids))
        )
    }
    defaults = {
        a.customer_id: a
        for a in db.session.scalars(
            select(CustomerAddress).where(
                CustomerAddress.customer_id.in_(ids), CustomerAddress.is_default
            )
        )
    }
    rows = db.session.execute(
        select(Customer, User.email, User.locale)
        .join(User, User.id == Customer.user_id)
        .where(Customer.id.in_(ids))
    )
    fallback_language = default_locale()
    parties = {}
    for customer, email, locale in rows:
        is_business = customer.kind == "business"
        name = (customer.company_name if is_business else None) or customer.display_name
        profile = profiles.get(customer.id)
        source = profile or defaults.get(customer.id)
        parties[customer.id] = {
            "customer_id": customer.id,
            "legal_name": (profile.legal_name if profile else None) or name,
            **{f: getattr(source, f) if source else None for f in ADDRESS_FIELDS},
            # A VAT ID is a business's: one kept from before a change of kind is not used.
            "vat_id": profile.vat_id if profile and is_business else None,
            "is_business": is_business,
            "buyer_reference": profile.buyer_reference if profile else None,
            "invoice_email": profile.invoice_email if profile else None,
            "email": (profile.invoice_email if profile else None) or email,
            "language": locale or fallback_language,
            "saved": profile is not None,
            "complete": source is not None,
            "updated_at": profile.updated_at if profile else None,
        }
    return parties


def billing_party(customer_id: int) -> dict:
    """Who a document for the customer names: legal_name, street, postcode, city, country,
    vat_id, is_business (customer.kind == 'business'), buyer_reference, email (the invoice
    address, else the account's), language (the recipient's), `saved` (a profile was given)
    and `complete` (false: neither a profile nor a default address — no address to print).
    KeyError for an unknown customer."""
    return billing_parties([customer_id])[customer_id]


# --- the API's side --------------------------------------------------------------------------


def own_profile(*, actor: Principal) -> dict:
    """The caller's billing party: the profile they gave, else what documents would use."""
    return billing_party(own_customer(actor).id)


def replace_own_profile(*, actor: Principal, **fields) -> dict:
    """Replace the caller's billing profile (the customer row locked: one write at a time)."""
    customer = own_customer(actor, lock=True)
    put(customer, **fields)
    return billing_party(customer.id)


def customer_profile(*, actor: Principal, customer_id: int) -> dict:
    """A customer's billing party, for community managers and admins."""
    if not actor.is_staff:
        raise Forbidden(_("Only community managers and admins see others' billing profiles."))
    if db.session.get(Customer, customer_id) is None:
        raise NotFound(_("No such customer."))
    return billing_party(customer_id)
