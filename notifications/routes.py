"""HTTP for notifications: the inbox, preferences and consents (each user their own), the
signed unsubscribe and consent links (no sign-in), and the admins' delivery views."""

from flask import request

from crowd.core.auth import current_principal
from crowd.core.openapi import CrowdBlueprint
from crowd.core.pagination import PageArgsSchema
from notifications import admin, inbox, preferences, schemas
from notifications.config import mail_settings
from notifications.push import routes as push_routes

blp = CrowdBlueprint("notifications", __name__, url_prefix="/api/v1", description="In-app inbox")
# The app factory registers these; push has its own (devices, push outbox).
blueprints = (blp, push_routes.blp)


@blp.route("/me/notifications", methods=["GET"])
@blp.auth()
@blp.arguments(schemas.NotificationQueryArgsSchema, location="query")
@blp.response(200, schemas.NotificationPageSchema)
def list_notifications(args):
    """Your notifications, newest first, with the number still unread (`unread_count`)."""
    return inbox.list_notifications(actor=current_principal(), **args)


@blp.route("/me/notifications/<int:notification_id>/read", methods=["POST"])
@blp.auth()
@blp.response(200, schemas.NotificationSchema)
@blp.errors(404)
def mark_read(notification_id):
    """Mark one of your notifications read; marking it again keeps the first `read_at`."""
    return inbox.mark_read(actor=current_principal(), notification_id=notification_id)


@blp.route("/me/notifications/read-all", methods=["POST"])
@blp.auth()
@blp.response(200, schemas.ReadAllResultSchema)
def mark_all_read():
    """Mark all your unread notifications read."""
    return {"marked": inbox.mark_all_read(actor=current_principal())}


# --- preferences ----------------------------------------------------------------------------


@blp.route("/me/notification-preferences", methods=["GET"])
@blp.auth()
@blp.response(200, schemas.PreferencesSchema)
def get_preferences():
    """Your channels per kind of notification, your time zone and quiet hours."""
    return preferences.get_preferences(user_id=current_principal().user_id)


@blp.route("/me/notification-preferences", methods=["PUT"])
@blp.auth()
@blp.arguments(schemas.PreferencesUpdateSchema)
@blp.response(200, schemas.PreferencesSchema)
@blp.errors(422)
def update_preferences(data):
    """Switch channels per kind (`preferences`: [{kind, channel, enabled}]), set `time_zone`
    (IANA) and `quiet_hours` ({start, end} local; null: none). Email and push falling in quiet
    hours wait for their end. A transactional kind keeps at least one channel: switching off
    its last one is a 422 naming the entry."""
    clear = "quiet_hours" in data and data["quiet_hours"] is None
    return preferences.update_preferences(
        user_id=current_principal().user_id,
        preferences=data.get("preferences"),
        time_zone=data.get("time_zone"),
        quiet_hours=data.get("quiet_hours"),
        clear_quiet_hours=clear,
    )


# --- unsubscribe (no sign-in: the link's signed token) --------------------------------------


@blp.route("/unsubscribe/<string:token>", methods=["GET"])
@blp.response(200, schemas.UnsubscribeSchema)
@blp.errors(404)
def unsubscribe_status(token):
    """What this unsubscribe link (from an email) switches off, and whether it did already;
    POST it to unsubscribe. No sign-in: the token is signed."""
    return preferences.unsubscribe_status(token=token)


@blp.route("/unsubscribe/<string:token>", methods=["POST"])
@blp.response(200, schemas.UnsubscribeSchema)
@blp.errors(404)
def unsubscribe(token):
    """One-click unsubscribe (RFC 8058): this kind of email stops for the link's user (a
    newsletter's consent is withdrawn). Again: nothing changes."""
    return preferences.unsubscribe(token=token, ip_address=request.remote_addr)


# --- consents -------------------------------------------------------------------------------


@blp.route("/me/consents", methods=["GET"])
@blp.auth()
@blp.response(200, schemas.ConsentListSchema)
def list_consents():
    """Your consent to each marketing topic (newsletter), with its history."""
    return {"items": preferences.list_consents(user_id=current_principal().user_id)}


@blp.route("/me/consents", methods=["POST"])
@blp.auth()
@blp.idempotent
@blp.arguments(schemas.ConsentRequestSchema)
@blp.response(202, schemas.ConsentSchema)
@blp.errors(422)
def request_consent(data):
    """Ask to receive a topic (`newsletter`): an email with a confirmation link goes to you
    (double opt-in); the consent counts once the link is opened."""
    return preferences.request_consent(
        user_id=current_principal().user_id,
        topic=data["topic"],
        confirm_url_base=mail_settings().base_url,
        ip_address=request.remote_addr,
    )


@blp.route("/me/consents/<string:topic>", methods=["DELETE"])
@blp.auth()
@blp.response(200, schemas.ConsentSchema)
@blp.errors(422)
def withdraw_consent(topic):
    """Withdraw your consent to a topic (kept in its history)."""
    return preferences.withdraw_consent(
        user_id=current_principal().user_id, topic=topic, ip_address=request.remote_addr
    )


@blp.route("/consents/confirm/<string:token>", methods=["GET"])
@blp.response(200, schemas.ConsentSchema)
@blp.errors(404)
def consent_to_confirm(token):
    """The link of the confirmation email: what it confirms, and whether it is confirmed; POST
    it to confirm (a link scanner opening it confirms nothing). No sign-in: signed token."""
    return preferences.consent_to_confirm(token=token)


@blp.route("/consents/confirm/<string:token>", methods=["POST"])
@blp.response(200, schemas.ConsentSchema)
@blp.errors(404)
def confirm_consent(token):
    """Confirm the consent the emailed link asks for (double opt-in; the link is valid 7
    days). Confirming again changes nothing."""
    return preferences.confirm_consent(token=token, ip_address=request.remote_addr)


# --- admin ----------------------------------------------------------------------------------


@blp.route("/admin/deliveries", methods=["GET"])
@blp.auth("admin")
@blp.arguments(schemas.DeliveryQueryArgsSchema, location="query")
@blp.response(200, schemas.DeliveryPageSchema)
def list_deliveries(args):
    """Deliveries beyond the inbox, newest first: filter by status, channel, user_id, kind."""
    return admin.list_deliveries(**args)


@blp.route("/admin/suppressions", methods=["GET"])
@blp.auth("admin")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, schemas.SuppressionPageSchema)
def list_suppressions(args):
    """Addresses no longer sent to (permanent failures), newest first."""
    return admin.list_suppressions(**args)


@blp.route("/admin/suppressions/<int:suppression_id>", methods=["DELETE"])
@blp.auth("admin")
@blp.response(204)
@blp.errors(404)
def lift_suppression(suppression_id):
    """Lift a suppression: later deliveries to the address are sent again."""
    admin.lift_suppression(suppression_id=suppression_id)


@blp.route("/admin/outbox", methods=["GET"])
@blp.auth("admin")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, schemas.OutboxEmailPageSchema)
def list_outbox(args):
    """Emails the offline provider kept (no MAIL_SMTP_HOST), newest first."""
    return admin.list_outbox(**args)


@blp.route("/admin/outbox/<int:email_id>", methods=["GET"])
@blp.auth("admin")
@blp.response(200, schemas.OutboxEmailSchema)
@blp.errors(404)
def outbox_email(email_id):
    """One kept email: headers, plain-text and HTML parts."""
    return admin.outbox_email(email_id=email_id)
