"""How VAT applies to a document and its arithmetic to the cent — pure functions over the rate
table (invoicing.tax_rates). The form of VAT IDs and tax numbers is checked where they are
captured, by crowd.core.tax_ids.

Who charges what (`treatment`), checked in this order:

1. **Small business.** A supplier exempt as a small business charges no VAT, and the document
   says why (scheme "small_business", rate 0, a note by the supplier's country):
   - DE: Kleinunternehmer, § 19 Abs. 1 UStG (turnover up to EUR 25,000 in the previous year
     and EUR 100,000 in the current one) — note `small_business_de`;
   - AT: Kleinunternehmer, § 6 Abs. 1 Z 27 UStG 1994 (turnover up to EUR 55,000) — note
     `small_business_at`;
   - CH: not liable to MWST below CHF 100,000 turnover a year, Art. 10 Abs. 2 Bst. a MWSTG —
     note `small_business_ch`.
   Whether a member is one is their own declaration (TaxParty.small_business).
   A simplification: the exemption is applied to all of the supplier's documents, also to a
   business abroad (strictly it covers domestic supplies only; a cross-border supply by a
   small business is rare on a platform whose members work where they live).
2. **Reverse charge.** A business recipient with a VAT ID in another country than the
   supplier's owes the VAT itself (B2B services: place of supply at the recipient,
   Art. 44 and 196 of Directive 2006/112/EC; § 3a Abs. 2 and § 13b UStG; AT § 3a Abs. 6 and
   § 19 Abs. 1 UStG; CH Art. 8 Abs. 1 and Art. 45 MWSTG, the Bezugsteuer). No VAT is
   charged (scheme "reverse_charge", rate 0), both VAT IDs are shown (§ 14a Abs. 1 UStG,
   Art. 226 Nr. 4 of the Directive) and the note `reverse_charge` says who owes the tax
   (§ 14a Abs. 5 UStG: "Steuerschuldnerschaft des Leistungsempfängers"; AT § 11 Abs. 1a).
   A supplier without a VAT ID cannot issue such a document: ReverseChargeNeedsVatId (422).
   A business abroad without a VAT ID is treated as a consumer (its business status is not
   proven), so rule 3 applies.
3. **Standard.** VAT at the rate in force at the place of supply on the day of supply,
   `rate(place, on, category)`, no note. The caller determines the place: for work on site
   the job's country (§ 3a Abs. 3 Nr. 1 UStG, work on a property), for the platform's fees to
   members the platform's country.

Arithmetic (integers of minor units only; a rate in basis points, 1900 = 19 %; no floats):

- Rounding is half up, away from zero for negative amounts (a correction's): 0.5 cent → 1,
  −0.5 → −1 ("kaufmännisch").
- A rate's VAT on a document is computed on the sum of its lines' nets (EN 16931 BR-CO-17:
  VAT category tax amount = taxable amount × rate, rounded). Lines get shares of that amount
  by largest remainder (`allocate_net`, `allocate_gross`), so the lines' VAT sums to it.
- Prices paid gross (what a customer pays) are split keeping the gross: the lines' grosses
  never change. For most totals there is a net whose VAT makes up the gross exactly, and
  `allocate_gross` takes it. For some there is none (0.03 at 19 %: a net of 0.02 gives 0.00
  VAT, 0.03 gives 0.01, so the gross is 0.02 or 0.04); then the VAT is the one the gross
  contains, rounded half up, one cent off the net's, within BR-CO-17's tolerance of one
  currency unit in the current EN 16931 validation artefacts. `breakdown` accepts that one
  cent only where no exact split exists, and refuses any other disagreement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from crowd.core.i18n import _
from invoicing.document import Line, VatBreakdown
from invoicing.errors import ReverseChargeNeedsVatId
from invoicing.tax_rates import TAX_COUNTRIES, rate

__all__ = [
    "TaxParty",
    "Treatment",
    "allocate_gross",
    "allocate_net",
    "breakdown",
    "rate",
    "round_half_up",
    "split_gross",
    "treatment",
    "vat_of_net",
]

BP_SCALE = 10_000  # basis points in 100 %

# --- who charges what -------------------------------------------------------------------------


@dataclass(frozen=True)
class TaxParty:
    """A supplier or recipient as far as VAT is concerned."""

    country: str  # ISO 3166-1 alpha-2
    is_business: bool
    vat_id: str | None = None
    small_business: bool = False  # the supplier's declared exemption (ignored for recipients)


@dataclass(frozen=True)
class Treatment:
    """How VAT applies to a document: its scheme (document.SCHEMES), the rate of its lines
    and the notes (keys of NOTE_TEXTS) it must carry."""

    scheme: str
    rate_bp: int
    notes: tuple[str, ...] = ()


def treatment(
    *,
    supplier: TaxParty,
    recipient: TaxParty,
    place: str,
    on: date,
    category: str = "standard",
) -> Treatment:
    """How VAT applies to a supply by `supplier` to `recipient` on the day `on`, with its
    place of supply in `place` (the rules are in the module docstring)."""
    if supplier.small_business:
        if supplier.country not in TAX_COUNTRIES:
            raise ValueError(f"no small business rule for suppliers in {supplier.country}")
        return Treatment("small_business", 0, (f"small_business_{supplier.country.lower()}",))
    if recipient.is_business and recipient.vat_id and recipient.country != supplier.country:
        if not supplier.vat_id:
            raise ReverseChargeNeedsVatId(
                _(
                    "The recipient owes the VAT (reverse charge), which the document must show "
                    "with both VAT IDs; the supplier has none recorded."
                )
            )
        return Treatment("reverse_charge", 0, ("reverse_charge",))
    return Treatment("standard", rate(place, on, category))


# --- arithmetic ---------------------------------------------------------------------------------


def _check_int(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int of minor units, not {type(value).__name__}")


def _check_rate(rate_bp: int) -> None:
    _check_int("rate_bp", rate_bp)
    if not 0 <= rate_bp <= BP_SCALE:
        raise ValueError("rate_bp must be between 0 and 10000")


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero (denominator > 0)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    magnitude = (2 * abs(numerator) + denominator) // (2 * denominator)
    return magnitude if numerator >= 0 else -magnitude


def vat_of_net(net: int, rate_bp: int) -> int:
    """The VAT on `net` at `rate_bp`, rounded half up: 100.00 at 19 % → 19.00."""
    _check_int("net", net)
    _check_rate(rate_bp)
    return round_half_up(net * rate_bp, BP_SCALE)


def split_gross(gross: int, rate_bp: int) -> tuple[int, int]:
    """(net, vat) of a gross amount at `rate_bp`: the VAT it contains rounded half up, the net
    the rest, so net + vat == gross: 119.00 at 19 % → (100.00, 19.00)."""
    _check_int("gross", gross)
    _check_rate(rate_bp)
    vat = round_half_up(gross * rate_bp, BP_SCALE + rate_bp)
    return gross - vat, vat


def _exact_net(gross: int, rate_bp: int) -> int | None:
    """A net whose VAT makes up `gross` exactly (net + vat_of_net(net) == gross), the one
    nearest split_gross's; None when there is none."""
    net, _vat = split_gross(gross, rate_bp)
    for candidate in (net, net - 1, net + 1):
        if candidate + vat_of_net(candidate, rate_bp) == gross:
            return candidate
    return None


