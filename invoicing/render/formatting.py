"""What both renderers say the same way: the title, the notes, the payment line, and money,
rates and dates in the recipient's language (Babel's locale data; display only — the figures
stay integer minor units in DocumentData)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from babel.dates import format_date as babel_format_date
from babel.numbers import format_currency, format_decimal

from invoicing.document import KINDS, SCHEMES, DocumentData, Party
from invoicing.render import texts

# The locale whose conventions a language's documents follow ("1.234,56 €" / "€1,234.56").
LOCALES = {"de": "de_DE", "en": "en_GB"}
CURRENCIES = ("EUR", "CHF")
PAYMENTS = ("paid", "due", "settled", "refunded")
_CODE_BEFORE_DIGIT = re.compile(r"([A-Z]{3})(?=\d)")


class RenderError(ValueError):
    """The document cannot be rendered as it is: what is wrong, in words a developer acts on."""


def check(doc: DocumentData) -> None:
    """The document's fields are ones the renderers know; raises RenderError naming the field."""
    if doc.kind not in KINDS:
        raise RenderError(f"kind: unknown kind {doc.kind!r}, expected one of {KINDS}")
    if doc.language not in texts.LANGUAGES:
        raise RenderError(f"language: {doc.language!r} is not one of {texts.LANGUAGES}")
    if doc.currency not in CURRENCIES:
        raise RenderError(f"currency: {doc.currency!r} is not one of {CURRENCIES}")
    if doc.scheme not in SCHEMES:
        raise RenderError(f"scheme: unknown scheme {doc.scheme!r}, expected one of {SCHEMES}")
    if doc.payment not in PAYMENTS:
        raise RenderError(f"payment: {doc.payment!r} is not one of {PAYMENTS}")
    if not doc.lines:
        raise RenderError("lines: a document needs at least one line")
    unknown = [key for key in doc.notes if key not in texts.NOTE_KEYS]
    if unknown:
        raise RenderError(f"notes: unknown note keys {unknown}")
    if doc.kind == "correction" and not (doc.corrects_number and doc.corrects_issue_date):
        raise RenderError(
            "corrects_number: a correction must name the document it corrects and its date"
        )
    for index, line in enumerate(doc.lines):
        if line.net + line.vat != line.gross:
            raise RenderError(
                f"lines[{index}]: net {line.net} + VAT {line.vat} is not gross {line.gross}"
            )
        if line.quantity <= 0:
            raise RenderError(f"lines[{index}]: quantity must be positive")


def money(minor: int, doc: DocumentData) -> str:
    """Minor units as the recipient reads them: "1.234,56 €" (de), "€1,234.56" (en)."""
    text = format_currency(
        Decimal(minor) / 100, doc.currency, locale=LOCALES[doc.language], format_type="standard"
    )
    # CLDR's currency spacing, which Babel leaves out: a letter code is kept apart from the
    # digits by a no-break space ("CHF 1,234.56", not "CHF1,234.56").
    return _CODE_BEFORE_DIGIT.sub("\\1\u00a0", text)


def rate(rate_bp: int, language: str) -> str:
    """A VAT rate in basis points as "19 %" / "8,1 %" (de) or "19%" / "8.1%" (en)."""
    number = format_decimal(Decimal(rate_bp) / 100, format="#,##0.##", locale=LOCALES[language])
    return f"{number} %" if language == "de" else f"{number}%"


def day(value: date, language: str) -> str:
    """A date as "15.03.2026" (de) or "15 Mar 2026" (en)."""
    return babel_format_date(value, format="medium", locale=LOCALES[language])


def title(doc: DocumentData) -> str:
    """The document's title in its language (a correction's follows what it corrects)."""
    if doc.kind == "correction":
        return texts.CORRECTION_TITLES[doc.language][doc.corrects_kind]
    return texts.TITLES[doc.language][doc.kind]


def label(doc: DocumentData, key: str, **params) -> str:
    text = texts.LABELS[doc.language][key]
    return text.format(**params) if params else text


def notes(doc: DocumentData) -> list[str]:
    """The notes' texts in order; a correction always names the document it corrects."""
    keys = list(doc.notes)
    if doc.corrects_number and "correction_of" not in keys:
        keys.append("correction_of")
    params = {
        "supplier": doc.supplier.name,
        "issuer": doc.issued_by.name if doc.issued_by else doc.supplier.name,
        "document": texts.DOCUMENT_NOUNS[doc.language][doc.corrects_kind],
        "number": doc.corrects_number or "",
        "date": day(doc.corrects_issue_date, doc.language) if doc.corrects_issue_date else "",
    }
    return [texts.NOTES[doc.language][key].format(**params) for key in keys]


def is_self_billing(doc: DocumentData) -> bool:
    """A self-billing credit note or a correction of one (issued by the recipient)."""
    return doc.kind == "self_billing_credit" or (
        doc.kind == "correction" and doc.corrects_kind == "self_billing_credit"
    )


def issued_by(doc: DocumentData) -> str | None:
    """Who issued the document when it is not the supplier: the agent or the recipient."""
    if doc.issued_by is None:
        return None
    key = "issued_by_recipient" if is_self_billing(doc) else "issued_by_agent"
    return label(doc, key, issuer=doc.issued_by.name, supplier=doc.supplier.name)


def payment(doc: DocumentData) -> str:
    """How the document is paid, in one sentence."""
    words = texts.PAYMENT[doc.language]
    if doc.payment == "due":
        if doc.due_date is None:
            return words["due_now"]
        return words["due"].format(date=day(doc.due_date, doc.language))
    if doc.payment == "settled":
        return words["settled_credit" if is_self_billing(doc) else "settled"]
    return words[doc.payment]


def service_dates(doc: DocumentData) -> tuple[date, date]:
    """The first and last day of service: the period, or the lines' dates."""
    if doc.service_period:
        return doc.service_period
    dates = [line.service_date for line in doc.lines]
    return min(dates), max(dates)


def address_lines(party: Party) -> list[str]:
    """The party's name, then the parts of its address it has (a missing street is left out,
    not printed as a blank or "None")."""
    place = " ".join(part for part in (party.postcode, party.city) if part)
    return [party.name or "", *(line for line in (party.street, place, party.country) if line)]


def breakdown(doc: DocumentData) -> list[tuple[int, int, int]]:
    """(rate_bp, net, vat) per rate: the document's breakdown, or summed from its lines."""
    if doc.breakdown:
        return [(b.rate_bp, b.net, b.vat) for b in doc.breakdown]
    sums: dict[int, list[int]] = {}
    for line in doc.lines:
        entry = sums.setdefault(line.vat_rate_bp, [0, 0])
        entry[0] += line.net
        entry[1] += line.vat
    return [(rate_bp, net, vat) for rate_bp, (net, vat) in sorted(sums.items(), reverse=True)]
