"""The document as a PDF/A-3b file, made with fpdf2 (pure Python, embeds the TrueType font
shipped beside this module, so every glyph is in the file and nothing is fetched).

PDF/A-3 because it is the archive format (GoBD: kept ten years, readable as issued) and the
one a ZUGFeRD / Factur-X invoice must be: `einvoice.attach_einvoice` adds the XML to this file.
The output is deterministic: the creation date is the issue date, the file ID a hash of the
content, so rendering the same DocumentData again gives the same bytes.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from xml.sax.saxutils import escape

from fpdf import FPDF, FontFace, XPos, YPos
from fpdf import __version__ as fpdf_version

from invoicing.document import DocumentData, Party
from invoicing.render import formatting as fmt

FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVu"
CREATOR = "Crowd"
PRODUCER = f"fpdf2 {fpdf_version}"

# The PDF/A identification and Dublin Core metadata; fpdf2's own XMP would stamp the time of
# rendering (ModifyDate), so the document's is written here with the issue date only.
XMP = """<x:xmpmeta xmlns:x="adobe:ns:meta/">
  <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
    <rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
      <pdfaid:part>3</pdfaid:part>
      <pdfaid:conformance>B</pdfaid:conformance>
    </rdf:Description>
    <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
      <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>
      <dc:creator><rdf:Seq><rdf:li>{author}</rdf:li></rdf:Seq></dc:creator>
      <dc:language><rdf:Bag><rdf:li>{language}</rdf:li></rdf:Bag></dc:language>
    </rdf:Description>
    <rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
      <pdf:Producer>{producer}</pdf:Producer>
    </rdf:Description>
    <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
      <xmp:CreatorTool>{creator}</xmp:CreatorTool>
      <xmp:CreateDate>{date}</xmp:CreateDate>
      <xmp:ModifyDate>{date}</xmp:ModifyDate>
      <xmp:MetadataDate>{date}</xmp:MetadataDate>
    </rdf:Description>
  </rdf:RDF>
</x:xmpmeta>"""


def issue_datetime(doc: DocumentData) -> datetime:
    """The document's timestamp in the file: midnight UTC of the issue date (no clock)."""
    return datetime.combine(doc.issue_date, time(), tzinfo=UTC)


class _Page(FPDF):
    """A4 with the document's footer: supplier, number, page x of y."""

    def __init__(self, doc: DocumentData):
        super().__init__(format="A4", enforce_compliance="PDF/A-3B")
        self.doc = doc

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(FONT, size=7)
        self.set_text_color(90)
        page = fmt.label(self.doc, "page", page=self.page_no(), pages="{nb}")
        self.cell(
            0, 4, f"{self.doc.supplier.name} · {fmt.title(self.doc)} {self.doc.number} · {page}"
        )


def render_pdf(doc: DocumentData) -> bytes:
    """The document as PDF/A-3b bytes, in the recipient's language."""
    fmt.check(doc)
    pdf = _Page(doc)
    pdf.add_font(FONT, "", FONTS / "DejaVuSans-LGC.ttf")
    pdf.add_font(FONT, "B", FONTS / "DejaVuSans-LGC-Bold.ttf")
    _metadata(pdf, doc)
    pdf.set_margins(20, 15, 20)
    pdf.set_auto_page_break(True, margin=22)
    pdf.add_page()
    _parties(pdf, doc)
    _heading(pdf, doc)
    _lines(pdf, doc)
    _totals(pdf, doc)
    _closing(pdf, doc)
    return bytes(pdf.output())


def _metadata(pdf: FPDF, doc: DocumentData) -> None:
    title = f"{fmt.title(doc)} {doc.number}"
    created = issue_datetime(doc)
    pdf.set_creation_date(created)
    pdf.set_title(title)
    pdf.set_author(doc.supplier.name)
    pdf.set_creator(CREATOR)
    pdf.set_producer(PRODUCER)
    pdf.set_lang(doc.language)
    pdf.set_xmp_metadata(
        XMP.format(
            title=escape(title),
            author=escape(doc.supplier.name),
            language=doc.language,
            producer=PRODUCER,
            creator=CREATOR,
            date=created.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        )
    )


def _party_ids(doc: DocumentData, party: Party) -> list[str]:
    ids = []
    if party.vat_id:
        ids.append(f"{fmt.label(doc, 'vat_id')}: {party.vat_id}")
    if party.tax_number:
        ids.append(f"{fmt.label(doc, 'tax_number')}: {party.tax_number}")
    return ids


def _block(pdf: FPDF, x: float, y: float, width: float, caption: str, lines: list[str]) -> float:
    """A captioned block of lines at (x, y); returns the y below it."""
    pdf.set_xy(x, y)
    pdf.set_font(FONT, size=7)
    pdf.set_text_color(90)
    pdf.multi_cell(width, 3.5, caption, new_x=XPos.LEFT, new_y=YPos.NEXT, align="L")
    pdf.set_text_color(0)
    pdf.set_font(FONT, "B", 9)
    pdf.multi_cell(width, 4.5, lines[0], new_x=XPos.LEFT, new_y=YPos.NEXT, align="L")
    pdf.set_font(FONT, size=9)
    for text in lines[1:]:
        pdf.multi_cell(width, 4.5, text, new_x=XPos.LEFT, new_y=YPos.NEXT, align="L")
    return pdf.get_y()


