"""The words of a document in German and English, as data.

They are kept here and not in the gettext catalogue: the notes are legal text whose exact
wording matters (UStG, MWSTG), and a document is rendered in the recipient's language
(`DocumentData.language`), not in the language of whoever happens to trigger the rendering.
Placeholders are `str.format` names: {supplier}, {issuer}, {document}, {number}, {date}.
"""

from __future__ import annotations

LANGUAGES = ("de", "en")

# The document's title by kind. A correction is titled by what it corrects (CORRECTION_TITLES).
# §14 Abs. 4 Nr. 10 UStG: a self-billing credit note must carry the word "Gutschrift", so the
# English title names it too.
TITLES = {
    "de": {
        "invoice": "Rechnung",
        "self_billing_credit": "Gutschrift",
        "fee_invoice": "Rechnung",
    },
    "en": {
        "invoice": "Invoice",
        "self_billing_credit": "Self-billing credit note (Gutschrift)",
        "fee_invoice": "Invoice",
    },
}

# The title of a correction, by the kind of the document it corrects (None: not known).
CORRECTION_TITLES = {
    "de": {
        "invoice": "Rechnungskorrektur",
        "fee_invoice": "Rechnungskorrektur",
        "self_billing_credit": "Korrektur der Gutschrift",
        None: "Rechnungskorrektur",
    },
    "en": {
        "invoice": "Invoice correction",
        "fee_invoice": "Invoice correction",
        "self_billing_credit": "Correction of self-billing credit note (Gutschrift)",
        None: "Invoice correction",
    },
}

# The noun for a corrected document in the `correction_of` note.
DOCUMENT_NOUNS = {
    "de": {
        "invoice": "Rechnung",
        "fee_invoice": "Rechnung",
        "self_billing_credit": "Gutschrift",
        None: "Rechnung",
    },
    "en": {
        "invoice": "invoice",
        "fee_invoice": "invoice",
        "self_billing_credit": "self-billing credit note (Gutschrift)",
        None: "invoice",
    },
}

LABELS = {
    "de": {
        "number": "Nummer",
        "issue_date": "Datum",
        "service_date": "Leistungsdatum",
        "service_period": "Leistungszeitraum",
        "vat_id": "USt-IdNr.",
        "tax_number": "Steuernummer",
        "recipient_vat_id": "USt-IdNr. des Leistungsempfängers",
        "supplier": "Leistender Unternehmer",
        "recipient": "Leistungsempfänger",
        "issued_by_agent": "Ausgestellt durch {issuer} im Namen und für Rechnung von {supplier}",
        "issued_by_recipient": "Ausgestellt durch den Leistungsempfänger {issuer}",
        "buyer_reference": "Ihre Referenz",
        "job": "Auftrag",
        "col_date": "Datum",
        "col_description": "Beschreibung",
        "col_quantity": "Menge",
        "col_net": "Netto",
        "col_rate": "USt-Satz",
        "col_vat": "USt",
        "col_gross": "Brutto",
        "col_amount": "Betrag",
        "breakdown": "Umsatzsteuer nach Steuersätzen",
        "total_net": "Summe netto",
        "total_vat": "Umsatzsteuer",
        "total_gross": "Gesamtbetrag brutto",
        "total": "Gesamtbetrag",
        "page": "Seite {page} von {pages}",
    },
    "en": {
        "number": "Number",
        "issue_date": "Date",
        "service_date": "Date of service",
        "service_period": "Service period",
        "vat_id": "VAT ID",
        "tax_number": "Tax number",
        "recipient_vat_id": "Recipient's VAT ID",
        "supplier": "Supplier",
        "recipient": "Recipient",
        "issued_by_agent": "Issued by {issuer} in the name and on behalf of {supplier}",
        "issued_by_recipient": "Issued by the recipient of the service, {issuer}",
        "buyer_reference": "Your reference",
        "job": "Job",
        "col_date": "Date",
        "col_description": "Description",
        "col_quantity": "Qty",
        "col_net": "Net",
        "col_rate": "VAT rate",
        "col_vat": "VAT",
        "col_gross": "Gross",
        "col_amount": "Amount",
        "breakdown": "VAT by rate",
        "total_net": "Total net",
        "total_vat": "VAT",
        "total_gross": "Total gross",
        "total": "Total",
        "page": "Page {page} of {pages}",
    },
}

# How the document is paid (DocumentData.payment); `settled` reads differently on a
# self-billing credit note (the platform pays the member) than on a fee invoice (set off);
# `refunded`: a correction whose amount went back to the customer's card.
PAYMENT = {
    "de": {
        "paid": "Bereits per Karte bezahlt.",
        "due": "Zahlbar ohne Abzug bis zum {date}.",
        "due_now": "Zahlbar sofort ohne Abzug.",
        "settled": "Verrechnet mit Ihrer Auszahlung.",
        "settled_credit": "Der Betrag wird mit Ihrer Auszahlung überwiesen.",
        "refunded": "Der Betrag wurde auf Ihre Karte erstattet.",
    },
    "en": {
        "paid": "Already paid by card.",
        "due": "Payable without deduction by {date}.",
        "due_now": "Payable immediately without deduction.",
        "settled": "Settled with your payout.",
        "settled_credit": "The amount is paid out with your payout.",
        "refunded": "The amount has been refunded to your card.",
    },
}

# The notes the law asks for, by key (DocumentData.notes).
NOTES = {
    "de": {
        "small_business_de": "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet.",
        "small_business_at": (
            "Umsatzsteuerfrei aufgrund der Kleinunternehmerregelung gemäß § 6 Abs. 1 Z 27 UStG."
        ),
        "small_business_ch": "Nicht MWST-pflichtig (Art. 10 MWSTG).",
        "reverse_charge": "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge)",
        "self_billing": "Gutschrift im Sinne des § 14 Abs. 2 Satz 2 UStG",
        "issued_on_behalf": (
            "Rechnung ausgestellt im Namen und für Rechnung von {supplier} durch {issuer}."
        ),
        "correction_of": "Korrektur zur {document} Nr. {number} vom {date}",
    },
    "en": {
        "small_business_de": "No VAT is charged under the small business scheme, § 19 UStG.",
        "small_business_at": (
            "VAT exempt under the small business scheme, § 6 (1) no. 27 UStG (Austria)."
        ),
        "small_business_ch": "Not liable for VAT (Art. 10 MWSTG).",
        "reverse_charge": "Reverse charge: VAT to be accounted for by the recipient",
        "self_billing": "Self-billing credit note (Gutschrift) under § 14 (2) sentence 2 UStG",
        "issued_on_behalf": ("Invoice issued in the name and on behalf of {supplier} by {issuer}."),
        "correction_of": "Correction of {document} no. {number} of {date}",
    },
}

NOTE_KEYS = frozenset(NOTES["de"])


def _check_complete() -> None:
    """Every table has the same keys in every language (a missing word fails at import)."""
    for table in (TITLES, CORRECTION_TITLES, DOCUMENT_NOUNS, LABELS, PAYMENT, NOTES):
        keys = {language: set(table[language]) for language in LANGUAGES}
        if keys["de"] != keys["en"]:
            raise RuntimeError(f"texts differ between languages: {keys['de'] ^ keys['en']}")


_check_complete()
