"""Rendering documents (invoicing.render): the PDF's words and figures per kind, scheme and
language; the e-invoice XML against the Factur-X XSD and the official EN 16931 schematron; the
XML embedded in the PDF/A-3; the same bytes on every rendering; clear errors for documents that
cannot be valid."""

from __future__ import annotations

import re
import socket
from dataclasses import replace
from datetime import date
from io import BytesIO
from pathlib import Path

import drafthorse
import pytest
from lxml import etree
from pypdf import PdfReader
from saxonche import PySaxonProcessor

from invoicing.document import DocumentData, Line, VatBreakdown, from_json
from invoicing.render import (
    EInvoiceError,
    RenderError,
    attach_einvoice,
    embedded_xml,
    render,
    render_einvoice_xml,
    render_pdf,
    validate_xml,
)
from invoicing.render.pdf import FONTS
from tests.invoicing.samples import (
    CONSUMER,
    GERMAN_BUSINESS,
    MEMBER,
    PLATFORM,
    SMALL_MEMBER,
    SWISS_BUSINESS,
)

HERE = Path(__file__).resolve().parent
# The Factur-X 1.0.07 EN 16931 schema as drafthorse ships it (the official FNFE/FeRD XSD).
XSD = Path(drafthorse.__file__).resolve().parent / "schema" / "Factur-X_1.0.07_EN16931.xsd"
# The official EN 16931 CII validation rules (CEN/TC 434, ConnectingEurope/eInvoicing-EN16931
# release 1.3.16), compiled to XSLT 2.0 by the project; see en16931/README.md.
SCHEMATRON = HERE / "en16931" / "EN16931-CII-validation.xslt"
NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "svrl": "http://purl.oclc.org/dsdl/svrl",
}


def consumer_invoice_de() -> DocumentData:
    """A German consumer's invoice at 19 %, issued by the platform in the member's name."""
    return DocumentData(
        kind="invoice",
        number="RE-2026-000123",
        language="de",
        issue_date=date(2026, 3, 15),
        currency="EUR",
        supplier=MEMBER,
        recipient=CONSUMER,
        issued_by=PLATFORM,
        lines=(Line("Montage Waschmaschine", date(2026, 3, 12), 103745, 1900, 19712, 123457),),
        scheme="standard",
        notes=("issued_on_behalf",),
        job_id=4711,
        payment="paid",
        breakdown=(VatBreakdown(1900, 103745, 19712),),
    )


def reverse_charge_chf_en() -> DocumentData:
    """A Swiss business customer, reverse charge, both VAT IDs, in CHF and English."""
    return DocumentData(
        kind="invoice",
        number="RE-2026-000124",
        language="en",
        issue_date=date(2026, 3, 16),
        currency="CHF",
        supplier=PLATFORM,
        recipient=SWISS_BUSINESS,
        lines=(
            Line("Maintenance of ticket machines", date(2026, 3, 10), 123456, 0, 0, 123456, 1),
            Line("Travel", date(2026, 3, 11), 9000, 0, 0, 9000, 2),
        ),
        scheme="reverse_charge",
        notes=("reverse_charge",),
        payment="due",
        due_date=date(2026, 3, 30),
        e_invoice=True,
        breakdown=(VatBreakdown(0, 132456, 0),),
        buyer_reference="PO-77812",
    )


def small_business_gutschrift_de() -> DocumentData:
    """A Kleinunternehmer's self-billing credit note for a month: no VAT, the notes."""
    return DocumentData(
        kind="self_billing_credit",
        number="GS-2026-000045",
        language="de",
        issue_date=date(2026, 4, 2),
        currency="EUR",
        supplier=SMALL_MEMBER,
        recipient=PLATFORM,
        issued_by=PLATFORM,
        lines=(
            Line("Auftrag 5001: Router einrichten", date(2026, 3, 3), 8000, 0, 0, 8000, 1, 5001),
            Line("Auftrag 5017: Drucker reparieren", date(2026, 3, 19), 4550, 0, 0, 4550, 1, 5017),
        ),
        scheme="small_business",
        notes=("self_billing", "small_business_de"),
        service_period=(date(2026, 3, 1), date(2026, 3, 31)),
        payment="settled",
        e_invoice=True,
    )


