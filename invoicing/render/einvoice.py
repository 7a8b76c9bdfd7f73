"""The structured e-invoice: EN 16931 CII XML (Factur-X 1.0 / ZUGFeRD 2 profile EN 16931,
"COMFORT") built with drafthorse, checked against the Factur-X XSD it ships, and embedded in
the PDF/A-3 as `factur-x.xml` (the hybrid invoice a German business customer can book as an
E-Rechnung under § 14 UStG).

drafthorse (pretix) models the CII data 1:1 and validates every serialisation against the
official Factur-X schema; the embedding is done here with pypdf (drafthorse's `attach_xml`
stamps the time of rendering into the file, and our documents must re-render to the same bytes).

Before building, the rules of EN 16931 that our data can break are checked (BR-AE-02, BR-E-02,
BR-S-02, BR-CO-26, BR-CO-15, BR-S-08 …) so a document that no receiver would accept fails with
an EInvoiceError that names the field, instead of producing a broken file.
"""

from __future__ import annotations

import hashlib
from datetime import UTC
from decimal import Decimal
from functools import cache
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

import drafthorse
from drafthorse.models.accounting import ApplicableTradeTax
from drafthorse.models.document import Document
from drafthorse.models.note import IncludedNote
from drafthorse.models.party import TaxRegistration
from drafthorse.models.payment import PaymentTerms
from drafthorse.models.tradelines import LineItem
from drafthorse.xmp_schema import XMP_SCHEMA
from lxml import etree
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DecodedStreamObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from invoicing.document import DocumentData, Line, Party
from invoicing.render import formatting as fmt

SCHEMA = "FACTUR-X_EN16931"
# The official Factur-X 1.0.07 EN 16931 XSD, as drafthorse ships it.
XSD = Path(drafthorse.__file__).resolve().parent / "schema" / "Factur-X_1.0.07_EN16931.xsd"
GUIDELINE = "urn:cen.eu:en16931:2017"  # BT-24: Factur-X / ZUGFeRD profile EN 16931
PROFILE = "EN 16931"  # the XMP fx:ConformanceLevel
FILENAME = "factur-x.xml"
UNIT = "C62"  # UN/ECE rec. 20 "one": a service counted in pieces
CENT = Decimal("0.01")

# VAT category (UNCL 5305) by scheme, and the exemption reason where no VAT is charged.
CATEGORIES = {"standard": "S", "small_business": "E", "reverse_charge": "AE"}
EXEMPTION_CODES = {"reverse_charge": "VATEX-EU-AE"}
REVERSE_CHARGE_REASON = "Reverse charge"


class EInvoiceError(fmt.RenderError):
    """The document cannot be an EN 16931 e-invoice as it is (the rule and field named)."""


def amount(minor: int) -> Decimal:
    """Minor units as a Decimal with two places (the XML's amounts)."""
    return (Decimal(minor) / 100).quantize(CENT)


def type_code(doc: DocumentData) -> tuple[str, int]:
    """The document type code (UNTDID 1001) and the sign its amounts are written with.

    380 commercial invoice, 389 self-billed invoice (the Gutschrift). A correction that takes
    money back is a credit note — 381, or 261 for a self-billed one — whose amounts EN 16931
    writes as positive figures, so its (negative) amounts are turned; one that adds money is a
    corrected invoice (384) or another self-billed invoice (389).
    """
    if doc.kind in ("invoice", "fee_invoice"):
        return "380", 1
    if doc.kind == "self_billing_credit":
        return "389", 1
    self_billed = fmt.is_self_billing(doc)
    if doc.gross_total < 0 or (doc.gross_total == 0 and doc.net_total < 0):
        return ("261" if self_billed else "381"), -1
    return ("389" if self_billed else "384"), 1


def check(doc: DocumentData) -> None:
    """The EN 16931 rules our data can break; raises EInvoiceError naming rule and field."""
    fmt.check(doc)
    supplier, recipient = doc.supplier, doc.recipient
    if not (supplier.vat_id or supplier.tax_number):
        raise EInvoiceError(
            "supplier.vat_id: the supplier needs a VAT ID or a tax number "
            "(EN 16931 BR-CO-26, BR-S-02, BR-E-02; § 14 Abs. 4 Nr. 2 UStG)"
        )
    if doc.scheme == "reverse_charge":
        if not supplier.vat_id:
            raise EInvoiceError(
                "supplier.vat_id: reverse charge needs the supplier's VAT ID (EN 16931 BR-AE-02)"
            )
        if not recipient.vat_id:
            raise EInvoiceError(
                "recipient.vat_id: reverse charge needs the recipient's VAT ID (EN 16931 BR-AE-02)"
            )
    if doc.scheme != "standard" and any(line.vat for line in doc.lines):
        raise EInvoiceError(
            f"lines: a {doc.scheme} document charges no VAT (EN 16931 BR-E-09, BR-AE-09)"
        )
    per_rate: dict[int, int] = {}
    for line in doc.lines:
        per_rate[line.vat_rate_bp] = per_rate.get(line.vat_rate_bp, 0) + line.net
    if doc.scheme == "standard":
        stated = {rate_bp: net for rate_bp, net, _ in fmt.breakdown(doc)}
        if stated != per_rate:
            raise EInvoiceError(
                "breakdown: the net per rate differs from the lines' (EN 16931 BR-S-08)"
            )
        if sum(vat for _, _, vat in fmt.breakdown(doc)) != doc.vat_total:
            raise EInvoiceError(
                "breakdown: the VAT per rate does not add up to the lines' (EN 16931 BR-CO-14)"
            )