def _parties(pdf: FPDF, doc: DocumentData) -> None:
    """Supplier (left, top), who issued it (right), recipient (left, below)."""
    supplier = fmt.address_lines(doc.supplier) + _party_ids(doc, doc.supplier)
    if doc.supplier.email:
        supplier.append(doc.supplier.email)
    bottom = _block(pdf, 20, 15, 95, fmt.label(doc, "supplier"), supplier)
    issued_by = fmt.issued_by(doc)
    if issued_by:
        issuer = doc.issued_by
        lines = [issuer.name, issuer.street, f"{issuer.postcode} {issuer.city}, {issuer.country}"]
        lines += _party_ids(doc, issuer)
        right = _block(pdf, 120, 15, 70, issued_by, lines)
        bottom = max(bottom, right)
    recipient = fmt.address_lines(doc.recipient) + _party_ids(doc, doc.recipient)
    _block(pdf, 20, bottom + 8, 95, fmt.label(doc, "recipient"), recipient)
    # The document's facts beside the recipient.
    facts = [(fmt.label(doc, "number"), doc.number)]
    facts.append((fmt.label(doc, "issue_date"), fmt.day(doc.issue_date, doc.language)))
    first, last = fmt.service_dates(doc)
    if first == last:
        facts.append((fmt.label(doc, "service_date"), fmt.day(first, doc.language)))
    else:
        period = f"{fmt.day(first, doc.language)} – {fmt.day(last, doc.language)}"
        facts.append((fmt.label(doc, "service_period"), period))
    if doc.job_id is not None:
        facts.append((fmt.label(doc, "job"), str(doc.job_id)))
    if doc.buyer_reference:
        facts.append((fmt.label(doc, "buyer_reference"), doc.buyer_reference))
    pdf.set_xy(120, bottom + 12)
    for name, value in facts:
        pdf.set_x(120)
        pdf.set_font(FONT, size=8)
        pdf.cell(28, 4.5, name)
        pdf.set_font(FONT, size=9)
        pdf.multi_cell(42, 4.5, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(pdf.get_y(), bottom + 40))


def _heading(pdf: FPDF, doc: DocumentData) -> None:
    pdf.ln(6)
    pdf.set_font(FONT, "B", 14)
    pdf.multi_cell(0, 7, f"{fmt.title(doc)} {doc.number}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)


def _shows_vat(doc: DocumentData) -> bool:
    # A small business must not show VAT (it would owe it, §14c UStG); under reverse charge
    # the recipient owes it: both show net amounts and the note that says why.
    return doc.scheme == "standard"


def _lines(pdf: FPDF, doc: DocumentData) -> None:
    """The lines table: date, description, quantity, net, and for VAT documents rate, VAT,
    gross."""
    with_vat = _shows_vat(doc)
    if with_vat:
        head = ["col_date", "col_description", "col_quantity", "col_net", "col_rate", "col_vat"]
        head.append("col_gross")
        widths = (18, 50, 12, 20, 18, 18, 20)
        align = ("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT")
    else:
        head = ["col_date", "col_description", "col_quantity", "col_amount"]
        widths = (20, 90, 15, 25)
        align = ("LEFT", "LEFT", "RIGHT", "RIGHT")
    pdf.set_font(FONT, size=8)
    style = FontFace(emphasis="BOLD", fill_color=(235, 235, 235))
    with pdf.table(
        col_widths=widths,
        text_align=align,
        headings_style=style,
        borders_layout="HORIZONTAL_LINES",
        line_height=4.5,
        padding=(1, 1),
    ) as table:
        row = table.row()
        for key in head:
            row.cell(fmt.label(doc, key))
        for line in doc.lines:
            row = table.row()
            row.cell(fmt.day(line.service_date, doc.language))
            row.cell(line.description)
            row.cell(str(line.quantity))
            row.cell(fmt.money(line.net, doc))
            if with_vat:
                row.cell(fmt.rate(line.vat_rate_bp, doc.language))
                row.cell(fmt.money(line.vat, doc))
                row.cell(fmt.money(line.gross, doc))
    pdf.ln(3)


def _totals(pdf: FPDF, doc: DocumentData) -> None:
    """The VAT breakdown per rate and the totals, right-aligned under the table."""
    pdf.set_font(FONT, size=9)
    if _shows_vat(doc):
        pdf.set_font(FONT, "B", 8)
        pdf.set_x(100)
        pdf.cell(90, 5, fmt.label(doc, "breakdown"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FONT, size=8)
        for rate_bp, net, vat in fmt.breakdown(doc):
            pdf.set_x(100)
            pdf.cell(20, 4.5, fmt.rate(rate_bp, doc.language), align="R")
            pdf.cell(35, 4.5, f"{fmt.label(doc, 'col_net')} {fmt.money(net, doc)}", align="R")
            pdf.cell(35, 4.5, f"{fmt.label(doc, 'col_vat')} {fmt.money(vat, doc)}", align="R")
            pdf.ln()
        pdf.ln(2)
        rows = [
            ("total_net", fmt.money(doc.net_total, doc), False),
            ("total_vat", fmt.money(doc.vat_total, doc), False),
            ("total_gross", fmt.money(doc.gross_total, doc), True),
        ]
    else:
        rows = [("total", fmt.money(doc.gross_total, doc), True)]
    for key, value, strong in rows:
        pdf.set_x(100)
        pdf.set_font(FONT, "B" if strong else "", 10 if strong else 9)
        pdf.cell(55, 6, fmt.label(doc, key), align="R", border="T" if strong else 0)
        pdf.cell(35, 6, value, align="R", border="T" if strong else 0)
        pdf.ln()
    pdf.ln(4)


def _closing(pdf: FPDF, doc: DocumentData) -> None:
    """The notes the law asks for, then how it is paid."""
    pdf.set_font(FONT, size=9)
    for text in fmt.notes(doc):
        pdf.multi_cell(0, 4.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)
    pdf.ln(2)
    pdf.set_font(FONT, "B", 9)
    pdf.multi_cell(0, 4.5, fmt.payment(doc), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
