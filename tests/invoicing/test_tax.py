"""Tax rules as data: who charges what (a table of every combination), the rates in force by
date, VAT arithmetic to the cent, and the form of VAT IDs and tax numbers."""

from __future__ import annotations

import itertools
from datetime import date
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from invoicing import tax
from invoicing.document import Line
from invoicing.errors import NoTaxRate, ReverseChargeNeedsVatId
from invoicing.render.texts import NOTES
from invoicing.tax import TaxParty, Treatment

# --- the rates in force -----------------------------------------------------------------------

# Written out from the law, independently of the seed: (country, category, day) → bp.
RATES_ON = {
    ("DE", "standard", date(2019, 12, 31)): 1900,
    ("DE", "standard", date(2020, 6, 30)): 1900,
    ("DE", "standard", date(2020, 7, 1)): 1600,
    ("DE", "standard", date(2020, 8, 15)): 1600,
    ("DE", "standard", date(2020, 12, 31)): 1600,
    ("DE", "standard", date(2021, 1, 1)): 1900,
    ("DE", "standard", date(2026, 12, 7)): 1900,
    ("DE", "reduced", date(2020, 8, 15)): 500,
    ("DE", "reduced", date(2024, 5, 1)): 700,
    ("AT", "standard", date(2016, 1, 1)): 2000,
    ("AT", "standard", date(2024, 5, 1)): 2000,
    ("AT", "reduced", date(2024, 5, 1)): 1000,
    ("CH", "standard", date(2018, 1, 1)): 770,
    ("CH", "standard", date(2023, 12, 31)): 770,
    ("CH", "standard", date(2024, 1, 1)): 810,
    ("CH", "reduced", date(2023, 6, 1)): 250,
    ("CH", "reduced", date(2024, 6, 1)): 260,
}


@pytest.mark.parametrize(("country", "category", "day"), sorted(RATES_ON))
def test_the_rate_in_force_on_a_day(country, category, day):
    assert tax.rate(country, day, category) == RATES_ON[(country, category, day)]


@pytest.mark.parametrize(
    ("country", "day"),
    [("DE", date(2006, 12, 31)), ("AT", date(2015, 12, 31)), ("CH", date(2017, 12, 31))]
    + [("FR", date(2024, 1, 1)), ("IT", date(2024, 1, 1))],
)
def test_no_rate_in_force_is_a_named_422(country, day):
    with pytest.raises(NoTaxRate) as raised:
        tax.rate(country, day)
    assert raised.value.status == 422
    assert country in raised.value.detail and day.isoformat() in raised.value.detail


# --- who charges what: every combination ------------------------------------------------------

VAT_IDS = {"DE": "DE136695976", "AT": "ATU13585627", "CH": "CHE-116.281.710 MWST"}
OTHER = {"DE": "AT", "AT": "CH", "CH": "DE"}
# Service days across the changes: DE's 16 % in August 2020, CH before and after 2024.
DAYS = (date(2020, 8, 15), date(2023, 6, 1), date(2024, 6, 1))
RECIPIENTS = ("consumer", "business_same", "business_abroad", "business_abroad_no_vat_id")


def _recipient(kind: str, supplier_country: str) -> TaxParty:
    abroad = OTHER[supplier_country]
    return {
        "consumer": TaxParty(supplier_country, is_business=False),
        "business_same": TaxParty(
            supplier_country, is_business=True, vat_id=VAT_IDS[supplier_country]
        ),
        "business_abroad": TaxParty(abroad, is_business=True, vat_id=VAT_IDS[abroad]),
        "business_abroad_no_vat_id": TaxParty(abroad, is_business=True),
    }[kind]


def _expected(country: str, small: bool, recipient: str, day: date) -> Treatment:
    if small:
        return Treatment("small_business", 0, (f"small_business_{country.lower()}",))
    if recipient == "business_abroad":
        return Treatment("reverse_charge", 0, ("reverse_charge",))
    standard = {
        "DE": 1600 if date(2020, 7, 1) <= day <= date(2020, 12, 31) else 1900,
        "AT": 2000,
        "CH": 810 if day >= date(2024, 1, 1) else 770,
    }
    return Treatment("standard", standard[country], ())


