"""The member's billing profile: the party their self-billing credit notes and the platform's
fee invoices name, and how VAT applies to them.

A profile is written whole (`put`) and checked for form first: an address in DE, AT or CH with
that country's postcode; a VAT ID of the same country and a tax number of it
(crowd.core.tax_ids); and a member who is not a small business (Kleinunternehmer, DE §19
UStG, AT §6 (1) Z 27 UStG, in CH below the VAT threshold) gives a VAT ID or a tax number —
documents charging VAT must name one. A small business may give either, or neither.

`billing_parties` is what invoicing reads: the stored profile, else what the member profile
has (business or display name, postcode, city, country — no street), marked incomplete.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from accounts.models import User
from crowd.core.auth import Principal
from crowd.core.errors import Forbidden, field_error
from crowd.core.i18n import _, default_locale
from crowd.core.postcodes import postcode_problem
from crowd.core.tax_ids import tax_number as checked_tax_number
from crowd.core.tax_ids import vat_country
from crowd.core.tax_ids import vat_id as checked_vat_id
from crowd.extensions import db
from members.access import own_member, visible_member
from members.models import COUNTRIES, Member, MemberBillingProfile

FIELDS = (
    "legal_name",
    "street",
    "postcode",
    "city",
    "country",
    "vat_id",
    "tax_number",
    "small_business",
)


# --- the rules -------------------------------------------------------------------------------


def get(member_id: int) -> MemberBillingProfile | None:
    """The member's stored billing profile, if they gave one."""
    return db.session.get(MemberBillingProfile, member_id)


def is_complete(member_id: int) -> bool:
    """Whether the member gave a billing profile (a stored one has passed every check)."""
    return get(member_id) is not None


def put(
    member_id: int,
    *,
    legal_name: str,
    street: str,
    postcode: str,
    city: str,
    country: str,
    vat_id: str | None = None,
    tax_number: str | None = None,
    small_business: bool = False,
) -> MemberBillingProfile:
    """Replace the member's billing profile with these fields, checked; 422 naming a field."""
    for name, value in (("legal_name", legal_name), ("street", street), ("city", city)):
        if not (value or "").strip():
            raise field_error(name, _("required"))
    if country not in COUNTRIES:
        raise field_error("country", _("members bill from DE, AT or CH"))
    problem = postcode_problem(country, postcode or "")
    if problem:
        raise field_error("postcode", problem)
    vat_id = checked_vat_id(vat_id) if vat_id else None
    if vat_id and vat_country(vat_id) != country:
        raise field_error(
            "vat_id", _("not a VAT ID of {country}, the billing address's country", country=country)
        )
    tax_number = checked_tax_number(country, tax_number) if tax_number else None
    if not small_business and not (vat_id or tax_number):
        raise field_error(
            "vat_id", _("give a VAT ID or a tax number, or declare yourself a small business")
        )
    profile = get(member_id)
    if profile is None:
        profile = MemberBillingProfile(member_id=member_id)
        db.session.add(profile)
    values = {
        "legal_name": legal_name.strip(),
        "street": street.strip(),
        "postcode": postcode,
        "city": city.strip(),
        "country": country,
        "vat_id": vat_id,
        "tax_number": tax_number,
        "small_business": small_business,
    }
    for name, value in values.items():
        setattr(profile, name, value)
    db.session.flush()
    return profile


# --- what documents name ---------------------------------------------------------------------


def billing_parties(member_ids: Iterable[int]) -> dict[int, dict]:
    """Each member's billing party (see `billing_party`), in two queries however many."""
    ids = sorted(set(member_ids))
    if not ids:
        return {}
    profiles = {
        p.member_id: p
        for p in db.session.scalars(
            select(MemberBillingProfile).where(MemberBillingProfile.member_id.in_(ids))
        )
    }
    rows = db.session.execute(
        select(Member, User.email, User.locale)
        .join(User, User.id == Member.user_id)
        .where(Member.id.in_(ids))
    )
    fallback_language = default_locale()
    parties = {}
    for member, email, locale in rows:
        profile = profiles.get(member.id)
        party = {
            "member_id": member.id,
            "email": email,
            "language": locale or fallback_language,
            "saved": profile is not None,
            "complete": profile is not None,
            "updated_at": profile.updated_at if profile else None,
        }
        if profile is not None:
            party |= {name: getattr(profile, name) for name in FIELDS}
        else:
            party |= {
                "legal_name": member.business_name or member.display_name,
                "street": None,
                "postcode": member.postcode,
                "city": member.city,
                "country": member.country,
                "vat_id": None,
                "tax_number": None,
                "small_business": False,
            }
        parties[member.id] = party
    return parties


def billing_party(member_id: int) -> dict:
    """Who a document for the member names: legal_name, street, postcode, city, country,
    vat_id, tax_number, small_business, email, language (the recipient's), `saved` (a profile
    was given) and `complete` (false: the fallback from the member profile, no street and no
    tax status declared; documents wait for a profile). KeyError for an unknown member."""
    return billing_parties([member_id])[member_id]


# --- the API's side --------------------------------------------------------------------------


def own_profile(*, actor: Principal) -> dict:
    """The caller's billing party: the profile they gave, else what documents would use."""
    return billing_party(own_member(actor).id)


def replace_own_profile(*, actor: Principal, **fields) -> dict:
    """Replace the caller's billing profile (the member row locked: one write at a time)."""
    member = own_member(actor, lock=True)
    put(member.id, **fields)
    return billing_party(member.id)


def member_profile(*, actor: Principal, member_id: int) -> dict:
    """A member's billing party, for community managers and admins."""
    if not actor.is_staff:
        raise Forbidden(_("Only community managers and admins see others' billing profiles."))
    return billing_party(visible_member(actor, member_id).id)
