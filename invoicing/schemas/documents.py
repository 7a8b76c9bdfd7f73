"""API contract for documents: invoices, self-billing credit notes, fee invoices, corrections."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from crowd.core.pagination import PageArgsSchema
from invoicing.document import KINDS, SCHEMES

CURRENCIES = ("EUR", "CHF")
EXPORT_FORMATS = ("csv", "datev")


class DocumentQueryArgsSchema(PageArgsSchema):
    kind = ma.fields.String(validate=validate.OneOf(KINDS), load_default=None)
    number = ma.fields.String(validate=validate.Length(min=1, max=60), load_default=None)
    currency = ma.fields.String(validate=validate.OneOf(CURRENCIES), load_default=None)
    customer_id = ma.fields.Integer(
        validate=validate.Range(min=1, max=2**63 - 1), load_default=None
    )
    member_id = ma.fields.Integer(validate=validate.Range(min=1, max=2**63 - 1), load_default=None)
    job_id = ma.fields.Integer(validate=validate.Range(min=1, max=2**63 - 1), load_default=None)
    issued_from = ma.fields.Date(
        data_key="from", load_default=None, metadata={"description": "Issued on or after"}
    )
    issued_to = ma.fields.Date(
        data_key="to", load_default=None, metadata={"description": "Issued on or before"}
    )


class ExportQueryArgsSchema(ma.Schema):
    issued_from = ma.fields.Date(
        data_key="from", required=True, metadata={"description": "First issue date"}
    )
    issued_to = ma.fields.Date(
        data_key="to", required=True, metadata={"description": "Last issue date, inclusive"}
    )
    format = ma.fields.String(
        validate=validate.OneOf(EXPORT_FORMATS),
        load_default="csv",
        metadata={
            "description": "csv: a line per document with its figures; datev: DATEV-style "
            "booking lines (Buchungsstapel columns, SKR03 accounts, semicolons, decimal commas)"
        },
    )
    kind = ma.fields.String(validate=validate.OneOf(KINDS), load_default=None)
    currency = ma.fields.String(validate=validate.OneOf(CURRENCIES), load_default=None)


class DocumentSchema(ma.Schema):
    id = ma.fields.Integer()
    number = ma.fields.String()
    kind = ma.fields.String(validate=validate.OneOf(KINDS))
    recipient_type = ma.fields.String()
    customer_id = ma.fields.Integer(allow_none=True)
    member_id = ma.fields.Integer(allow_none=True)
    organisation_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "the provider company on the crowd's side"}
    )
    job_id = ma.fields.Integer(allow_none=True)
    corrects_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "The document this one corrects"}
    )
    on_behalf_of_member = ma.fields.Boolean(
        metadata={"description": "Issued by the platform in the member's name (agent model)"}
    )
    language = ma.fields.String()
    currency = ma.fields.String()
    scheme = ma.fields.String(validate=validate.OneOf(SCHEMES))
    net_total = ma.fields.Integer(metadata={"description": "Minor units"})
    vat_total = ma.fields.Integer(metadata={"description": "Minor units"})
    gross_total = ma.fields.Integer(metadata={"description": "Minor units"})
    issue_date = ma.fields.Date()
    service_date = ma.fields.Date()
    e_invoice = ma.fields.Method(
        "_e_invoice",
        metadata={"description": "An EN 16931 XML is embedded in the PDF (ZUGFeRD)"},
    )
    pdf_sha256 = ma.fields.String()
    created_at = ma.fields.DateTime()

    def _e_invoice(self, document) -> bool:
        return bool(document.data.get("e_invoice"))


class DocumentDetailSchema(DocumentSchema):
    data = ma.fields.Dict(
        metadata={"description": "The figures the document was made from, as issued"}
    )
    corrections = ma.fields.List(
        ma.fields.Nested(DocumentSchema), metadata={"description": "Documents correcting it"}
    )