def correction_de() -> DocumentData:
    """A correction taking back part of a German business customer's invoice."""
    return DocumentData(
        kind="correction",
        number="RK-2026-000007",
        language="de",
        issue_date=date(2026, 3, 20),
        currency="EUR",
        supplier=PLATFORM,
        recipient=GERMAN_BUSINESS,
        lines=(Line("Minderung Anfahrt", date(2026, 3, 12), -2000, 1900, -380, -2380),),
        scheme="standard",
        corrects_number="RE-2026-000101",
        corrects_issue_date=date(2026, 3, 13),
        corrects_kind="invoice",
        payment="due",
        e_invoice=True,
    )


def fee_invoice_en() -> DocumentData:
    """The platform's fee invoice to a member, two rates, settled with the payout."""
    return DocumentData(
        kind="fee_invoice",
        number="PR-2026-000311",
        language="en",
        issue_date=date(2026, 4, 1),
        currency="EUR",
        supplier=PLATFORM,
        recipient=MEMBER,
        lines=(
            Line("Commission March 2026", date(2026, 3, 31), 24990, 1900, 4748, 29738),
            Line("Training handbook", date(2026, 3, 31), 1500, 700, 105, 1605),
        ),
        scheme="standard",
        payment="settled",
        service_period=(date(2026, 3, 1), date(2026, 3, 31)),
        e_invoice=True,
        breakdown=(VatBreakdown(1900, 24990, 4748), VatBreakdown(700, 1500, 105)),
    )


def gutschrift_correction_de() -> DocumentData:
    """A correction of a self-billing credit note (the recipient takes back 10 €)."""
    return replace(
        small_business_gutschrift_de(),
        kind="correction",
        number="GK-2026-000002",
        issue_date=date(2026, 4, 9),
        lines=(Line("Korrektur Auftrag 5017", date(2026, 3, 19), -1000, 0, 0, -1000, 1, 5017),),
        notes=("small_business_de",),
        service_period=None,
        corrects_number="GS-2026-000045",
        corrects_issue_date=date(2026, 4, 2),
        corrects_kind="self_billing_credit",
    )


FIXTURES = {
    "consumer_invoice_de": consumer_invoice_de,
    "reverse_charge_chf_en": reverse_charge_chf_en,
    "small_business_gutschrift_de": small_business_gutschrift_de,
    "correction_de": correction_de,
    "fee_invoice_en": fee_invoice_en,
    "gutschrift_correction_de": gutschrift_correction_de,
}
E_INVOICES = [name for name, make in FIXTURES.items() if make().e_invoice]

# What each document's PDF must say (its text, spaces normalised).
EXPECTED_TEXT = {
    "consumer_invoice_de": [
        "Rechnung RE-2026-000123",
        "Jürgen Müller Haustechnik",
        "USt-IdNr.: DE811122233",
        "Anna Schröder",
        "Lindenallee 12",
        "Ausgestellt durch Crowd Services GmbH im Namen und für Rechnung von Jürgen Müller",
        "Rechnung ausgestellt im Namen und für Rechnung von Jürgen Müller Haustechnik durch "
        "Crowd Services GmbH.",
        "Leistungsdatum 12.03.2026",
        "15.03.2026",
        "1.037,45 €",
        "197,12 €",
        "1.234,57 €",
        "19 %",
        "Summe netto",
        "Gesamtbetrag brutto",
        "Bereits per Karte bezahlt.",
        "4711",
    ],
    "reverse_charge_chf_en": [
        "Invoice RE-2026-000124",
        "Crowd Services GmbH",
        "VAT ID: DE123456789",
        "Bergbahn Service AG",
        "VAT ID: CHE-123.456.789 MWST",
        "Reverse charge: VAT to be accounted for by the recipient",
        "CHF 1,234.56",
        "CHF 90.00",
        "CHF 1,324.56",
        "Service period 10 Mar 2026 – 11 Mar 2026",
        "Payable without deduction by 30 Mar 2026.",
        "Your reference PO-77812",
    ],
    "small_business_gutschrift_de": [
        "Gutschrift GS-2026-000045",
        "Zoë Weißenböck",
        "Steuernummer: 231/456/78901",
        "Crowd Services GmbH",
        "USt-IdNr.: DE123456789",
        "Ausgestellt durch den Leistungsempfänger Crowd Services GmbH",
        "Gutschrift im Sinne des § 14 Abs. 2 Satz 2 UStG",
        "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet.",
        "Leistungszeitraum 01.03.2026 – 31.03.2026",
        "80,00 €",
        "45,50 €",
        "Gesamtbetrag 125,50 €",
        "Der Betrag wird mit Ihrer Auszahlung überwiesen.",
    ],
    "correction_de": [
        "Rechnungskorrektur RK-2026-000007",
        "Korrektur zur Rechnung Nr. RE-2026-000101 vom 13.03.2026",
        "Technik Service AG",
        "USt-IdNr.: DE987654321",
        "-20,00 €",
        "-3,80 €",
        "-23,80 €",
        "Zahlbar sofort ohne Abzug.",
    ],
    "fee_invoice_en": [
        "Invoice PR-2026-000311",
        "Commission March 2026",
        "€249.90",
        "€47.48",
        "€15.00",
        "€1.05",
        "7%",
        "19%",
        "Total net €264.90",
        "VAT €48.53",
        "Total gross €313.43",
        "Settled with your payout.",
        "Service period 1 Mar 2026 – 31 Mar 2026",
    ],
    "gutschrift_correction_de": [
        "Korrektur der Gutschrift GK-2026-000002",
        "Korrektur zur Gutschrift Nr. GS-2026-000045 vom 02.04.2026",
        "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet.",
        "-10,00 €",
    ],
}


