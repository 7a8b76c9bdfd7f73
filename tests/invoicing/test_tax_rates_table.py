"""The rate table's own guards: the database refuses what the service never writes."""

from datetime import date

import pytest
from sqlalchemy.exc import IntegrityError

from crowd.extensions import db
from invoicing.models.tax import TaxRate


def _insert(**values) -> None:
    row = {"country": "AT", "category": "standard", "rate_bp": 2000}
    row |= {"valid_from": date(2030, 1, 1), **values}
    with db.session.begin_nested():
        db.session.add(TaxRate(**row))
        db.session.flush()


@pytest.mark.parametrize(
    "values",
    [
        {"rate_bp": 10_001},
        {"rate_bp": -1},
        {"category": "zero"},
        {"country": "F"},
        {"valid_until": date(2029, 12, 31)},
    ],
)
def test_impossible_rows_are_refused(values):
    with pytest.raises(IntegrityError):
        _insert(**{"country": "FR", **values})


def test_a_row_that_fits_is_taken():
    _insert(country="FR", valid_until=date(2030, 1, 1))


def test_postgresql_refuses_overlapping_periods_of_one_rate(on_postgres):
    # AT's standard rate runs open-ended since 2016: a period in 2030 overlaps it.
    with pytest.raises(IntegrityError, match="ex_tax_rates_no_overlap"):
        _insert()
    # Another category or country is apart.
    _insert(country="FR")
