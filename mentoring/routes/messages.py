"""HTTP for the programmes: messages to crowd segments and members reading them."""

from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from mentoring.broadcasts import service
from mentoring.schemas import messages as schemas

blp = CrowdBlueprint(
    "mentoring_messages", __name__, url_prefix="/api/v1", description="Programmes: messages"
)


@blp.route("/broadcasts", methods=["POST"])
@blp.auth(*STAFF)
@blp.idempotent
@blp.arguments(schemas.BroadcastCreateSchema)
@blp.response(201, schemas.BroadcastSchema)
def create_broadcast(data):
    """Compose an announcement or newsletter to a segment (a draft). Every segment key given
    must match, any of its values; statuses default to active. Unknown skills, programmes or
    statuses are a 422 naming `segment.<key>`."""
    return service.create_broadcast(actor=current_principal(), **data)


@blp.route("/broadcasts", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(schemas.BroadcastQueryArgsSchema, location="query")
@blp.response(200, schemas.BroadcastPageSchema)
def list_broadcasts(args):
    """Broadcasts, newest first, with their reach."""
    return service.list_broadcasts(actor=current_principal(), **args)


@blp.route("/broadcasts/preview-segment", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(schemas.SegmentSchema, location="query")
@blp.response(200, schemas.PreviewSchema)
def preview_segment(args):
    """How many members a segment holds now, and the first 20."""
    return service.preview_segment(actor=current_principal(), **args)


@blp.route("/broadcasts/<int:broadcast_id>", methods=["GET"])
@blp.auth(*STAFF)
@blp.response(200, schemas.BroadcastSchema)
@blp.errors(404)
def get_broadcast(broadcast_id):
    """One broadcast with its reach: recipients, delivered, read (in the inbox) and the read
    rate, and its email and push deliveries by status (queued, sending, sent, failed,
    suppressed)."""
    return service.get_broadcast(actor=current_principal(), broadcast_id=broadcast_id)


@blp.route("/broadcasts/<int:broadcast_id>/preview", methods=["POST"])
@blp.auth(*STAFF)
@blp.response(200, schemas.PreviewSchema)
@blp.errors(404)
def preview_broadcast(broadcast_id):
    """Who the broadcast's segment reaches now: the count and the first 20 members."""
    return service.preview_broadcast(actor=current_principal(), broadcast_id=broadcast_id)


@blp.route("/broadcasts/<int:broadcast_id>/send", methods=["POST"])
@blp.auth(*STAFF)
@blp.arguments(schemas.BroadcastSendSchema, required=False)
@blp.response(200, schemas.BroadcastSchema)
@blp.errors(404, 409, 422)
def send_broadcast(data, broadcast_id):
    """Send a draft: it becomes `sending`; in the background the recipients are fixed and
    each gets an inbox message, an email and a push (announcements; newsletters beyond the
    inbox only with consent); then it is `sent`. Sending again is a 409. With `send_at` the
    draft is `scheduled` instead and starts sending then (a scheduled one may be sent now)."""
    return service.send_broadcast(
        actor=current_principal(), broadcast_id=broadcast_id, send_at=(data or {}).get("send_at")
    )


@blp.route("/broadcasts/<int:broadcast_id>/unschedule", methods=["POST"])
@blp.auth(*STAFF)
@blp.response(200, schemas.BroadcastSchema)
@blp.errors(404, 409)
def unschedule_broadcast(broadcast_id):
    """A scheduled broadcast back to draft: it does not go out (409 unless scheduled)."""
    return service.unschedule_broadcast(actor=current_principal(), broadcast_id=broadcast_id)


@blp.route("/broadcasts/<int:broadcast_id>/recipients", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(schemas.RecipientQueryArgsSchema, location="query")
@blp.response(200, schemas.RecipientPageSchema)
@blp.errors(404)
def list_recipients(args, broadcast_id):
    """The recipients by member id, with their inbox read time and each delivery's channel
    and status; ?read=true/false."""
    return service.list_recipients(actor=current_principal(), broadcast_id=broadcast_id, **args)


@blp.route("/me/broadcasts", methods=["GET"])
@blp.auth("member")
@blp.arguments(schemas.ReceivedQueryArgsSchema, location="query")
@blp.response(200, schemas.ReceivedPageSchema)
@blp.errors(404)
def my_broadcasts(args):
    """Announcements and newsletters you received, newest first, with whether you read them
    (here or in the inbox: reading one reads the other)."""
    return service.my_broadcasts(actor=current_principal(), **args)


@blp.route("/me/broadcasts/<int:broadcast_id>/read", methods=["POST"])
@blp.auth("member")
@blp.response(200, schemas.ReceivedSchema)
@blp.errors(404)
def mark_read(broadcast_id):
    """Mark a message you received read; marking it again keeps the first `read_at`."""
    return service.mark_read(actor=current_principal(), broadcast_id=broadcast_id)
