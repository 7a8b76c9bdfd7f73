"""The content of one document, as it is issued: what the renderers (PDF, e-invoice) read and
what is stored beside the rendering (`Document.data`), so that a document can always be shown
with the figures it was made from.

Money is integer minor units of `currency`; a VAT rate is in basis points (1900 = 19 %,
810 = 8.1 %). Amounts of a correction are negative (it takes back part of the original).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

# What a document is (its series follows from it, see invoicing.numbering):
#   invoice              the customer's invoice for a job (by the platform, or in the member's
#                        name by the platform under the agent model)
#   self_billing_credit  the member's self-billing credit note (Gutschrift) for their earnings
#   fee_invoice          the platform's invoice to a member: commission, monthly fee, other fees
#   correction           takes back (part of) one of the above; refers to it (corrects_number)
KINDS = ("invoice", "self_billing_credit", "fee_invoice", "correction")

# How VAT applies to the whole document (invoicing.tax decides it):
#   standard         VAT charged at the rate of the place of supply
#   small_business   the supplier is exempt as a small business (DE §19 UStG, AT §6 (1) Z 27
#                    UStG, CH not liable below the threshold): no VAT, a note says why
#   reverse_charge   a business recipient in another country owes the VAT: no VAT charged, both
#                    VAT IDs shown, a note says so
SCHEMES = ("standard", "small_business", "reverse_charge")


@dataclass(frozen=True)
class Party:
    """A supplier or recipient as the document names them."""

    name: str
    street: str
    postcode: str
    city: str
    country: str  # ISO 3166-1 alpha-2: DE, AT, CH (others possible for a recipient)
    vat_id: str | None = None  # e.g. DE123456789, ATU12345678, CHE-123.456.789 MWST
    tax_number: str | None = None  # a national tax number when there is no VAT ID
    email: str | None = None
    is_business: bool = False


@dataclass(frozen=True)
class Line:
    """One line: a service (a job, a month's flat fee, a commission) and its money."""

    description: str
    service_date: date
    net: int
    vat_rate_bp: int
    vat: int
    gross: int
    quantity: int = 1
    job_id: int | None = None


@dataclass(frozen=True)
class VatBreakdown:
    """The VAT of all lines at one rate (EN 16931 BG-23)."""

    rate_bp: int
    net: int
    vat: int


@dataclass(frozen=True)
class DocumentData:
    kind: str
    number: str
    language: str  # "de" | "en": the recipient's
    issue_date: date
    currency: str  # EUR | CHF
    supplier: Party  # who supplies the service (the member under the agent model)
    recipient: Party
    lines: tuple[Line, ...]
    scheme: str
    # The notes the law asks for, as keys the renderers translate (invoicing.render.texts):
    # e.g. "small_business_de", "reverse_charge", "self_billing", "issued_on_behalf".
    notes: tuple[str, ...] = ()
    # The platform when it issues the document in the supplier's name (agent model) or as
    # the recipient of a self-billing credit note; None when the supplier issues it.
    issued_by: Party | None = None
    service_period: tuple[date, date] | None = None
    corrects_number: str | None = None
    corrects_issue_date: date | None = None
    corrects_kind: str | None = None  # the corrected document's kind (its title follows it)
    # How it is paid: "paid" (card, captured), "due" (by invoice, by `due_date`), "settled"
    # (set off against the member's earnings / paid out with them), "refunded" (a
    # correction whose amount went back to the customer).
    payment: str = "paid"
    due_date: date | None = None
    job_id: int | None = None
    e_invoice: bool = False  # a German business customer's: EN 16931 XML embedded (ZUGFeRD)
    buyer_reference: str | None = None  # BT-10: the customer's reference (e.g. a Leitweg-ID)
    breakdown: tuple[VatBreakdown, ...] = field(default=())

    @property
    def net_total(self) -> int:
        return sum(line.net for line in self.lines)

    @property
    def vat_total(self) -> int:
        return sum(line.vat for line in self.lines)

    @property
    def gross_total(self) -> int:
        return sum(line.gross for line in self.lines)

    def to_json(self) -> dict:
        """A JSON-ready dict (dates as ISO text): stored with the document."""
        return _jsonable(asdict(self))


def _jsonable(value):
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def from_json(data: dict) -> DocumentData:
    """The inverse of DocumentData.to_json."""

    def day(text):
        return date.fromisoformat(text) if text else None

    def party(raw):
        return Party(**raw) if raw else None

    return DocumentData(
        **{
            **data,
            "issue_date": day(data["issue_date"]),
            "supplier": party(data["supplier"]),
            "recipient": party(data["recipient"]),
            "issued_by": party(data.get("issued_by")),
            "lines": tuple(
                Line(**{**line, "service_date": day(line["service_date"])})
                for line in data["lines"]
            ),
            "notes": tuple(data.get("notes", ())),
            "service_period": (
                (day(data["service_period"][0]), day(data["service_period"][1]))
                if data.get("service_period")
                else None
            ),
            "corrects_issue_date": day(data.get("corrects_issue_date")),
            "due_date": day(data.get("due_date")),
            "breakdown": tuple(VatBreakdown(**b) for b in data.get("breakdown", ())),
        }
    )
