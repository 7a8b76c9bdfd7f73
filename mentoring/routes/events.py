"""HTTP for the programmes: events, eligible lists, invitations, RSVP and attendance."""

from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from mentoring.events import invitations, rsvp, service
from mentoring.schemas import events as schemas

blp = CrowdBlueprint(
    "mentoring_events", __name__, url_prefix="/api/v1", description="Programmes: events"
)


@blp.route("/events", methods=["POST"])
@blp.auth(*STAFF)
@blp.idempotent
@blp.arguments(schemas.EventCreateSchema)
@blp.response(201, schemas.EventSchema)
def create_event(data):
    """Create a trade fair, meetup or training (a draft): it starts in the future and ends
    after it starts; `capacity` caps the accepted invitations."""
    return service.create_event(actor=current_principal(), **data)


@blp.route("/events", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(schemas.EventQueryArgsSchema, location="query")
@blp.response(200, schemas.EventPageSchema)
def list_events(args):
    """Events, soonest first, with invitation counts by status."""
    return service.list_events(actor=current_principal(), **args)


@blp.route("/events/<int:event_id>", methods=["GET"])
@blp.auth(*STAFF)
@blp.response(200, schemas.EventSchema)
@blp.errors(404)
def get_event(event_id):
    """One event with its invitation counts by status."""
    return service.get_event(actor=current_principal(), event_id=event_id)


@blp.route("/events/<int:event_id>", methods=["PATCH"])
@blp.auth(*STAFF)
@blp.arguments(schemas.EventUpdateSchema)
@blp.response(200, schemas.EventSchema)
@blp.errors(404, 409)
def update_event(data, event_id):
    """Edit a draft or published event (done or cancelled: 409 with `state`). The capacity
    cannot drop below the invitations accepted already (422)."""
    return service.update_event(actor=current_principal(), event_id=event_id, **data)


@blp.route("/events/<int:event_id>/publish", methods=["POST"])
@blp.auth(*STAFF)
@blp.response(200, schemas.EventSchema)
@blp.errors(404, 409)
def publish_event(event_id):
    """Publish a draft event; invitations can go out from then on."""
    return service.publish_event(actor=current_principal(), event_id=event_id)


@blp.route("/events/<int:event_id>/cancel", methods=["POST"])
@blp.auth(*STAFF)
@blp.response(200, schemas.EventSchema)
@blp.errors(404, 409)
def cancel_event(event_id):
    """Cancel a draft or published event; invitees who were invited or accepted are told."""
    return service.cancel_event(actor=current_principal(), event_id=event_id)


@blp.route("/events/<int:event_id>/eligible", methods=["POST"])
@blp.auth(*STAFF)
@blp.arguments(schemas.EligibleCreateSchema)
@blp.response(200, schemas.EligibleResultSchema)
@blp.errors(404, 409)
def list_eligible(data, event_id):
    """List every eligible member not listed yet as `eligible`: active members with a valid
    top-performer badge or an opted-in mentor profile (optionally living in `countries`)."""
    return invitations.list_eligible(actor=current_principal(), event_id=event_id, **data)


@blp.route("/events/<int:event_id>/invitations", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(schemas.InvitationQueryArgsSchema, location="query")
@blp.response(200, schemas.InvitationPageSchema)
@blp.errors(404)
def list_invitations(args, event_id):
    """The event's invitations in the order they were listed; ?status= for one status."""
    return invitations.list_invitations(actor=current_principal(), event_id=event_id, **args)


@blp.route("/events/<int:event_id>/invitations", methods=["POST"])
@blp.auth(*STAFF)
@blp.arguments(schemas.InviteSchema)
@blp.response(200, schemas.InviteResultSchema)
@blp.errors(404, 409)
def invite(data, event_id):
    """Invite members to a published event (eligible → invited); each gets an inbox message
    on how to answer. Members who are not eligible are a 422 naming them (`member_ids`);
    members invited already stay unchanged."""
    return invitations.invite(actor=current_principal(), event_id=event_id, **data)


@blp.route("/events/<int:event_id>/attendance", methods=["POST"])
@blp.auth(*STAFF)
@blp.arguments(schemas.AttendanceSchema)
@blp.response(200, schemas.AttendanceResultSchema)
@blp.errors(404, 409)
def mark_attendance(data, event_id):
    """After the event started: accepted invitations → attended or no_show (a mark may be
    corrected). Members without an accepted invitation are a 409 naming them."""
    return invitations.mark_attendance(actor=current_principal(), event_id=event_id, **data)


@blp.route("/me/invitations", methods=["GET"])
@blp.auth("member")
@blp.response(200, schemas.MyInvitationListSchema)
@blp.errors(404)
def my_invitations():
    """Your event invitations: upcoming events soonest first, then the latest past ones."""
    return rsvp.my_invitations(actor=current_principal())


@blp.route("/me/invitations/<int:invitation_id>/rsvp", methods=["POST"])
@blp.auth("member")
@blp.arguments(schemas.RsvpSchema)
@blp.response(200, schemas.MyInvitationSchema)
@blp.errors(404, 409)
def answer_invitation(data, invitation_id):
    """Accept or decline an invitation; you may change your answer until the event starts.
    A full event is a 409 with state `full`; a started or cancelled one a 409 too."""
    return rsvp.rsvp(actor=current_principal(), invitation_id=invitation_id, **data)
