"""The rounding rule: integer minor units, half up, and splits that always sum exactly."""

from __future__ import annotations

import random

import pytest

from payouts.rounding import percent_of, prorate, split


@pytest.mark.parametrize(
    "amount, bp, expected",
    [
        (12_345, 2_000, 2_469),  # 2469.0
        (5, 1_000, 1),  # 0.5 rounds up
        (4, 1_000, 0),  # 0.4 rounds down
        (15, 1_000, 2),  # 1.5 rounds up
        (25, 1_000, 3),  # 2.5 rounds up (half up, not half to even)
        (10_001, 3_333, 3_333),  # 3333.3333
        (9_999, 2_000, 2_000),  # 1999.8
        (1, 5_000, 1),  # 0.5
        (1, 4_999, 0),
        (10_000, 2_000, 2_000),  # 100.00 EUR at 20 %
        (8_990, 1_500, 1_349),  # 89.90 CHF at 15 %: 1348.5 → 1349
        (0, 2_000, 0),
        (12_345, 0, 0),
        (12_345, 10_000, 12_345),
    ],
)
def test_percent_of_rounds_half_up_to_a_minor_unit(amount, bp, expected):
    assert percent_of(amount, bp) == expected


def test_a_split_always_sums_to_the_price():
    rng = random.Random(7)
    for _ in range(2_000):
        price, bp = rng.randint(0, 10_000_000), rng.randint(0, 10_000)
        commission, earning = split(price, bp)
        assert commission + earning == price
        assert 0 <= commission <= price
        # Half up: the error is at most half a minor unit, and exactly .5 goes up.
        assert abs(commission * 10_000 - price * bp) <= 5_000


@pytest.mark.parametrize(
    "amount, part, whole, expected",
    [
        (2_000, 5_000, 10_000, 1_000),  # half of the commission back on a half refund
        (2_469, 1, 2, 1_235),  # 1234.5 rounds up
        (1_999, 1, 3, 666),  # 666.33
        (2_000, 10_000, 10_000, 2_000),
        (2_000, 0, 10_000, 0),
    ],
)
def test_prorate_rounds_half_up(amount, part, whole, expected):
    assert prorate(amount, part, whole) == expected


@pytest.mark.parametrize(
    "call",
    [
        lambda: percent_of(10.0, 2_000),
        lambda: percent_of(True, 2_000),
        lambda: percent_of(100, 20.0),
        lambda: prorate(100, 1.0, 2),
    ],
)
def test_floats_are_refused(call):
    with pytest.raises(TypeError):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: percent_of(-1, 2_000),
        lambda: percent_of(100, -1),
        lambda: percent_of(100, 10_001),
        lambda: prorate(100, 3, 2),
        lambda: prorate(100, 0, 0),
    ],
)
def test_out_of_range_inputs_are_refused(call):
    with pytest.raises(ValueError):
        call()