def _party(target, party: Party, *, seller: bool) -> None:
    target.name = party.name
    if seller and not party.vat_id:
        # BR-CO-26: a seller without VAT ID is identified by its tax number (BT-29).
        target.id = party.tax_number
    target.address.line_one = party.street
    target.address.postcode = party.postcode
    target.address.city_name = party.city
    target.address.country_id = party.country
    if party.email:
        target.electronic_address.uri_ID = ("EM", party.email)
    if party.vat_id:
        target.tax_registrations.add(TaxRegistration(id=("VA", party.vat_id)))
    if seller and party.tax_number:
        target.tax_registrations.add(TaxRegistration(id=("FC", party.tax_number)))


def _tax(target, doc: DocumentData, rate_bp: int) -> None:
    target.type_code = "VAT"
    target.category_code = CATEGORIES[doc.scheme]
    target.rate_applicable_percent = (
        (Decimal(rate_bp) / 100).quantize(CENT) if doc.scheme == "standard" else Decimal("0.00")
    )


def _exemption(target, doc: DocumentData, notes: dict[str, str]) -> None:
    """BR-E-10, BR-AE-10: why no VAT is charged, as text (and code for reverse charge)."""
    if doc.scheme == "small_business":
        small = [notes[key] for key in doc.notes if key.startswith("small_business")]
        target.exemption_reason = small[0] if small else "Kleinunternehmer"
    elif doc.scheme == "reverse_charge":
        target.exemption_reason = REVERSE_CHARGE_REASON
        target.exemption_reason_code = EXEMPTION_CODES["reverse_charge"]


def _line(doc: DocumentData, index: int, line: Line, sign: int, dated: bool) -> LineItem:
    item = LineItem()
    item.document.line_id = str(index)
    item.product.name = line.description
    net = sign * line.net
    # BR-27: the price is never negative; a negative line is a negative quantity.
    price = (Decimal(abs(net)) / 100 / line.quantity).quantize(Decimal("0.0001"))
    quantity = Decimal(line.quantity if net >= 0 else -line.quantity)
    item.agreement.net.amount = price.quantize(CENT) if price == price.quantize(CENT) else price
    item.delivery.billed_quantity = (quantity.quantize(Decimal("0.0001")), UNIT)
    _tax(item.settlement.trade_tax, doc, line.vat_rate_bp)
    if dated:
        item.settlement.period.start = line.service_date
        item.settlement.period.end = line.service_date
    item.settlement.monetary_summation.total_amount = amount(net)
    return item


def _build(doc: DocumentData) -> Document:
    code, sign = type_code(doc)
    invoice = Document()
    invoice.context.guideline_parameter.id = GUIDELINE
    invoice.header.id = doc.number
    invoice.header.type_code = code
    invoice.header.issue_date_time = doc.issue_date
    texts = fmt.notes(doc)
    note_texts = dict(zip(doc.notes, texts, strict=False))
    issued_by = fmt.issued_by(doc)
    for text in ([issued_by] if issued_by else []) + texts:
        note = IncludedNote()
        note.content = text
        note.subject_code = "REG"  # UNTDID 4451: regulatory information
        invoice.header.notes.add(note)

    trade = invoice.trade
    if doc.buyer_reference:
        trade.agreement.buyer_reference = doc.buyer_reference
    _party(trade.agreement.seller, doc.supplier, seller=True)
    _party(trade.agreement.buyer, doc.recipient, seller=False)

    first, last = fmt.service_dates(doc)
    if first == last:
        trade.delivery.event.occurrence = first  # BT-72: the day of service
    else:
        trade.settlement.period.start = first  # BG-14: the service period
        trade.settlement.period.end = last
    dated_lines = first != last and not doc.service_period
    for index, line in enumerate(doc.lines, start=1):
        trade.items.add(_line(doc, index, line, sign, dated_lines))

    settlement = trade.settlement
    settlement.currency_code = doc.currency
    for rate_bp, net, vat in _tax_groups(doc):
        tax = ApplicableTradeTax()
        _tax(tax, doc, rate_bp)
        tax.basis_amount = amount(sign * net)
        tax.calculated_amount = amount(sign * vat)
        _exemption(tax, doc, note_texts)
        settlement.trade_tax.add(tax)

    terms = PaymentTerms()
    terms.description = fmt.payment(doc)
    if doc.payment == "due" and doc.due_date:
        terms.due = doc.due_date
    settlement.terms.add(terms)

    gross = amount(sign * doc.gross_total)
    totals = settlement.monetary_summation
    totals.line_total = amount(sign * doc.net_total)
    totals.tax_basis_total = amount(sign * doc.net_total)
    totals.tax_total = (amount(sign * doc.vat_total), doc.currency)
    totals.grand_total = gross
    # Paid by card or refunded to it: nothing is due (BR-CO-16: due = grand total - paid).
    paid = gross if doc.payment in ("paid", "refunded") else Decimal("0.00")
    totals.prepaid_total = paid
    totals.due_amount = gross - paid

    if doc.corrects_number:
        settlement.invoice_referenced_document.issuer_assigned_id = doc.corrects_number
        settlement.invoice_referenced_document.issue_date_time = doc.corrects_issue_date
    return invoice