COMBINATIONS = list(itertools.product(("DE", "AT", "CH"), (True, False), RECIPIENTS, DAYS))


@pytest.mark.parametrize(("country", "small", "recipient", "day"), COMBINATIONS)
def test_treatment_of_every_combination(country, small, recipient, day):
    """The supplier's country × small business or not × recipient × day of service; the
    place of supply is the supplier's country (work on site at home)."""
    supplier = TaxParty(country, is_business=True, vat_id=VAT_IDS[country], small_business=small)
    got = tax.treatment(
        supplier=supplier, recipient=_recipient(recipient, country), place=country, on=day
    )
    assert got == _expected(country, small, recipient, day)


def test_the_table_covers_every_combination():
    assert len(COMBINATIONS) == 3 * 2 * 4 * 3
    schemes = {_expected(*combination).scheme for combination in COMBINATIONS}
    assert schemes == {"standard", "small_business", "reverse_charge"}


@pytest.mark.parametrize(
    ("supplier", "place", "day", "category", "expected"),
    [
        # A German member working in Austria for an Austrian consumer: Austrian VAT.
        ("DE", "AT", date(2024, 6, 1), "standard", 2000),
        # An Austrian member working in Switzerland, before and after the change.
        ("AT", "CH", date(2023, 12, 31), "standard", 770),
        ("AT", "CH", date(2024, 1, 1), "standard", 810),
        # The reduced rates, across DE's temporary cut.
        ("DE", "DE", date(2020, 8, 15), "reduced", 500),
        ("DE", "DE", date(2021, 8, 15), "reduced", 700),
        ("CH", "CH", date(2024, 1, 1), "reduced", 260),
    ],
)
def test_standard_vat_is_the_place_of_supplys(supplier, place, day, category, expected):
    got = tax.treatment(
        supplier=TaxParty(supplier, is_business=True, vat_id=VAT_IDS[supplier]),
        recipient=TaxParty(place, is_business=False),
        place=place,
        on=day,
        category=category,
    )
    assert got == Treatment("standard", expected, ())


def test_reverse_charge_without_the_suppliers_vat_id_is_refused():
    supplier = TaxParty("DE", is_business=True)
    recipient = TaxParty("AT", is_business=True, vat_id=VAT_IDS["AT"])
    with pytest.raises(ReverseChargeNeedsVatId) as raised:
        tax.treatment(supplier=supplier, recipient=recipient, place="DE", on=date(2024, 6, 1))
    assert raised.value.status == 422
    assert raised.value.type_slug == "reverse-charge-needs-vat-id"


def test_a_small_business_needs_no_vat_id_for_a_business_abroad():
    supplier = TaxParty("AT", is_business=True, small_business=True)
    recipient = TaxParty("DE", is_business=True, vat_id=VAT_IDS["DE"])
    got = tax.treatment(supplier=supplier, recipient=recipient, place="AT", on=date(2024, 6, 1))
    assert got == Treatment("small_business", 0, ("small_business_at",))


def test_a_small_business_recipient_changes_nothing():
    """The exemption is the supplier's: the platform's fee to a small-business member in its
    own country carries VAT."""
    supplier = TaxParty("DE", is_business=True, vat_id=VAT_IDS["DE"])
    recipient = TaxParty("DE", is_business=True, small_business=True)
    got = tax.treatment(supplier=supplier, recipient=recipient, place="DE", on=date(2024, 6, 1))
    assert got == Treatment("standard", 1900, ())


def test_no_rate_at_the_place_of_supply_is_refused():
    supplier = TaxParty("DE", is_business=True, vat_id=VAT_IDS["DE"])
    with pytest.raises(NoTaxRate):
        tax.treatment(
            supplier=supplier,
            recipient=TaxParty("FR", is_business=False),
            place="FR",
            on=date(2024, 6, 1),
        )


