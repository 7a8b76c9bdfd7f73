"""HTTP for the payment provider's webhooks (no bearer token: the signature is the proof)."""

from flask import request

from crowd.core.openapi import CrowdBlueprint
from payouts import webhooks
from payouts.schemas.webhooks import WebhookReceiptSchema

blp = CrowdBlueprint(
    "payouts_webhooks", __name__, url_prefix="/api/v1", description="Money: provider webhooks"
)


# The body is read raw (the signature covers its exact bytes), so it is documented, not parsed.
_STRIPE_DELIVERY = {
    "parameters": [
        {
            "in": "header",
            "name": webhooks.SIGNATURE_HEADER,
            "required": True,
            "schema": {"type": "string"},
            "description": "t=<unix time>,v1=<hex HMAC-SHA256 of '<t>.<raw body>'>",
        }
    ],
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object", "description": "A Stripe Event object"}
            }
        },
    },
}


@blp.route("/webhooks/stripe", methods=["POST"])
@blp.doc(**_STRIPE_DELIVERY)
@blp.response(200, WebhookReceiptSchema)
@blp.errors(400, 422, 503)
def receive_stripe_webhook():
    """Stripe's events, signed in the Stripe-Signature header over the raw body (300 s
    tolerance). A repeated event id is acknowledged and changes nothing; without
    STRIPE_WEBHOOK_SECRET configured the endpoint answers 503."""
    event, duplicate = webhooks.receive_stripe_event(
        payload=request.get_data(), signature=request.headers.get(webhooks.SIGNATURE_HEADER)
    )
    return {
        "received": True,
        "event_id": event.event_id,
        "type": event.type,
        "status": event.status,
        "duplicate": duplicate,
    }
