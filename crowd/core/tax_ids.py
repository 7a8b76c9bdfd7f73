"""VAT IDs and tax numbers as documents print them: checked for form (python-stdnum), normalised.

Shared by every package that takes such a number from a person (members' and customers'
billing profiles) and by invoicing, which prints them. Form only: whether a VAT ID is
registered (VIES, the Swiss UID register) is not asked here.

`vat_id(value)` takes:
  - a VAT ID of an EU member state (stdnum.eu.vat: the country's own check digits), returned
    compact as invoices print it: DE136695976, ATU57194903, FR61954506077 (Greece: EL…);
  - a Swiss VAT number (stdnum.ch.vat): the UID with MWST, TVA, IVA or TPV, returned as
    CHE-107.787.577 MWST. A bare UID (CHE-107.787.577) is taken as its MWST number.
  Northern Ireland's XI numbers are refused: they cover goods only, we sell services.

`tax_number(country, value)` takes the national number a business without a VAT ID gives:
  - DE: the Steuernummer (stdnum.de.stnr): 10 or 11 digits in a Land's form (181/815/08155)
    or the 13-digit federal form; returned in the Land's form with slashes where it matches
    one, else as digits. Its last digit is not a checksum stdnum can verify: form only.
  - AT: the Abgabenkontonummer (stdnum.at.tin): tax office and 7 digits with a check digit,
    returned as 59-119/9013.
  - CH: the UID (stdnum.ch.uid): CHE and 9 digits with a check digit, returned as
    CHE-100.155.212.
Both raise `field_error(field, …)`: a 422 naming the field.
"""

from __future__ import annotations

from stdnum.at import tin as at_tin
from stdnum.ch import uid as ch_uid
from stdnum.ch import vat as ch_vat
from stdnum.de import stnr as de_stnr
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import InvalidChecksum, ValidationError

from crowd.core.errors import Unprocessable, field_error
from crowd.core.i18n import _

# The EU's member states by ISO 3166-1 code (a VAT ID of Greece starts with EL, not GR).
EU_COUNTRIES = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
)  # fmt: skip
MAX_LENGTH = 40
SWISS_SUFFIXES = ("MWST", "TVA", "IVA", "TPV")

# The national tax numbers we take: where members work.
_TAX_NUMBERS = {"DE": de_stnr, "AT": at_tin, "CH": ch_uid}
TAX_NUMBER_COUNTRIES = tuple(_TAX_NUMBERS)


def vat_id(value: str, *, field: str = "vat_id") -> str:
    """The VAT ID normalised as invoices print it; 422 on `field` when it is not one."""
    text = _clean(value, field)
    if text.startswith("CHE"):
        return _swiss_vat(text, field)
    if text.startswith("XI"):
        raise _not_a_vat_id(field)
    if text.startswith("GR"):
        text = "EL" + text[2:]  # Greece's VAT IDs carry EL (VIES)
    try:
        return eu_vat.validate(text)
    except InvalidChecksum:
        raise _wrong_check_digit(field) from None
    except ValidationError:
        raise _not_a_vat_id(field) from None


def vat_country(normalised: str) -> str:
    """The ISO country of a VAT ID `vat_id` returned: CH for CHE…, GR for EL…, else its prefix."""
    if normalised.startswith("CHE"):
        return "CH"
    prefix = normalised[:2]
    return "GR" if prefix == "EL" else prefix


def tax_number(country: str, value: str, *, field: str = "tax_number") -> str:
    """The national tax number of `country` (DE, AT, CH) normalised; 422 on `field` else."""
    module = _TAX_NUMBERS.get(country)
    if module is None:
        raise field_error(field, _("tax numbers are taken for DE, AT and CH only"))
    text = _clean(value, field)
    try:
        return module.format(module.validate(text))
    except InvalidChecksum:
        raise _wrong_check_digit(field) from None
    except ValidationError:
        raise field_error(field, _tax_number_form(country)) from None


def _tax_number_form(country: str) -> str:
    """What a tax number of `country` looks like, for the error message."""
    if country == "DE":
        return _("not a German tax number (Steuernummer: 10, 11 or 13 digits, e.g. 181/815/08155)")
    if country == "AT":
        return _("not an Austrian tax number (Abgabenkontonummer: 9 digits, e.g. 59-119/9013)")
    return _("not a Swiss UID (CHE and 9 digits, e.g. CHE-100.155.212)")


def _clean(value: str, field: str) -> str:
    """The value upper-cased and trimmed; stdnum drops spaces, dots, dashes and slashes."""
    # ASCII before upper-casing: "ß".upper() is "SS".
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > MAX_LENGTH or not text.isascii():
        raise field_error(field, _("not a number of this kind"))
    return text.upper()


def _swiss_vat(text: str, field: str) -> str:
    compact = ch_vat.compact(text)
    if not compact.endswith(SWISS_SUFFIXES):
        compact += "MWST"  # the UID alone: its VAT number in German
    try:
        return ch_vat.format(ch_vat.validate(compact))
    except InvalidChecksum:
        raise _wrong_check_digit(field) from None
    except ValidationError:
        raise _not_a_vat_id(field) from None


def _not_a_vat_id(field: str) -> Unprocessable:
    return field_error(
        field,
        _(
            "not a VAT ID of an EU country or Switzerland "
            "(e.g. DE123456789, ATU12345678, CHE-123.456.789 MWST)"
        ),
    )


def _wrong_check_digit(field: str) -> Unprocessable:
    return field_error(field, _("the check digit does not match: please check the number"))
