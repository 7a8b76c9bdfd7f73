"""HTTP for support mediation: tickets, the queue, assignment, status actions, messages, the
audit trail and ratings."""

from crowd.core.auth import STAFF, current_principal
from crowd.core.files.schemas import DownloadSchema
from crowd.core.openapi import CrowdBlueprint
from crowd.core.pagination import PageArgsSchema
from support import attachments, chargebacks, messages
from support.schemas import chargebacks as chargeback_schemas
from support.schemas import tickets as schemas
from support.tickets import actions, opening, queue, ratings

blp = CrowdBlueprint(
    "support_tickets", __name__, url_prefix="/api/v1", description="Support: tickets"
)

PARTIES = ("customer", "member")
EVERYONE = (*PARTIES, *STAFF)


@blp.route("/tickets", methods=["POST"])
@blp.auth(*EVERYONE)
@blp.idempotent
@blp.arguments(schemas.TicketCreateSchema)
@blp.response(201, schemas.TicketSchema)
@blp.errors(403, 409)
def open_ticket(data):
    """Open a support ticket.

    A customer or member opens one about a job of theirs (its customer and assigned member
    both become parties) or about their own account; staff name the job, member and/or
    customer. The description is the first message, visible to the parties. Parties choose
    low, normal or high priority (urgent is staff's: 422). `follow_up_of` continues a closed
    ticket (closed is final). `dispute: true` (customer or member, about a completed or
    confirmed job) puts the job in `disputed` and holds the member's payout for it; a job
    with an open dispute already is a 409 naming that `ticket_id`. `attachment_file_ids`
    attaches up to 5 of your ready uploads of purpose `ticket_attachment` (images or PDF) to
    the first message.
    """
    return opening.open_ticket(actor=current_principal(), **data)


@blp.route("/tickets", methods=["GET"])
@blp.auth(*EVERYONE)
@blp.arguments(schemas.TicketQueryArgsSchema, location="query")
@blp.response(200, schemas.TicketPageSchema)
def list_tickets(args):
    """The ticket queue, most urgent SLA deadline first: staff see all, parties their own.

    Tickets whose clocks do not run (waiting on a party, resolved, closed) come last.
    """
    return queue.list_tickets(actor=current_principal(), **args)


@blp.route("/tickets/bulk-assign", methods=["POST"])
@blp.auth(*STAFF)
@blp.arguments(schemas.TicketBulkAssignSchema)
@blp.response(200, schemas.TicketListSchema)
@blp.errors(409)
def bulk_assign(data):
    """Assign up to 100 tickets at once, all or nothing: a closed one is a 409 naming it."""
    return actions.bulk_assign(actor=current_principal(), **data)


@blp.route("/tickets/<int:ticket_id>", methods=["GET"])
@blp.auth(*EVERYONE)
@blp.response(200, schemas.TicketSchema)
@blp.errors(404)
def get_ticket(ticket_id):
    """One ticket with the actions open to you; parties see no SLA internals."""
    return queue.get_ticket(actor=current_principal(), ticket_id=ticket_id)


@blp.route("/tickets/<int:ticket_id>", methods=["PATCH"])
@blp.auth(*STAFF)
@blp.arguments(schemas.TicketUpdateSchema)
@blp.response(200, schemas.TicketSchema)
@blp.errors(404, 409)
def update_ticket(data, ticket_id):
    """Change subject, category or priority; a new priority re-aims the SLA deadlines."""
    return actions.update_ticket(actor=current_principal(), ticket_id=ticket_id, **data)


@blp.route("/tickets/<int:ticket_id>/assign", methods=["POST"])
@blp.auth(*STAFF)
@blp.arguments(schemas.TicketAssignSchema)
@blp.response(200, schemas.TicketSchema)
@blp.errors(404, 409)
def assign(data, ticket_id):
    """Assign a ticket to a community manager or admin: a new ticket opens, others move over."""
    return actions.assign(actor=current_principal(), ticket_id=ticket_id, **data)


@blp.route("/tickets/<int:ticket_id>/actions/<action>", methods=["POST"])
@blp.auth(*STAFF)
@blp.arguments(schemas.TicketActionSchema)
@blp.response(200, schemas.TicketSchema)
@blp.errors(404, 409)
def act(data, ticket_id, action):
    """Move a ticket: wait_on_customer, wait_on_member, mediate, resolve (note), reopen,
    close, escalate (reason) or take_over. An action its state does not allow is a 409 with
    `state`; a live dispute is settled by a resolution, not `resolve`.
    """
    return actions.act(actor=current_principal(), ticket_id=ticket_id, action=action, **data)