@pytest.mark.parametrize(
    "key", ["small_business_de", "small_business_at", "small_business_ch", "reverse_charge"]
)
def test_every_note_a_treatment_gives_has_its_text_in_both_languages(key):
    """The notes' words are the renderer's (invoicing.render.texts), one source for both."""
    for language in ("de", "en"):
        assert NOTES[language][key]
    assert "§ 19" in NOTES["de"]["small_business_de"]
    assert "§ 6 Abs. 1 Z 27 UStG" in NOTES["de"]["small_business_at"]
    assert "MWSTG" in NOTES["de"]["small_business_ch"]
    assert "Steuerschuldnerschaft des Leistungsempfängers" in NOTES["de"]["reverse_charge"]


# --- arithmetic -------------------------------------------------------------------------------

RATES = (1900, 700, 1600, 500, 2000, 1000, 810, 260, 770, 250)
SCALE = 10_000
fast = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
amounts = st.integers(-10_000_000, 10_000_000)


def _half_up(value: Fraction) -> int:
    """The oracle: round half away from zero, from the exact fraction."""
    magnitude = int(abs(value) + Fraction(1, 2))
    return magnitude if value >= 0 else -magnitude


@pytest.mark.parametrize(
    ("net", "rate_bp", "vat"),
    [
        (10_000, 1900, 1_900),
        (1, 1900, 0),  # 0.19 cent
        (3, 1900, 1),  # 0.57 cent
        (50, 1000, 5),
        (5, 1000, 1),  # 0.5 cent rounds up
        (-5, 1000, -1),  # and a correction's away from zero
        (4, 1000, 0),
        (12_345, 810, 1_000),  # 999.945 → 1000
        (12_345, 260, 321),  # 320.97
        (0, 1900, 0),
    ],
)
def test_vat_of_net_examples(net, rate_bp, vat):
    assert tax.vat_of_net(net, rate_bp) == vat


@pytest.mark.parametrize(
    ("gross", "rate_bp", "net", "vat"),
    [
        (11_900, 1900, 10_000, 1_900),
        (10_000, 1900, 8_403, 1_597),  # 1596.64
        (12_000, 2000, 10_000, 2_000),
        (10_810, 810, 10_000, 810),
        (3, 1900, 3, 0),  # 0.479 cent
        (-11_900, 1900, -10_000, -1_900),
    ],
)
def test_split_gross_examples(gross, rate_bp, net, vat):
    assert tax.split_gross(gross, rate_bp) == (net, vat)


@fast
@given(net=amounts, rate_bp=st.sampled_from(RATES) | st.integers(0, SCALE))
def test_vat_of_net_is_the_exact_vat_rounded_half_up(net, rate_bp):
    assert tax.vat_of_net(net, rate_bp) == _half_up(Fraction(net * rate_bp, SCALE))


@fast
@given(gross=amounts, rate_bp=st.sampled_from(RATES) | st.integers(0, SCALE))
def test_split_gross_keeps_the_gross_and_rounds_the_vat_it_contains(gross, rate_bp):
    net, vat = tax.split_gross(gross, rate_bp)
    assert net + vat == gross
    assert vat == _half_up(Fraction(gross * rate_bp, SCALE + rate_bp))


@pytest.mark.parametrize("value", [1.5, "100", True, None])
def test_amounts_must_be_integers(value):
    with pytest.raises(TypeError):
        tax.vat_of_net(value, 1900)
    with pytest.raises(TypeError):
        tax.split_gross(value, 1900)


@pytest.mark.parametrize("rate_bp", [-1, 10_001])
def test_a_rate_outside_0_to_100_percent_is_refused(rate_bp):
    with pytest.raises(ValueError):
        tax.vat_of_net(100, rate_bp)


def _exact_split_exists(gross: int, rate_bp: int) -> bool:
    """Brute force: some net whose VAT makes up the gross exactly."""
    centre = gross * SCALE // (SCALE + rate_bp)
    return any(n + tax.vat_of_net(n, rate_bp) == gross for n in range(centre - 3, centre + 4))


def _lines(pairs, rate_bp):
    return [
        Line("Job", date(2024, 6, 1), net=net, vat_rate_bp=rate_bp, vat=vat, gross=net + vat)
        for net, vat in pairs
    ]


line_amounts = st.lists(st.integers(1, 2_000_000), min_size=1, max_size=12)


