"""The one rounding rule for money: integers of minor units only, half up to a whole minor unit.

    commission = price × bp / 10 000, rounded half up      (bp: basis points, 2000 = 20 %)
    earning    = price − commission                           (so the split sums exactly)

Examples (EUR or CHF alike, amounts in cents/Rappen): 12 345 × 20 % = 2 469 (2 469.0);
5 × 10 % = 1 (0.5 rounds up); 4 × 10 % = 0 (0.4 rounds down); 10 001 × 33.33 % = 3 333
(3 333.3333). Nothing here ever sees a float, and no amount is ever converted between
currencies: EUR and CHF each keep their own minor units.

A share of a share — the commission part of a partial refund, say — is `prorate(amount, part,
whole)`, half up as well, and the remainder (part − share) goes to the other side, so again
the two halves sum exactly to what was refunded.
"""

from __future__ import annotations

BP_SCALE = 10_000  # basis points in 100 %


def _check_non_negative_int(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int of minor units, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must not be negative")


def percent_of(amount: int, bp: int) -> int:
    """`amount` × bp / 10 000 rounded half up to a minor unit (amount ≥ 0, 0 ≤ bp ≤ 10 000)."""
    _check_non_negative_int("amount", amount)
    _check_non_negative_int("bp", bp)
    if bp > BP_SCALE:
        raise ValueError("bp must be at most 10000 (100 %)")
    return (amount * bp + BP_SCALE // 2) // BP_SCALE


def split(price: int, bp: int) -> tuple[int, int]:
    """(commission, earning) of a job price at `bp`: commission half up, earning the rest."""
    commission = percent_of(price, bp)
    return commission, price - commission


def prorate(amount: int, part: int, whole: int) -> int:
    """`amount` × part / whole rounded half up (0 ≤ part ≤ whole, whole > 0)."""
    _check_non_negative_int("amount", amount)
    _check_non_negative_int("part", part)
    _check_non_negative_int("whole", whole)
    if whole == 0 or part > whole:
        raise ValueError("need 0 <= part <= whole and whole > 0")
    return (2 * amount * part + whole) // (2 * whole)