@blp.route("/tickets/<int:ticket_id>/messages", methods=["POST"])
@blp.auth(*EVERYONE)
@blp.idempotent
@blp.arguments(schemas.TicketMessageCreateSchema)
@blp.response(201, schemas.TicketMessageSchema)
@blp.errors(404, 409)
def post_message(data, ticket_id):
    """Write on a ticket. A party's message reopens a resolved ticket or answers a wait on
    them; a closed ticket is a 409 (open a follow-up). The first staff message a party can
    read is the first response.

    `attachment_file_ids`: up to 5 of your ready uploads of purpose `ticket_attachment`
    (images or PDF: POST /files, PUT, confirm), each attached to one message only; a file that
    is not yours, not confirmed, of another purpose or attached already is a 422. They are
    read by whoever may read the message (an internal note's: staff only).
    """
    return messages.post_message(actor=current_principal(), ticket_id=ticket_id, **data)


@blp.route("/tickets/<int:ticket_id>/messages", methods=["GET"])
@blp.auth(*EVERYONE)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, schemas.TicketMessagePageSchema)
@blp.errors(404)
def list_messages(args, ticket_id):
    """The messages you may read, oldest first: no internal notes or the other side's."""
    return messages.list_messages(actor=current_principal(), ticket_id=ticket_id, **args)


@blp.route(
    "/tickets/<int:ticket_id>/messages/<int:message_id>/attachments/<int:file_id>",
    methods=["GET"],
)
@blp.auth(*EVERYONE)
@blp.response(200, DownloadSchema)
@blp.errors(404)
def get_attachment(ticket_id, message_id, file_id):
    """Short-lived URLs of a file attached to a message (and of its thumbnail, null for a PDF
    and until it is made), for whoever may read the message: the ticket's parties as its
    visibility allows, staff. Anyone else, an internal note's file for a party, and a file
    retention deleted: 404."""
    return attachments.download(
        actor=current_principal(), ticket_id=ticket_id, message_id=message_id, file_id=file_id
    )


@blp.route("/tickets/<int:ticket_id>/events", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, schemas.TicketEventPageSchema)
@blp.errors(404)
def list_events(args, ticket_id):
    """The ticket's full audit trail, oldest first."""
    return queue.list_events(actor=current_principal(), ticket_id=ticket_id, **args)


@blp.route("/tickets/<int:ticket_id>/rating", methods=["POST"])
@blp.auth(*PARTIES)
@blp.idempotent
@blp.arguments(schemas.TicketRatingCreateSchema)
@blp.response(201, schemas.TicketRatingSchema)
@blp.errors(404, 409)
def rate(data, ticket_id):
    """Rate how a closed ticket was handled, 1 to 5, once per party; earlier, or again: 409."""
    return ratings.rate(actor=current_principal(), ticket_id=ticket_id, **data)


@blp.route("/tickets/<int:ticket_id>/chargeback-evidence", methods=["GET"])
@blp.auth(*STAFF)
@blp.response(200, chargeback_schemas.ChargebackEvidenceSchema)
@blp.errors(404)
def chargeback_evidence(ticket_id):
    """The evidence draft for the chargeback of the ticket's job: the work report, check-in
    and completion times, the parties' messages, the reviews, as Stripe's evidence fields.
    A ticket whose job has no chargeback is a 404."""
    return chargebacks.evidence_draft(actor=current_principal(), ticket_id=ticket_id)


@blp.route("/tickets/<int:ticket_id>/chargeback-evidence", methods=["POST"])
@blp.auth(*STAFF)
@blp.idempotent
@blp.arguments(chargeback_schemas.ChargebackEvidenceSendSchema)
@blp.response(200, chargeback_schemas.ChargebackEvidenceSchema)
@blp.errors(404, 409)
def send_chargeback_evidence(data, ticket_id):
    """Send the (edited) evidence to the payment provider; `submit: true` hands it to the card
    issuer. A closed chargeback, evidence submitted already or a passed deadline is a 409."""
    return chargebacks.send_evidence(actor=current_principal(), ticket_id=ticket_id, **data)