def pdf_text(pdf: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
    return re.sub(r"[ \xa0\u202f]+", " ", text)


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def schematron_failures(xml: bytes) -> list[tuple[str, str, str]]:
    """(flag, rule id, text) of every failed EN 16931 rule."""
    processor = PySaxonProcessor(license=False)
    executable = processor.new_xslt30_processor().compile_stylesheet(
        stylesheet_file=str(SCHEMATRON)
    )
    report = executable.transform_to_string(xdm_node=processor.parse_xml(xml_text=xml.decode()))
    svrl = etree.fromstring(report.encode())
    return [
        (failed.get("flag"), failed.get("id"), failed.findtext("svrl:text", namespaces=NS))
        for failed in svrl.iterfind(".//svrl:failed-assert", NS)
    ]


def xpath(xml: bytes, path: str) -> list[str]:
    return [
        node if isinstance(node, str) else node.text
        for node in etree.fromstring(xml).xpath(path, namespaces=NS)
    ]


@pytest.mark.parametrize("name", FIXTURES)
def test_pdf_says_what_the_document_is(name):
    text = flat(pdf_text(render(FIXTURES[name]())[0]))
    missing = [expected for expected in EXPECTED_TEXT[name] if flat(expected) not in text]
    assert not missing, f"not in the PDF: {missing}\n---\n{text}"


def test_small_business_and_reverse_charge_show_no_vat():
    for make in (small_business_gutschrift_de, reverse_charge_chf_en):
        text = pdf_text(render_pdf(make()))
        assert "USt" not in text.replace("USt-IdNr.", "").replace("UStG", "")
        assert "Gross" not in text and "Brutto" not in text


def test_english_documents_use_english_words_and_formats():
    text = pdf_text(render_pdf(fee_invoice_en()))
    assert "Rechnung" not in text and "€249.90" in text and "249,90" not in text


@pytest.mark.parametrize("name", FIXTURES)
def test_rendering_again_gives_the_same_bytes(name):
    first_pdf, first_xml = render(FIXTURES[name]())
    second_pdf, second_xml = render(FIXTURES[name]())
    assert first_pdf == second_pdf
    assert first_xml == second_xml


def test_rendering_from_the_stored_json_gives_the_same_bytes():
    doc = small_business_gutschrift_de()
    assert render(from_json(doc.to_json())) == render(doc)


def test_different_documents_give_different_files():
    doc = consumer_invoice_de()
    assert render_pdf(doc) != render_pdf(replace(doc, number="RE-2026-000999"))


@pytest.mark.parametrize("name", FIXTURES)
def test_pdf_is_pdf_a_3b_with_the_font_embedded(name):
    pdf = render(FIXTURES[name]())[0]
    assert pdf.startswith(b"%PDF-1.7\n%")  # PDF/A-3 is based on PDF 1.7
    reader = PdfReader(BytesIO(pdf))
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in xmp
    assert "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    intent = root["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    assert intent["/DestOutputProfile"].get_object().get_data()  # the sRGB ICC profile
    fonts = reader.pages[0]["/Resources"]["/Font"]
    for font in fonts.values():
        descriptor = font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        assert "DejaVu" in descriptor["/FontName"]
        assert descriptor["/FontFile2"].get_object().get_data()  # embedded, not referenced
    # The file's date is the issue date (no clock), in the XMP (PDF/A has no /Info here).
    issued = FIXTURES[name]().issue_date.isoformat()
    assert f"<xmp:CreateDate>{issued}T00:00:00+00:00</xmp:CreateDate>" in xmp
    assert reader.metadata is None or "/CreationDate" not in reader.metadata


def test_the_font_and_its_licence_ship_in_the_repo():
    assert (FONTS / "DejaVuSans-LGC.ttf").stat().st_size > 100_000
    assert "Bitstream" in (FONTS / "LICENSE").read_text()


@pytest.mark.parametrize("name", E_INVOICES)
def test_xml_is_valid_against_the_factur_x_en16931_schema(name):
    xml = render(FIXTURES[name]())[1]
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    document = etree.fromstring(xml)
    assert schema.validate(document), schema.error_log
    assert xpath(xml, "//rsm:ExchangedDocumentContext//ram:ID/text()") == [
        "urn:cen.eu:en16931:2017"
    ]


@pytest.mark.parametrize("name", E_INVOICES)
def test_xml_passes_the_en16931_business_rules(name):
    xml = render(FIXTURES[name]())[1]
    failures = schematron_failures(xml)
    assert not [failure for failure in failures if failure[0] == "fatal"], failures


def test_the_schematron_catches_a_broken_invoice():
    xml = render(correction_de())[1]
    broken = xml.replace(b"<ram:GrandTotalAmount>23.80", b"<ram:GrandTotalAmount>23.81")
    assert broken != xml
    assert etree.XMLSchema(etree.parse(str(XSD))).validate(etree.fromstring(broken))
    rules = {rule for flag, rule, _ in schematron_failures(broken) if flag == "fatal"}
    assert {"BR-CO-15", "BR-CO-16"} <= rules


@pytest.mark.parametrize("name", E_INVOICES)
def test_the_xml_is_embedded_in_the_pdf_as_factur_x(name):
    pdf, xml = render(FIXTURES[name]())
    reader = PdfReader(BytesIO(pdf))
    assert list(reader.attachments) == ["factur-x.xml"]
    assert reader.attachments["factur-x.xml"] == [xml]
    root = reader.trailer["/Root"]
    filespec = root["/AF"][0].get_object()
    assert filespec["/AFRelationship"] == "/Alternative"
    assert filespec["/EF"]["/F"].get_object()["/Subtype"] == "/text/xml"
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>" in xmp
    assert "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in xmp
    assert "<pdfaid:part>3</pdfaid:part>" in xmp
    # The visible document is the same as without the XML.
    assert pdf_text(pdf) == pdf_text(render_pdf(FIXTURES[name]()))


def test_attach_einvoice_keeps_pages_and_embeds_exactly_the_xml():
    doc = correction_de()
    plain = render_pdf(doc)
    xml = render_einvoice_xml(doc)
    hybrid = attach_einvoice(plain, xml)
    assert attach_einvoice(plain, xml) == hybrid
    reader = PdfReader(BytesIO(hybrid))
    assert len(reader.pages) == len(PdfReader(BytesIO(plain)).pages)
    assert reader.attachments["factur-x.xml"] == [xml]


def test_a_document_without_e_invoice_has_no_xml():
    pdf, xml = render(consumer_invoice_de())
    assert xml is None
    assert PdfReader(BytesIO(pdf)).attachments == {}


def test_type_codes_and_signs():
    assert xpath(render_einvoice_xml(fee_invoice_en()), "//rsm:ExchangedDocument/ram:TypeCode")
    cases = {
        "reverse_charge_chf_en": ("380", "1324.56"),
        "small_business_gutschrift_de": ("389", "125.50"),
        # Credit notes carry positive amounts (EN 16931): the correction's -23.80 is 23.80.
        "correction_de": ("381", "23.80"),
        "gutschrift_correction_de": ("261", "10.00"),
    }
    for name, (code, grand) in cases.items():
        xml = render_einvoice_xml(FIXTURES[name]())
        assert xpath(xml, "//rsm:ExchangedDocument/ram:TypeCode") == [code], name
        assert xpath(xml, "//ram:GrandTotalAmount") == [grand], name


def test_correction_refers_to_the_original():
    xml = render_einvoice_xml(correction_de())
    assert xpath(xml, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == ["RE-2026-000101"]
    assert xpath(xml, "//ram:InvoiceReferencedDocument//*[local-name()='DateTimeString']") == [
        "20260313"
    ]
    notes = xpath(xml, "//ram:IncludedNote/ram:Content")
    assert "Korrektur zur Rechnung Nr. RE-2026-000101 vom 13.03.2026" in notes


def test_reverse_charge_xml_names_both_vat_ids_and_the_reason():
    xml = render_einvoice_xml(reverse_charge_chf_en())
    seller = "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID"
    buyer = "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID"
    assert xpath(xml, seller) == ["DE123456789"]
    assert xpath(xml, f"{seller}/@schemeID") == ["VA"]
    assert xpath(xml, buyer) == ["CHE-123.456.789 MWST"]
    tax = "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
    assert xpath(xml, f"{tax}/ram:CategoryCode") == ["AE"]
    assert xpath(xml, f"{tax}/ram:ExemptionReason") == ["Reverse charge"]
    assert xpath(xml, f"{tax}/ram:CalculatedAmount") == ["0.00"]
    assert xpath(xml, "//ram:TaxTotalAmount/@currencyID") == ["CHF"]
    assert xpath(xml, "//ram:InvoiceCurrencyCode") == ["CHF"]
    assert xpath(xml, "//ram:BuyerReference") == ["PO-77812"]
    assert xpath(xml, "//ram:DueDateDateTime/*") == ["20260330"]
    # Quantity 2 of 45.00: the price is per unit, the line total is the line's net.
    assert xpath(xml, "//ram:NetPriceProductTradePrice/ram:ChargeAmount") == ["1234.56", "45.00"]
    assert xpath(xml, "//ram:BilledQuantity") == ["1.0000", "2.0000"]
    # Two days of service: the period over both (BG-14) and each line's day (BG-26).
    period = "ram:BillingSpecifiedPeriod//*[local-name()='DateTimeString']"
    assert xpath(xml, f"//ram:ApplicableHeaderTradeSettlement/{period}") == [
        "20260310",
        "20260311",
    ]
    assert xpath(xml, f"//ram:SpecifiedLineTradeSettlement/{period}") == [
        "20260310",
        "20260310",
        "20260311",
        "20260311",
    ]


def test_small_business_xml_is_exempt_with_the_note_as_reason():
    xml = render_einvoice_xml(small_business_gutschrift_de())
    tax = "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
    assert xpath(xml, f"{tax}/ram:CategoryCode") == ["E"]
    assert xpath(xml, f"{tax}/ram:ExemptionReason") == [
        "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet."
    ]
    # No VAT ID: the tax number identifies the seller (BR-CO-26) and is its registration.
    assert xpath(xml, "//ram:SellerTradeParty/ram:ID") == ["231/456/78901"]
    assert xpath(xml, "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID/@schemeID") == [
        "FC"
    ]
    period = "//ram:ApplicableHeaderTradeSettlement/ram:BillingSpecifiedPeriod"
    assert xpath(xml, f"{period}//*[local-name()='DateTimeString']") == ["20260301", "20260331"]
    notes = xpath(xml, "//ram:IncludedNote/ram:Content")
    assert "Gutschrift im Sinne des § 14 Abs. 2 Satz 2 UStG" in notes


def test_standard_xml_has_a_breakdown_per_rate():
    xml = render_einvoice_xml(fee_invoice_en())
    tax = "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
    assert xpath(xml, f"{tax}/ram:RateApplicablePercent") == ["19.00", "7.00"]
    assert xpath(xml, f"{tax}/ram:BasisAmount") == ["249.90", "15.00"]
    assert xpath(xml, f"{tax}/ram:CalculatedAmount") == ["47.48", "1.05"]
    assert xpath(xml, "//ram:TaxBasisTotalAmount") == ["264.90"]
    assert xpath(xml, "//ram:TaxTotalAmount") == ["48.53"]


def test_paid_by_card_leaves_nothing_due():
    xml = render_einvoice_xml(replace(consumer_invoice_de(), recipient=GERMAN_BUSINESS))
    assert xpath(xml, "//ram:TotalPrepaidAmount") == ["1234.57"]
    assert xpath(xml, "//ram:DuePayableAmount") == ["0.00"]
    assert not [f for f in schematron_failures(xml) if f[0] == "fatal"]


def test_reverse_charge_without_the_suppliers_vat_id_fails_clearly():
    doc = replace(
        reverse_charge_chf_en(),
        supplier=replace(PLATFORM, vat_id=None, tax_number="37/123/45678"),
    )
    with pytest.raises(EInvoiceError, match=r"supplier\.vat_id.*BR-AE-02"):
        render(doc)


def test_reverse_charge_without_the_recipients_vat_id_fails_clearly():
    doc = replace(reverse_charge_chf_en(), recipient=replace(SWISS_BUSINESS, vat_id=None))
    with pytest.raises(EInvoiceError, match=r"recipient\.vat_id.*BR-AE-02"):
        render_einvoice_xml(doc)


def test_a_supplier_without_any_tax_id_cannot_issue_an_e_invoice():
    doc = replace(small_business_gutschrift_de(), supplier=replace(SMALL_MEMBER, tax_number=None))
    with pytest.raises(EInvoiceError, match=r"supplier\.vat_id.*BR-CO-26"):
        render(doc)


def test_vat_on_an_exempt_document_fails():
    doc = replace(
        small_business_gutschrift_de(),
        lines=(Line("Auftrag", date(2026, 3, 3), 8000, 1900, 1520, 9520),),
    )
    with pytest.raises(EInvoiceError, match="charges no VAT"):
        render(doc)


def test_a_breakdown_that_differs_from_the_lines_fails():
    doc = replace(fee_invoice_en(), breakdown=(VatBreakdown(1900, 26490, 5033),))
    with pytest.raises(EInvoiceError, match="BR-S-08"):
        render(doc)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"notes": ("no_such_note",)}, "notes"),
        ({"language": "fr"}, "language"),
        ({"currency": "USD"}, "currency"),
        ({"kind": "receipt"}, "kind"),
        ({"lines": ()}, "lines"),
        ({"corrects_number": None}, "corrects_number"),
    ],
)
def test_a_document_the_renderers_do_not_know_fails_with_its_field(change, field):
    base = correction_de() if field == "corrects_number" else consumer_invoice_de()
    with pytest.raises(RenderError, match=rf"^{field}"):
        render(replace(base, **change))


