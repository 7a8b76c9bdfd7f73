"""HTTP for the mobile app's devices (every signed-in user, their own) and the push outbox
(admins)."""

from crowd.core.auth import current_principal
from crowd.core.openapi import CrowdBlueprint
from notifications.push import devices, outbox, schemas

blp = CrowdBlueprint(
    "push", __name__, url_prefix="/api/v1", description="Push: the mobile app's devices"
)


@blp.route("/me/devices", methods=["POST"])
@blp.auth()
@blp.idempotent(secrets=("token",))
@blp.arguments(schemas.PushDeviceCreateSchema)
@blp.response(201, schemas.PushDeviceSchema)
@blp.errors(422)
def register_device(data):
    """Register the app's push token on this device (201 also when the token is known: it is
    updated, active again and yours, even if another user registered it before)."""
    return devices.register_device(actor=current_principal(), **data)


@blp.route("/me/devices", methods=["GET"])
@blp.auth()
@blp.response(200, schemas.PushDeviceListSchema)
def list_devices():
    """Your devices, most recently seen first; retired ones say why (register anew)."""
    return {"items": devices.list_devices(actor=current_principal())}


@blp.route("/me/devices/<int:device_id>", methods=["DELETE"])
@blp.auth()
@blp.response(204)
@blp.errors(404)
def delete_device(device_id):
    """Forget one of your devices (e.g. on signing out of the app): no more pushes to it."""
    devices.delete_device(actor=current_principal(), device_id=device_id)


@blp.route("/push-outbox", methods=["GET"])
@blp.auth("admin")
@blp.arguments(schemas.PushOutboxQueryArgsSchema, location="query")
@blp.response(200, schemas.PushOutboxPageSchema)
def list_push_outbox(args):
    """The pushes the offline provider kept instead of sending (PUSH_PROVIDER=offline),
    newest first; ?user_id= for one user's."""
    return outbox.list_outbox(**args)
