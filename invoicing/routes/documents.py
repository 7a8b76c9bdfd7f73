"""HTTP for documents: your own (customers, members), all of them (staff), their PDF and
e-invoice XML, and the accountant's export (admins)."""

from flask import Response

from crowd.core.auth import STAFF, current_principal
from crowd.core.errors import NotFound
from crowd.core.i18n import _
from crowd.core.openapi import CrowdBlueprint
from crowd.core.pagination import page_of
from invoicing import listing
from invoicing.schemas.documents import (
    DocumentDetailSchema,
    DocumentQueryArgsSchema,
    DocumentSchema,
    ExportQueryArgsSchema,
)

blp = CrowdBlueprint(
    "invoicing_documents",
    __name__,
    url_prefix="/api/v1",
    description="Invoicing: invoices, credit notes and their corrections",
)

PARTIES = ("customer", "member", *STAFF)


def _file(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # An issued document never changes: a client may keep it.
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


@blp.route("/documents", methods=["GET"])
@blp.auth(*PARTIES)
@blp.arguments(DocumentQueryArgsSchema, location="query")
@blp.response(200, page_of(DocumentSchema))
@blp.errors(422)
def list_documents(args):
    """Documents, newest first: a customer's invoices and their corrections; a member's
    self-billing credit notes, the platform's invoices to them and the invoices issued in their
    name; all of them for staff. Filter by kind, number, currency, customer, member, job and
    issue date (`from`, `to`)."""
    return listing.list_documents(current_principal(), args)


@blp.route("/documents/<int:document_id>", methods=["GET"])
@blp.auth(*PARTIES)
@blp.response(200, DocumentDetailSchema)
@blp.errors(404)
def get_document(document_id):
    """A document with the figures it was made from and the documents that correct it."""
    document = listing.get_document(current_principal(), document_id)
    document.corrections = listing.corrections_of(document)
    return document


@blp.route("/documents/<int:document_id>/pdf", methods=["GET"])
@blp.auth(*PARTIES)
@blp.response(
    200,
    {"type": "string", "format": "binary"},
    content_type="application/pdf",
    description="The PDF as issued (with the e-invoice XML embedded where there is one)",
)
@blp.errors(404)
def document_pdf(document_id):
    """The document's PDF, byte for byte as issued."""
    document = listing.get_document(current_principal(), document_id, with_files=True)
    return _file(document.pdf, "application/pdf", f"{document.number}.pdf")


@blp.route("/documents/<int:document_id>/xml", methods=["GET"])
@blp.auth(*PARTIES)
@blp.response(
    200,
    {"type": "string", "format": "binary"},
    content_type="application/xml",
    description="The EN 16931 (Factur-X / ZUGFeRD) XML of an e-invoice",
)
@blp.errors(404)
def document_xml(document_id):
    """An e-invoice's structured XML (the one embedded in its PDF); 404 for a document that
    is not an e-invoice."""
    document = listing.get_document(current_principal(), document_id, with_files=True)
    if document.xml is None:
        raise NotFound(_("This document has no e-invoice XML."))
    return _file(document.xml, "application/xml", f"{document.number}.xml")


@blp.route("/documents/export", methods=["GET"])
@blp.auth("admin")
@blp.arguments(ExportQueryArgsSchema, location="query")
@blp.response(
    200,
    {"type": "string"},
    content_type="text/csv",
    description="Every document issued in the period: CSV, or DATEV-style booking lines",
)
@blp.errors(422)
def export_documents(args):
    """The accountant's export of the documents issued from `from` to `to` (inclusive):
    `format=csv` a line per document with its figures and VAT IDs; `format=datev` DATEV-style
    booking lines (columns of the Buchungsstapel, SKR03 accounts, semicolon-separated)."""
    if args["format"] == "datev":
        body, name = listing.export_datev(args), "datev"
    else:
        body, name = listing.export_csv(args), "documents"
    response = Response(body, mimetype="text/csv")
    filename = f"{name}-{listing.period_name(args)}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