def _tax_groups(doc: DocumentData) -> list[tuple[int, int, int]]:
    """(rate_bp, net, vat) per VAT breakdown (BG-23): per rate, or one for E / AE."""
    if doc.scheme == "standard":
        return fmt.breakdown(doc)
    return [(0, doc.net_total, 0)]


def render_einvoice_xml(doc: DocumentData) -> bytes:
    """The EN 16931 CII XML of the document, valid against the Factur-X EN 16931 schema."""
    check(doc)
    try:
        return _build(doc).serialize(schema=SCHEMA)
    except etree.XMLSyntaxError as error:
        raise EInvoiceError(f"the XML does not match the {SCHEMA} schema: {error}") from error


def validate_xml(xml: bytes) -> None:
    """Raises EInvoiceError when `xml` does not match the Factur-X EN 16931 schema."""
    try:
        etree.fromstring(xml, etree.XMLParser(schema=_schema()))
    except etree.XMLSyntaxError as error:
        raise EInvoiceError(f"the XML does not match the {SCHEMA} schema: {error}") from error


@cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(file=str(XSD))


def embedded_xml(pdf: bytes) -> bytes | None:
    """The factur-x.xml embedded in a PDF, None when there is none."""
    found = PdfReader(BytesIO(pdf)).attachments.get(FILENAME)
    return found[0] if found else None


def attach_einvoice(pdf: bytes, xml: bytes) -> bytes:
    """The PDF/A-3 with `xml` embedded as factur-x.xml (the ZUGFeRD / Factur-X hybrid).

    The file's dates are its own creation date (the issue date, see pdf.py): the same input
    gives the same bytes.
    """
    reader = PdfReader(BytesIO(pdf))
    writer = PdfWriter(clone_from=reader)
    writer.pdf_header = reader.pdf_header  # PDF 1.7 as fpdf2 wrote it (pypdf would say 1.3)
    # fpdf2 writes PDF/A metadata as XMP only (no /Info dictionary): the facts come from there.
    xmp_in = reader.xmp_metadata
    if xmp_in is None or xmp_in.xmp_create_date is None:
        raise EInvoiceError("pdf: the PDF has no XMP metadata with a creation date (not PDF/A)")
    created = xmp_in.xmp_create_date.replace(tzinfo=UTC)
    title = (xmp_in.dc_title or {}).get("x-default", "")
    author = ", ".join(xmp_in.dc_creator or [])

    embedded = writer.add_attachment(FILENAME, xml)
    embedded.subtype = NameObject("/text/xml")  # the MIME type as a PDF name (written /text#2Fxml)
    embedded.description = TextStringObject("Factur-X / ZUGFeRD invoice (EN 16931)")
    embedded.associated_file_relationship = NameObject("/Alternative")
    embedded.size = NumberObject(len(xml))
    embedded.modification_date = created
    embedded.pdf_object[NameObject("/UF")] = TextStringObject(FILENAME)
    ef = embedded.pdf_object["/EF"]
    ef[NameObject("/UF")] = ef["/F"]
    root = writer._root_object
    files = ArrayObject([embedded.pdf_object.indirect_reference])
    root[NameObject("/AF")] = writer._add_object(files)  # PDF/A-3: the associated file

    xmp = XMP_SCHEMA.format(
        title=escape(title),
        author=escape(author),
        subject=escape(title),
        producer=escape(xmp_in.pdf_producer or ""),
        creator_tool=escape(xmp_in.xmp_creator_tool or ""),
        timestamp=created.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        urn="urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
        documenttype="INVOICE",
        xml_filename=FILENAME,
        version="1.0",
        xmp_level=PROFILE,
    ).strip()
    metadata = DecodedStreamObject()
    metadata.set_data(xmp.encode("utf-8"))
    metadata.update({NameObject("/Type"): NameObject("/Metadata")})
    metadata.update({NameObject("/Subtype"): NameObject("/XML")})
    root[NameObject("/Metadata")] = writer._add_object(metadata)

    # The second file ID changes with the content (PDF 14.4); derived, not random.
    if writer._ID:
        changed = hashlib.md5(bytes(writer._ID[0]) + xml, usedforsecurity=False).digest()
        writer._ID = ArrayObject([writer._ID[0], ByteStringObject(changed)])
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