@fast
@given(nets=line_amounts, rate_bp=st.sampled_from(RATES))
@example(nets=[1, 1, 1], rate_bp=1900)  # three lines of 0.19 cent: 0.57 → 1 cent in all
@example(nets=[5, 5], rate_bp=1000)  # two half cents: 1 cent in all, not 2
def test_allocate_net_lines_sum_to_the_vat_of_the_summed_net(nets, rate_bp):
    pairs = tax.allocate_net(nets, rate_bp)
    assert [net for net, _vat in pairs] == nets
    assert sum(vat for _net, vat in pairs) == tax.vat_of_net(sum(nets), rate_bp)
    for net, vat in pairs:
        assert abs(vat - Fraction(net * rate_bp, SCALE)) < 1
    (entry,) = tax.breakdown(_lines(pairs, rate_bp))
    assert (entry.rate_bp, entry.net, entry.vat) == (
        rate_bp,
        sum(nets),
        tax.vat_of_net(sum(nets), rate_bp),
    )


@fast
@given(grosses=line_amounts, rate_bp=st.sampled_from(RATES))
@example(grosses=[3], rate_bp=1900)  # no net makes up 0.03 at 19 %
@example(grosses=[11_900, 11_900, 1], rate_bp=1900)
@example(grosses=[1, 1, 1, 1, 1, 1, 1], rate_bp=1900)
def test_allocate_gross_keeps_each_gross_and_agrees_with_the_breakdown(grosses, rate_bp):
    pairs = tax.allocate_gross(grosses, rate_bp)
    assert [net + vat for net, vat in pairs] == grosses
    total_net = sum(net for net, _vat in pairs)
    total_vat = sum(vat for _net, vat in pairs)
    if _exact_split_exists(sum(grosses), rate_bp):
        assert total_vat == tax.vat_of_net(total_net, rate_bp)
    else:
        assert total_vat == tax.split_gross(sum(grosses), rate_bp)[1]
        assert abs(total_vat - tax.vat_of_net(total_net, rate_bp)) == 1
    for gross, (_net, vat) in zip(grosses, pairs, strict=True):
        assert abs(vat - Fraction(gross * rate_bp, SCALE + rate_bp)) < 1
    (entry,) = tax.breakdown(_lines(pairs, rate_bp))
    assert (entry.net, entry.vat) == (total_net, total_vat)


@fast
@given(grosses=st.lists(st.integers(-2_000_000, -1), min_size=1, max_size=8))
def test_a_corrections_negative_lines_mirror_the_originals(grosses):
    """Taking back lines gives exactly the negated split of the same lines."""
    original = tax.allocate_gross([-g for g in grosses], 1900)
    assert tax.allocate_gross(grosses, 1900) == [(-net, -vat) for net, vat in original]


def test_the_breakdown_has_one_entry_per_rate_highest_first():
    lines = _lines(tax.allocate_net([10_000, 333], 1900), 1900)
    lines += _lines(tax.allocate_net([5_000], 700), 700)
    lines += _lines([(2_000, 0)], 0)
    assert [(b.rate_bp, b.net, b.vat) for b in tax.breakdown(lines)] == [
        (1900, 10_333, 1_963),
        (700, 5_000, 350),
        (0, 2_000, 0),
    ]


def test_the_breakdown_refuses_lines_whose_vat_disagrees():
    # Each line rounded on its own: 3 × 0.57 → 3 cents, the summed net's VAT is 2 (1.71).
    wrong = _lines([(3, 1), (3, 1), (3, 1)], 1900)
    with pytest.raises(ValueError, match="lines at 1900 bp"):
        tax.breakdown(wrong)


def test_the_one_cent_exception_holds_only_where_no_net_makes_up_the_gross():
    # 0.04 gross: net 3 + VAT 1 is exact, so 4 + 0 (one cent off) is refused.
    assert _exact_split_exists(4, 1900)
    with pytest.raises(ValueError):
        tax.breakdown(_lines([(4, 0)], 1900))
    # 0.03 gross has no exact split: its contained VAT (0) is accepted.
    assert not _exact_split_exists(3, 1900)
    assert tax.breakdown(_lines([(3, 0)], 1900))[0].vat == 0
