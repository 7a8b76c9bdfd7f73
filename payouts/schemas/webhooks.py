"""API contract of the payment provider's webhook endpoint."""

from __future__ import annotations

import marshmallow as ma


class WebhookReceiptSchema(ma.Schema):
    received = ma.fields.Boolean()
    event_id = ma.fields.String()
    type = ma.fields.String()
    status = ma.fields.String(metadata={"description": "processed, ignored or failed (retried)"})
    duplicate = ma.fields.Boolean(
        metadata={"description": "The event had been received before; nothing changed"}
    )
