"""HTTP for the in-app inbox: every signed-in user reads and marks their own notifications."""

from crowd.core.auth import current_principal
from crowd.core.openapi import CrowdBlueprint
from notifications import inbox, schemas
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
