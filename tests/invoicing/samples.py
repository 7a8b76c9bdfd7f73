"""Documents' parties and a document as the tests issue or render them."""

from __future__ import annotations

from datetime import date

from invoicing.document import DocumentData, Line, Party, VatBreakdown

PLATFORM = Party(
    name="Crowd Services GmbH",
    street="Hauptstraße 1",
    postcode="10115",
    city="Berlin",
    country="DE",
    vat_id="DE123456789",
    email="rechnungen@crowd.example",
    is_business=True,
)
MEMBER = Party(
    name="Jürgen Müller Haustechnik",
    street="Gartenweg 5",
    postcode="80331",
    city="München",
    country="DE",
    vat_id="DE811122233",
    is_business=True,
)
SMALL_MEMBER = Party(
    name="Zoë Weißenböck",
    street="Am Anger 3",
    postcode="04109",
    city="Leipzig",
    country="DE",
    tax_number="231/456/78901",
    email="zoe@example.org",
)
CONSUMER = Party(
    name="Anna Schröder", street="Lindenallee 12", postcode="50667", city="Köln", country="DE"
)
GERMAN_BUSINESS = Party(
    name="Technik Service AG",
    street="Industriestraße 7",
    postcode="70173",
    city="Stuttgart",
    country="DE",
    vat_id="DE987654321",
    email="ap@technik-service.example",
    is_business=True,
)
SWISS_BUSINESS = Party(
    name="Bergbahn Service AG",
    street="Bahnhofstrasse 10",
    postcode="8001",
    city="Zürich",
    country="CH",
    vat_id="CHE-123.456.789 MWST",
    is_business=True,
)


def german_business_invoice(number: str = "") -> DocumentData:
    """The platform's invoice at 19 % to a German business customer: an e-invoice."""
    return DocumentData(
        kind="invoice",
        number=number,
        language="de",
        issue_date=date(2026, 12, 2),
        currency="EUR",
        supplier=PLATFORM,
        recipient=GERMAN_BUSINESS,
        lines=(Line("Auftrag 17: Beamer einrichten", date(2026, 12, 1), 10084, 1900, 1916, 12000),),
        scheme="standard",
        e_invoice=True,
        breakdown=(VatBreakdown(1900, 10084, 1916),),
    )
