"""API contract of a chargeback's evidence: the draft built from the job and what a community
manager sends (Stripe's dispute evidence fields, as text)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from crowd.core.i18n import _
from support.chargebacks import EVIDENCE_FIELDS, MAX_TEXT


def _text(description: str = "") -> ma.fields.String:
    return ma.fields.String(
        validate=validate.Length(max=MAX_TEXT), metadata={"description": description}
    )


FIELD_DESCRIPTIONS = {
    "service_date": "When the service was rendered (YYYY-MM-DD)",
    "service_documentation": "The work report, check-in and completion times",
    "customer_communication": "What the parties wrote to each other about the job",
    "uncategorized_text": "Anything else, e.g. the reviews",
}

EvidenceFieldsSchema = ma.Schema.from_dict(
    {name: _text(FIELD_DESCRIPTIONS.get(name, "")) for name in EVIDENCE_FIELDS},
    name="ChargebackEvidenceFieldsSchema",
)


class ChargebackEvidenceSendSchema(ma.Schema):
    """Evidence to send, edited from the draft; `submit: true` hands it to the card issuer
    (once, before the deadline), `false` only saves it at the provider."""

    evidence = ma.fields.Nested(EvidenceFieldsSchema, required=True)
    submit = ma.fields.Boolean(required=True)

    @ma.validates("evidence")
    def _some_evidence(self, value: dict, **_kwargs) -> None:
        if not any(text.strip() for text in value.values()):
            raise ma.ValidationError(_("give at least one evidence field"))


class ChargebackEvidenceSchema(ma.Schema):
    """A chargeback's evidence: the draft, or what was sent."""

    ticket_id = ma.fields.Integer()
    job_id = ma.fields.Integer()
    dispute_id = ma.fields.String()
    dispute_status = ma.fields.String(allow_none=True)
    amount = ma.fields.Integer(allow_none=True, metadata={"description": "Minor units"})
    currency = ma.fields.String()
    evidence_due_at = ma.fields.DateTime(allow_none=True)
    submitted_at = ma.fields.DateTime(allow_none=True)
    evidence = ma.fields.Nested(EvidenceFieldsSchema)
