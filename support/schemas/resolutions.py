"""API contract for resolutions: proposing, answering, and how a proposal reads."""

import marshmallow as ma
from marshmallow import validate

from crowd.core.fields import Amount, within_documented_length
from support.models import RESOLUTION_KINDS

MAX_HOURS = 24 * 30
# Which amount field each kind takes; any other amount field is refused (422 naming it).
AMOUNTS = {
    "full_refund": (),
    "partial_refund": ("refund_amount",),
    "split": ("customer_share_percent",),
    "release": (),
    "goodwill": ("goodwill_amount",),
}


class ResolutionCreateSchema(ma.Schema):
    """How a community manager proposes to settle the ticket's job."""

    kind = ma.fields.String(
        required=True,
        validate=validate.OneOf(RESOLUTION_KINDS),
        metadata={
            "description": "full_refund: all that is left of the price back, the member earns "
            "nothing; partial_refund: refund_amount back, the member keeps the rest of their "
            "earning in proportion; split: price × customer_share_percent / 100 (half up) "
            "back, likewise; release: the member is paid in full; goodwill: the member is "
            "paid in full and the platform pays the customer goodwill_amount."
        },
    )
    refund_amount = Amount(
        minimum=1,
        metadata={"description": "partial_refund only: minor units of the job's currency"},
    )
    customer_share_percent = ma.fields.Integer(
        strict=True,
        validate=validate.Range(1, 99),
        metadata={"description": "split only: the customer's share of the price in percent"},
    )
    goodwill_amount = Amount(
        minimum=1,
        metadata={"description": "goodwill only: minor units the platform pays the customer"},
    )
    member_at_fault = ma.fields.Boolean(
        required=True,
        metadata={"description": "The member loses the dispute (counts towards their level)"},
    )
    note = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "Why: shown to both parties"},
    )
    respond_within_hours = ma.fields.Integer(
        strict=True,
        validate=validate.Range(1, MAX_HOURS),
        load_default=None,
        metadata={
            "description": "Unanswered this long, the proposal applies (default: "
            "SUPPORT_PROPOSAL_RESPONSE_HOURS, 72)"
        },
    )

    @ma.pre_load
    def strip_note(self, data, **kwargs):
        note = data.get("note") if isinstance(data, dict) else None
        # Longer than documented as sent: left alone, so the maximum refuses it.
        if isinstance(note, str) and within_documented_length(self.fields["note"], note):
            data = {**data, "note": note.strip()}
        return data

    @ma.validates_schema
    def amounts_fit_kind(self, data, **kwargs):
        kind = data.get("kind")
        if kind not in AMOUNTS:
            return
        errors = {}
        for field in ("refund_amount", "customer_share_percent", "goodwill_amount"):
            if field in AMOUNTS[kind] and data.get(field) is None:
                errors[field] = [f"required for {kind}"]
            elif field not in AMOUNTS[kind] and field in data:
                errors[field] = [f"not used by {kind}"]
        if errors:
            raise ma.ValidationError(errors)


class ResolutionAnswerSchema(ma.Schema):
    answer = ma.fields.String(required=True, validate=validate.OneOf(("accept", "reject")))


class ResolutionSchema(ma.Schema):
    """A proposal and what became of it."""

    id = ma.fields.Integer()
    ticket_id = ma.fields.Integer()
    job_id = ma.fields.Integer(allow_none=True)
    kind = ma.fields.String()
    status = ma.fields.String(metadata={"description": "proposed, rejected, withdrawn or applied"})
    refund_amount = Amount(
        metadata={"description": "Back to the customer out of the job's payment (minor units)"}
    )
    goodwill_amount = Amount(
        metadata={"description": "Paid to the customer by the platform (minor units)"}
    )
    currency = ma.fields.String(allow_none=True)
    member_at_fault = ma.fields.Boolean()
    note = ma.fields.String(allow_none=True)
    proposed_by_id = ma.fields.Integer()
    proposed_at = ma.fields.DateTime()
    respond_by = ma.fields.DateTime(
        metadata={"description": "Not rejected by then, the proposal applies"}
    )
    customer_answer = ma.fields.String(allow_none=True)
    customer_answered_at = ma.fields.DateTime(allow_none=True)
    member_answer = ma.fields.String(allow_none=True)
    member_answered_at = ma.fields.DateTime(allow_none=True)
    applied_at = ma.fields.DateTime(allow_none=True)
    applied_by = ma.fields.String(
        allow_none=True,
        metadata={"description": "parties (both accepted), deadline (default outcome), staff"},
    )
    refund_id = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "The job refund carrying the money back (see the payment)"},
    )
