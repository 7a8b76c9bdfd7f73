"""Rendering a document: the PDF every document gets and, for a German business customer's,
the structured e-invoice (EN 16931 CII XML embedded in the PDF/A-3: ZUGFeRD / Factur-X).

Pure: no database, no network (the font ships in `fonts/`, the schemas with drafthorse, the
colour profile with fpdf2). The issuing service calls `render(doc)` and stores what it returns.
"""

from __future__ import annotations

from invoicing.document import DocumentData
from invoicing.render.einvoice import (
    EInvoiceError,
    attach_einvoice,
    embedded_xml,
    render_einvoice_xml,
    validate_xml,
)
from invoicing.render.formatting import RenderError
from invoicing.render.pdf import render_pdf

__all__ = [
    "EInvoiceError",
    "RenderError",
    "attach_einvoice",
    "embedded_xml",
    "render",
    "render_einvoice_xml",
    "render_pdf",
    "validate_xml",
]


def render(doc: DocumentData) -> tuple[bytes, bytes | None]:
    """(pdf, xml): the PDF, with the e-invoice XML embedded when `doc.e_invoice`, and that XML
    (None for a document without e-invoice). Raises RenderError / EInvoiceError (a ValueError)
    when the document cannot be rendered as it is."""
    if not doc.e_invoice:
        return render_pdf(doc), None
    xml = render_einvoice_xml(doc)  # checked first: a broken e-invoice makes no PDF either
    return attach_einvoice(render_pdf(doc), xml), xml
