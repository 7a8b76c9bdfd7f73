"""HTTP for customers: own profile, addresses, favourite and blocked members, staff views."""

from crowd.core.auth import current_principal
from crowd.core.openapi import CrowdBlueprint
from crowd.core.pagination import page_of
from customers import schemas, service

blp = CrowdBlueprint(
    "customers",
    __name__,
    url_prefix="/api/v1",
    description="Customers: profile, addresses, favourite and blocked members",
)

ADDRESS = "/me/customer/addresses/<int:address_id>"
FAVOURITE = "/me/customer/favourites/<int:member_id>"
BLOCKED = "/me/customer/blocked/<int:member_id>"


# --- own profile -----------------------------------------------------------------------------


@blp.route("/me/customer", methods=["GET"])
@blp.auth("customer")
@blp.response(200, schemas.CustomerDetailSchema)
def get_own_profile():
    """Your customer profile with its addresses."""
    return service.get_own_profile(actor=current_principal())


@blp.route("/me/customer", methods=["PATCH"])
@blp.auth("customer")
@blp.arguments(schemas.CustomerUpdateSchema)
@blp.response(200, schemas.CustomerDetailSchema)
@blp.errors(422)
def update_own_profile(changes):
    """Change your display name, phone, company name or kind (business needs a company name)."""
    return service.update_own_profile(actor=current_principal(), **changes)


# --- addresses -------------------------------------------------------------------------------


@blp.route("/me/customer/addresses", methods=["GET"])
@blp.auth("customer")
@blp.response(200, schemas.AddressListSchema)
def list_addresses():
    """Your service addresses, oldest first (at most 20)."""
    return {"items": service.list_addresses(actor=current_principal())}


@blp.route("/me/customer/addresses", methods=["POST"])
@blp.auth("customer")
@blp.idempotent
@blp.arguments(schemas.AddressCreateSchema)
@blp.response(201, schemas.AddressSchema)
@blp.errors(409, 422)
def add_address(data):
    """Add a service address; the first one becomes the default. At most 20 (409 beyond)."""
    return service.add_address(actor=current_principal(), **data)


@blp.route(ADDRESS, methods=["GET"])
@blp.auth("customer")
@blp.response(200, schemas.AddressSchema)
@blp.errors(404)
def get_address(address_id):
    """One of your addresses."""
    return service.get_address(actor=current_principal(), address_id=address_id)


@blp.route(ADDRESS, methods=["PATCH"])
@blp.auth("customer")
@blp.arguments(schemas.AddressUpdateSchema)
@blp.response(200, schemas.AddressSchema)
@blp.errors(404, 422)
def update_address(changes, address_id):
    """Change one of your addresses; is_default=true makes it the default."""
    return service.update_address(actor=current_principal(), address_id=address_id, **changes)


@blp.route(ADDRESS, methods=["DELETE"])
@blp.auth("customer")
@blp.response(204)
@blp.errors(404)
def delete_address(address_id):
    """Delete one of your addresses; if it was the default, the oldest remaining one is."""
    service.delete_address(actor=current_principal(), address_id=address_id)


# --- favourite members -----------------------------------------------------------------------


@blp.route("/me/customer/favourites", methods=["GET"])
@blp.auth("customer")
@blp.response(200, schemas.ListedMemberListSchema)
def list_favourites():
    """Your favourite members, newest first (the whole list: at most 200)."""
    return {"items": service.list_favourites(actor=current_principal())}


@blp.route(FAVOURITE, methods=["PUT"])
@blp.auth("customer")
@blp.response(200, schemas.ListedMemberSchema)
@blp.errors(404, 409, 422)
def add_favourite(member_id):
    """Make a member a favourite (200 whether new or already one); blocked members → 409.

    Only active or paused members can be listed; any other id is 404, as for no member."""
    return service.add_favourite(actor=current_principal(), member_id=member_id)


@blp.route(FAVOURITE, methods=["DELETE"])
@blp.auth("customer")
@blp.response(204)
@blp.errors(404)
def remove_favourite(member_id):
    """Take a member off your favourites (204); one who is not on them → 404."""
    service.remove_favourite(actor=current_principal(), member_id=member_id)


# --- blocked members -------------------------------------------------------------------------


@blp.route("/me/customer/blocked", methods=["GET"])
@blp.auth("customer")
@blp.response(200, schemas.BlockedMemberListSchema)
def list_blocked():
    """Members you blocked, newest first (the whole list: at most 200)."""
    return {"items": service.list_blocked(actor=current_principal())}


@blp.route(BLOCKED, methods=["PUT"])
@blp.auth("customer")
@blp.arguments(schemas.BlockSchema, required=False)
@blp.response(200, schemas.BlockedMemberSchema)
@blp.errors(404, 409, 422)
def block_member(data, member_id):
    """Block a member from your jobs (200 whether new or not); it removes them as favourite.

    Only active or paused members can be listed; any other id is 404, as for no member."""
    return service.block_member(actor=current_principal(), member_id=member_id, **data)


@blp.route(BLOCKED, methods=["DELETE"])
@blp.auth("customer")
@blp.response(204)
@blp.errors(404)
def unblock_member(member_id):
    """Lift a block (204); a member who is not blocked → 404."""
    service.unblock_member(actor=current_principal(), member_id=member_id)


# --- staff views -----------------------------------------------------------------------------


@blp.route("/customers", methods=["GET"])
@blp.auth("community_manager", "admin")
@blp.arguments(schemas.CustomerQueryArgsSchema, location="query")
@blp.response(200, page_of(schemas.CustomerSchema))
def list_customers(args):
    """Customers by name or company (contains), kind and address country, paginated."""
    return service.search_customers(actor=current_principal(), **args)


@blp.route("/customers/<int:customer_id>", methods=["GET"])
@blp.auth("customer", "community_manager", "admin")
@blp.response(200, schemas.CustomerDetailSchema)
@blp.errors(404)
def get_customer(customer_id):
    """A customer with addresses: for staff, or for the customer themself."""
    return service.get_customer(actor=current_principal(), customer_id=customer_id)


@blp.route("/customers/<int:customer_id>/billing", methods=["PUT"])
@blp.auth("community_manager", "admin")
@blp.arguments(schemas.CustomerBillingSetSchema)
@blp.response(200, schemas.CustomerBillingSchema)
@blp.errors(404, 422)
def set_customer_billing(data, customer_id):
    """Agree how a customer pays: card (authorised before offers go out) or invoice with
    payment terms (business customers only); who set it and when is recorded."""
    return service.set_billing(actor=current_principal(), customer_id=customer_id, **data)


@blp.route("/customers/<int:customer_id>/billing", methods=["GET"])
@blp.auth("community_manager", "admin")
@blp.response(200, schemas.CustomerBillingSchema)
@blp.errors(404)
def get_customer_billing(customer_id):
    """How a customer pays, and who agreed it when."""
    return service.get_customer(actor=current_principal(), customer_id=customer_id)
