"""HTTP for the contact history: community managers' notes and logged contacts with members
and customers."""

from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from crowd.core.pagination import PageArgsSchema, page_of
from support import contacts as service
from support.schemas import contacts as schemas

blp = CrowdBlueprint(
    "support_contacts", __name__, url_prefix="/api/v1", description="Support: contact history"
)

MEMBER = "/members/<int:member_id>/contacts"
CUSTOMER = "/customers/<int:customer_id>/contacts"
CONTACT_PAGE = page_of(schemas.StaffContactSchema)


@blp.route(MEMBER, methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, CONTACT_PAGE)
@blp.errors(404)
def list_member_contacts(args, member_id):
    """A member's contact history: notes, calls, conversations, emails — newest first."""
    return service.list_contacts(
        actor=current_principal(), subject="member", subject_id=member_id, **args
    )


@blp.route(MEMBER, methods=["POST"])
@blp.auth(*STAFF)
@blp.idempotent
@blp.arguments(schemas.StaffContactCreateSchema)
@blp.response(201, schemas.StaffContactSchema)
@blp.errors(404, 422)
def log_member_contact(data, member_id):
    """Log a note or a contact with a member in their history."""
    return service.log_contact(
        actor=current_principal(), subject="member", subject_id=member_id, **data
    )


@blp.route(CUSTOMER, methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, CONTACT_PAGE)
@blp.errors(404)
def list_customer_contacts(args, customer_id):
    """A customer's contact history: notes, calls, conversations, emails — newest first."""
    return service.list_contacts(
        actor=current_principal(), subject="customer", subject_id=customer_id, **args
    )


@blp.route(CUSTOMER, methods=["POST"])
@blp.auth(*STAFF)
@blp.idempotent
@blp.arguments(schemas.StaffContactCreateSchema)
@blp.response(201, schemas.StaffContactSchema)
@blp.errors(404, 422)
def log_customer_contact(data, customer_id):
    """Log a note or a contact with a customer in their history."""
    return service.log_contact(
        actor=current_principal(), subject="customer", subject_id=customer_id, **data
    )