def test_a_line_whose_figures_do_not_add_up_fails():
    doc = replace(
        consumer_invoice_de(),
        lines=(Line("Montage", date(2026, 3, 12), 10000, 1900, 1900, 11901),),
    )
    with pytest.raises(RenderError, match=r"lines\[0\]"):
        render_pdf(doc)


def test_names_in_european_scripts_render_intact():
    names = "Łukasz Wiśniewski, Çağrı Öztürk, Dvořák, Σωκράτης Παπαδόπουλος, Пётр Иванов"
    doc = replace(consumer_invoice_de(), recipient=replace(CONSUMER, name=names))
    assert names in flat(pdf_text(render_pdf(doc)))


def test_rendering_needs_no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("rendering tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for make in FIXTURES.values():
        assert render(make())[0].startswith(b"%PDF-")


def test_long_documents_break_across_pages():
    text = "Wartung " + "sehr lange Beschreibung " * 4
    line = Line(text, date(2026, 3, 1), 1000, 1900, 190, 1190)
    doc = replace(consumer_invoice_de(), lines=(line,) * 60, breakdown=())
    pdf = render_pdf(doc)
    reader = PdfReader(BytesIO(pdf))
    assert len(reader.pages) > 1
    text = pdf_text(pdf)
    assert "Seite 1 von" in text and "714,00 €" in text  # 60 × 11,90 €


def test_validate_xml_accepts_ours_and_names_what_is_wrong_with_a_broken_one():
    xml = render_einvoice_xml(fee_invoice_en())
    validate_xml(xml)
    broken = xml.replace(b"<ram:TypeCode>380</ram:TypeCode>", b"")
    with pytest.raises(EInvoiceError, match="TypeCode"):
        validate_xml(broken)


def test_embedded_xml_reads_the_xml_back_or_none():
    pdf, xml = render(correction_de())
    assert embedded_xml(pdf) == xml
    assert embedded_xml(render_pdf(correction_de())) is None


def test_a_refunded_correction_leaves_nothing_due():
    doc = replace(correction_de(), payment="refunded")
    xml = render_einvoice_xml(doc)
    assert xpath(xml, "//ram:DuePayableAmount") == ["0.00"]
    assert "Der Betrag wurde auf Ihre Karte erstattet." in pdf_text(render_pdf(doc))
    assert not [f for f in schematron_failures(xml) if f[0] == "fatal"]
