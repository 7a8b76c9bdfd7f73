"""HTTP for billing profiles: your own (members and customers), and staff reading anyone's."""

from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from invoicing import profiles
from invoicing.schemas import profiles as schemas

blp = CrowdBlueprint(
    "invoicing_profiles",
    __name__,
    url_prefix="/api/v1",
    description="Billing profiles: who invoices and credit notes are addressed to",
)

PARTIES = ("member", "customer")


@blp.route("/me/billing-profile", methods=["GET"])
@blp.auth(*PARTIES)
@blp.response(200, schemas.BillingProfileSchema)
@blp.errors(404)
def get_own_billing_profile():
    """Who your invoices (customers) or credit notes and fee invoices (members) are addressed
    to. Without a saved profile (`saved` false) it shows what documents would use: a
    customer's default address; a member's name, postcode and city — no street, so
    `complete` is false until you save one."""
    return profiles.own_profile(actor=current_principal())


@blp.route("/me/billing-profile", methods=["PUT"])
@blp.auth(*PARTIES)
@blp.arguments(schemas.BillingProfileReplaceSchema)
@blp.response(200, schemas.BillingProfileSchema)
@blp.errors(404)
def replace_own_billing_profile(data):
    """Replace your billing profile; every field is checked for form (422 naming the field).

    Members: an address in DE, AT or CH and a legal name; a VAT ID (of that country) or a
    tax number (DE Steuernummer, AT Abgabenkontonummer, CH UID) unless `small_business`.
    Customers: an address in the EU or Switzerland; a VAT ID (business customers, of the
    address's country) for reverse charge across borders; a buyer reference (Leitweg-ID) for
    e-invoices to public buyers. Fields of the other kind of party: 422.
    """
    return profiles.replace_own_profile(actor=current_principal(), **data)


@blp.route("/members/<int:member_id>/billing-profile", methods=["GET"])
@blp.auth(*STAFF)
@blp.response(200, schemas.BillingProfileSchema)
@blp.errors(404)
def get_member_billing_profile(member_id):
    """A member's billing profile (or, unsaved, what documents would use)."""
    return profiles.member_profile(actor=current_principal(), member_id=member_id)


@blp.route("/customers/<int:customer_id>/billing-profile", methods=["GET"])
@blp.auth(*STAFF)
@blp.response(200, schemas.BillingProfileSchema)
@blp.errors(404)
def get_customer_billing_profile(customer_id):
    """A customer's billing profile (or, unsaved, what documents would use)."""
    return profiles.customer_profile(actor=current_principal(), customer_id=customer_id)