def _largest_remainder(numerators: Sequence[int], denominator: int, total: int) -> list[int]:
    """Integer shares of numerators[i] / denominator that sum to `total`: each share rounded
    down, then one more unit to the largest remainders (earlier lines first on a tie).

    Lines that are all negative (a correction's) are shared as their magnitudes, so taking
    back lines mirrors their split exactly."""
    negative = any(numerator < 0 for numerator in numerators)
    if negative and all(numerator <= 0 for numerator in numerators) and total <= 0:
        return [
            -share for share in _largest_remainder([-n for n in numerators], denominator, -total)
        ]
    shares = [numerator // denominator for numerator in numerators]
    remainders = [numerator % denominator for numerator in numerators]
    missing = total - sum(shares)
    if not 0 <= missing <= len(shares):
        raise ValueError("the total is not within one unit per line of the exact shares")
    order = sorted(range(len(shares)), key=lambda i: (-remainders[i], i))
    for i in order[:missing]:
        shares[i] += 1
    return shares


def allocate_net(nets: Sequence[int], rate_bp: int) -> list[tuple[int, int]]:
    """(net, vat) per line of one rate, priced net: the VAT of the summed net
    (vat_of_net), shared out by largest remainder."""
    for net in nets:
        _check_int("net", net)
    total = vat_of_net(sum(nets), rate_bp)
    vats = _largest_remainder([net * rate_bp for net in nets], BP_SCALE, total)
    return list(zip(nets, vats, strict=True))


def allocate_gross(grosses: Sequence[int], rate_bp: int) -> list[tuple[int, int]]:
    """(net, vat) per line of one rate, priced gross: each line keeps its gross
    (net + vat == gross), and the VAT sums to the VAT of the summed net — exactly where a net
    makes up the summed gross, else to the VAT the gross contains (see the module docstring)."""
    for gross in grosses:
        _check_int("gross", gross)
    _check_rate(rate_bp)
    total_gross = sum(grosses)
    net = _exact_net(total_gross, rate_bp)
    total_vat = total_gross - net if net is not None else split_gross(total_gross, rate_bp)[1]
    vats = _largest_remainder([gross * rate_bp for gross in grosses], BP_SCALE + rate_bp, total_vat)
    return [(gross - vat, vat) for gross, vat in zip(grosses, vats, strict=True)]


def breakdown(lines: Iterable[Line]) -> tuple[VatBreakdown, ...]:
    """The VAT breakdown (EN 16931 BG-23) of a document's lines, one entry per rate, highest
    rate first: the sum of the nets and its VAT, rounded half up (BR-CO-17).

    The lines' VAT must sum to that VAT (they do when made by allocate_net or
    allocate_gross); the one exception is a gross total no net makes up exactly, whose VAT may
    be one cent off (module docstring). Any other disagreement is a ValueError.
    """
    nets: dict[int, int] = {}
    vats: dict[int, int] = {}
    for line in lines:
        nets[line.vat_rate_bp] = nets.get(line.vat_rate_bp, 0) + line.net
        vats[line.vat_rate_bp] = vats.get(line.vat_rate_bp, 0) + line.vat
    result = []
    for rate_bp in sorted(nets, reverse=True):
        net, vat = nets[rate_bp], vats[rate_bp]
        expected = vat_of_net(net, rate_bp)
        if vat != expected:
            no_exact_split = _exact_net(net + vat, rate_bp) is None
            if not (no_exact_split and abs(vat - expected) == 1):
                raise ValueError(
                    f"lines at {rate_bp} bp carry VAT {vat}; their net {net} gives {expected}"
                )
        result.append(VatBreakdown(rate_bp=rate_bp, net=net, vat=vat))
    return tuple(result)
